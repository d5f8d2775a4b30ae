using System.Diagnostics;
using System.Globalization;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// Resident memory of a real Burgers training run (the <see cref="Trainer"/> itself: points redrawn every
/// step, logging, in-memory snapshots) after 1k and 10k Adam steps. A tensor leaked per step shows as
/// growth between the two (one 512 × 32 float32 activation is 64 KB, ~0.6 GB over 9k steps); glibc
/// keeping freed memory does not, because that level is reached in the first steps (TORCHSHARP.md pitfalls 1, 7).
/// Network and batch are smaller than the step suite's so 10k steps take a minute or two on a shared
/// 2-core machine instead of ten; a leak is per step whatever the size.
/// </summary>
public sealed class MemoryStabilityBenchmark : IBenchmarkSuite
{
    const int Interior = 512, Initial = 64, Boundary = 64;
    static readonly int[] Layers = [32, 32, 32, 32];
    /// <summary>
    /// Growth between the checkpoints that still counts as flat: allocator and GC noise of a few tens of MB,
    /// i.e. under ~5 KB per step over 9k steps — far below any per-step tensor of this network.
    /// </summary>
    const double FlatMb = 50;

    readonly List<string> _findings = [];

    public string Name => "memory";
    public string Description =>
        $"Memory stability: RSS of a Burgers training run (Trainer, MLP 2→[32×4 tanh]→1, f32, {Interior}+{Initial}+{Boundary} points redrawn every step, Adam) " +
        "after 1k and 10k steps; flat means no tensor leaks";
    public IReadOnlyList<string> Findings => _findings;

    public IReadOnlyList<BenchRow> Run(BenchOptions options)
    {
        _findings.Clear();
        int[] marks = options.Quick ? [100, 1000, 3000] : [100, 1000, 5000, 10_000];
        var problem = new Burgers1D();
        PeakMemory.Reset();
        using var model = ModelFactory.Create(new ModelOptions { Layers = Layers }, problem, ScalarType.Float32, CPU, seed: 0);
        var training = new TrainingOptions
        {
            Steps = marks[^1],
            Batch = new Dictionary<string, int> { ["pde"] = Interior, ["ic"] = Initial, ["bc"] = Boundary },
            LogEvery = 100, EvalEvery = 0,
        };
        var probe = new RssProbe(marks);
        using (var trainer = new Trainer(problem, model, training, ScalarType.Float32, CPU, observer: probe))
            trainer.Train();

        var rows = new List<BenchRow>();
        int previous = 0;
        foreach (var m in probe.Marks)
        {
            var window = probe.StepMs.Skip(previous).Take(m.Step - previous).ToList();
            rows.Add(new BenchRow(Name, $"after {m.Step} steps", $"steps {previous + 1}–{m.Step}", BenchTimer.Median(window), window.Min(),
                                  window.Count, m.PeakMb, string.Create(CultureInfo.InvariantCulture, $"RSS {m.RssMb:F0} MB")));
            previous = m.Step;
        }
        var at1k = probe.Marks.First(m => m.Step == 1000);
        var last = probe.Marks[^1];
        double growth = last.RssMb - at1k.RssMb;
        string verdict = Math.Abs(growth) <= FlatMb
            ? $"flat (|Δ| ≤ {FlatMb} MB)."
            : $"**GROWING** (> {FlatMb} MB): look for a tensor outside the step's dispose scope.";
        _findings.Add(string.Create(CultureInfo.InvariantCulture,
            $"RSS after 1000 steps {at1k.RssMb:F0} MB, after {last.Step} steps {last.RssMb:F0} MB: difference {growth:+0;-0;0} MB " +
            $"({growth * 1024 / (last.Step - 1000):F2} KB per step) — {verdict}"));
        return rows;
    }

    static double ResidentMb()
    {
        return PeakMemory.StatusMegabytes("VmRSS") ?? Environment.WorkingSet / (1024.0 * 1024.0);
    }

    /// <summary>Per-step wall times, and RSS and peak RSS at the marked step counts.</summary>
    sealed class RssProbe(int[] marks) : ITrainingObserver
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        double _lastMs;

        public List<double> StepMs { get; } = [];
        public List<(int Step, double RssMb, double PeakMb)> Marks { get; } = [];

        public void OnLog(LogEntry entry) { }

        public void OnStep(int step, int total, double loss)
        {
            double now = _clock.Elapsed.TotalMilliseconds;
            StepMs.Add(now - _lastMs);
            _lastMs = now;
            if (marks.Contains(step + 1)) Marks.Add((step + 1, ResidentMb(), PeakMemory.Megabytes()));
        }
    }
}
