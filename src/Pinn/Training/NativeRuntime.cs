using System.Runtime.InteropServices;

namespace Pinn.Training;

/// <summary>
/// Two process-wide settings of the native runtime under libtorch, both measured on the 2-core machines:
/// <list type="bullet">
/// <item><b>Heap</b> (<see cref="Tune"/>, any time): libtorch's CPU allocator is plain malloc; a PINN step allocates
/// and frees a few hundred 0.1–4 MB temporaries, and with glibc's defaults they come from fresh mmap'd or
/// trimmed heap pages, so every step pays a page fault per 4 KiB (~1M minor faults in a 10 s bench run, a third
/// of the Burgers step). The largest mmap threshold and no heap trimming let the next step reuse the pages;
/// resident memory then stays at a step's peak, which it reaches anyway.</item>
/// <item><b>OpenMP spinning</b> (<see cref="BeforeTorchLoads"/>, only before libtorch is loaded): after each
/// parallel region libgomp's workers spin for GOMP_SPINCOUNT iterations (300 000 by default) before sleeping.
/// The fused jet kernels run on the calling thread right after a matmul, and the spinning worker then competes
/// with it: Burgers jet steps on 2 threads came out bimodal (128×6 f32: median 93 ms, min 55 ms).
/// 100 000 keeps libtorch's own back-to-back regions warm (its timings unchanged) and removes the slow mode.</item>
/// </list>
/// Opt out with PINN_NATIVE_DEFAULTS=1; an explicit GOMP_SPINCOUNT in the environment is left alone.
/// </summary>
public static class NativeRuntime
{
    const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;
    static int _tuned;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int param, int value);

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    static bool OptedOut => !OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("PINN_NATIVE_DEFAULTS") == "1";

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>Returns the heap's free pages to the system now (for memory measurements); a no-op off glibc.</summary>
    public static void ReleaseFreeMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>Whether the heap tuning is in effect (false on non-glibc systems or when opted out).</summary>
    public static bool HeapTuned { get; private set; }

    /// <summary>Call first thing in a program's Main, before anything touches TorchSharp (the CLI and bench do).</summary>
    public static void BeforeTorchLoads()
    {
        if (OptedOut) return;
        try { SetEnv("GOMP_SPINCOUNT", "100000", overwrite: 0); } // the native environment: libgomp reads it when it loads
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        Tune();
    }

    /// <summary>The heap settings; idempotent, any time before training (the trainer calls it).</summary>
    public static void Tune()
    {
        if (Interlocked.Exchange(ref _tuned, 1) == 1 || OptedOut) return;
        try
        {
            HeapTuned = MallOpt(M_MMAP_THRESHOLD, 32 << 20) == 1   // glibc's largest allowed value (64-bit)
                      & MallOpt(M_TRIM_THRESHOLD, int.MaxValue) == 1
                      & MallOpt(M_TOP_PAD, 16 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            HeapTuned = false; // musl or another libc: keep its defaults
        }
    }
}
