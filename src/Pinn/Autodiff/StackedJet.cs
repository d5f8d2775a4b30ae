using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// A jet stored as one K×N×w tensor — block k holds D_α for the k-th multi-index of the set, block 0 the
/// value — with the chain rule (Faà di Bruno) of each block flattened into arrays a kernel can walk:
/// D_α σ(z) = Σ_terms c · σ^(k)(z) · Π_{i&lt;k} D_(β_i) z. One tensor instead of K lets a dense layer map
/// every block with a single matrix product and the activation run as one fused node (<see cref="FusedTanhJet"/>).
/// </summary>
public sealed class StackedLayout
{
    /// <summary>The highest derivative order the fused kernel handles (it needs σ up to order + 1).</summary>
    public const int MaxOrder = 4;

    StackedLayout(IReadOnlyList<MultiIndex> blocks)
    {
        Blocks = blocks;
        MaxDerivative = blocks.Max(a => a.Order);
        var termStart = new List<int> { 0, 0 }; // block 0 (the value) has no chain-rule terms
        var coefficient = new List<double>();
        var order = new List<int>();
        var factorStart = new List<int> { 0 };
        var factors = new List<int>();
        for (int b = 1; b < blocks.Count; b++)
        {
            foreach (var (count, betas) in blocks[b].ChainRuleTerms())
            {
                coefficient.Add(count);
                order.Add(betas.Length);
                foreach (var beta in betas) factors.Add(BlockOf(beta));
                factorStart.Add(factors.Count);
            }
            termStart.Add(coefficient.Count);
        }
        TermStart = [.. termStart];
        Coefficient = [.. coefficient];
        Order = [.. order];
        FactorStart = [.. factorStart];
        Factor = [.. factors];
    }

    /// <summary>The multi-index of each block, in block order (the set's order: ascending, the value first).</summary>
    public IReadOnlyList<MultiIndex> Blocks { get; }
    public int Count => Blocks.Count;
    public int MaxDerivative { get; }

    // Block b's chain-rule terms are TermStart[b] … TermStart[b+1]−1; term t contributes
    // Coefficient[t] · σ^(Order[t]) · Π Z[Factor[j]] for j in FactorStart[t] … FactorStart[t+1]−1.
    public int[] TermStart { get; }
    public double[] Coefficient { get; }
    public int[] Order { get; }
    public int[] FactorStart { get; }
    public int[] Factor { get; }

    int BlockOf(MultiIndex a)
    {
        for (int k = 0; k < Blocks.Count; k++) if (Blocks[k] == a) return k;
        throw new ArgumentException($"jet set is not downward closed: {a} missing");
    }

    /// <summary>The layout of a downward-closed set starting with the value, or null above <see cref="MaxOrder"/>.</summary>
    public static StackedLayout? For(IReadOnlyList<MultiIndex> set)
    {
        if (set.Count == 0 || set[0] != MultiIndex.Zero) throw new ArgumentException("a jet set starts with the value (multi-index 0)", nameof(set));
        return set.Any(a => a.Order > MaxOrder) ? null : new StackedLayout(set);
    }

    /// <summary>A jet's blocks as one contiguous K×N×w tensor: constant (1×w) blocks expanded, absent (zero) blocks filled with zeros.</summary>
    public Tensor Stack(Jet jet, long rows)
    {
        var value = jet.Value;
        long width = value.shape[1];
        return stack(Blocks.Select(a => jet[a] is { } t ? t.expand(rows, width) : zeros(rows, width, dtype: value.dtype, device: value.device)).ToList(), 0);
    }

    /// <summary>Back to a <see cref="Jet"/> (views of the K×N×m tensor); the bias enters the value only.</summary>
    public Jet Unstack(Tensor stacked, Tensor? bias)
    {
        var d = new Dictionary<MultiIndex, Tensor>();
        for (int k = 0; k < Count; k++) d[Blocks[k]] = stacked[k];
        if (bias is not null) d[MultiIndex.Zero] = d[MultiIndex.Zero] + bias;
        return new Jet(Blocks, d);
    }
}
