using Pinn.Autodiff;
using Pinn.Models;
using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>
/// One optimisation step's view of the model: one forward pass and one derivative cache per batch of
/// points, shared by every loss term that uses that batch. Lives inside the step's dispose scope.
/// </summary>
/// <param name="parameterAt">A parameter's value as read at a batch of that many points (a trainable one's per-sample view
/// while a Jacobian is captured: <see cref="ProblemParameters.ValueAt"/>); default: <paramref name="parameter"/>.</param>
public sealed class StepContext(IFieldModel model, IReadOnlyList<string> coordinates, IReadOnlyList<string> fields,
                                Func<string, Tensor> parameter, IReadOnlyList<MultiIndex>? jetSet = null,
                                Func<Tensor, LinearOperator?>? linearAt = null, Func<string, long, Tensor>? parameterAt = null)
{
    readonly Dictionary<Tensor, TensorEvaluator> _evaluators = new(ReferenceEqualityComparer.Instance);

    public IFieldModel Model => model;
    public IReadOnlyList<string> Coordinates => coordinates;
    public IReadOnlyList<string> Fields => fields;
    public Tensor Parameter(string name) => parameter(name);

    public TensorEvaluator At(Tensor points)
    {
        if (_evaluators.TryGetValue(points, out var ev)) return ev;
        long rows = points.shape[0];
        Func<string, Tensor> read = parameterAt is null ? parameter : name => parameterAt(name, rows);
        IFieldProvider provider = jetSet is not null && model is IJetModel net
            ? new JetFieldProvider(net, points, jetSet, coordinates, fields, read, linearAt?.Invoke(points))
            : new AutogradFieldProvider(points, model.Forward(points), coordinates, fields, read);
        ev = new TensorEvaluator(provider);
        _evaluators[points] = ev;
        return ev;
    }
}
