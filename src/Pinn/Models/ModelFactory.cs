using TorchSharp;
using Pinn.Problems;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>Builds the model a run config asks for, sized to the problem, on the run's device and dtype.</summary>
public static class ModelFactory
{
    public static IFieldModel Create(ModelOptions options, Problem problem, ScalarType dtype, Device device)
    {
        var axes = problem.Domain.Axes;
        switch (options.Type)
        {
            case "mlp":
                var mlp = new Mlp(axes.Count, options.Layers, problem.Fields.Count, options.Activation,
                                  axes.Select(a => a.Min).ToArray(), axes.Select(a => a.Max).ToArray(), options.NormalizeInputs);
                mlp.to(dtype).to(device);
                return mlp;
            default:
                throw new PinnException($"model.type: unknown model '{options.Type}' (available: mlp)");
        }
    }
}
