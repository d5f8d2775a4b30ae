using Pinn.Autodiff;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>
/// Closed-form derivatives of the PIG embedding, carried as Taylor jets through the head. A diagonal
/// Gaussian factorises over axes, G = Π_j exp(−½ z_j²) with z_j = (x̂_j − μ_j)/σ_j and x̂_j = (x_j − lo_j)/W_j,
/// so with the probabilists' Hermite polynomials (dⁿ/dzⁿ e^{−z²/2} = (−1)ⁿ Heₙ(z) e^{−z²/2})
///   ∂^α FE_c = Σ_i w_ci G_ci Π_j (−1/(σ_cij W_j))^{α_j} He_{α_j}(z_cij)
/// — every derivative block costs a few points × (k·N) products instead of a nested reverse pass, and one
/// ordinary backward pass gives the parameter gradients. The head then maps the jet like any MLP layer.
/// </summary>
public sealed partial class GaussianField : IJetModel
{
    /// <summary>Closed forms beat nested autograd at every order (results/pig.md); full covariance has none here.</summary>
    public int AutoJetFromOrder => _full ? int.MaxValue : 1;

    public Jet ForwardJet(Tensor points, IReadOnlyList<MultiIndex> set)
    {
        if (_full) throw new PinnException("training.derivatives: jets need diagonal covariance; use autograd (or auto) with covariance: full") { Key = "training.derivatives" };
        var x = Normalise(points.detach());
        long n = x.shape[0];
        using var pass = BeginPass(n);
        var blocks = new Dictionary<MultiIndex, List<Tensor>>();
        var bins = _o.Cutoff is { } c ? GaussianBins.Build(Means, LogScales, c, _o.CutoffQuantile) : null;
        if (bins is not null) _capture?.Refuse("PIG's cut-off evaluation (Gaussians gathered per point)");
        for (long s = 0; s < n; s += _o.ChunkSize)
        {
            var xc = n <= _o.ChunkSize ? x : x[TensorIndex.Slice(s, Math.Min(n, s + _o.ChunkSize))];
            foreach (var (alpha, t) in EmbedJetChunk(xc, set, bins, s))
            {
                if (!blocks.TryGetValue(alpha, out var list)) blocks[alpha] = list = [];
                list.Add(t);
            }
        }
        var h = new Jet(set, blocks.ToDictionary(kv => kv.Key, kv => kv.Value.Count == 1 ? kv.Value[0] : cat(kv.Value, 0)));
        Func<Tensor, int, Tensor[]> act = _o.HeadActivation == "sin" ? Jet.SinDerivatives : Jet.TanhDerivatives;
        for (int i = 0; i < _head.Count; i++)
        {
            var layer = (Linear)_head[i];
            if (pass.Recording)
            {
                var (w, b) = (Read(layer.weight!, n, 0), layer.bias is { } lb ? Read(lb, n, 0) : null);
                h = h.Map((alpha, t) => PerSampleLinear(t, w, alpha == MultiIndex.Zero ? b : null));
            }
            else h = h.Linear(layer.weight!, layer.bias);
            if (i < _head.Count - 1) h = h.Apply(act);
        }
        return h;
    }

    /// <summary>∂^α FE for every α of the set on one chunk of normalised points (dense or cut-off sum).</summary>
    IEnumerable<(MultiIndex, Tensor)> EmbedJetChunk(Tensor x, IReadOnlyList<MultiIndex> set, GaussianBins? bins, long row0)
    {
        int d = InputDim;
        long p = x.shape[0];
        var z = new Tensor[d];
        var inv = new Tensor[d];
        Tensor weighted;
        Func<Tensor, Tensor> reduce;
        if (bins is null)
        {
            var invAll = (-Read(LogScales, p, row0)).exp();
            var means = Read(Means, p, row0);
            for (int j = 0; j < d; j++)
            {
                inv[j] = invAll.select(-1, j);
                z[j] = (x[TensorIndex.Colon, TensorIndex.Slice(j, j + 1)] - means.select(-1, j)) * inv[j];
            }
            weighted = Read(Weights, p, row0);
            reduce = t => t.view(p, _o.Channels, _o.Count).sum(2);
        }
        else
        {
            var (mu, invG, w, channel) = bins.Gather(x, Means, LogScales, Weights, _o.Count);
            for (int j = 0; j < d; j++)
            {
                inv[j] = invG[TensorIndex.Colon, TensorIndex.Colon, j];
                z[j] = (x[TensorIndex.Colon, TensorIndex.Slice(j, j + 1)] - mu[TensorIndex.Colon, TensorIndex.Colon, j]) * inv[j];
            }
            weighted = w;
            reduce = t => GaussianBins.Reduce(t, channel, _o.Channels);
        }
        Tensor? q = null;
        foreach (var zj in z) q = q is null ? zj.square() : q + zj.square();
        var g = (-0.5 * q!).exp() * weighted;

        var hermite = new Dictionary<(int Axis, int Order), Tensor>();
        Tensor Factor(int j, int order) // (−1/(σ W))ⁿ Heₙ(z), by He_{n+1} = z Heₙ − n He_{n−1}
        {
            if (hermite.TryGetValue((j, order), out var f)) return f;
            Tensor he0 = ones_like(z[j]), he1 = z[j];
            var he = order == 1 ? he1 : he0;
            for (int k = 1; k < order; k++)
            {
                var next = z[j] * he1 - k * he0;
                (he0, he1) = (he1, next);
                he = next;
            }
            f = he * (-inv[j] / _width[j]).pow(order);
            hermite[(j, order)] = f;
            return f;
        }
        foreach (var alpha in set)
        {
            var term = g;
            for (int j = 0; j < d; j++)
                if (alpha[j] > 0) term = term * Factor(j, alpha[j]);
            yield return (alpha, reduce(term));
        }
    }
}
