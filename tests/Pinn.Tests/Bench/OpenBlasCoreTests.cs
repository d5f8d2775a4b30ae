using Pinn.Bench;

namespace Pinn.Tests.Bench;

/// <summary>The PyTorch peer's OpenBLAS core choice, on canned /proc/cpuinfo texts and core names.</summary>
public class OpenBlasCoreTests
{
    /// <summary>A /proc/cpuinfo of two logical CPUs with the given vendor and flags (only the first block is read).</summary>
    static string Cpuinfo(string vendor, string flags) =>
        string.Join("\n", Enumerable.Range(0, 2).Select(i =>
            $"processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: 6\nmodel name\t: Some CPU\nflags\t\t: {flags}\nbugs\t\t: spectre_v1\n"));

    const string Sse = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm pni ssse3 sse4_1 sse4_2";
    static readonly string Avx = Sse + " avx", Avx2 = Avx + " fma avx2 bmi1 bmi2";
    /// <summary>AVX-512 flags as on the Sapphire-Rapids-class Xeon these tests were written on (abridged).</summary>
    static readonly string Avx512 = Avx2 + " avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx512_bf16 avx512vbmi avx512_vnni avx512_fp16";

    [Theory]
    [InlineData("Prescott")]
    [InlineData("Core2")]
    [InlineData("Katmai")]
    [InlineData("Nehalem")]
    [InlineData("generic")]
    [InlineData("PRESCOTT")]
    public void A_generic_fallback_on_an_avx512_xeon_is_replaced_by_SkylakeX(string detected)
    {
        var c = OpenBlasCore.Choose(detected, Cpuinfo("GenuineIntel", Avx512));
        c.Detected.Should().Be(detected);
        c.Forced.Should().Be("SkylakeX");
        c.Used.Should().Be("SkylakeX");
        c.Reason.Should().Contain("avx512f").And.Contain("OPENBLAS_CORETYPE=SkylakeX");
    }

    [Theory]
    [InlineData("GenuineIntel", "avx2", "Haswell")]
    [InlineData("GenuineIntel", "avx", "Sandybridge")]
    [InlineData("AuthenticAMD", "avx2", "Zen")]
    [InlineData("AuthenticAMD", "avx512", "Zen")] // Zen 4: OpenBLAS 0.3.21 serves it with the Zen (AVX2) kernels
    [InlineData("HygonGenuine", "avx2", "Zen")]
    public void The_forced_core_is_the_best_the_flags_support(string vendor, string level, string expected)
    {
        string flags = level switch { "avx512" => Avx512, "avx2" => Avx2, _ => Avx };
        OpenBlasCore.BestFor(Cpuinfo(vendor, flags)).Should().Be(expected);
        OpenBlasCore.Choose("Prescott", Cpuinfo(vendor, flags)).Forced.Should().Be(expected);
    }

    [Fact]
    public void Avx512f_without_bw_vl_dq_is_not_SkylakeX()
    {
        // Knights Landing: AVX-512 F/CD/ER/PF only; the SkylakeX kernels need BW, VL and DQ.
        OpenBlasCore.BestFor(Cpuinfo("GenuineIntel", Avx2 + " avx512f avx512cd avx512er avx512pf")).Should().Be("Haswell");
    }

    [Theory]
    [InlineData("SkylakeX")]
    [InlineData("Cooperlake")]
    [InlineData("Haswell")]     // below what the flags allow, but an AVX core OpenBLAS chose deliberately
    [InlineData("Sandybridge")]
    public void A_detected_avx_core_is_kept(string detected)
    {
        var c = OpenBlasCore.Choose(detected, Cpuinfo("GenuineIntel", Avx512));
        c.Forced.Should().BeNull();
        c.Used.Should().Be(detected);
        c.Reason.Should().Be("detection fits");
    }

    [Fact]
    public void A_generic_core_on_a_cpu_without_avx_is_kept()
    {
        var c = OpenBlasCore.Choose("Core2", Cpuinfo("GenuineIntel", Sse));
        c.Forced.Should().BeNull();
        c.Used.Should().Be("Core2");
        c.Reason.Should().Contain("no AVX core");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Unreadable_cpuinfo_forces_nothing(string? cpuinfo) =>
        OpenBlasCore.Choose("Prescott", cpuinfo).Forced.Should().BeNull();

    [Fact]
    public void Cpuinfo_without_x86_flags_forces_nothing()
    {
        // aarch64 lists "Features", not "flags".
        const string arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\nCPU implementer\t: 0x41\n";
        OpenBlasCore.BestFor(arm).Should().BeNull();
        OpenBlasCore.Choose("generic", arm).Forced.Should().BeNull();
    }

    [Fact]
    public void Not_openblas_forces_nothing()
    {
        var c = OpenBlasCore.Choose(null, Cpuinfo("GenuineIntel", Avx512));
        (c.Detected, c.Forced, c.Used).Should().Be((null, null, null));
        PyTorchPeerBenchmark.DescribeCore(c).Should().StartWith("OpenBLAS core: none");
    }

    [Fact]
    public void The_users_own_coretype_is_kept()
    {
        var c = OpenBlasCore.Choose("Prescott", Cpuinfo("GenuineIntel", Avx512), userCoreType: "Prescott");
        c.Forced.Should().BeNull();
        c.Reason.Should().Contain("set in the environment");
    }

    [Fact]
    public void The_report_names_the_detected_and_the_used_core()
    {
        PyTorchPeerBenchmark.DescribeCore(OpenBlasCore.Choose("Prescott", Cpuinfo("GenuineIntel", Avx512)))
            .Should().StartWith("OpenBLAS core: detected Prescott, used SkylakeX (Prescott is OpenBLAS's generic fallback");
        PyTorchPeerBenchmark.DescribeCore(OpenBlasCore.Choose("SkylakeX", Cpuinfo("GenuineIntel", Avx512)))
            .Should().Be("OpenBLAS core: detected SkylakeX, used SkylakeX (detection fits)");
    }

    [Fact]
    public void Only_the_first_cpu_block_is_read()
    {
        string mixed = Cpuinfo("GenuineIntel", Avx2) + "\n" + Cpuinfo("GenuineIntel", Avx512);
        OpenBlasCore.BestFor(mixed).Should().Be("Haswell");
    }
}
