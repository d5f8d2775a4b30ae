namespace Pinn.Bench;

/// <summary>What the command line asked for: every suite reads the same options.</summary>
/// <param name="Quick">Fewer repeats, and sizes whose single step would exceed <see cref="MaxStepMs"/> are skipped.</param>
/// <param name="Threads">libtorch intra-op threads (stated in the report: timings depend on it).</param>
public sealed record BenchOptions(bool Quick, int Threads)
{
    /// <summary>Untimed steps first: the first step pays for JIT, allocation and libtorch's lazy set-up.</summary>
    public int Warmup => Quick ? 1 : 2;
    /// <summary>Timed steps; the median of at least 5 resists the 20–40 % noise of a shared VM (TORCHSHARP.md).</summary>
    public int Repeats => Quick ? 5 : 7;
    /// <summary>In quick mode a size whose first step takes longer than this is skipped, and so are larger ones.</summary>
    public double? MaxStepMs => Quick ? 20_000 : null;
}

/// <summary>
/// One measured case. <paramref name="Size"/> is the problem size a suite fits growth against (e.g. the
/// number of grid nodes N); a skipped case has no times and says why in <paramref name="Notes"/>.
/// </summary>
public sealed record BenchRow(string Suite, string Case, string Parameters, double? MedianMs, double? MinMs,
                              int Repeats, double PeakRssMb, string Notes = "", long? Size = null);

/// <summary>One benchmark family (GP step, PINN step vs PyTorch, derivative engines, …): one class each.</summary>
public interface IBenchmarkSuite
{
    /// <summary>The name <c>--only</c> selects and the report's section key.</summary>
    string Name { get; }
    /// <summary>One sentence: what is timed, on what problem.</summary>
    string Description { get; }
    IReadOnlyList<BenchRow> Run(BenchOptions options);
    /// <summary>Derived results (growth exponents, ratios, accuracy checks), available after <see cref="Run"/>.</summary>
    IReadOnlyList<string> Findings => [];
}
