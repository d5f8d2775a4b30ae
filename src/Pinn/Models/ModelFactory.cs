using Pinn.Problems;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>Builds the model a run config asks for, sized to the problem, on the run's device and dtype.</summary>
public static class ModelFactory
{
    /// <summary>
    /// With <see cref="ModelOptions.HardConstraints"/> the network is wrapped in a <see cref="ConstrainedField"/>.
    /// The model's random initial values come from <paramref name="generator"/> when given (the models of one
    /// run draw one stream in the order they are built), else from a fresh generator for <paramref name="seed"/>:
    /// the same seed gives the same model, whatever else runs in the process.
    /// </summary>
    public static IFieldModel Create(ModelOptions options, Problem problem, ScalarType dtype, Device device, int seed = 0, Generator? generator = null)
    {
        var model = CreateNetwork(options, problem, dtype, device, seed, generator);
        if (!options.HardConstraints.Any) return model;
        try
        {
            if (model is Gp.GridGpField)
                throw new PinnException("model.hard_constraints: the GP solver has no network to wrap; its conditions are likelihood terms") { Key = "model.hard_constraints" };
            return new ConstrainedField(model, problem, options.HardConstraints, options.Periodic.Keys);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static IFieldModel CreateNetwork(ModelOptions options, Problem problem, ScalarType dtype, Device device, int seed, Generator? generator)
    {
        switch (options.Type)
        {
            case "mlp" or "modified_mlp":
                var net = new NeuralField(options, problem.Domain.Axes, problem.Fields.Count, seed, generator);
                net.to(dtype).to(device);
                return net;
            case "gp":
                return new Gp.GridGpField(options.Gp, problem, dtype, device);
            case "pig":
                return PigFactory.Create(options.Gaussians, problem, dtype, device, seed, generator);
            default:
                throw new PinnException($"model.type: unknown model '{options.Type}' (available: mlp, modified_mlp, gp, pig)") { Key = "model.type" };
        }
    }
}
