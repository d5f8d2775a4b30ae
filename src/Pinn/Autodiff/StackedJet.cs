using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// Where each derivative of an order-≤ 2 jet sits when the jet is stored as one K×N×w tensor: block 0
/// the value, then the first derivatives ∂_i, then the second derivatives ∂_i∂_j, each with the
/// blocks of its two first-order factors. One tensor instead of K lets a dense layer map every
/// block with a single matrix product and the activation run as one fused kernel
/// (<see cref="FusedJetActivation"/>).
/// </summary>
public sealed class StackedLayout
{
    StackedLayout(IReadOnlyList<MultiIndex> blocks, int[] first, (int Block, int P, int Q)[] second)
    {
        Blocks = blocks;
        First = first;
        Second = second;
    }

    /// <summary>The multi-index of each block, in block order.</summary>
    public IReadOnlyList<MultiIndex> Blocks { get; }
    public int Count => Blocks.Count;
    /// <summary>Blocks holding first derivatives.</summary>
    public int[] First { get; }
    /// <summary>Blocks holding second derivatives ∂_i∂_j, with the blocks of ∂_i (P) and ∂_j (Q); P = Q on the diagonal.</summary>
    public (int Block, int P, int Q)[] Second { get; }

    /// <summary>The layout of a downward-closed set, or null when it holds a derivative above order 2.</summary>
    public static StackedLayout? For(IReadOnlyList<MultiIndex> set)
    {
        if (set.Any(a => a.Order > 2)) return null;
        var blocks = set.Where(a => a.Order == 0).Concat(set.Where(a => a.Order == 1)).Concat(set.Where(a => a.Order == 2)).ToList();
        if (blocks.Count == 0 || blocks[0] != MultiIndex.Zero) throw new ArgumentException("a jet set starts with the value (multi-index 0)", nameof(set));
        int BlockOf(MultiIndex a)
        {
            int k = blocks.IndexOf(a);
            return k >= 0 ? k : throw new ArgumentException($"jet set is not downward closed: {a} missing", nameof(set));
        }
        var first = Enumerable.Range(0, blocks.Count).Where(k => blocks[k].Order == 1).ToArray();
        var second = Enumerable.Range(0, blocks.Count).Where(k => blocks[k].Order == 2).Select(k =>
        {
            var c = blocks[k].Coordinates(); // sorted coordinate list, e.g. [0, 0] for ∂xx, [0, 1] for ∂xt
            return (k, BlockOf(MultiIndex.Of([c[0]])), BlockOf(MultiIndex.Of([c[1]])));
        }).ToArray();
        return new StackedLayout(blocks, first, second);
    }

    /// <summary>A jet's blocks as one contiguous K×N×w tensor: constant (1×w) blocks expanded, absent (zero) blocks filled with zeros.</summary>
    public Tensor Stack(Jet jet, long rows)
    {
        var value = jet.Value;
        long width = value.shape[1];
        return stack(Blocks.Select(a => jet[a] is { } t ? t.expand(rows, width) : zeros(rows, width, dtype: value.dtype, device: value.device)).ToList(), 0);
    }

    /// <summary>Back to a <see cref="Jet"/> over <paramref name="set"/> (views of the K×N×m tensor); the bias enters the value only.</summary>
    public Jet Unstack(Tensor stacked, Tensor? bias, IReadOnlyList<MultiIndex> set)
    {
        var d = new Dictionary<MultiIndex, Tensor>();
        for (int k = 0; k < Count; k++) d[Blocks[k]] = stacked[k];
        if (bias is not null) d[MultiIndex.Zero] = d[MultiIndex.Zero] + bias;
        return new Jet(set, d);
    }
}
