using Pinn.Problems;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>Builds a <see cref="GaussianField"/>; a full-covariance model may start from a diagonal run's checkpoint.</summary>
static class PigFactory
{
    public static IFieldModel Create(GaussianFieldOptions o, Problem problem, ScalarType dtype, Device device, int seed, Generator? generator = null)
    {
        // The diagonal twin draws after the model from the same stream, as both once drew from the global generator.
        using var own = generator is null ? Initialisation.Generator(seed) : null;
        var stream = generator ?? own!;
        var pig = new GaussianField(o, problem.Domain.Axes, problem.Fields.Count, seed, stream);
        if (o.InitFrom is { } dir)
        {
            // The diagonal run's checkpoint holds its parameters in its own order: restore them into a
            // diagonal twin, then copy by name (the shear stays 0, so the starting function is the same).
            using var diagonal = new GaussianField(o with { Covariance = "diagonal", InitFrom = null }, problem.Domain.Axes, problem.Fields.Count, seed, stream);
            var path = Directory.Exists(Path.Combine(dir, Runner.CheckpointFolder)) ? Path.Combine(dir, Runner.CheckpointFolder) : dir;
            Checkpoint.Load(path).Restore(diagonal, optimizer: null);
            pig.InitialiseFrom(diagonal);
        }
        pig.to(dtype).to(device);
        return pig;
    }
}
