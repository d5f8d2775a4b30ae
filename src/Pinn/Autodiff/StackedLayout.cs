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

    StackedLayout(IReadOnlyList<MultiIndex> blocks, IReadOnlyList<(MultiIndex Alpha, double C)>? op)
    {
        Blocks = blocks;
        Operator = op;
        MaxDerivative = Math.Max(blocks.Max(a => a.Order), op?.Max(t => t.Alpha.Order) ?? 0);
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
        if (op is not null)
        {
            // L σ(z) = σ′ · L z + Σ_α c_α Σ_(terms of α with k ≥ 2 factors) count · σ^(k) · Π D_β z: the one-factor
            // terms of all members add up to σ′ times the operator block itself.
            coefficient.Add(1);
            order.Add(1);
            factors.Add(blocks.Count);
            factorStart.Add(factors.Count);
            foreach (var (alpha, c) in op)
                foreach (var (count, betas) in alpha.ChainRuleTerms().Where(t => t.Factors.Length >= 2))
                {
                    coefficient.Add(c * count);
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

        // Leibniz for an elementwise product P = A ⊙ B of two jets: P_α = Σ_(β ≤ α) C(α, β) A_β B_(α−β); for the
        // operator block L P = A·L B + L A·B + Σ_α c_α Σ_(0 < β < α) C(α, β) A_β B_(α−β).
        var product = new List<(int Block, double C, int Left, int Right)>();
        for (int b = 0; b < blocks.Count; b++)
            foreach (var beta in blocks[b].Below())
                product.Add((b, blocks[b].Binomial(beta), BlockOf(beta), BlockOf(blocks[b].Minus(beta))));
        if (op is not null)
        {
            int l = blocks.Count;
            product.Add((l, 1, 0, l));
            product.Add((l, 1, l, 0));
            foreach (var (alpha, c) in op)
                foreach (var beta in alpha.Below().Where(beta => beta != MultiIndex.Zero && beta != alpha))
                    product.Add((l, c * alpha.Binomial(beta), BlockOf(beta), BlockOf(alpha.Minus(beta))));
        }
        ProductTermStart = [.. Enumerable.Range(0, Count + 1).Select(b => product.Count(t => t.Block < b))];
        ProductCoefficient = [.. product.Select(t => t.C)];
        ProductLeft = [.. product.Select(t => t.Left)];
        ProductRight = [.. product.Select(t => t.Right)];
    }

    // Block b of a product is Σ ProductCoefficient[t] · A[ProductLeft[t]] · B[ProductRight[t]] over
    // t in ProductTermStart[b] … ProductTermStart[b+1]−1 (terms are listed block by block).
    public int[] ProductTermStart { get; }
    public double[] ProductCoefficient { get; }
    public int[] ProductLeft { get; }
    public int[] ProductRight { get; }

    /// <summary>The multi-index of each block, in block order (the set's order: ascending, the value first).</summary>
    public IReadOnlyList<MultiIndex> Blocks { get; }
    /// <summary>A linear operator Σ c_α ∂^α carried as one extra, last block (index <see cref="Blocks"/>.Count), or null.</summary>
    public IReadOnlyList<(MultiIndex Alpha, double C)>? Operator { get; }
    public int Count => Blocks.Count + (Operator is null ? 0 : 1);
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

    /// <summary>
    /// The layout of a downward-closed set starting with the value, plus optionally a linear operator block
    /// (every factor of its members' chain-rule terms must be in the set); null above <see cref="MaxOrder"/>.
    /// </summary>
    public static StackedLayout? For(IReadOnlyList<MultiIndex> set, IReadOnlyList<(MultiIndex Alpha, double C)>? op = null)
    {
        if (set.Count == 0 || set[0] != MultiIndex.Zero) throw new ArgumentException("a jet set starts with the value (multi-index 0)", nameof(set));
        return set.Any(a => a.Order > MaxOrder) || op?.Any(t => t.Alpha.Order > MaxOrder) == true ? null : new StackedLayout(set, op);
    }

    /// <summary>
    /// A jet's blocks as one contiguous K×N×w tensor: constant (1×w) blocks expanded, absent (zero) blocks
    /// filled with zeros; the operator block is Σ c_α D_α of the jet (which must carry those α).
    /// </summary>
    public Tensor Stack(Jet jet, long rows)
    {
        var value = jet.Value;
        long width = value.shape[1];
        Tensor Block(Tensor? t) => t is null ? zeros(rows, width, dtype: value.dtype, device: value.device) : t.expand(rows, width);
        var blocks = Blocks.Select(a => Block(jet[a])).ToList();
        if (Operator is not null)
            blocks.Add(Operator.Select(t => jet[t.Alpha] is { } d ? t.C * Block(d) : null).OfType<Tensor>()
                               .Aggregate(Block(null), (acc, term) => acc + term));
        return stack(blocks, 0);
    }

    /// <summary>Back to a <see cref="Jet"/> (views of the K×N×m tensor) and the operator block; the bias enters the value only.</summary>
    public (Jet Jet, Tensor? Operator) Unstack(Tensor stacked, Tensor? bias)
    {
        var d = new Dictionary<MultiIndex, Tensor>();
        for (int k = 0; k < Blocks.Count; k++) d[Blocks[k]] = stacked[k];
        if (bias is not null) d[MultiIndex.Zero] = d[MultiIndex.Zero] + bias;
        return (new Jet(Blocks, d), Operator is null ? null : stacked[Blocks.Count]);
    }
}
