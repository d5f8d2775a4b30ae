using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Autodiff;

/// <summary>
/// σ = tanh applied to an order-≤ 2 jet stored as one K×N×w tensor (<see cref="StackedLayout"/>), after
/// adding the layer's bias to the value block — as one autograd node with a hand-written backward, instead
/// of the dozen elementwise nodes (and their backward nodes) the generic <see cref="Jet.Apply"/> records.
/// With a = σ(z) (σ′ = 1 − a², σ″ = −2aσ′, σ‴ = −2σ′(1 − 3a²)):
/// <code>
///   A = σ(z),   A_i = σ′ z_i,   A_ij = σ′ z_ij + σ″ z_i z_j
/// </code>
/// and, for the upstream gradients Ā,
/// <code>
///   z̄_ij = Ā_ij σ′,   z̄_i = Ā_i σ′ + Σ_(jk ∋ i) Ā_jk σ″ z_(other),
///   z̄ = Ā σ′ + σ″ (Σ Ā_i z_i + Σ Ā_jk z_jk) + σ‴ Σ Ā_jk z_j z_k,   b̄ = Σ_rows z̄.
/// </code>
/// Both passes read and write every block once per element (C# SIMD over the tensors' memory, split
/// over libtorch's thread count). CPU, contiguous, float32/float64 only: the caller checks
/// <see cref="Supports"/>. The backward is first order (no create_graph through it), which is all a
/// jet-based step needs: the input derivatives come from the forward pass.
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
/// The vectorised loops behind <see cref="FusedTanhJet"/>. Elements are processed in vectors of
/// <c>Vector&lt;T&gt;.Count</c> along the flattened N·w axis; the bias is read from a copy repeated
/// Count+1 times so any vector window starting at column c is contiguous, and its gradient is summed into
/// a (w + Count)-long accumulator that is folded back onto w at the end. A ragged tail is padded.
/// </summary>
static class JetKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly int V = Vector<T>.Count;

    public static void Forward(Tensor z, Tensor bias, Tensor a, StackedLayout layout)
    {
        long m = z.shape[1] * z.shape[2];
        int w = (int)z.shape[2];
        var biasRep = RepeatedBias(bias, w);
        ParallelChunks(m, (from, to) =>
        {
            Span<T> zs = Memory(z), As = Memory(a);
            int col = (int)(from % w); // the layer column of the vector's first lane, advanced without a division
            for (long e = from; e < to; e += V, col = NextColumn(col, w))
            {
                if (e + V <= m) { ForwardVector(zs, As, biasRep, e, m, col, layout); continue; }
                // A ragged end (N·w not a multiple of the vector width): the same code on zero-padded copies.
                var (zPad, aPad) = (Pad(zs, e, m, layout.Count), new T[layout.Count * V]);
                ForwardVector(zPad, aPad, biasRep, 0, V, col, layout);
                Unpad(aPad, As, e, m, layout.Count);
            }
        });
    }

    public static void Backward(Tensor z, Tensor bias, Tensor g, Tensor gz, Tensor gb, StackedLayout layout)
    {
        long m = z.shape[1] * z.shape[2];
        int w = (int)z.shape[2];
        var biasRep = RepeatedBias(bias, w);
        var partial = new List<T[]>();
        ParallelChunks(m, (from, to) =>
        {
            Span<T> zs = Memory(z), gs = Memory(g), gzs = Memory(gz);
            var acc = new T[w + V];
            int col = (int)(from % w);
            for (long e = from; e < to; e += V, col = NextColumn(col, w))
            {
                if (e + V <= m) { BackwardVector(zs, gs, gzs, biasRep, acc, e, m, col, layout); continue; }
                var gzPad = new T[layout.Count * V]; // the padded lanes have Ā = 0: they add nothing to b̄
                BackwardVector(Pad(zs, e, m, layout.Count), Pad(gs, e, m, layout.Count), gzPad, biasRep, acc, 0, V, col, layout);
                Unpad(gzPad, gzs, e, m, layout.Count);
            }
            lock (partial) partial.Add(acc);
        });
        var sum = new T[w];
        foreach (var acc in partial)
            for (int j = 0; j < acc.Length; j++) sum[j % w] += acc[j];
        sum.CopyTo(Memory(gb));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int NextColumn(int col, int w)
    {
        col += V;
        while (col >= w) col -= w;
        return col;
    }

    // ---- one vector of elements: e is its offset in block 0, col the layer column of its first lane, m the block stride ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ForwardVector(Span<T> zs, Span<T> As, T[] biasRep, long e, long m, int col, StackedLayout layout)
    {
        var z0 = Load(zs, e) + Load(biasRep, col);
        Tanh(z0, out var s0, out var s1, out var s2, out _);
        Store(As, e, s0);
        foreach (int f in layout.First) Store(As, f * m + e, s1 * Load(zs, f * m + e));
        foreach (var (b, p, q) in layout.Second)
            Store(As, b * m + e, s1 * Load(zs, b * m + e) + s2 * Load(zs, p * m + e) * Load(zs, q * m + e));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void BackwardVector(Span<T> zs, Span<T> gs, Span<T> gzs, T[] biasRep, T[] acc, long e, long m, int col,
                               StackedLayout layout)
    {
        var z0 = Load(zs, e) + Load(biasRep, col);
        Tanh(z0, out _, out var s1, out var s2, out var s3);
        var t2 = Vector<T>.Zero; // Σ Ā_i z_i + Σ Ā_jk z_jk: the coefficient of σ″
        var t3 = Vector<T>.Zero; // Σ Ā_jk z_j z_k: the coefficient of σ‴
        foreach (int f in layout.First)
        {
            var gf = Load(gs, f * m + e);
            t2 += gf * Load(zs, f * m + e);
            Store(gzs, f * m + e, gf * s1);
        }
        foreach (var (b, p, q) in layout.Second)
        {
            var gb = Load(gs, b * m + e);
            var (zp, zq) = (Load(zs, p * m + e), Load(zs, q * m + e));
            t2 += gb * Load(zs, b * m + e);
            t3 += gb * zp * zq;
            Store(gzs, b * m + e, gb * s1);
            var gs2 = gb * s2;
            Store(gzs, p * m + e, Load(gzs, p * m + e) + gs2 * zq); // on the diagonal (p = q) both lines add: 2 σ″ z_i
            Store(gzs, q * m + e, Load(gzs, q * m + e) + gs2 * zp);
        }
        var g0 = Load(gs, e) * s1 + s2 * t2 + s3 * t3;
        Store(gzs, e, g0);
        Store(acc, col, Load(acc, col) + g0);
    }

    /// <summary>The n = m − e (&lt; V) last elements of each block, zero-padded to V, blocks at stride V.</summary>
    static T[] Pad(Span<T> s, long e, long m, int blocks)
    {
        var pad = new T[blocks * V];
        for (int b = 0; b < blocks; b++) s.Slice((int)(b * m + e), (int)(m - e)).CopyTo(pad.AsSpan(b * V));
        return pad;
    }

    static void Unpad(T[] pad, Span<T> s, long e, long m, int blocks)
    {
        for (int b = 0; b < blocks; b++) pad.AsSpan(b * V, (int)(m - e)).CopyTo(s.Slice((int)(b * m + e)));
    }

    // ---- the activation ------------------------------------------------------------------------

    /// <summary>tanh and its first three derivatives as polynomials in t = tanh z.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tanh(Vector<T> z, out Vector<T> s0, out Vector<T> s1, out Vector<T> s2, out Vector<T> s3)
    {
        var one = Vector<T>.One;
        var two = one + one;
        // tanh z = sign(z)·(1 − e)/(1 + e) with e = exp(−2|z|) ∈ (0, 1]: no overflow; absolute error ~ 1 ulp.
        var e = ExpOfNonPositive(-(two * Vector.Abs(z)));
        var t = (one - e) / (one + e);
        s0 = Vector.ConditionalSelect(Vector.LessThan(z, Vector<T>.Zero), -t, t);
        s1 = one - s0 * s0;
        s2 = -two * s0 * s1;
        s3 = -two * s1 * (one - (two + one) * s0 * s0);
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

    /// <summary>b repeated V + 1 times: the window [c, c + V) is contiguous for every column c &lt; w.</summary>
    static T[] RepeatedBias(Tensor bias, int w)
    {
        var b = bias.data<T>().ToArray();
        var rep = new T[w * (V + 1)];
        for (int r = 0; r <= V; r++) b.CopyTo(rep, r * w);
        return rep;
    }

    /// <summary>Splits [0, m) into vector-aligned ranges, one per libtorch thread (they share only read-only inputs).</summary>
    static void ParallelChunks(long m, Action<long, long> body)
    {
        long vectors = (m + V - 1) / V;
        int parts = (int)Math.Min(Math.Max(1, torch.get_num_threads()), Math.Max(1, vectors / 4096)); // small layers: one thread
        if (parts == 1) { body(0, m); return; }
        long per = (vectors + parts - 1) / parts * V;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p => body(p * per, Math.Min(m, (p + 1) * per)));
    }
}
