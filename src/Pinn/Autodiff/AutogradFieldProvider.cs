using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// Field derivatives of a neural model at one batch of points, by nested reverse-mode autograd.
/// Each ∂^α u is computed once per batch and cached: one backward pass of ∂^β u gives all first
/// derivatives ∂/∂x_j ∂^β u at once, so u_xx reuses u_x and u_t comes free with u_x. Valid because
/// the model is row-wise (output i depends on point i only), so ∂Σ_i u_i/∂x_i = ∂u_i/∂x_i.
/// </summary>
public sealed class AutogradFieldProvider : IFieldProvider
{
    readonly Tensor _points;
    readonly Tensor _output;
    readonly IReadOnlyList<string> _coordinates;
    readonly IReadOnlyList<string> _fields;
    readonly Func<string, Tensor> _parameter;
    readonly Dictionary<FieldDerivative, Tensor> _cache = new();

    /// <param name="points">N×d, with requires_grad set.</param>
    /// <param name="output">N×m model output at <paramref name="points"/>.</param>
    public AutogradFieldProvider(Tensor points, Tensor output, IReadOnlyList<string> coordinates,
                                 IReadOnlyList<string> fields, Func<string, Tensor> parameter)
    {
        if (!points.requires_grad) throw new ArgumentException("points must require grad", nameof(points));
        _points = points;
        _output = output;
        _coordinates = coordinates;
        _fields = fields;
        _parameter = parameter;
    }

    public ScalarType DType => _points.dtype;
    public Device Device => _points.device;
    public long Count => _points.shape[0];

    public Tensor Coordinate(string name)
    {
        int j = IndexOf(_coordinates, name, "coordinate");
        return _points[TensorIndex.Colon, j];
    }

    public Tensor Parameter(string name) => _parameter(name);

    public Tensor Field(FieldDerivative d)
    {
        if (_cache.TryGetValue(d, out var cached)) return cached;
        if (d.Order == 0)
        {
            var u = _output[TensorIndex.Colon, IndexOf(_fields, d.Field, "field")];
            _cache[d] = u;
            return u;
        }
        // Drop one differentiation, get the parent, and differentiate it by every coordinate at once.
        var parent = new FieldDerivative(d.Field, d.Wrt.Take(d.Order - 1));
        var p = Field(parent);
        Tensor grads;
        if (p.requires_grad)
        {
            // create_graph does not imply retain_graph in TorchSharp: pass both (TORCHSHARP.md pitfall 2).
            var g = autograd.grad([p.sum()], [_points], retain_graph: true, create_graph: true, allow_unused: true)[0];
            grads = g is null || g.IsInvalid ? zeros_like(_points) : g;
        }
        else
        {
            grads = zeros_like(_points); // the parent does not depend on the points: all derivatives vanish
        }
        for (int j = 0; j < _coordinates.Count; j++)
            _cache.TryAdd(parent.Differentiate(_coordinates[j]), grads[TensorIndex.Colon, j]);
        return _cache[d];
    }

    static int IndexOf(IReadOnlyList<string> names, string name, string what)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        throw new PinnException($"unknown {what} '{name}'");
    }
}
