using Pinn.Models;
using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// Field derivatives of a <see cref="NeuralField"/> at one batch of points by Taylor-mode jets: one
/// forward pass carries every ∂^α u the problem needs (<paramref name="set"/>), so a 4th-order
/// residual costs one jet pass instead of four nested reverse passes. The points are used detached:
/// nothing is differentiated with respect to them, so the backward pass only reaches the parameters.
/// The jet carries only what the expressions evaluated at these points read (<see cref="Prepare"/>):
/// condition points that need values only get a plain forward pass, not the residual's full jet.
/// </summary>
public sealed class JetFieldProvider(IJetModel model, Tensor points, IReadOnlyList<MultiIndex> set, IReadOnlyList<string> coordinates,
                                     IReadOnlyList<string> fields, Func<string, Tensor> parameter) : IFieldProvider
{
    readonly Tensor _x = points.detach();
    readonly Dictionary<FieldDerivative, Tensor> _cache = new();
    readonly HashSet<MultiIndex> _wanted = [];
    Jet? _jet;

    public ScalarType DType => _x.dtype;
    public Device Device => _x.device;
    public long Count => _x.shape[0];

    public Tensor Coordinate(string name) => _x[TensorIndex.Colon, IndexOf(coordinates, name, "coordinate")];

    public Tensor Parameter(string name) => parameter(name);

    /// <summary>The multi-indices the current jet carries (empty before the first request).</summary>
    public IReadOnlyList<MultiIndex> Carried => _jet?.Set ?? [];

    public void Prepare(IEnumerable<FieldDerivative> needed)
    {
        foreach (var d in needed) _wanted.Add(IndexOf(d));
    }

    public Tensor Field(FieldDerivative d)
    {
        if (_cache.TryGetValue(d, out var cached)) return cached;
        var alpha = IndexOf(d);
        if (!set.Contains(alpha))
            throw new InvalidOperationException($"jet derivatives: {d} was not among the derivatives prepared for this problem");
        if (_jet is null || !_jet.Set.Contains(alpha))
        {
            // Everything asked for so far (a later, larger request recomputes: rare, e.g. a periodic term's second expression).
            _wanted.Add(alpha);
            var subset = MultiIndex.Closure(_wanted);
            _jet = subset.Count == 1 ? Jet.Constant(subset, model.Forward(_x)) : model.ForwardJet(_x, subset);
            _cache.Clear();
        }
        int f = IndexOf(fields, d.Field, "field");
        var block = _jet[alpha];
        var u = block is null ? zeros(Count, dtype: DType, device: Device)
                : block.shape[0] == Count ? block[TensorIndex.Colon, f] : block[TensorIndex.Colon, f].expand(Count);
        _cache[d] = u;
        return u;
    }

    MultiIndex IndexOf(FieldDerivative d) => MultiIndex.Of(d.Wrt.Select(w => IndexOf(coordinates, w, "coordinate")));

    static int IndexOf(IReadOnlyList<string> names, string name, string what)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        throw new PinnException($"unknown {what} '{name}'");
    }
}
