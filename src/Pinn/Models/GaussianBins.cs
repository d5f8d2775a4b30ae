using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>
/// Cut-off evaluation of the PIG embedding: the (detached) means are binned on a grid whose cell side
/// per axis is h_j = cutoff × (a high quantile of σ_j), so every Gaussian with σ_ij ≤ that quantile and
/// |x_j − μ_ij| ≤ cutoff·σ_ij lies in the point's cell or a neighbouring one (3^d cells). Gaussians wider
/// than the quantile go to every point, so a few wide ones do not blow up the bins. Neglected terms are
/// each below |w| exp(−cutoff²/2) (3.4e-4·|w| at 4σ). The gather indices are constants: autograd flows
/// through index_select into μ, σ and w, and derivatives in x come from the ordinary provider.
/// Rebuilt every forward pass (means move every step); cost O(kN + points × K) on the CPU.
/// </summary>
public sealed class GaussianBins
{
    readonly double[] _cell;               // h_j
    readonly Dictionary<long, List<int>> _bins = [];
    readonly int[] _wide;
    readonly int _dim;

    GaussianBins(double[] cell, int dim, int[] wide)
    {
        _cell = cell;
        _dim = dim;
        _wide = wide;
    }

    const int KeyBits = 21;                 // cells per axis up to ±2^20: far beyond any sensible σ
    const long KeyOffset = 1L << (KeyBits - 1);

    public int WideCount => _wide.Length;

    public static GaussianBins Build(Tensor means, Tensor logScales, double cutoff, double quantile)
    {
        int g = (int)means.shape[0], d = (int)means.shape[1];
        if (d > 3) throw new PinnException($"model.gaussians.cutoff: binning supports up to 3 coordinates, the problem has {d}");
        var mu = means.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        var sigma = logScales.detach().cpu().to(ScalarType.Float64).exp().data<double>().ToArray();
        var cell = new double[d];
        for (int j = 0; j < d; j++)
        {
            var s = Enumerable.Range(0, g).Select(i => sigma[i * d + j]).Order().ToArray();
            cell[j] = cutoff * s[Math.Min(g - 1, (int)Math.Ceiling(quantile * g) - 1)];
        }
        var wide = new List<int>();
        var narrow = new List<int>();
        for (int i = 0; i < g; i++)
        {
            bool isWide = false;
            for (int j = 0; j < d; j++) isWide |= cutoff * sigma[i * d + j] > cell[j];
            (isWide ? wide : narrow).Add(i);
        }
        var bins = new GaussianBins(cell, d, wide.ToArray());
        Span<long> c = stackalloc long[3];
        foreach (var i in narrow)
        {
            for (int j = 0; j < d; j++) c[j] = (long)Math.Floor(mu[i * d + j] / cell[j]);
            long key = bins.Key(c);
            if (!bins._bins.TryGetValue(key, out var list)) bins._bins[key] = list = [];
            list.Add(i);
        }
        return bins;
    }

    long Key(ReadOnlySpan<long> c)
    {
        long key = 0;
        for (int j = 0; j < _dim; j++) key |= (Math.Clamp(c[j], -KeyOffset + 2, KeyOffset - 2) + KeyOffset) << (KeyBits * j);
        return key;
    }

    /// <summary>Candidate Gaussians per point as a padded index (points × K) and a 0/1 mask of the same shape.</summary>
    public (long[] Index, float[] Mask, int K) Candidates(double[] x, int points)
    {
        int d = _dim;
        var lists = new List<int>[points];
        int k = 0;
        Span<long> c = stackalloc long[3];
        Span<long> n = stackalloc long[3];
        int neighbours = (int)Math.Pow(3, d);
        var found = new List<int>();
        for (int p = 0; p < points; p++)
        {
            for (int j = 0; j < d; j++) c[j] = (long)Math.Floor(x[p * d + j] / _cell[j]);
            var mine = new List<int>(_wide);
            for (int m = 0; m < neighbours; m++)
            {
                int r = m;
                for (int j = 0; j < d; j++)
                {
                    n[j] = c[j] + r % 3 - 1;
                    r /= 3;
                }
                if (_bins.TryGetValue(Key(n), out var list)) mine.AddRange(list);
            }
            lists[p] = mine;
            k = Math.Max(k, mine.Count);
        }
        k = Math.Max(k, 1);
        var index = new long[points * k];
        var mask = new float[points * k];
        for (int p = 0; p < points; p++)
        {
            var list = lists[p];
            for (int i = 0; i < list.Count; i++)
            {
                index[p * k + i] = list[i];
                mask[p * k + i] = 1;
            }
        }
        return (index, mask, k);
    }

    /// <summary>
    /// The Gaussians near each of the normalised points <paramref name="x"/> (P × d), gathered: their
    /// means and inverse scales (P × K × d), weights with the padding masked to 0 (P × K), and channels (P × K).
    /// </summary>
    public (Tensor Mu, Tensor Inv, Tensor W, Tensor Channel) Gather(Tensor x, Tensor means, Tensor logScales, Tensor weights, int perChannel)
    {
        int points = (int)x.shape[0], d = _dim;
        var xs = x.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        var (index, mask, k) = Candidates(xs, points);
        var flat = tensor(index, dtype: ScalarType.Int64, device: x.device);
        var channel = tensor(index.Select(i => i / perChannel).ToArray(), dtype: ScalarType.Int64, device: x.device).view(points, k);
        var mu = means.index_select(0, flat).view(points, k, d);
        var inv = (-logScales).exp().index_select(0, flat).view(points, k, d);
        var w = weights.index_select(0, flat).view(points, k) * tensor(mask, dtype: x.dtype, device: x.device).view(points, k);
        return (mu, inv, w, channel);
    }

    /// <summary>Per-channel sums of gathered terms (P × K) into P × channels.</summary>
    public static Tensor Reduce(Tensor terms, Tensor channel, int channels) =>
        zeros(terms.shape[0], channels, dtype: terms.dtype, device: terms.device).scatter_add(1, channel, terms);

    /// <summary>FE(x) for normalised points <paramref name="x"/> (P × d) from the Gaussians near each point.</summary>
    public Tensor Sum(Tensor x, Tensor means, Tensor logScales, Tensor weights, int perChannel, int channels)
    {
        var (mu, inv, w, channel) = Gather(x, means, logScales, weights, perChannel);
        Tensor? q = null;
        for (int j = 0; j < _dim; j++)
        {
            var z = (x[TensorIndex.Colon, TensorIndex.Slice(j, j + 1)] - mu[TensorIndex.Colon, TensorIndex.Colon, j]) * inv[TensorIndex.Colon, TensorIndex.Colon, j];
            var zz = z.square();
            q = q is null ? zz : q + zz;
        }
        return Reduce((-0.5 * q!).exp() * w, channel, channels);
    }
}
