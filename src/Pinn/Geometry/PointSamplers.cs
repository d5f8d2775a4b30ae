namespace Pinn.Geometry;

/// <summary>A source of points in the unit cube.</summary>
public interface IPointSampler
{
    /// <summary>
    /// n points in the unit cube [0,1)^dim, row-major n×dim array. Stateful: each call returns new points
    /// (a fresh random batch, or the next Sobol points).
    /// </summary>
    double[,] Sample(int n, int dim);
}

static class SamplerChecks
{
    public static void Check(int n, int dim)
    {
        if (n < 0) throw new PinnException($"cannot sample a negative number of points ({n})");
        if (dim < 1) throw new PinnException($"cannot sample points in {dim} dimensions (need at least 1)");
    }
}

/// <summary>Independent uniform random points (System.Random with a fixed seed: reproducible).</summary>
public sealed class UniformSampler : IPointSampler
{
    readonly Random _rng;

    public UniformSampler(int seed) => _rng = new Random(seed);

    public double[,] Sample(int n, int dim)
    {
        SamplerChecks.Check(n, dim);
        var a = new double[n, dim];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dim; j++)
                a[i, j] = _rng.NextDouble();
        return a;
    }
}

/// <summary>
/// Latin hypercube points: each axis is cut into n equal bins and every bin holds exactly one point, at a
/// uniformly random position within it; the bins are paired across axes by an independent random permutation
/// per axis.
/// </summary>
public sealed class LatinHypercubeSampler : IPointSampler
{
    readonly Random _rng;

    public LatinHypercubeSampler(int seed) => _rng = new Random(seed);

    public double[,] Sample(int n, int dim)
    {
        SamplerChecks.Check(n, dim);
        var a = new double[n, dim];
        var perm = new int[n];
        for (int j = 0; j < dim; j++)
        {
            for (int i = 0; i < n; i++) perm[i] = i;
            _rng.Shuffle(perm);
            for (int i = 0; i < n; i++)
            {
                double x = (perm[i] + _rng.NextDouble()) / n;
                // Rounding can push (k + u)/n up to the bin's upper edge; keep it inside [k/n, (k+1)/n).
                double upper = (perm[i] + 1.0) / n;
                if (x >= upper) x = Math.BitDecrement(upper);
                a[i, j] = x;
            }
        }
        return a;
    }
}

/// <summary>
/// The Sobol low-discrepancy sequence (unscrambled), with the direction numbers of Joe and Kuo
/// (file new-joe-kuo-6.21201; S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
/// projections", SIAM J. Sci. Comput. 30, 2635–2654, 2008), Gray-code order, 32-bit integers.
/// The first dimension is the van der Corput sequence. Successive calls continue the sequence.
/// </summary>
public sealed class SobolSampler : IPointSampler
{
    const int Bits = 32;

    /// <summary>The most dimensions this sampler supports (1 + rows of the direction-number table).</summary>
    public const int MaxDimensions = 1 + 30;

    // Dimensions 2..31 of new-joe-kuo-6.21201: degree s of the primitive polynomial, its inner coefficients a
    // (as bits, highest power first, without the leading and trailing 1) and the initial direction numbers m_1..m_s.
    static readonly (int S, uint A, uint[] M)[] Table =
    [
        (1, 0, [1]),
        (2, 1, [1, 3]),
        (3, 1, [1, 3, 1]),
        (3, 2, [1, 1, 1]),
        (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]),
        (5, 2, [1, 1, 5, 5, 17]),
        (5, 4, [1, 1, 5, 5, 5]),
        (5, 7, [1, 1, 7, 11, 19]),
        (5, 11, [1, 1, 5, 1, 1]),
        (5, 13, [1, 1, 1, 3, 11]),
        (5, 14, [1, 3, 5, 5, 31]),
        (6, 1, [1, 3, 3, 9, 7, 49]),
        (6, 13, [1, 1, 1, 15, 21, 21]),
        (6, 16, [1, 3, 1, 13, 27, 49]),
        (6, 19, [1, 1, 1, 15, 7, 5]),
        (6, 22, [1, 3, 1, 15, 13, 25]),
        (6, 25, [1, 1, 5, 5, 19, 61]),
        (7, 1, [1, 3, 7, 11, 23, 15, 103]),
        (7, 4, [1, 3, 7, 13, 13, 15, 69]),
        (7, 7, [1, 1, 3, 13, 7, 35, 63]),
        (7, 8, [1, 3, 5, 9, 1, 25, 53]),
        (7, 14, [1, 3, 1, 13, 9, 35, 107]),
        (7, 19, [1, 3, 1, 5, 27, 61, 31]),
        (7, 21, [1, 1, 5, 11, 19, 41, 61]),
        (7, 28, [1, 3, 5, 3, 3, 13, 69]),
        (7, 31, [1, 1, 7, 13, 1, 19, 1]),
        (7, 32, [1, 3, 7, 5, 13, 19, 59]),
        (7, 37, [1, 1, 3, 9, 25, 29, 41]),
        (7, 41, [1, 3, 5, 13, 23, 1, 55]),
    ];

    const double Scale = 1.0 / 4294967296.0; // 2^-32

    readonly bool _skipFirst;
    int _dim;            // 0 until the first call
    uint[][] _v = [];    // _v[j][k-1] = direction number V_k of dimension j, scaled by 2^32
    uint[] _x = [];      // the current point (index _next - 1), scaled by 2^32
    long _next;          // index of the next point to return

    public SobolSampler(bool skipFirst = true)
    {
        _skipFirst = skipFirst;
        _next = skipFirst ? 1 : 0;
    }

    /// <summary>Direction numbers V_1..V_32 (scaled by 2^32) of dimension <paramref name="dimension"/> (0-based).</summary>
    internal static uint[] DirectionNumbers(int dimension)
    {
        var v = new uint[Bits];
        if (dimension == 0)
        {
            for (int k = 1; k <= Bits; k++) v[k - 1] = 1u << (Bits - k);
            return v;
        }
        var (s, a, m) = Table[dimension - 1];
        for (int k = 1; k <= Math.Min(s, Bits); k++) v[k - 1] = m[k - 1] << (Bits - k);
        for (int k = s + 1; k <= Bits; k++)
        {
            uint x = v[k - s - 1] ^ (v[k - s - 1] >> s);
            for (int i = 1; i <= s - 1; i++)
                if (((a >> (s - 1 - i)) & 1u) != 0) x ^= v[k - i - 1];
            v[k - 1] = x;
        }
        return v;
    }

    public double[,] Sample(int n, int dim)
    {
        SamplerChecks.Check(n, dim);
        if (dim > MaxDimensions)
            throw new PinnException($"the Sobol sampler supports at most {MaxDimensions} dimensions, not {dim}; use the 'uniform' or 'lhs' sampler");
        if (_dim == 0)
        {
            _dim = dim;
            _v = new uint[dim][];
            for (int j = 0; j < dim; j++) _v[j] = DirectionNumbers(j);
            _x = new uint[dim];
        }
        else if (dim != _dim)
        {
            throw new PinnException($"a Sobol sampler continues one sequence: it was first used in {_dim} dimensions, now asked for {dim}");
        }
        if (_next + n > 1L << Bits)
            throw new PinnException($"the Sobol sequence is exhausted (at most 2^{Bits} points)");

        var a = new double[n, dim];
        for (int i = 0; i < n; i++)
        {
            if (_next > 0)
            {
                // Gray-code step from point _next-1 to point _next: flip by V_c, c = 1 + the index of the
                // lowest zero bit of (_next - 1).
                int c = System.Numerics.BitOperations.TrailingZeroCount(~(ulong)(_next - 1));
                for (int j = 0; j < dim; j++) _x[j] ^= _v[j][c];
            }
            for (int j = 0; j < dim; j++) a[i, j] = _x[j] * Scale;
            _next++;
        }
        return a;
    }
}

public static class SamplerFactory
{
    public static readonly IReadOnlyList<string> Kinds = ["uniform", "sobol", "lhs", "latin_hypercube"];

    /// <summary>A sampler by name: "uniform", "sobol" or "lhs" (also "latin_hypercube"). Sobol is deterministic and ignores the seed.</summary>
    public static IPointSampler Create(string kind, int seed)
    {
        var k = (kind ?? "").Trim().ToLowerInvariant().Replace('-', '_');
        return k switch
        {
            "uniform" => new UniformSampler(seed),
            "sobol" => new SobolSampler(),
            "lhs" or "latin_hypercube" => new LatinHypercubeSampler(seed),
            _ => throw new PinnException($"training.sampler: unknown sampler '{kind}' (valid: {string.Join(", ", Kinds)})") { Key = "training.sampler" },
        };
    }
}
