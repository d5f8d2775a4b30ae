namespace Pinn.Bench;

/// <summary>
/// Which OpenBLAS kernel set ("core") the PyTorch peer should run with. OpenBLAS built with DYNAMIC_ARCH (Debian's)
/// picks its core from CPUID at load; a CPU model its table does not know falls back to the generic Prescott core
/// (SSE3). Measured on an AVX-512 Xeon with Debian's OpenBLAS 0.3.21: detected Prescott, and the peer's step was 3×
/// slower than with <c>OPENBLAS_CORETYPE=SkylakeX</c> — a baseline that slow would flatter our ratio. So when the
/// detected core is such a fallback while the CPU's flags support a better one, the peer runs with that core forced.
/// </summary>
/// <remarks>
/// Only pre-AVX cores count as fallbacks: no CPU with AVX2 is served best by them. A detected AVX core
/// (Sandybridge, Haswell, Zen, …) below what the flags allow is left alone — OpenBLAS chooses those deliberately, e.g.
/// Haswell when the OS does not save the AVX-512 state. A core forced by the user's own <c>OPENBLAS_CORETYPE</c> is
/// kept. Names are those <c>openblas_get_corename()</c> returns and <c>OPENBLAS_CORETYPE</c> accepts (OpenBLAS
/// driver/others/dynamic.c; case-insensitive).
/// </remarks>
public static class OpenBlasCore
{
    /// <summary>The environment variable OpenBLAS reads at load to force its core.</summary>
    public const string Variable = "OPENBLAS_CORETYPE";

    /// <summary>Pre-AVX cores (SSE-era Intel, AMD and VIA) and the names of a generic build: fallbacks on a modern CPU.</summary>
    static readonly HashSet<string> Generic = new(StringComparer.OrdinalIgnoreCase)
    {
        "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington", "Nehalem",
        "Athlon", "Opteron", "Opteron(SSE3)", "Opteron_SSE3", "Barcelona", "Bobcat", "Nano", "Generic", "Unknown",
    };

    /// <summary>The decision and why, for the bench report.</summary>
    /// <param name="Detected">the core OpenBLAS chose by itself (null: not OpenBLAS, or not reported).</param>
    /// <param name="Forced">the core to force with <see cref="Variable"/>; null to leave OpenBLAS's choice.</param>
    public sealed record Choice(string? Detected, string? Forced, string Reason)
    {
        /// <summary>The core the peer will run: the forced one, else the detected one.</summary>
        public string? Used => Forced ?? Detected;
    }

    /// <summary>Whether <paramref name="core"/> is a generic fallback core (see <see cref="Generic"/>).</summary>
    public static bool IsGeneric(string core) => Generic.Contains(core.Trim());

    /// <summary>The best core the CPU's flags support, or null when no AVX core fits (then the generic core is right).</summary>
    /// <param name="cpuinfo">the text of <c>/proc/cpuinfo</c> (its first <c>vendor_id</c> and <c>flags</c> lines are read).</param>
    public static string? BestFor(string cpuinfo)
    {
        var (vendor, flags) = Parse(cpuinfo);
        bool amd = vendor is "AuthenticAMD" or "HygonGenuine";
        // AMD: OpenBLAS 0.3.21's Zen kernels (AVX2 + FMA) serve every Zen generation; Zen 4's AVX-512 is not used by it.
        if (amd) return flags.Contains("avx2") && flags.Contains("fma") ? "Zen" : null;
        // SkylakeX kernels use AVX-512 F, BW, VL and DQ (Skylake-SP and later have all four; Knights Landing lacks BW/VL/DQ).
        if (new[] { "avx512f", "avx512bw", "avx512vl", "avx512dq" }.All(flags.Contains)) return "SkylakeX";
        if (flags.Contains("avx2") && flags.Contains("fma")) return "Haswell";
        if (flags.Contains("avx")) return "Sandybridge";
        return null;
    }

    /// <summary>
    /// What to run the peer with. <paramref name="detected"/>: <c>openblas_get_corename()</c> of the peer's torch run
    /// without forcing (null when its BLAS is not OpenBLAS); <paramref name="cpuinfo"/>: <c>/proc/cpuinfo</c> (null or
    /// empty when unreadable); <paramref name="userCoreType"/>: the caller's own <see cref="Variable"/>, if set.
    /// </summary>
    public static Choice Choose(string? detected, string? cpuinfo, string? userCoreType = null)
    {
        if (!string.IsNullOrWhiteSpace(userCoreType))
            return new Choice(detected, null, $"{Variable}={userCoreType.Trim()} set in the environment: kept");
        if (string.IsNullOrWhiteSpace(detected))
            return new Choice(null, null, "no OpenBLAS core reported (BLAS is not OpenBLAS)");
        if (!IsGeneric(detected))
            return new Choice(detected, null, "detection fits");
        var best = string.IsNullOrEmpty(cpuinfo) ? null : BestFor(cpuinfo);
        if (best is null)
            return new Choice(detected, null, string.IsNullOrEmpty(cpuinfo)
                ? "a generic core, but /proc/cpuinfo is unreadable: kept"
                : "a generic core, and the CPU flags support no AVX core: kept");
        var (vendor, flags) = Parse(cpuinfo!);
        string evidence = best switch
        {
            "SkylakeX" => "avx512f/bw/vl/dq",
            "Zen" => $"{vendor} with avx2 + fma",
            "Haswell" => "avx2 + fma",
            _ => "avx",
        };
        return new Choice(detected, best, $"{detected} is OpenBLAS's generic fallback, the CPU has {evidence}: forced {Variable}={best}");
    }

    static (string Vendor, HashSet<string> Flags) Parse(string cpuinfo)
    {
        string vendor = "";
        HashSet<string>? flags = null;
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (key == "vendor_id" && vendor.Length == 0) vendor = value;
            else if (key == "flags" && flags is null)
                flags = new HashSet<string>(value.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
            if (vendor.Length > 0 && flags is not null) break;
        }
        return (vendor, flags ?? []);
    }
}
