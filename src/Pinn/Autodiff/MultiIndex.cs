namespace Pinn.Autodiff;

/// <summary>
/// A derivative multi-index α = (α_1, …, α_d): how many times each coordinate is differentiated.
/// Packed into one integer (3 bits per coordinate, so orders ≤ 7 per coordinate and ≤ 10
/// coordinates), which makes it a cheap dictionary key.
/// </summary>
public readonly record struct MultiIndex(int Code)
{
    const int Bits = 3, Mask = (1 << Bits) - 1;

    public static readonly MultiIndex Zero = new(0);

    public static MultiIndex Of(IEnumerable<int> coordinates)
    {
        int code = 0;
        foreach (var j in coordinates)
        {
            if (((code >> (Bits * j)) & Mask) == Mask) throw new PinnException("derivative order above 7 in one coordinate");
            code += 1 << (Bits * j);
        }
        return new MultiIndex(code);
    }

    /// <summary>The multi-index of a field derivative, coordinates numbered by their place in <paramref name="coordinates"/>.</summary>
    public static MultiIndex Of(Symbolic.FieldDerivative d, IReadOnlyList<string> coordinates) =>
        Of(d.Wrt.Select(w =>
        {
            for (int i = 0; i < coordinates.Count; i++) if (coordinates[i] == w) return i;
            throw new PinnException($"unknown coordinate '{w}' in {d} (coordinates: {string.Join(", ", coordinates)})");
        }));

    public int this[int coordinate] => (Code >> (Bits * coordinate)) & Mask;

    public int Order
    {
        get
        {
            int n = 0;
            for (int c = Code; c != 0; c >>= Bits) n += c & Mask;
            return n;
        }
    }

    /// <summary>The coordinates differentiated, with repetition, ascending (e.g. u_xxt → [0, 0, 1]).</summary>
    public int[] Coordinates()
    {
        var list = new List<int>();
        for (int j = 0, c = Code; c != 0; j++, c >>= Bits)
            for (int k = 0; k < (c & Mask); k++) list.Add(j);
        return [.. list];
    }

    public MultiIndex Plus(MultiIndex other) => new(Code + other.Code); // no carries: each field stays ≤ 7 in use

    public MultiIndex Minus(MultiIndex other) => new(Code - other.Code);

    /// <summary>β ≤ α componentwise.</summary>
    public bool Contains(MultiIndex beta)
    {
        for (int a = Code, b = beta.Code; a != 0 || b != 0; a >>= Bits, b >>= Bits)
            if ((b & Mask) > (a & Mask)) return false;
        return true;
    }

    /// <summary>Every β ≤ α, including 0 and α.</summary>
    public IEnumerable<MultiIndex> Below()
    {
        var coords = Coordinates();
        var seen = new HashSet<MultiIndex>();
        for (int mask = 0; mask < 1 << coords.Length; mask++)
        {
            var beta = Of(coords.Where((_, i) => (mask >> i & 1) != 0));
            if (seen.Add(beta)) yield return beta;
        }
    }

    /// <summary>Π_j C(α_j, β_j): the Leibniz coefficient of D_β f · D_{α−β} g in D_α(fg).</summary>
    public long Binomial(MultiIndex beta)
    {
        long c = 1;
        for (int a = Code, b = beta.Code; a != 0; a >>= Bits, b >>= Bits)
            c *= Choose(a & Mask, b & Mask);
        return c;
    }

    static long Choose(int n, int k)
    {
        long r = 1;
        for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
        return r;
    }

    /// <summary>
    /// Faà di Bruno for a scalar function of one inner jet: D_α σ(z) = Σ σ^(k)(z) Π_{blocks} D_β z over the
    /// set partitions of α's differentiations into k blocks. Equal terms are merged with their count.
    /// </summary>
    public IReadOnlyList<(long Count, MultiIndex[] Factors)> ChainRuleTerms()
    {
        var coords = Coordinates();
        var terms = new Dictionary<string, (long Count, MultiIndex[] Factors)>();
        foreach (var partition in Partitions(coords.Length))
        {
            var factors = partition.Select(block => Of(block.Select(i => coords[i]))).OrderBy(m => m.Code).ToArray();
            var key = string.Join(",", factors.Select(f => f.Code));
            terms[key] = terms.TryGetValue(key, out var t) ? (t.Count + 1, t.Factors) : (1, factors);
        }
        return [.. terms.Values];
    }

    /// <summary>All set partitions of {0, …, n−1} (Bell(n) of them; n ≤ 7 in practice ≤ 4).</summary>
    static IEnumerable<List<List<int>>> Partitions(int n)
    {
        if (n == 0) { yield return []; yield break; }
        foreach (var p in Partitions(n - 1))
        {
            for (int b = 0; b < p.Count; b++)
            {
                var copy = p.Select(x => x.ToList()).ToList();
                copy[b].Add(n - 1);
                yield return copy;
            }
            var alone = p.Select(x => x.ToList()).ToList();
            alone.Add([n - 1]);
            yield return alone;
        }
    }

    /// <summary>The downward closure of <paramref name="wanted"/>: every β ≤ some α (what the jet must carry).</summary>
    public static IReadOnlyList<MultiIndex> Closure(IEnumerable<MultiIndex> wanted) =>
        wanted.SelectMany(a => a.Below()).Distinct().OrderBy(m => m.Order).ThenBy(m => m.Code).ToList();
}
