using System.Globalization;
using Pinn.Problems;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// The PINN networks and batch of issue #7, shared by the PINN-step and PyTorch-peer suites so that both
/// measure the same thing: viscous Burgers, 4096 interior points and 512 condition points
/// (256 initial + 256 on the two x-boundaries, as in problems/burgers/burgers.yaml).
/// </summary>
public static class PinnCases
{
    public const int Interior = 4096, Initial = 256, Boundary = 256;
    public static readonly (string Name, int[] Layers)[] Networks = [("64×4", [64, 64, 64, 64]), ("128×6", [128, 128, 128, 128, 128, 128])];
    public static readonly ScalarType[] DTypes = [ScalarType.Float32, ScalarType.Float64];

    public static string DTypeName(ScalarType t) => t == ScalarType.Float64 ? "f64" : "f32";

    public static string Parameters(string network, ScalarType dtype) =>
        $"MLP 2→[{network} tanh]→1, {DTypeName(dtype)}, {Interior}+{Initial}+{Boundary} pts";

    public static FixedBatchPinnStep Burgers(int[] layers, ScalarType dtype, string derivatives = "autograd") =>
        new(new Burgers1D(), layers, dtype, Interior, Initial, Boundary, derivatives: derivatives);
}

/// <summary>
/// Time per Adam step of a Burgers PINN (forward, residual u_t + u u_x − ν u_xx by nested autograd or jets,
/// initial and boundary terms, backward, Adam) through the trainer's own loss terms and StepContext,
/// for the two networks in float32 and float64, with the peak RSS of each case.
/// </summary>
public sealed class PinnStepBenchmark : IBenchmarkSuite
{
    readonly List<string> _findings = [];

    public string Name => "pinn";
    public string Description =>
        $"PINN step on viscous Burgers (forward, u_t/u_x/u_xx by nested autograd, or by fused jets carrying u, u_x and u_t − ν u_xx as one block, " +
        $"pde+ic+bc loss, backward, Adam) through the trainer's loss terms " +
        $"and StepContext on a fixed batch of {PinnCases.Interior} interior + {PinnCases.Initial} initial + {PinnCases.Boundary} boundary points";
    public IReadOnlyList<string> Findings => _findings;

    public IReadOnlyList<BenchRow> Run(BenchOptions options)
    {
        _findings.Clear();
        var rows = new List<BenchRow>();
        foreach (var (network, layers) in PinnCases.Networks)
            foreach (var dtype in PinnCases.DTypes)
            foreach (var engine in new[] { "autograd", "jet" })
            {
                PeakMemory.Reset();
                using var step = PinnCases.Burgers(layers, dtype, engine);
                string caseName = engine == "autograd" ? "burgers step" : "burgers step (jet)";
                var timing = BenchTimer.Measure(() => step.Step(), options);
                double rss = PeakMemory.Megabytes();
                string parameters = PinnCases.Parameters(network, dtype);
                rows.Add(timing.Skipped
                    ? new BenchRow(Name, caseName, parameters, null, null, 0, rss, $"skipped: first step {timing.FirstMs / 1000:F1} s > quick limit")
                    : new BenchRow(Name, caseName, parameters, timing.MedianMs, timing.MinMs, timing.SamplesMs.Count, rss,
                                   $"{step.Model.ParameterCount} parameters"));
            }
        var timed = rows.Where(r => r.MedianMs is not null).ToList();
        foreach (var (network, _) in PinnCases.Networks)
        {
            var f32 = timed.FirstOrDefault(r => r.Case == "burgers step" && r.Parameters == PinnCases.Parameters(network, ScalarType.Float32));
            var f64 = timed.FirstOrDefault(r => r.Case == "burgers step" && r.Parameters == PinnCases.Parameters(network, ScalarType.Float64));
            if (f32 is not null && f64 is not null)
                _findings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{network}: float64 / float32 step time {f64.MedianMs / f32.MedianMs:F2}×."));
            foreach (var dtype in PinnCases.DTypes)
            {
                var a = timed.FirstOrDefault(r => r.Case == "burgers step" && r.Parameters == PinnCases.Parameters(network, dtype));
                var j = timed.FirstOrDefault(r => r.Case == "burgers step (jet)" && r.Parameters == PinnCases.Parameters(network, dtype));
                if (a is not null && j is not null)
                    _findings.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{network} {PinnCases.DTypeName(dtype)}: jets {a.MedianMs / j.MedianMs:F2}× the speed of nested autograd (target ≥ 1.3×)."));
            }
        }
        return rows;
    }
}
