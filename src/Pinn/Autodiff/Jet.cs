using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// A truncated Taylor jet of a batch of vectors: the value and the derivatives D_α for a fixed,
/// downward-closed set of multi-indices α with respect to the input coordinates. Each derivative is
/// its own tensor (N×w, or 1×w when it is the same for every point, e.g. the derivative of an affine
/// input map); a missing α means that derivative is identically zero, which keeps the sparse input
/// jets cheap. Layers map jets to jets with the chain rule (Faà di Bruno) and the product rule
/// (Leibniz), so every input derivative comes out of one forward pass, and one ordinary backward pass
/// then gives the parameter gradients — instead of one reverse pass per derivative order.
/// </summary>
public sealed class Jet
{
    readonly Dictionary<MultiIndex, Tensor> _d;

    public Jet(IReadOnlyList<MultiIndex> set, Dictionary<MultiIndex, Tensor> derivatives)
    {
        Set = set;
        _d = derivatives;
    }

    /// <summary>The multi-indices carried (downward closed, ascending order, starting with 0).</summary>
    public IReadOnlyList<MultiIndex> Set { get; }
    public Tensor Value => _d[MultiIndex.Zero];

    /// <summary>D_α, or null when it is identically zero.</summary>
    public Tensor? this[MultiIndex alpha] => _d.TryGetValue(alpha, out var t) ? t : null;

    public static Jet Constant(IReadOnlyList<MultiIndex> set, Tensor value) => new(set, new() { [MultiIndex.Zero] = value });

    /// <summary>y = x Wᵀ + b, block by block (the bias only enters the value).</summary>
    public Jet Linear(Tensor weight, Tensor? bias) => Map((alpha, t) => nn.functional.linear(t, weight, alpha == MultiIndex.Zero ? bias : null));

    /// <summary>a·x + b with scalars.</summary>
    public Jet Affine(double a, double b) => Map((alpha, t) => alpha == MultiIndex.Zero ? t * a + b : t * a);

    /// <summary>A linear map applied block by block (f gets α and D_α; the map must be linear for the result to be a jet).</summary>
    public Jet Map(Func<MultiIndex, Tensor, Tensor> f) => new(Set, _d.ToDictionary(kv => kv.Key, kv => f(kv.Key, kv.Value)));

    public static Jet operator +(Jet a, Jet b) => Combine(a, b, (x, y) => x + y, y => y);
    public static Jet operator -(Jet a, Jet b) => Combine(a, b, (x, y) => x - y, y => y.neg());

    static Jet Combine(Jet a, Jet b, Func<Tensor, Tensor, Tensor> both, Func<Tensor, Tensor> onlyB)
    {
        var d = new Dictionary<MultiIndex, Tensor>();
        foreach (var alpha in a.Set)
        {
            var x = a[alpha];
            var y = b[alpha];
            if (x is not null && y is not null) d[alpha] = both(x, y);
            else if (x is not null) d[alpha] = x;
            else if (y is not null) d[alpha] = onlyB(y);
        }
        return new Jet(a.Set, d);
    }

    /// <summary>Elementwise product, by Leibniz: D_α(fg) = Σ_{β≤α} C(α,β) D_β f · D_{α−β} g.</summary>
    public static Jet operator *(Jet f, Jet g)
    {
        var d = new Dictionary<MultiIndex, Tensor>();
        foreach (var alpha in f.Set)
        {
            Tensor? sum = null;
            foreach (var beta in alpha.Below())
            {
                var fb = f[beta];
                var gr = g[alpha.Minus(beta)];
                if (fb is null || gr is null) continue;
                long c = alpha.Binomial(beta);
                var term = c == 1 ? fb * gr : c * (fb * gr);
                sum = sum is null ? term : sum + term;
            }
            if (sum is not null) d[alpha] = sum;
        }
        return new Jet(f.Set, d);
    }

    /// <summary>
    /// σ(x) elementwise by Faà di Bruno, given σ's derivatives σ^(0..K) at the value
    /// (<paramref name="derivatives"/>(value, K) returns them, index k = order k).
    /// </summary>
    public Jet Apply(Func<Tensor, int, Tensor[]> derivatives)
    {
        int maxOrder = Set.Max(a => a.Order);
        var s = derivatives(Value, maxOrder);
        var d = new Dictionary<MultiIndex, Tensor> { [MultiIndex.Zero] = s[0] };
        // Products of inner derivatives recur across α (z_x² appears in D_xx, D_xxx and D_xxxx):
        // memoise them by their (sorted) factor list within this call.
        var products = new Dictionary<string, Tensor?>();
        Tensor? Product(MultiIndex[] factors, int count)
        {
            if (count == 1) return this[factors[0]];
            var key = string.Join(",", factors.Take(count).Select(f => f.Code));
            if (products.TryGetValue(key, out var p)) return p;
            var head = Product(factors, count - 1);
            var last = this[factors[count - 1]];
            p = head is null || last is null ? null : head * last;
            products[key] = p;
            return p;
        }
        foreach (var alpha in Set)
        {
            if (alpha == MultiIndex.Zero) continue;
            Tensor? sum = null;
            foreach (var (count, factors) in ChainRule(alpha))
            {
                var product = Product(factors, factors.Length);
                if (product is null) continue;
                var term = s[factors.Length] * product;
                if (count != 1) term = count * term;
                sum = sum is null ? term : sum + term;
            }
            if (sum is not null) d[alpha] = sum;
        }
        return new Jet(Set, d);
    }

    static readonly Dictionary<MultiIndex, IReadOnlyList<(long, MultiIndex[])>> ChainRuleCache = [];

    static IReadOnlyList<(long Count, MultiIndex[] Factors)> ChainRule(MultiIndex alpha)
    {
        lock (ChainRuleCache)
        {
            if (!ChainRuleCache.TryGetValue(alpha, out var terms)) ChainRuleCache[alpha] = terms = alpha.ChainRuleTerms();
            return terms;
        }
    }

    /// <summary>Columns side by side (torch.cat along dim 1), block by block; zero blocks are filled in where needed.</summary>
    public static Jet Concat(IReadOnlyList<Jet> parts)
    {
        if (parts.Count == 1) return parts[0];
        var set = parts[0].Set;
        var d = new Dictionary<MultiIndex, Tensor>();
        foreach (var alpha in set)
        {
            var blocks = parts.Select(p => p[alpha]).ToList();
            if (blocks.All(b => b is null)) continue;
            long rows = blocks.Where(b => b is not null).Max(b => b!.shape[0]);
            var filled = blocks.Select((b, i) =>
            {
                long width = parts[i].Value.shape[1];
                var v = parts[i].Value;
                return b is null ? zeros(rows, width, dtype: v.dtype, device: v.device) : b.shape[0] == rows ? b : b.expand(rows, width);
            }).ToList();
            d[alpha] = cat(filled, 1);
        }
        return new Jet(set, d);
    }

    // ---- derivatives of the activations, as functions of the value ------------------------------

    /// <summary>tanh^(k) as polynomials in t = tanh z: t' = 1 − t², t'' = −2t t', t''' = t'(6t² − 2), t'''' = 8t t'(2 − 3t²).</summary>
    public static Tensor[] TanhDerivatives(Tensor z, int order)
    {
        var t = z.tanh();
        var s = new Tensor[order + 1];
        s[0] = t;
        if (order < 1) return s;
        var t1 = 1 - t.square();
        s[1] = t1;
        if (order >= 2) s[2] = -2 * t * t1;
        if (order >= 3) s[3] = t1 * (6 * t.square() - 2);
        if (order >= 4) s[4] = 8 * t * t1 * (2 - 3 * t.square());
        if (order >= 5) throw new PinnException("jet derivatives of tanh are implemented up to order 4");
        return s;
    }

    /// <summary>sin^(k)(z) = sin(z + kπ/2): sin, cos, −sin, −cos, …</summary>
    public static Tensor[] SinDerivatives(Tensor z, int order)
    {
        var sin = z.sin();
        var cos = z.cos();
        return Enumerable.Range(0, order + 1).Select(k => (k % 4) switch { 0 => sin, 1 => cos, 2 => -sin, _ => -cos }).ToArray();
    }

    /// <summary>cos^(k)(z) = cos(z + kπ/2): cos, −sin, −cos, sin, …</summary>
    public static Tensor[] CosDerivatives(Tensor z, int order)
    {
        var sin = z.sin();
        var cos = z.cos();
        return Enumerable.Range(0, order + 1).Select(k => (k % 4) switch { 0 => cos, 1 => -sin, 2 => -cos, _ => sin }).ToArray();
    }
}
