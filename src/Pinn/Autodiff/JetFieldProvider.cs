using Pinn.Models;
using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// Field derivatives of a <see cref="NeuralField"/> at one batch of points by Taylor-mode jets: one
/// forward pass carries every ∂^α u the problem needs (<paramref name="set"/>), so a 4th-order
/// residual costs one jet pass instead of four nested reverse passes. The points are used detached:
/// nothing is differentiated with respect to them, so the backward pass only reaches the parameters.
/// </summary>
public sealed class JetFieldProvider(IJetModel model, Tensor points, IReadOnlyList<MultiIndex> set, IReadOnlyList<string> coordinates,
                                     IReadOnlyList<string> fields, Func<string, Tensor> parameter) : IFieldProvider
{
    readonly Tensor _x = points.detach();
    readonly Dictionary<FieldDerivative, Tensor> _cache = new();
    Jet? _jet;

    public ScalarType DType => _x.dtype;
    public Device Device => _x.device;
    public long Count => _x.shape[0];

    public Tensor Coordinate(string name) => _x[TensorIndex.Colon, IndexOf(coordinates, name, "coordinate")];

    public Tensor Parameter(string name) => parameter(name);

    public Tensor Field(FieldDerivative d)
    {
        if (_cache.TryGetValue(d, out var cached)) return cached;
        _jet ??= model.ForwardJet(_x, set);
        var alpha = MultiIndex.Of(d.Wrt.Select(w => IndexOf(coordinates, w, "coordinate")));
        if (!set.Contains(alpha))
            throw new InvalidOperationException($"jet derivatives: {d} was not among the derivatives prepared for this problem");
        int f = IndexOf(fields, d.Field, "field");
        var block = _jet[alpha];
        var u = block is null ? zeros(Count, dtype: DType, device: Device)
                : block.shape[0] == Count ? block[TensorIndex.Colon, f] : block[TensorIndex.Colon, f].expand(Count);
        _cache[d] = u;
        return u;
    }

    static int IndexOf(IReadOnlyList<string> names, string name, string what)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        throw new PinnException($"unknown {what} '{name}'");
    }
}
