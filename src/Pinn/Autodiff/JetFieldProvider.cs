using Pinn.Models;
using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// Field derivatives of a jet model at one batch of points by Taylor-mode jets: one forward pass carries
/// every ∂^α u the problem needs (<paramref name="set"/>), so a 4th-order residual costs one jet pass instead
/// of four nested reverse passes. The points are used detached: nothing is differentiated with respect to
/// them, so the backward pass only reaches the parameters. The jet carries only what the expressions
/// evaluated at these points read (<see cref="Prepare"/>): condition points that need values only get a
/// plain forward pass, not the residual's full jet.
/// <para>
/// With a <paramref name="linear"/> operator L u = Σ c_d d (<see cref="LinearPart.Find"/>: every expression
/// evaluated at these points reads its members only through L) and a model that can carry it, the members
/// are not carried one by one: the jet carries L u as one block, the pivot member is served as L u / c_pivot
/// and the other members as 0 — which leaves every such expression's value unchanged, and saves blocks
/// (Burgers: u, u_x, L u instead of u, u_x, u_t, u_xx). Do not read the members individually from such a provider.
/// </para>
/// </summary>
public sealed class JetFieldProvider(IJetModel model, Tensor points, IReadOnlyList<MultiIndex> set, IReadOnlyList<string> coordinates,
                                     IReadOnlyList<string> fields, Func<string, Tensor> parameter, LinearOperator? linear = null) : IFieldProvider
{
    readonly Tensor _x = points.detach();
    readonly Dictionary<FieldDerivative, Tensor> _cache = new();
    readonly HashSet<MultiIndex> _wanted = [];
    readonly LinearOperator? _linear = linear is not null && model.CarriesOperators(points) ? linear : null;
    bool _wantLinear;
    Jet? _jet;
    Tensor? _operator; // L applied to every output, N × fields

    public ScalarType DType => _x.dtype;
    public Device Device => _x.device;
    public long Count => _x.shape[0];

    /// <summary>The multi-indices the current jet carries (empty before the first request).</summary>
    public IReadOnlyList<MultiIndex> Carried => _jet?.Set ?? [];

    /// <summary>Whether the current jet carries the linear operator as one block.</summary>
    public bool CarriesOperator => _operator is not null;

    public Tensor Coordinate(string name) => _x[TensorIndex.Colon, IndexOf(coordinates, name, "coordinate")];

    public Tensor Parameter(string name) => parameter(name);

    public void Prepare(IEnumerable<FieldDerivative> needed)
    {
        foreach (var d in needed)
            if (IsMember(d)) _wantLinear = true;
            else _wanted.Add(IndexOf(d));
    }

    public Tensor Field(FieldDerivative d)
    {
        if (_cache.TryGetValue(d, out var cached)) return cached;
        int f = IndexOf(fields, d.Field, "field");
        if (IsMember(d))
        {
            if (_operator is null) { _wantLinear = true; Compute(); }
            var l = d.Equals(_linear!.Pivot) ? _operator![TensorIndex.Colon, f] / _linear.PivotCoefficient : zeros(Count, dtype: DType, device: Device);
            return _cache[d] = l;
        }
        var alpha = IndexOf(d);
        if (!set.Contains(alpha))
            throw new InvalidOperationException($"jet derivatives: {d} was not among the derivatives prepared for this problem");
        if (_jet is null || !_jet.Set.Contains(alpha))
        {
            // Everything asked for so far (a later, larger request recomputes: rare, e.g. a periodic term's second expression).
            _wanted.Add(alpha);
            Compute();
        }
        var block = _jet![alpha];
        var u = block is null ? zeros(Count, dtype: DType, device: Device)
                : block.shape[0] == Count ? block[TensorIndex.Colon, f] : block[TensorIndex.Colon, f].expand(Count);
        return _cache[d] = u;
    }

    void Compute()
    {
        _cache.Clear();
        if (_wantLinear && _linear is not null)
        {
            var terms = _linear.Members.Select((m, i) => (IndexOf(m), _linear.Coefficients[i])).ToList();
            (_jet, _operator) = model.ForwardJet(_x, SetWithOperator(_wanted, terms.Select(t => t.Item1)), terms);
            return;
        }
        var subset = MultiIndex.Closure(_wanted);
        _jet = subset.Count == 1 ? Jet.Constant(subset, model.Forward(_x)) : model.ForwardJet(_x, subset);
    }

    /// <summary>
    /// The multi-indices carried beside an operator block: what is wanted otherwise, and every factor of the
    /// members' multi-factor chain-rule terms (u_x for u_xx, since L σ(z) needs σ″ z_x²).
    /// </summary>
    public static IReadOnlyList<MultiIndex> SetWithOperator(IEnumerable<MultiIndex> wanted, IEnumerable<MultiIndex> members) =>
        MultiIndex.Closure(wanted.Concat(members.SelectMany(a => a.ChainRuleTerms().Where(c => c.Factors.Length >= 2).SelectMany(c => c.Factors))));

    bool IsMember(FieldDerivative d) => _linear is not null && _linear.Members.Contains(d);

    MultiIndex IndexOf(FieldDerivative d) => MultiIndex.Of(d, coordinates);

    static int IndexOf(IReadOnlyList<string> names, string name, string what)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        throw new PinnException($"unknown {what} '{name}'");
    }
}
