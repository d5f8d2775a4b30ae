using Pinn.Problems;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>Builds the model a run config asks for, sized to the problem, on the run's device and dtype.</summary>
public static class ModelFactory
{
    public static IFieldModel Create(ModelOptions options, Problem problem, ScalarType dtype, Device device, int seed = 0)
    {
        switch (options.Type)
        {
            case "mlp" or "modified_mlp":
                var net = new NeuralField(options, problem.Domain.Axes, problem.Fields.Count, seed);
                net.to(dtype).to(device);
                return net;
            case "gp":
                return new Gp.GridGpField(options.Gp, problem, dtype, device);
            case "pig":
                return PigFactory.Create(options.Gaussians, problem, dtype, device, seed);
            default:
                throw new PinnException($"model.type: unknown model '{options.Type}' (available: mlp, modified_mlp, gp, pig)") { Key = "model.type" };
        }
    }
}
