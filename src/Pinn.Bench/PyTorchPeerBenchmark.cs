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
        _findings.Add($"PyTorch {version} via {exe}; BLAS: {BlasNote(exe)}.");

        var rows = new List<BenchRow>();
        string dir = Directory.CreateTempSubdirectory("pinn-peers-").FullName;
        try
        {
            foreach (var (network, layers) in PinnCases.Networks)
                foreach (var dtype in PinnCases.DTypes)
                    rows.AddRange(Compare(network, layers, dtype, exe, Path.Combine(dir, $"burgers_{network}_{PinnCases.DTypeName(dtype)}.npz"), options));
        }
        finally { Directory.Delete(dir, recursive: true); }
        return rows;
    }

    IEnumerable<BenchRow> Compare(string network, int[] layers, ScalarType dtype, string python, string npz, BenchOptions options)
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
        try { peer = RunPeer(python, npz, dtype, options.Threads, options.Warmup, options.Repeats); }
        catch (PinnException e)
        {
            _findings.Add($"{parameters}: PyTorch peer failed: {e.Message}");
            return [ourRow, jetRow, new BenchRow(Name, "pytorch", parameters, null, null, 0, 0, "failed: " + e.Message)];
        }
        double peerLoss0 = peer.Loss0, peerMs = peer.MsPerStep;
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
                                   string.Create(CultureInfo.InvariantCulture, $"loss0 {peerLoss0:G10} (rel. diff {relDiff:E1}); ratio ours/PyTorch {ratio:F2} (autograd), {jetRatio:F2} (jet)"));
        return [ourRow, jetRow, peerRow];
    }

    /// <summary>What the peer script reports: its step-0 loss, the median and minimum step time, its own peak RSS.</summary>
    public sealed record PeerResult(double Loss0, double MsPerStep, double MinMs, int Repeats, double PeakRssMb);

    /// <summary>Runs bench/peers/burgers_step.py on an exported step (<see cref="FixedBatchPinnStep.Export"/>).</summary>
    public static PeerResult RunPeer(string python, string npz, ScalarType dtype, int threads, int warmup, int repeats)
    {
        string Arg(int v) => v.ToString(CultureInfo.InvariantCulture);
        var (code, stdout, stderr) = PythonTorch.Run(python,
            [Script, npz, "--dtype", dtype == ScalarType.Float64 ? "float64" : "float32", "--threads", Arg(threads),
             "--warmup", Arg(warmup), "--repeats", Arg(repeats)],
            TimeSpan.FromMinutes(10),
            // torch.set_num_threads sizes the OpenMP pool; OpenBLAS (OpenMP build) follows it.
            new Dictionary<string, string> { ["OMP_NUM_THREADS"] = Arg(threads) });
        if (code != 0) throw new PinnException($"{Script} exited with {code}: {LastLine(stderr)}");
        var json = JsonDocument.Parse(LastLine(stdout)).RootElement;
        return new PeerResult(json.GetProperty("loss0").GetDouble(), json.GetProperty("ms_per_step").GetDouble(),
                              json.GetProperty("min_ms").GetDouble(), json.GetProperty("samples_ms").GetArrayLength(),
                              json.GetProperty("peak_rss_mb").GetDouble());
    }

    /// <summary>Which BLAS the peer's torch ends up with: Debian's reference BLAS makes it ~10× slower (TORCHSHARP.md).</summary>
    static string BlasNote(string python)
    {
        // The BLAS a process has mapped, resolved through Debian's alternatives symlinks (libblas.so.3 → …/openblas-openmp/…).
        const string probe = "import os, torch; torch.ones(2, 2) @ torch.ones(2, 2); " +
                             "print(' '.join(sorted({os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if 'blas' in l or 'mkl' in l})))";
        var (code, stdout, _) = PythonTorch.Run(python, ["-c", probe], TimeSpan.FromSeconds(60));
        string libs = code == 0 ? stdout.Trim() : "";
        if (libs.Length == 0) return "unknown";
        return libs.Contains("openblas") ? $"{libs} (OpenBLAS: fair baseline)" : $"{libs} (**not OpenBLAS**: reference BLAS is ~10× slower, install libopenblas0-openmp)";
    }

    static string LastLine(string text) => text.TrimEnd().Split('\n').LastOrDefault()?.Trim() ?? "";
}
