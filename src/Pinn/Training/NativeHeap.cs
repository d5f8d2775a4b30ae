using System.Runtime.InteropServices;

namespace Pinn.Training;

/// <summary>
/// Keeps freed tensor memory in the process instead of handing it back to the kernel after every step.
/// libtorch's CPU allocator is plain malloc: a PINN step allocates and frees a few hundred 0.1–4 MB
/// temporaries, and with glibc's defaults those come from fresh mmap'd or trimmed heap pages, so every
/// step pays a page fault per 4 KiB touched (measured: ~1M minor faults in a 10 s bench run, 1/3 of
/// the Burgers step time). Raising the mmap threshold to its maximum and never trimming the heap top
/// lets the next step reuse the same pages. Resident memory then stays at the peak of a step (it
/// does anyway during the step); glibc only, a no-op elsewhere. Opt out with PINN_MALLOC_DEFAULTS=1.
/// </summary>
public static class NativeHeap
{
    const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;
    static int _tuned; // 0 not yet, 1 done

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int param, int value);

    /// <summary>Whether the tuning is in effect (false on non-glibc systems or when opted out).</summary>
    public static bool Tuned { get; private set; }

    /// <summary>Idempotent; call before the first training step (the trainer, CLI and bench do).</summary>
    public static void Tune()
    {
        if (Interlocked.Exchange(ref _tuned, 1) == 1) return;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("PINN_MALLOC_DEFAULTS") == "1") return;
        try
        {
            Tuned = MallOpt(M_MMAP_THRESHOLD, 32 << 20) == 1   // glibc's largest allowed value (64-bit)
                  & MallOpt(M_TRIM_THRESHOLD, int.MaxValue) == 1
                  & MallOpt(M_TOP_PAD, 16 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Tuned = false; // musl or another libc: keep its defaults
        }
    }
}
