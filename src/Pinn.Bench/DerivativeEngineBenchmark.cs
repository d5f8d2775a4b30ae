using System.Globalization;
using Pinn.Autodiff;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Symbolic;
using Pinn.Training;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// Time to compute the field derivatives a residual needs — u, u_x, u_t, u_xx (Burgers) and additionally
/// u_xxxx (Kuramoto–Sivashinsky) — for 4096 points of an MLP 2→[64×4 tanh]→1, per derivative engine
/// chosen by name, in float32 and float64; plus the full KS PINN step (4th order) through the trainer's
/// loss terms, the step the issue wants ≥ 2.5× faster with the best engine.
/// </summary>
public sealed class DerivativeEngineBenchmark : IBenchmarkSuite
{
    const int Points = 4096;
    static readonly int[] Layers = [64, 64, 64, 64];
    static readonly string[] Coordinates = ["x", "t"];
    static readonly string[] Fields = ["u"];

    /// <summary>Engines timed, by name; an engine the factory does not know yet is reported as skipped.</summary>
    public static readonly string[] Engines = ["autograd", "jet"];

    /// <summary>
    /// Builds a provider of ∂^α u for the model at the points (N × 2, columns x, t, requiring grad), or null
    /// for an engine not built here. A new engine is one line.
    /// </summary>
    public static readonly Func<string, IFieldModel, Tensor, IReadOnlyList<FieldDerivative>, IFieldProvider?> Factory =
        (name, model, points, wanted) => name switch
    {
        "autograd" => new AutogradFieldProvider(points, model.Forward(points), Coordinates, Fields, NoParameters),
        "jet" when model is NeuralField net => new JetFieldProvider(net, points,
            MultiIndex.Closure(wanted.Select(d => MultiIndex.Of(d, Coordinates))), Coordinates, Fields, NoParameters),
        _ => null,
    };

    static Tensor NoParameters(string name) => throw new PinnException($"derivative benchmark: no parameter '{name}'");

    static readonly (string Name, FieldDerivative[] Derivatives)[] Sets =
    [
        ("u, u_x, u_t, u_xx", [D(), D("x"), D("t"), D("x", "x")]),
        ("u, u_x, u_t, u_xx, u_xxxx", [D(), D("x"), D("t"), D("x", "x"), D("x", "x", "x", "x")]),
    ];

    static FieldDerivative D(params string[] wrt) => new("u", wrt);

    readonly List<string> _findings = [];

    public string Name => "derivatives";
    public string Description =>
        $"Derivative engines: u, u_x, u_t, u_xx (and u_xxxx) at {Points} points of an MLP 2→[64×4 tanh]→1 (forward included, graph kept for a backward), " +
        $"engines {string.Join(", ", Engines)}; and the Kuramoto–Sivashinsky PINN step (pde+ic+periodic bc, backward, Adam) with autograd";
    public IReadOnlyList<string> Findings => _findings;

    public IReadOnlyList<BenchRow> Run(BenchOptions options)
    {
        _findings.Clear();
        var rows = new List<BenchRow>();
        var problem = new Burgers1D(); // only its domain: x ∈ [−1, 1], t ∈ [0, 1]
        foreach (var dtype in PinnCases.DTypes)
        {
            using var model = ModelFactory.Create(new ModelOptions { Layers = Layers }, problem, dtype, CPU, seed: 0);
            using var points = RandomPoints(problem.Domain, dtype);
            foreach (var engine in Engines)
                foreach (var (set, derivatives) in Sets)
                    rows.Add(TimeDerivatives(engine, set, derivatives, model, points, dtype, options));
        }
        foreach (var dtype in PinnCases.DTypes)
            foreach (var engine in Engines)
                rows.Add(TimeKsStep(dtype, engine, options));
        Summarise(rows);
        return rows;
    }

    BenchRow TimeDerivatives(string engine, string set, FieldDerivative[] derivatives, IFieldModel model, Tensor points,
                             ScalarType dtype, BenchOptions options)
    {
        string parameters = $"{set}, {PinnCases.DTypeName(dtype)}";
        using (var probe = NewDisposeScope())
            if (Factory(engine, model, points, derivatives) is null)
                return new BenchRow(Name, engine, parameters, null, null, 0, 0, $"skipped: engine '{engine}' not available in this build");
        PeakMemory.Reset();
        var timing = BenchTimer.Measure(() =>
        {
            using var scope = NewDisposeScope();
            var provider = Factory(engine, model, points, derivatives)!;
            provider.Prepare(derivatives); // as TensorEvaluator does before evaluating a residual
            foreach (var d in derivatives) provider.Field(d);
        }, options);
        return Row(engine, parameters, timing);
    }

    BenchRow TimeKsStep(ScalarType dtype, string engine, BenchOptions options)
    {
        PeakMemory.Reset();
        using var step = new FixedBatchPinnStep(new KuramotoSivashinsky(), Layers, dtype, Points, PinnCases.Initial, PinnCases.Boundary,
                                                derivatives: engine);
        var timing = BenchTimer.Measure(() => step.Step(), options);
        return Row($"ks step ({engine})", $"MLP 2→[64×4 tanh]→1, {PinnCases.DTypeName(dtype)}, {Points}+{PinnCases.Initial}+{PinnCases.Boundary} pts", timing);
    }

    BenchRow Row(string engine, string parameters, Timing timing) => timing.Skipped
        ? new BenchRow(Name, engine, parameters, null, null, 0, PeakMemory.Megabytes(), $"skipped: first run {timing.FirstMs / 1000:F1} s > quick limit")
        : new BenchRow(Name, engine, parameters, timing.MedianMs, timing.MinMs, timing.SamplesMs.Count, PeakMemory.Megabytes());

    static Tensor RandomPoints(Box domain, ScalarType dtype)
    {
        var raw = domain.Sample(Region.Interior, Points, SamplerFactory.Create("uniform", seed: 1));
        return tensor(raw, dtype: ScalarType.Float64).to(dtype).requires_grad_(true);
    }

    void Summarise(List<BenchRow> rows)
    {
        foreach (var dtype in PinnCases.DTypes)
        {
            string suffix = ", " + PinnCases.DTypeName(dtype);
            var timed = rows.Where(r => r.MedianMs is not null && r.Parameters.EndsWith(suffix, StringComparison.Ordinal)).ToList();
            var second = timed.FirstOrDefault(r => r.Case == "autograd" && r.Parameters.StartsWith(Sets[0].Name + ",", StringComparison.Ordinal));
            var fourth = timed.FirstOrDefault(r => r.Case == "autograd" && r.Parameters.StartsWith(Sets[1].Name + ",", StringComparison.Ordinal));
            if (second is not null && fourth is not null)
                _findings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"autograd{suffix}: adding u_xxxx (two more nested backward passes) costs {fourth.MedianMs / second.MedianMs:F2}× the 2nd-order set."));
            foreach (var set in Sets)
            {
                var best = timed.Where(r => r.Parameters.StartsWith(set.Name + ",", StringComparison.Ordinal)).MinBy(r => r.MedianMs);
                var baseline = timed.FirstOrDefault(r => r.Case == "autograd" && r.Parameters.StartsWith(set.Name + ",", StringComparison.Ordinal));
                if (best is not null && baseline is not null && best.Case != "autograd")
                    _findings.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{set.Name}{suffix}: fastest engine {best.Case}, {baseline.MedianMs / best.MedianMs:F2}× faster than autograd."));
            }
        }
        foreach (var dtype in PinnCases.DTypes)
        {
            var name = PinnCases.DTypeName(dtype);
            var a = rows.FirstOrDefault(r => r.Case == "ks step (autograd)" && r.Parameters.Contains(name));
            var j = rows.FirstOrDefault(r => r.Case == "ks step (jet)" && r.Parameters.Contains(name));
            if (a?.MedianMs is { } am && j?.MedianMs is { } jm)
                _findings.Add($"KS step, {name}: jets {am / jm:F2}× faster than nested autograd ({jm:F1} vs {am:F1} ms; target ≥ 2.5×).");
        }
    }
}
