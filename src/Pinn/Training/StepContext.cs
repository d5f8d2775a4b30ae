using Pinn.Autodiff;
using Pinn.Models;
using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>
/// One optimisation step's view of the model: one forward pass and one derivative cache per batch of
/// points, shared by every loss term that uses that batch. Lives inside the step's dispose scope.
/// </summary>
public sealed class StepContext(IFieldModel model, IReadOnlyList<string> coordinates, IReadOnlyList<string> fields,
                                Func<string, Tensor> parameter)
{
    readonly Dictionary<Tensor, TensorEvaluator> _evaluators = new(ReferenceEqualityComparer.Instance);

    public IFieldModel Model => model;

    public TensorEvaluator At(Tensor points)
    {
        if (_evaluators.TryGetValue(points, out var ev)) return ev;
        var output = model.Forward(points);
        ev = new TensorEvaluator(new AutogradFieldProvider(points, output, coordinates, fields, parameter));
        _evaluators[points] = ev;
        return ev;
    }
}
