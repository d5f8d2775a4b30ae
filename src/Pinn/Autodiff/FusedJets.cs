using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// tanh applied to a jet stored as one K×N×w tensor (<see cref="StackedLayout"/>, derivatives up to order 4),
/// after adding the layer's bias to the value block — as one autograd node with a hand-written backward,
/// instead of the dozens of elementwise nodes (and their backward nodes) the generic <see cref="Jet.Apply"/>
/// records. With s_k = σ^(k)(z) (polynomials in a = tanh z) and the layout's chain-rule terms,
/// <code>
///   A_α = Σ_terms c · s_k · Π_i Z_(β_i)                                   (A_0 = s_0)
///   Z̄_β = Σ_α Σ_terms Σ_(i: β_i = β) Ā_α · c · s_k · Π_(j≠i) Z_(β_j)        (β ≠ 0)
///   Z̄_0 = Ā_0 s_1 + Σ_α Σ_terms Ā_α · c · s_(k+1) · Π_i Z_(β_i),   b̄ = Σ_rows Z̄_0.
/// </code>
/// Both passes read and write every block once per element (C# SIMD over the tensors' memory, split over
/// libtorch's thread count). CPU, contiguous, float32/float64 only: the caller checks <see cref="Supports"/>.
/// The backward is first order (no create_graph through it), which is all a jet-based step needs: the
/// input derivatives come from the forward pass.
/// </summary>
public sealed class FusedTanhJet : autograd.SingleTensorFunction<FusedTanhJet>
{
    public override string Name => "FusedTanhJet";

    public static bool Supports(Tensor z) =>
        z.device.type == DeviceType.CPU && (z.dtype == ScalarType.Float32 || z.dtype == ScalarType.Float64);

    /// <summary>tanh(z + b) on the stacked jet <paramref name="z"/> (K×N×w); <paramref name="bias"/> has w entries.</summary>
    public static Tensor Apply(Tensor z, Tensor bias, StackedLayout layout) => apply(z, bias, layout);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var z = ((Tensor)vars[0]).contiguous();
        var bias = ((Tensor)vars[1]).contiguous();
        var layout = (StackedLayout)vars[2];
        Check(z, bias, layout);
        var a = empty_like(z);
        if (z.dtype == ScalarType.Float32) JetKernels<float>.Forward(z, bias, a, layout);
        else JetKernels<double>.Forward(z, bias, a, layout);
        ctx.save_for_backward([z, bias]);
        ctx.save_data("layout", layout);
        return a;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        var saved = ctx.get_saved_variables();
        var (z, bias) = (saved[0], saved[1]);
        var layout = (StackedLayout)ctx.get_data("layout");
        var g = grad.contiguous();
        var gz = empty_like(z);
        var gb = zeros_like(bias);
        if (z.dtype == ScalarType.Float32) JetKernels<float>.Backward(z, bias, g, gz, gb, layout);
        else JetKernels<double>.Backward(z, bias, g, gz, gb, layout);
        return [gz, gb, null!]; // one entry per argument of apply: none for the layout
    }

    static void Check(Tensor z, Tensor bias, StackedLayout layout)
    {
        if (!Supports(z)) throw new ArgumentException($"fused jet activation: CPU float32/float64 only, got {z.dtype} on {z.device}");
        if (z.dim() != 3 || z.shape[0] != layout.Count || bias.dim() != 1 || bias.shape[0] != z.shape[2] || bias.dtype != z.dtype)
            throw new ArgumentException($"fused jet activation: expected z K×N×w with K = {layout.Count} and a bias of w entries, got [{string.Join(", ", z.shape)}] and [{string.Join(", ", bias.shape)}]");
    }
}

/// <summary>
/// The elementwise product A ⊙ B of two jets stored as K×N×w tensors (same <see cref="StackedLayout"/>), by
/// Leibniz' rule over the layout's product terms, as one autograd node with a hand-written backward
/// (Ā_β += c·P̄_α·B_γ, B̄_γ += c·P̄_α·A_β): the modified MLP's u + z ⊙ (v − u) on jets.
/// </summary>
public sealed class FusedJetProduct : autograd.SingleTensorFunction<FusedJetProduct>
{
    public override string Name => "FusedJetProduct";

    public static Tensor Apply(Tensor a, Tensor b, StackedLayout layout) => apply(a, b, layout);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (a, b) = (((Tensor)vars[0]).contiguous(), ((Tensor)vars[1]).contiguous());
        var layout = (StackedLayout)vars[2];
        if (!FusedTanhJet.Supports(a) || a.dim() != 3 || a.shape[0] != layout.Count || !a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype)
            throw new ArgumentException($"fused jet product: expected two CPU float K×N×w tensors with K = {layout.Count}, got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}]");
        var p = empty_like(a);
        if (a.dtype == ScalarType.Float32) JetKernels<float>.ProductForward(a, b, p, layout);
        else JetKernels<double>.ProductForward(a, b, p, layout);
        ctx.save_for_backward([a, b]);
        ctx.save_data("layout", layout);
        return p;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        var saved = ctx.get_saved_variables();
        var (a, b) = (saved[0], saved[1]);
        var layout = (StackedLayout)ctx.get_data("layout");
        var (ga, gb) = (empty_like(a), empty_like(b));
        if (a.dtype == ScalarType.Float32) JetKernels<float>.ProductBackward(a, b, grad.contiguous(), ga, gb, layout);
        else JetKernels<double>.ProductBackward(a, b, grad.contiguous(), ga, gb, layout);
        return [ga, gb, null!];
    }
}

/// <summary>
/// The loops behind <see cref="FusedTanhJet"/> and <see cref="FusedJetProduct"/>. Work goes tile by tile; a tile is a few whole rows
/// (~<see cref="TileElements"/> elements) of every block, so the bias has the same phase in every tile and
/// the scratch (σ^(k) over the tile, the value-gradient accumulator) stays in L1. Within a tile each
/// chain-rule term is one tight SIMD loop over contiguous memory: the term bookkeeping is paid per tile, not
/// per element. The core loops need tile lengths that are whole vectors; layers whose width is not a
/// multiple of the vector width run the same core on zero-padded copies of each tile.
/// </summary>
static class JetKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly int V = Vector<T>.Count;
    const int TileElements = 256;

    public static void Forward(Tensor z, Tensor bias, Tensor a, StackedLayout layout)
    {
        var plan = new Plan(z, bias, layout);
        ParallelTiles(plan, (rowFrom, rowTo) =>
        {
            Span<T> zs = Memory(z), As = Memory(a);
            var s = new T[(layout.MaxDerivative + 1) * plan.TileLength];
            var (zPad, aPad) = plan.Padded ? (new T[layout.Count * plan.TileLength], new T[layout.Count * plan.TileLength]) : (null, null);
            for (long row = rowFrom; row < rowTo; row += plan.TileRows)
            {
                long e = row * plan.Width;
                int len = (int)(Math.Min(plan.TileRows, rowTo - row) * plan.Width);
                if (!plan.Padded) { ForwardTile(zs, As, plan.BlockStride, e, len, plan, s); continue; }
                Gather(zs, plan.BlockStride, e, len, zPad!, plan.TileLength, layout.Count);
                ForwardTile(zPad, aPad, plan.TileLength, 0, plan.TileLength, plan, s);
                Scatter(aPad!, plan.TileLength, As, plan.BlockStride, e, len, layout.Count);
            }
        });
    }

    public static void Backward(Tensor z, Tensor bias, Tensor g, Tensor gz, Tensor gb, StackedLayout layout)
    {
        var plan = new Plan(z, bias, layout);
        var partial = new List<T[]>();
        ParallelTiles(plan, (rowFrom, rowTo) =>
        {
            Span<T> zs = Memory(z), gs = Memory(g), gzs = Memory(gz);
            var s = new T[(layout.MaxDerivative + 2) * plan.TileLength];
            var g0 = new T[plan.TileLength];
            var biasAcc = new T[plan.TileLength];
            var (zPad, gPad, gzPad) = plan.Padded
                ? (new T[layout.Count * plan.TileLength], new T[layout.Count * plan.TileLength], new T[layout.Count * plan.TileLength])
                : (null, null, null);
            for (long row = rowFrom; row < rowTo; row += plan.TileRows)
            {
                long e = row * plan.Width;
                int len = (int)(Math.Min(plan.TileRows, rowTo - row) * plan.Width);
                if (!plan.Padded) { BackwardTile(zs, gs, gzs, plan.BlockStride, e, len, plan, s, g0, biasAcc); continue; }
                Gather(zs, plan.BlockStride, e, len, zPad!, plan.TileLength, layout.Count);
                Gather(gs, plan.BlockStride, e, len, gPad!, plan.TileLength, layout.Count); // zero beyond len: padded lanes add nothing to b̄
                BackwardTile(zPad, gPad, gzPad, plan.TileLength, 0, plan.TileLength, plan, s, g0, biasAcc);
                Scatter(gzPad!, plan.TileLength, gzs, plan.BlockStride, e, len, layout.Count);
            }
            lock (partial) partial.Add(biasAcc);
        });
        var sum = new T[plan.Width];
        foreach (var acc in partial)
            for (int j = 0; j < plan.TileRows * plan.Width; j++) sum[j % plan.Width] += acc[j];
        sum.CopyTo(Memory(gb));
    }

    /// <summary>Shapes and constants of one call: tile size, the bias repeated over a tile, the chain-rule coefficients as T.</summary>
    sealed class Plan
    {
        public Plan(Tensor z, Tensor bias, StackedLayout layout)
        {
            Layout = layout;
            Rows = z.shape[1];
            Width = (int)z.shape[2];
            BlockStride = Rows * Width;
            TileRows = Math.Max(1, TileElements / Width);
            Padded = Width % V != 0;
            TileLength = (TileRows * Width + V - 1) / V * V;
            BiasTile = new T[TileLength];
            var b = bias.data<T>().ToArray();
            for (int r = 0; r < TileRows; r++) b.CopyTo(BiasTile, r * Width);
            Coefficient = [.. layout.Coefficient.Select(T.CreateChecked)];
        }

        public StackedLayout Layout { get; }
        public long Rows { get; }
        public int Width { get; }
        public long BlockStride { get; }
        public int TileRows { get; }
        /// <summary>Elements per tile, rounded up to whole vectors (the scratch length).</summary>
        public int TileLength { get; }
        /// <summary>Whether tiles run on zero-padded copies (the width is not a multiple of the vector width).</summary>
        public bool Padded { get; }
        public T[] BiasTile { get; }
        public T[] Coefficient { get; }
    }

    // ---- one tile: block b's elements at b·stride + e … + len (len a multiple of V) ----------------------------

    // AggressiveOptimization: straight to optimised code. Tiered compilation would run the first ~30 calls (every
    // step calls these once per layer) as unoptimised Vector<T> code, 10–50× slower — visible in short runs and benches.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ForwardTile(Span<T> zs, Span<T> As, long stride, long e, int len, Plan plan, T[] s)
    {
        var layout = plan.Layout;
        int order = layout.MaxDerivative;
        for (int v = 0; v < len; v += V)
            Store(As, e + v, TanhDerivatives(Load(zs, e + v) + Load(plan.BiasTile, v), s, v, len, order));
        for (int b = 1; b < layout.Count; b++)
        {
            long dst = b * stride + e;
            for (int t = layout.TermStart[b]; t < layout.TermStart[b + 1]; t++)
            {
                var f = Factors(layout, t, stride, e);
                var c = new Vector<T>(plan.Coefficient[t]);
                var sk = s.AsSpan((layout.Order[t] - 1) * len, len);
                bool add = t > layout.TermStart[b]; // the first term stores, the others accumulate
                switch (f.Count)
                {
                    case 1:
                        for (int v = 0; v < len; v += V)
                            Store(As, dst + v, (add ? Load(As, dst + v) : Vector<T>.Zero) + c * Load(sk, v) * Load(zs, f.A + v));
                        break;
                    case 2:
                        for (int v = 0; v < len; v += V)
                            Store(As, dst + v, (add ? Load(As, dst + v) : Vector<T>.Zero) + c * Load(sk, v) * Load(zs, f.A + v) * Load(zs, f.B + v));
                        break;
                    case 3:
                        for (int v = 0; v < len; v += V)
                            Store(As, dst + v, (add ? Load(As, dst + v) : Vector<T>.Zero)
                                               + c * Load(sk, v) * Load(zs, f.A + v) * Load(zs, f.B + v) * Load(zs, f.C + v));
                        break;
                    default:
                        for (int v = 0; v < len; v += V)
                            Store(As, dst + v, (add ? Load(As, dst + v) : Vector<T>.Zero)
                                               + c * Load(sk, v) * Load(zs, f.A + v) * Load(zs, f.B + v) * Load(zs, f.C + v) * Load(zs, f.D + v));
                        break;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void BackwardTile(Span<T> zs, Span<T> gs, Span<T> gzs, long stride, long e, int len, Plan plan, T[] s, T[] g0, T[] biasAcc)
    {
        var layout = plan.Layout;
        int order = layout.MaxDerivative + 1;
        for (int v = 0; v < len; v += V)
        {
            TanhDerivatives(Load(zs, e + v) + Load(plan.BiasTile, v), s, v, len, order);
            Store(g0, v, Load(gs, e + v) * Load(s, v)); // Ā_0 · s_1
        }
        for (int b = 1; b < layout.Count; b++) gzs.Slice((int)(b * stride + e), len).Clear();
        for (int b = 1; b < layout.Count; b++)
        {
            long ga = b * stride + e;
            for (int t = layout.TermStart[b]; t < layout.TermStart[b + 1]; t++)
            {
                var f = Factors(layout, t, stride, e);
                var c = new Vector<T>(plan.Coefficient[t]);
                var sk = s.AsSpan((layout.Order[t] - 1) * len, len);
                var sk1 = s.AsSpan(layout.Order[t] * len, len);
                // ∂/∂Z_(β_i) = Ā·c·s_k·Π_(j≠i) Z_(β_j);  ∂/∂z via s_k: Ā·c·s_(k+1)·Π Z_(β_j). Statements run in order per
                // vector, so repeated factors (Z_x·Z_x) accumulate into the same block correctly.
                switch (f.Count)
                {
                    case 1:
                        for (int v = 0; v < len; v += V)
                        {
                            var q = c * Load(gs, ga + v);
                            var za = Load(zs, f.A + v);
                            Store(gzs, f.A + v, Load(gzs, f.A + v) + q * Load(sk, v));
                            Store(g0, v, Load(g0, v) + q * Load(sk1, v) * za);
                        }
                        break;
                    case 2:
                        for (int v = 0; v < len; v += V)
                        {
                            var q = c * Load(gs, ga + v);
                            var qs = q * Load(sk, v);
                            var (za, zb) = (Load(zs, f.A + v), Load(zs, f.B + v));
                            Store(gzs, f.A + v, Load(gzs, f.A + v) + qs * zb);
                            Store(gzs, f.B + v, Load(gzs, f.B + v) + qs * za);
                            Store(g0, v, Load(g0, v) + q * Load(sk1, v) * za * zb);
                        }
                        break;
                    case 3:
                        for (int v = 0; v < len; v += V)
                        {
                            var q = c * Load(gs, ga + v);
                            var qs = q * Load(sk, v);
                            var (za, zb, zc) = (Load(zs, f.A + v), Load(zs, f.B + v), Load(zs, f.C + v));
                            Store(gzs, f.A + v, Load(gzs, f.A + v) + qs * zb * zc);
                            Store(gzs, f.B + v, Load(gzs, f.B + v) + qs * za * zc);
                            Store(gzs, f.C + v, Load(gzs, f.C + v) + qs * za * zb);
                            Store(g0, v, Load(g0, v) + q * Load(sk1, v) * za * zb * zc);
                        }
                        break;
                    default:
                        for (int v = 0; v < len; v += V)
                        {
                            var q = c * Load(gs, ga + v);
                            var qs = q * Load(sk, v);
                            var (za, zb, zc, zd) = (Load(zs, f.A + v), Load(zs, f.B + v), Load(zs, f.C + v), Load(zs, f.D + v));
                            Store(gzs, f.A + v, Load(gzs, f.A + v) + qs * zb * zc * zd);
                            Store(gzs, f.B + v, Load(gzs, f.B + v) + qs * za * zc * zd);
                            Store(gzs, f.C + v, Load(gzs, f.C + v) + qs * za * zb * zd);
                            Store(gzs, f.D + v, Load(gzs, f.D + v) + qs * za * zb * zc);
                            Store(g0, v, Load(g0, v) + q * Load(sk1, v) * za * zb * zc * zd);
                        }
                        break;
                }
            }
        }
        for (int v = 0; v < len; v += V)
        {
            var g = Load(g0, v);
            Store(gzs, e + v, g);
            Store(biasAcc, v, Load(biasAcc, v) + g);
        }
    }

    // ---- products (no bias, no rows: tiles are plain runs of TileElements along the flattened N·w axis) ----

    public static void ProductForward(Tensor a, Tensor b, Tensor p, StackedLayout layout)
    {
        long m = a.shape[1] * a.shape[2];
        int k = layout.Count;
        var c = layout.ProductCoefficient.Select(T.CreateChecked).ToArray();
        Span<T> As = Memory(a), Bs = Memory(b), Ps = Memory(p);
        long whole = m / V * V;
        for (long e = 0; e < whole; e += TileElements) ProductForwardTile(As, Bs, Ps, m, e, (int)Math.Min(TileElements, whole - e), layout, c);
        if (whole == m) return;
        var (aPad, bPad, pPad) = (new T[k * V], new T[k * V], new T[k * V]); // the ragged end, padded
        Gather(As, m, whole, (int)(m - whole), aPad, V, k);
        Gather(Bs, m, whole, (int)(m - whole), bPad, V, k);
        ProductForwardTile(aPad, bPad, pPad, V, 0, V, layout, c);
        Scatter(pPad, V, Ps, m, whole, (int)(m - whole), k);
    }

    public static void ProductBackward(Tensor a, Tensor b, Tensor g, Tensor ga, Tensor gb, StackedLayout layout)
    {
        long m = a.shape[1] * a.shape[2];
        int k = layout.Count;
        var c = layout.ProductCoefficient.Select(T.CreateChecked).ToArray();
        Span<T> As = Memory(a), Bs = Memory(b), Gs = Memory(g), GAs = Memory(ga), GBs = Memory(gb);
        long whole = m / V * V;
        for (long e = 0; e < whole; e += TileElements) ProductBackwardTile(As, Bs, Gs, GAs, GBs, m, e, (int)Math.Min(TileElements, whole - e), layout, c);
        if (whole == m) return;
        var (aPad, bPad, gPad, gaPad, gbPad) = (new T[k * V], new T[k * V], new T[k * V], new T[k * V], new T[k * V]);
        Gather(As, m, whole, (int)(m - whole), aPad, V, k);
        Gather(Bs, m, whole, (int)(m - whole), bPad, V, k);
        Gather(Gs, m, whole, (int)(m - whole), gPad, V, k);
        ProductBackwardTile(aPad, bPad, gPad, gaPad, gbPad, V, 0, V, layout, c);
        Scatter(gaPad, V, GAs, m, whole, (int)(m - whole), k);
        Scatter(gbPad, V, GBs, m, whole, (int)(m - whole), k);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ProductForwardTile(Span<T> As, Span<T> Bs, Span<T> Ps, long stride, long e, int len, StackedLayout layout, T[] coefficient)
    {
        for (int blk = 0; blk < layout.Count; blk++)
        {
            long dst = blk * stride + e;
            for (int t = layout.ProductTermStart[blk]; t < layout.ProductTermStart[blk + 1]; t++)
            {
                var c = new Vector<T>(coefficient[t]);
                long l = layout.ProductLeft[t] * stride + e, r = layout.ProductRight[t] * stride + e;
                bool add = t > layout.ProductTermStart[blk]; // the first term stores, the others accumulate
                for (int v = 0; v < len; v += V)
                    Store(Ps, dst + v, (add ? Load(Ps, dst + v) : Vector<T>.Zero) + c * Load(As, l + v) * Load(Bs, r + v));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ProductBackwardTile(Span<T> As, Span<T> Bs, Span<T> Gs, Span<T> GAs, Span<T> GBs, long stride, long e, int len,
                                    StackedLayout layout, T[] coefficient)
    {
        for (int blk = 0; blk < layout.Count; blk++)
        {
            GAs.Slice((int)(blk * stride + e), len).Clear();
            GBs.Slice((int)(blk * stride + e), len).Clear();
        }
        for (int blk = 0; blk < layout.Count; blk++)
        {
            long gp = blk * stride + e;
            for (int t = layout.ProductTermStart[blk]; t < layout.ProductTermStart[blk + 1]; t++)
            {
                var c = new Vector<T>(coefficient[t]);
                long l = layout.ProductLeft[t] * stride + e, r = layout.ProductRight[t] * stride + e;
                for (int v = 0; v < len; v += V)
                {
                    var q = c * Load(Gs, gp + v);
                    Store(GAs, l + v, Load(GAs, l + v) + q * Load(Bs, r + v));
                    Store(GBs, r + v, Load(GBs, r + v) + q * Load(As, l + v));
                }
            }
        }
    }

    /// <summary>Where term t's factors sit in the tile (offsets of up to four blocks).</summary>
    readonly record struct FactorOffsets(int Count, long A, long B, long C, long D);

    static FactorOffsets Factors(StackedLayout layout, int t, long stride, long e)
    {
        int first = layout.FactorStart[t], count = layout.FactorStart[t + 1] - first;
        long At(int i) => i < count ? layout.Factor[first + i] * stride + e : 0;
        return new FactorOffsets(count, At(0), At(1), At(2), At(3));
    }

    /// <summary>Copies each block's tile (len elements at b·stride + e) to b·padded in <paramref name="dst"/>, zero-filled beyond len.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Gather(Span<T> src, long stride, long e, int len, T[] dst, int padded, int blocks)
    {
        Array.Clear(dst);
        for (int b = 0; b < blocks; b++) src.Slice((int)(b * stride + e), len).CopyTo(dst.AsSpan(b * padded));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Scatter(T[] src, int padded, Span<T> dst, long stride, long e, int len, int blocks)
    {
        for (int b = 0; b < blocks; b++) src.AsSpan(b * padded, len).CopyTo(dst.Slice((int)(b * stride + e)));
    }

    // ---- the activation ------------------------------------------------------------------------

    /// <summary>
    /// tanh z, returned, and s_k = tanh^(k)(z) for 1 ≤ k ≤ <paramref name="order"/> (≤ 5) stored at (k − 1)·len + v
    /// in <paramref name="s"/>: polynomials in t = tanh z.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<T> TanhDerivatives(Vector<T> z, T[] s, int v, int len, int order)
    {
        var one = Vector<T>.One;
        var two = one + one;
        // tanh z = sign(z)·(1 − e)/(1 + e) with e = exp(−2|z|) ∈ (0, 1]: no overflow; absolute error ~ 1 ulp.
        var e = ExpOfNonPositive(-(two * Vector.Abs(z)));
        var r = (one - e) / (one + e);
        var t = Vector.ConditionalSelect(Vector.LessThan(z, Vector<T>.Zero), -r, r);
        var t2 = t * t;
        var s1 = one - t2;
        Store(s, v, s1);
        if (order >= 2) Store(s, len + v, -two * t * s1);                                                 // −2t(1 − t²)
        if (order >= 3) Store(s, 2 * len + v, s1 * (new Vector<T>(T.CreateChecked(6)) * t2 - two));        // (1 − t²)(6t² − 2)
        if (order >= 4) Store(s, 3 * len + v, new Vector<T>(T.CreateChecked(8)) * t * s1 * (two - (two + one) * t2)); // 8t(1 − t²)(2 − 3t²)
        if (order >= 5)
        {
            var fifteen = new Vector<T>(T.CreateChecked(15));
            Store(s, 4 * len + v, new Vector<T>(T.CreateChecked(8)) * s1 * (two - fifteen * t2 + fifteen * t2 * t2)); // 8(1 − t²)(2 − 15t² + 15t⁴)
        }
        return t;
    }

    /// <summary>
    /// exp(x) for x ≤ 0, vectorised (the BCL's Vector.Exp runs element by element here: 3 ns per value):
    /// x = n·ln2 + r with |r| ≤ ln2/2, exp r by its Taylor polynomial (degree 7 in float32, 13 in float64:
    /// truncation below 1e-8 and 1e-17 relative), times 2ⁿ built in the exponent bits. Clamped below
    /// where the result underflows the normal range (it is then ~1e-38 / 1e-308, and only ever added to 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<T> ExpOfNonPositive(Vector<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            var v = Vector.Max(Unsafe.As<Vector<T>, Vector<float>>(ref x), new Vector<float>(-87f));
            var n = Vector.Floor(v * 1.44269504f + new Vector<float>(0.5f));
            var r = v - n * 0.693145751953125f - n * 1.428606765330187e-06f;
            var p = new Vector<float>(C32[7]);
            for (int k = 6; k >= 0; k--) p = p * r + new Vector<float>(C32[k]);
            var scale = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23));
            var result = p * scale;
            return Unsafe.As<Vector<float>, Vector<T>>(ref result);
        }
        else
        {
            var v = Vector.Max(Unsafe.As<Vector<T>, Vector<double>>(ref x), new Vector<double>(-708.0));
            var n = Vector.Floor(v * 1.4426950408889634 + new Vector<double>(0.5));
            var r = v - n * 0.6931471803691238 - n * 1.9082149292705877e-10;
            var p = new Vector<double>(C64[13]);
            for (int k = 12; k >= 0; k--) p = p * r + new Vector<double>(C64[k]);
            // 2ⁿ: n + 1.5·2⁵² holds n in its low mantissa bits (no double→int64 conversion, which AVX2 lacks).
            var shifted = Vector.AsVectorInt64(n + new Vector<double>(6755399441055744.0)) - new Vector<long>(0x4338000000000000);
            var scale = Vector.AsVectorDouble(Vector.ShiftLeft(shifted + new Vector<long>(1023), 52));
            var result = p * scale;
            return Unsafe.As<Vector<double>, Vector<T>>(ref result);
        }
    }

    static readonly float[] C32 = [.. Enumerable.Range(0, 8).Select(k => (float)(1 / Factorial(k)))];
    static readonly double[] C64 = [.. Enumerable.Range(0, 14).Select(k => 1 / Factorial(k))];
    static double Factorial(int k) => k <= 1 ? 1 : k * Factorial(k - 1);

    // ---- memory --------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<T> Load(Span<T> s, long i) => Vector.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Span<T> s, long i, Vector<T> v) => v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    /// <summary>A contiguous CPU tensor's memory (valid while the tensor lives).</summary>
    static Span<T> Memory(Tensor t) => MemoryMarshal.Cast<byte, T>(t.bytes);

    /// <summary>
    /// Splits the rows into whole tiles, one range per thread — only for big layers. Every call follows a
    /// libtorch matmul whose OpenMP workers keep spinning on the other cores for a while afterwards; a .NET
    /// worker competing with them cost ~0.4 ms per call on 2 cores (measured: matmul + kernel on 4 × 4096 × 64
    /// elements 1.15 ms single-threaded vs 1.48 ms split in two), so a range must hold ≥ 2²⁰ elements.
    /// </summary>
    static void ParallelTiles(Plan plan, Action<long, long> body)
    {
        long tiles = (plan.Rows + plan.TileRows - 1) / plan.TileRows;
        long elements = plan.Rows * plan.Width * plan.Layout.Count;
        int parts = (int)Math.Min(Math.Max(1, torch.get_num_threads()), Math.Max(1, Math.Min(tiles, elements >> 20)));
        if (parts == 1) { body(0, plan.Rows); return; }
        long per = (tiles + parts - 1) / parts * plan.TileRows;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts },
                     p => body(p * per, Math.Min(plan.Rows, (p + 1) * per)));
    }
}
