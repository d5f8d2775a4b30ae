using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training;

/// <summary>
/// Learned noise precisions as a loss weighting: each term k is read as a Gaussian likelihood of its residuals with a
/// trainable precision τ_k = exp(s_k), <c>−log N(0 | r_k, τ_k⁻¹) = τ_k/2 Σ r² − n_k/2 log τ_k</c> (up to a constant), trained
/// with the model by every phase that trains on the loss (Adam, L-BFGS, the quasi-Newton phases). In s_k alone its minimum
/// is at τ_k = n_k / Σr² = 1 / mean(r²): each term weighs itself by its inverse mean square, and the log term keeps τ_k from
/// growing without bound. Two users, one formula:
/// <list type="bullet">
/// <item>the grid GP's likelihood terms (Fang et al. 2024, PAPERS.md §3), always: n_k = the term's nodes, the likelihood proper
/// (<see cref="NegativeLogLikelihood(string, Tensor)"/>);</item>
/// <item>any model's sampled terms with <c>training.balancing: {kind: precision}</c> (<see cref="Weigh"/>): n_k = 1 on the term's
/// mean square L_k, <c>½ τ_k L_k − ½ log τ_k</c> — Kendall, Gal &amp; Cipolla's (2018) uncertainty weighting — so that a batch
/// size does not become a weight.</item>
/// </list>
/// The residual phases (lm, tr, engd) cannot take a precision-weighted loss (the log term is not a square) and refuse it.
/// </summary>
public sealed class LearnedPrecisions : IDisposable
{
    readonly Dictionary<string, TorchParameter> _log = [];
    readonly List<string> _order = [];

    /// <summary>One precision per term name, each starting at τ = 1 (s = 0).</summary>
    public LearnedPrecisions(IEnumerable<string> terms, ScalarType dtype, Device device)
    {
        foreach (var name in terms)
        {
            if (_log.ContainsKey(name)) continue;
            _order.Add(name);
            _log[name] = new TorchParameter(zeros(1, dtype: dtype, device: device));
        }
    }

    /// <summary>The terms weighted, in order.</summary>
    public IReadOnlyList<string> Names => _order;

    /// <summary>s_k = log τ_k of <paramref name="term"/> (a 1-element trainable parameter).</summary>
    public TorchParameter LogPrecision(string term) =>
        _log.TryGetValue(term, out var p) ? p : throw new KeyNotFoundException($"no learned precision for loss term '{term}'");

    /// <summary>Every s_k, in <see cref="Names"/> order (what the optimisers train).</summary>
    public IReadOnlyList<TorchParameter> Parameters => _order.Select(n => _log[n]).ToList();

    /// <summary>τ_k now, as a double (the Gauss–Newton rows' scale, log.csv's precision_NAME).</summary>
    public double Precision(string term)
    {
        using var _ = no_grad();
        return LogPrecision(term).exp().ToDouble();
    }

    /// <summary>τ/2 Σ r² − (n/2) log τ over the n rows of <paramref name="residual"/>: the likelihood of term <paramref name="term"/>.</summary>
    public Tensor NegativeLogLikelihood(string term, Tensor residual) => NegativeLogLikelihood(residual, LogPrecision(term));

    /// <summary>−log N(0 | r, τ⁻¹) summed over the rows, up to a constant: τ/2 Σ r² − (n/2) log τ, with s = log τ.</summary>
    public static Tensor NegativeLogLikelihood(Tensor residual, Tensor logPrecision) =>
        0.5 * logPrecision.exp().squeeze() * residual.square().sum() - 0.5 * residual.shape[0] * logPrecision.squeeze();

    /// <summary>½ τ L − ½ log τ for a term's mean-square loss <paramref name="meanSquare"/> (n = 1, see the class summary).</summary>
    public Tensor Weigh(string term, Tensor meanSquare)
    {
        var s = LogPrecision(term).squeeze();
        return 0.5 * s.exp() * meanSquare - 0.5 * s;
    }

    /// <summary>Each s_k by name (for checkpoints; JSON doubles round-trip exactly).</summary>
    public IReadOnlyDictionary<string, double> Raw()
    {
        using var _ = no_grad();
        return _order.ToDictionary(n => n, n => _log[n].ToDouble());
    }

    /// <summary>Puts back <see cref="Raw"/> values; a term missing from them is an error naming it.</summary>
    public void Load(IReadOnlyDictionary<string, double>? raw)
    {
        using var _ = no_grad();
        foreach (var n in _order)
        {
            if (raw is null || !raw.TryGetValue(n, out var v))
                throw new PinnException($"the checkpoint has no learned precision for loss term '{n}' (was it written without " +
                                        "training.balancing: {kind: precision}?)") { Key = "training.balancing" };
            _log[n].fill_(v);
        }
    }

    public void Dispose()
    {
        foreach (var p in _log.Values) p.Dispose();
    }
}
