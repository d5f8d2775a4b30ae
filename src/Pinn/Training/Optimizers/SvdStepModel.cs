using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>
/// The Gauss–Newton model m(y) = ‖r + By‖² of one linearisation, through the thin SVD B = UΣVᵀ (OPTIMIZERS.md §5.2, §8.1):
/// with ĝ = Σ·(Uᵀr), the minimiser of m(y) + λ‖y‖² is y(λ) = −V·(ĝ/(Σ² + λ)), its model decrease is
/// pred(λ) = ‖r‖² − ‖r + By(λ)‖² = Σ_j ĝ_j²(σ_j² + 2λ)/(σ_j² + λ)², and ‖y(λ)‖² = Σ_j ĝ_j²/(σ_j² + λ)². One SVD serves every λ,
/// which is what a trust-region radius search needs. B is J̃ (N × P) or a row sketch S·J̃ (s × P), float64.
/// Singular values at or below rcond·σ_max (rcond = ε·max(rows, P), as lstsq's default) are dropped: at λ = 0 they would
/// divide rounding noise by rounding noise, and their directions carry no model decrease.
/// </summary>
public sealed class SvdStepModel : IDisposable
{
    readonly double[] _s2, _g; // σ_j² and ĝ_j of the kept components
    readonly Tensor _vt;       // k × P: the kept right singular vectors as rows

    public SvdStepModel(Tensor b, Tensor r)
    {
        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(b, fullMatrices: false);
        var sigma = s.data<double>().ToArray();
        double smax = sigma.Length > 0 ? sigma[0] : 0;
        double cut = smax * Math.Pow(2, -52) * Math.Max(b.shape[0], b.shape[1]);
        int k = sigma.TakeWhile(v => v > cut).Count();
        var c = u.narrow(1, 0, k).t().matmul(r).data<double>().ToArray(); // Uᵀr
        _s2 = new double[k];
        _g = new double[k];
        for (int j = 0; j < k; j++)
        {
            _s2[j] = sigma[j] * sigma[j];
            _g[j] = sigma[j] * c[j];
        }
        _vt = vh.narrow(0, 0, k).contiguous().DetachFromDisposeScope();
        SigmaMax = smax;
    }

    /// <summary>Kept components (the numerical rank of B).</summary>
    public int Rank => _g.Length;
    public double SigmaMax { get; }
    /// <summary>‖ĝ‖ = ‖Bᵀr‖: half the norm of the model's gradient at y = 0.</summary>
    public double GradientNorm => Math.Sqrt(_g.Sum(v => v * v));

    /// <summary>‖y(λ)‖.</summary>
    public double StepNorm(double lambda)
    {
        double s = 0;
        for (int j = 0; j < _g.Length; j++) { double q = _g[j] / (_s2[j] + lambda); s += q * q; }
        return Math.Sqrt(s);
    }

    /// <summary>pred(λ) = Σ_j ĝ_j²(σ_j² + 2λ)/(σ_j² + λ)² (no ½: the ‖·‖² convention of the loss).</summary>
    public double Predicted(double lambda)
    {
        double s = 0;
        for (int j = 0; j < _g.Length; j++) { double d = _s2[j] + lambda; s += _g[j] * _g[j] * (_s2[j] + 2 * lambda) / (d * d); }
        return s;
    }

    /// <summary>y(λ) = −V·(ĝ/(Σ² + λ)), a new P-vector in the caller's scope.</summary>
    public Tensor Step(double lambda)
    {
        var z = new double[_g.Length];
        for (int j = 0; j < z.Length; j++) z[j] = -_g[j] / (_s2[j] + lambda);
        using var scope = NewDisposeScope();
        return _vt.t().matmul(tensor(z, dtype: ScalarType.Float64, device: _vt.device)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The λ ≥ 0 with ‖y(λ)‖ = Δ (0 when the Gauss–Newton step ‖y(0)‖ ≤ Δ already): Newton on the Moré–Sorensen secular
    /// equation ψ(λ) = 1/Δ − 1/‖y(λ)‖, which is nearly linear in λ (concave: Newton from the left does not overshoot), kept
    /// inside the bracket [lo, hi] — hi = ‖ĝ‖/Δ, where ‖y‖ ≤ ‖ĝ‖/λ ≤ Δ — by bisection whenever a Newton step leaves it.
    /// Ends at |‖y‖ − Δ| ≤ 1e-14·Δ, a collapsed bracket, or <paramref name="maxIterations"/>.
    /// </summary>
    public double LambdaFor(double radius, int maxIterations = 100)
    {
        if (!(radius > 0)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "a trust radius must be positive");
        double n = StepNorm(0);
        if (n <= radius) return 0;
        double lo = 0, hi = GradientNorm / radius, lambda = 0;
        for (int it = 0; it < maxIterations; it++)
        {
            if (Math.Abs(n - radius) <= 1e-14 * radius) break;
            if (n > radius) lo = lambda; else hi = lambda;
            // d‖y‖/dλ = −Σ ĝ²/(σ² + λ)³ / ‖y‖; Newton on ψ: λ ← λ − (‖y‖ − Δ)·‖y‖ / (Δ·d‖y‖/dλ) = λ + (‖y‖ − Δ)·‖y‖² / (Δ·Σ ĝ²/(σ² + λ)³).
            double q3 = 0;
            for (int j = 0; j < _g.Length; j++) { double d = _s2[j] + lambda; q3 += _g[j] * _g[j] / (d * d * d); }
            double next = lambda + (n - radius) * n * n / (radius * q3);
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (next == lambda || hi - lo <= 4 * Math.Pow(2, -52) * hi) break;
            lambda = next;
            n = StepNorm(lambda);
        }
        return lambda;
    }

    public void Dispose() => _vt.Dispose();
}

/// <summary>
/// A CountSketch S (s × N) with <c>hashes</c> independent hash functions (OPTIMIZERS.md §8.1): hash h sends row i to
/// bucket b_h(i) ∈ [0, s) with sign ±1, scaled by 1/√hashes, and the hashes are summed. Linear, and E[SᵀS] = I over the
/// draw. Drawn from a <see cref="SplitMix64"/> stream, so the same state gives the same sketch on every machine.
/// </summary>
public sealed class CountSketch : IDisposable
{
    readonly Tensor[] _buckets, _signs;

    public CountSketch(long rows, int size, int hashes, ref SplitMix64 rng, Device? device = null)
    {
        if (size < 1 || hashes < 1) throw new ArgumentOutOfRangeException(nameof(size), "a sketch needs at least one row and one hash");
        Size = size;
        Rows = rows;
        _buckets = new Tensor[hashes];
        _signs = new Tensor[hashes];
        double scale = 1 / Math.Sqrt(hashes);
        for (int h = 0; h < hashes; h++)
        {
            var b = new long[rows];
            var s = new double[rows];
            for (long i = 0; i < rows; i++)
            {
                ulong v = rng.Next();
                b[i] = (long)((v >> 1) % (ulong)size);
                s[i] = (v & 1) == 0 ? scale : -scale;
            }
            _buckets[h] = tensor(b, dtype: ScalarType.Int64, device: device).DetachFromDisposeScope();
            _signs[h] = tensor(s, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
        }
    }

    public int Size { get; }
    public long Rows { get; }

    /// <summary>S·a for a vector (N) or a matrix (N × P), a new tensor in the caller's scope.</summary>
    public Tensor Apply(Tensor a)
    {
        if (a.shape[0] != Rows) throw new ArgumentException($"the sketch maps {Rows} rows, got {a.shape[0]}");
        using var scope = NewDisposeScope();
        var shape = a.shape.ToArray();
        shape[0] = Size;
        var result = zeros(shape, dtype: a.dtype, device: a.device);
        for (int h = 0; h < _buckets.Length; h++)
            result.index_add_(0, _buckets[h], a.ndim == 1 ? a * _signs[h] : a * _signs[h].unsqueeze(1), 1.0);
        return result.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in _buckets) t.Dispose();
        foreach (var t in _signs) t.Dispose();
    }
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state whose whole stream a checkpoint can carry in one number.</summary>
public struct SplitMix64(ulong state)
{
    public ulong State = state;

    public ulong Next()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
