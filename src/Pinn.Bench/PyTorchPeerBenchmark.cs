using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// The Burgers PINN step of <see cref="PinnStepBenchmark"/> against the same step in PyTorch
/// (bench/peers/burgers_step.py): the C# side exports its initial parameters and points, the script
/// rebuilds the identical network and batch, and both are timed in the same run, one after the other,
/// at the same thread count. The loss at step 0 must agree to rounding — otherwise the two would not be
/// computing the same thing and the ratio would mean nothing.
/// </summary>
public sealed class PyTorchPeerBenchmark : IBenchmarkSuite
{
    /// <summary>
    /// Largest acceptable relative difference of the step-0 loss. The two sides sum in different orders
    /// (different BLAS kernels), so they agree to a few hundred ulps of the loss, not bit for bit:
    /// ~1e-6 in float32 and ~1e-12 in float64 expected; these bounds leave a factor 100 of margin.
    /// </summary>
    static double Tolerance(ScalarType t) => t == ScalarType.Float64 ? 1e-10 : 1e-4;

    static string Script => Path.Combine(AppContext.BaseDirectory, "peers", "burgers_step.py");

    readonly List<string> _findings = [];

    public string Name => "peers";
    public string Description =>
        "The PINN-step suite's Burgers step, ours (TorchSharp) vs PyTorch (bench/peers/burgers_step.py) with identical initial weights, points and thread count, " +
        "timed in the same run; ratio = ours / PyTorch";
    public IReadOnlyList<string> Findings => _findings;

    public IReadOnlyList<BenchRow> Run(BenchOptions options)
    {
        _findings.Clear();
        var python = PythonTorch.Find();
        if (python is null)
        {
            const string why = "skipped: no torch (no python3 that imports torch; `make bench-peers` installs Debian's python3-torch and libopenblas0-openmp)";
            _findings.Add(why);
            return [new BenchRow(Name, "pytorch", "—", null, null, 0, 0, why)];
        }
        var (exe, version) = python.Value;
        var blas = ProbeBlas(exe);
        var core = OpenBlasCore.Choose(blas?.Core, ReadCpuinfo(), Environment.GetEnvironmentVariable(OpenBlasCore.Variable));
        _findings.Add($"PyTorch {version} via {exe}; BLAS: {BlasNote(blas)}; {DescribeCore(core)}.");

        var rows = new List<BenchRow>();
        string dir = Directory.CreateTempSubdirectory("pinn-peers-").FullName;
        try
        {
            foreach (var (network, layers) in PinnCases.Networks)
                foreach (var dtype in PinnCases.DTypes)
                    rows.AddRange(Compare(network, layers, dtype, exe, Path.Combine(dir, $"burgers_{network}_{PinnCases.DTypeName(dtype)}.npz"), options, core));
        }
        finally { Directory.Delete(dir, recursive: true); }
        return rows;
    }

    IEnumerable<BenchRow> Compare(string network, int[] layers, ScalarType dtype, string python, string npz, BenchOptions options,
                                  OpenBlasCore.Choice core)
    {
        string parameters = PinnCases.Parameters(network, dtype);
        PeakMemory.Reset();
        using var step = PinnCases.Burgers(layers, dtype);
        step.Export(npz); // before any step: the peer starts from the same initial weights
        double loss0 = step.CurrentLoss();
        var ours = BenchTimer.Measure(() => step.Step(), options);
        double rss = PeakMemory.Megabytes();
        var ourRow = new BenchRow(Name, "ours (autograd)", parameters, ours.MedianMs, ours.MinMs, ours.SamplesMs.Count, rss,
                                  string.Create(CultureInfo.InvariantCulture, $"loss0 {loss0:G10}"));
        // Our other derivative path on the same initial weights and points (same seed): jets with the u_t − ν u_xx operator block.
        PeakMemory.Reset();
        using var jetStep = PinnCases.Burgers(layers, dtype, "jet");
        double jetLoss0 = jetStep.CurrentLoss();
        var jets = BenchTimer.Measure(() => jetStep.Step(), options);
        var jetRow = new BenchRow(Name, "ours (jet)", parameters, jets.MedianMs, jets.MinMs, jets.SamplesMs.Count, PeakMemory.Megabytes(),
                                  string.Create(CultureInfo.InvariantCulture, $"loss0 {jetLoss0:G10} (rel. diff to autograd {Math.Abs(jetLoss0 - loss0) / Math.Abs(loss0):E1})"));

        PeerResult peer;
        try { peer = RunPeer(python, npz, dtype, options.Threads, options.Warmup, options.Repeats, core.Forced); }
        catch (PinnException e)
        {
            _findings.Add($"{parameters}: PyTorch peer failed: {e.Message}");
            return [ourRow, jetRow, new BenchRow(Name, "pytorch", parameters, null, null, 0, 0, "failed: " + e.Message)];
        }
        double peerLoss0 = peer.Loss0, peerMs = peer.MsPerStep;
        if (core.Forced is { } forced && !string.Equals(peer.BlasCore, forced, StringComparison.OrdinalIgnoreCase))
            _findings.Add($"{parameters}: **the peer ran OpenBLAS core {peer.BlasCore ?? "unknown"}, not the forced {forced}**");
        double relDiff = Math.Abs(loss0 - peerLoss0) / Math.Abs(peerLoss0);
        bool agree = relDiff <= Tolerance(dtype);
        double ratio = ours.MedianMs / peerMs;
        string verdict = agree
            ? string.Create(CultureInfo.InvariantCulture, $"(≤ {Tolerance(dtype):E0}: same computation)")
            : string.Create(CultureInfo.InvariantCulture, $"**MISMATCH** (> {Tolerance(dtype):E0}: the ratio compares different computations)");
        double jetRatio = jets.MedianMs / peerMs;
        _findings.Add(string.Create(CultureInfo.InvariantCulture,
            $"{parameters}: ours {BenchTimer.Ms(ours.MedianMs)} ms (autograd) / {BenchTimer.Ms(jets.MedianMs)} ms (jet) vs PyTorch {BenchTimer.Ms(peerMs)} ms per step, " +
            $"ratio ours/PyTorch {ratio:F2} / {jetRatio:F2} (target ≤ 0.5); loss0 {loss0:G10} vs {peerLoss0:G10}, relative difference {relDiff:E1} {verdict}"));
        var peerRow = new BenchRow(Name, "pytorch", parameters, peerMs, peer.MinMs, peer.Repeats, peer.PeakRssMb,
                                   string.Create(CultureInfo.InvariantCulture, $"loss0 {peerLoss0:G10} (rel. diff {relDiff:E1}); ratio ours/PyTorch {ratio:F2} (autograd), {jetRatio:F2} (jet)") +
                                   CoreNote(peer.BlasCore, core));
        return [ourRow, jetRow, peerRow];
    }

    /// <summary>
    /// What the peer script reports: its step-0 loss, the median and minimum step time, its own peak RSS, and the
    /// OpenBLAS core it ran (null when its BLAS is not OpenBLAS).
    /// </summary>
    public sealed record PeerResult(double Loss0, double MsPerStep, double MinMs, int Repeats, double PeakRssMb, string? BlasCore = null);

    /// <summary>
    /// Runs bench/peers/burgers_step.py on an exported step (<see cref="FixedBatchPinnStep.Export"/>);
    /// <paramref name="coreType"/>, when given, forces OpenBLAS's core (<see cref="OpenBlasCore.Variable"/>).
    /// </summary>
    public static PeerResult RunPeer(string python, string npz, ScalarType dtype, int threads, int warmup, int repeats, string? coreType = null)
    {
        string Arg(int v) => v.ToString(CultureInfo.InvariantCulture);
        // torch.set_num_threads sizes the OpenMP pool; OpenBLAS (OpenMP build) follows it.
        var environment = new Dictionary<string, string> { ["OMP_NUM_THREADS"] = Arg(threads) };
        if (coreType is not null) environment[OpenBlasCore.Variable] = coreType;
        var (code, stdout, stderr) = PythonTorch.Run(python,
            [Script, npz, "--dtype", dtype == ScalarType.Float64 ? "float64" : "float32", "--threads", Arg(threads),
             "--warmup", Arg(warmup), "--repeats", Arg(repeats)],
            TimeSpan.FromMinutes(10), environment);
        if (code != 0) throw new PinnException($"{Script} exited with {code}: {LastLine(stderr)}");
        var json = JsonDocument.Parse(LastLine(stdout)).RootElement;
        return new PeerResult(json.GetProperty("loss0").GetDouble(), json.GetProperty("ms_per_step").GetDouble(),
                              json.GetProperty("min_ms").GetDouble(), json.GetProperty("samples_ms").GetArrayLength(),
                              json.GetProperty("peak_rss_mb").GetDouble(), OptionalString(json, "blas_core"));
    }

    /// <summary>The peer's BLAS as its script reports it (<c>--blas-info</c>): mapped libraries, OpenBLAS core and build config.</summary>
    public sealed record BlasInfo(IReadOnlyList<string> Libraries, string? Core, string? Config);

    /// <summary>The BLAS the peer's torch runs and its OpenBLAS core: OpenBLAS's own choice, or <paramref name="coreType"/> forced; null when the probe fails.</summary>
    public static BlasInfo? ProbeBlas(string python, string? coreType = null)
    {
        var environment = coreType is null ? null : new Dictionary<string, string> { [OpenBlasCore.Variable] = coreType };
        var (code, stdout, _) = PythonTorch.Run(python, [Script, "--blas-info"], TimeSpan.FromSeconds(60), environment);
        if (code != 0) return null;
        try
        {
            var json = JsonDocument.Parse(LastLine(stdout)).RootElement;
            var libs = json.GetProperty("blas_libs").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
            return new BlasInfo(libs, OptionalString(json, "blas_core"), OptionalString(json, "blas_config"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    static string? OptionalString(JsonElement json, string key) =>
        json.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static string? ReadCpuinfo()
    {
        try { return File.ReadAllText("/proc/cpuinfo"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Which BLAS the peer's torch ends up with: Debian's reference BLAS makes it ~10× slower (TORCHSHARP.md).</summary>
    static string BlasNote(BlasInfo? blas)
    {
        if (blas is null || blas.Libraries.Count == 0) return "unknown";
        string libs = string.Join(' ', blas.Libraries);
        return libs.Contains("openblas") ? $"{libs} (OpenBLAS: fair baseline)" : $"{libs} (**not OpenBLAS**: reference BLAS is ~10× slower, install libopenblas0-openmp)";
    }

    /// <summary>"OpenBLAS core: detected Prescott, used SkylakeX (…why…)" for the findings.</summary>
    public static string DescribeCore(OpenBlasCore.Choice core) =>
        core.Detected is null && core.Forced is null
            ? $"OpenBLAS core: none ({core.Reason})"
            : $"OpenBLAS core: detected {core.Detected ?? "unknown"}, used {core.Used ?? "unknown"} ({core.Reason})";

    /// <summary>The core a peer row ran, and the detected one when it was forced.</summary>
    static string CoreNote(string? ran, OpenBlasCore.Choice core) =>
        ran is null ? "" : core.Forced is null ? $"; OpenBLAS core {ran}" : $"; OpenBLAS core {ran} (forced; detected {core.Detected})";

    static string LastLine(string text) => text.TrimEnd().Split('\n').LastOrDefault()?.Trim() ?? "";
}
