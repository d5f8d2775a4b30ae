using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>Causal training settings (YAML <c>training.causal</c>).</summary>
public sealed record CausalOptions
{
    public bool Enabled { get; init; }
    /// <summary>M: the residual batch, sorted by time, is split into this many equal-count chunks.</summary>
    public int Chunks { get; init; } = 32;
    /// <summary>ε values, annealed in order (one value: ε fixed). Paper v1: 1e-2 … 1e2.</summary>
    public IReadOnlyList<double> Epsilons { get; init; } = [1e-2, 1e-1, 1, 10, 100];
    /// <summary>δ: move to the next ε once min_i w_i exceeds it.</summary>
    public double Delta { get; init; } = 0.99;
    /// <summary>Paper v1 form: the weighted initial-condition loss enters the cumulative sum as slot 0.</summary>
    public bool IncludeInitial { get; init; }
}

/// <summary>
/// Causal weights for time-dependent residuals (Wang, Sankaran &amp; Perdikaris, "Respecting causality
/// is all you need for training physics-informed neural networks", eq. 3.4–3.6):
/// with L_i the mean squared residual of time chunk i, w_i = exp(−ε Σ_{k&lt;i} L_k) (w_1 = 1), computed
/// without gradient, and the residual loss is (1/M) Σ_i w_i L_i. Several coupled equations get one
/// weight vector each; their element-wise minimum weights every equation. ε moves through
/// <see cref="CausalOptions.Epsilons"/> once min_i w_i &gt; δ (the paper's convergence criterion).
/// </summary>
public sealed class CausalWeighting(CausalOptions options)
{
    int _index;

    public CausalOptions Options => options;
    public double Epsilon => options.Epsilons[_index];
    /// <summary>min_i w_i of the last evaluation: near 1 means every chunk is being fitted.</summary>
    public double MinWeight { get; private set; } = 1;

    /// <param name="chunkLosses">One vector [M] of chunk losses per equation, in time order.</param>
    /// <param name="initialLoss">The weighted initial-condition loss, entering the sums as slot 0 when <see cref="CausalOptions.IncludeInitial"/>.</param>
    public Tensor Loss(IReadOnlyList<Tensor> chunkLosses, Tensor? initialLoss = null)
    {
        Tensor? w = null;
        using (no_grad())
        {
            foreach (var l in chunkLosses)
            {
                var sums = l.detach().cumsum(0) - l.detach(); // Σ_{k<i} L_k
                if (options.IncludeInitial && initialLoss is not null) sums = sums + initialLoss.detach();
                var we = (-Epsilon * sums).exp();
                w = w is null ? we : minimum(w, we);
            }
        }
        MinWeight = w!.min().ToDouble();
        return chunkLosses.Select(l => (w * l).mean()).Aggregate((a, b) => a + b);
    }

    /// <summary>Anneals ε after an optimiser step.</summary>
    public void AfterStep()
    {
        if (MinWeight > options.Delta && _index < options.Epsilons.Count - 1) _index++;
    }

    /// <summary>Mean squared residual per time chunk: the batch sorted by t, split into M equal-count chunks (a remainder of fewer than M points is dropped).</summary>
    public static Tensor ChunkLosses(Tensor residual, Tensor time, int chunks)
    {
        long n = residual.shape[0];
        if (n < chunks) throw new PinnException($"causal weighting: {n} residual points cannot fill {chunks} time chunks");
        long per = n / chunks;
        var order = time.detach().argsort();
        return residual.index_select(0, order).narrow(0, 0, per * chunks).reshape(chunks, per).square().mean([1]);
    }
}
