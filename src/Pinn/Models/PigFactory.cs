using Pinn.Problems;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>Builds a <see cref="GaussianField"/>; a full-covariance model may start from a diagonal run's checkpoint.</summary>
static class PigFactory
{
    public static IFieldModel Create(GaussianFieldOptions o, Problem problem, ScalarType dtype, Device device, int seed)
    {
        var pig = new GaussianField(o, problem.Domain.Axes, problem.Fields.Count, seed);
        if (o.InitFrom is { } dir)
        {
            // The diagonal run's checkpoint holds its parameters in its own order: restore them into a
            // diagonal twin, then copy by name (the shear stays 0, so the starting function is the same).
            using var diagonal = new GaussianField(o with { Covariance = "diagonal", InitFrom = null }, problem.Domain.Axes, problem.Fields.Count, seed);
            var path = Directory.Exists(Path.Combine(dir, Runner.CheckpointFolder)) ? Path.Combine(dir, Runner.CheckpointFolder) : dir;
            Checkpoint.Load(path).Restore(diagonal, optimizer: null);
            pig.InitialiseFrom(diagonal);
        }
        pig.to(dtype).to(device);
        return pig;
    }
}
