using System.Globalization;
using System.Text;
using Pinn.Config;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Reporting;

namespace Pinn.Training;

/// <summary>One state of an eigen sequence: its run and the eigenvalue it found (against the reference's, when known).</summary>
public sealed record EigenStateResult(int State, RunOutcome Run, double Eigenvalue, double? Reference)
{
    public double? RelativeError => Reference is { } r ? Math.Abs(Eigenvalue - r) / Math.Max(Math.Abs(r), double.Epsilon) : null;
}

/// <summary>
/// Solves the first k states of an eigenproblem (<see cref="Problem.Eigen"/>) in sequence: state j is an ordinary run of
/// <see cref="EigenStateProblem"/> (own folder <c>&lt;run&gt;/state{j}</c>, checkpoint, metrics, plots), orthogonal to the states
/// already found — each read back from its run's checkpoint and evaluated at the quadrature nodes of the orthogonality
/// conditions. Writes <c>eigen.md</c> and <c>eigen.json</c> with every state's eigenvalue and error to the sequence's folder.
/// A state that does not complete ends the sequence there (its results are kept).
/// </summary>
public static class EigenSequence
{
    public static (string Directory, IReadOnlyList<EigenStateResult> States) Run(RunConfig cfg, ITrainingObserver? display = null,
                                                                                CancellationToken cancel = default)
    {
        var source = cfg.Problem;
        var spec = source.Eigen ?? throw new PinnException($"problem '{source.Name}' is not an eigenproblem (no problem.eigen)");
        string name = cfg.Output.Name ?? $"{DateTime.Now:yyyyMMdd-HHmmss}-seed{cfg.Training.Seed}";
        string root = Path.Combine(cfg.Output.Dir, source.Name, name);
        for (int i = 2; Directory.Exists(root); i++) root = Path.Combine(cfg.Output.Dir, source.Name, $"{name}-{i}");
        Directory.CreateDirectory(root); // taken now: a second sequence started in the same second picks the next name
        string folder = Path.GetRelativePath(Path.Combine(cfg.Output.Dir, source.Name), root);
        var dtype = RunDevice.ResolveDType(cfg.Training.DType);
        var device = RunDevice.Resolve(cfg.Training.Device);
        var models = new List<IFieldModel>();
        var found = new List<Func<double[,], double[]>>();
        var results = new List<EigenStateResult>();
        int field = source.Fields.ToList().IndexOf(spec.Field);
        double declared = source.ParameterValues[spec.Parameter];
        try
        {
            for (int k = 0; k < spec.States; k++)
            {
                double start = spec.Start(k, declared, results.Count > 0 ? results[^1].Eigenvalue : null);
                var problem = new EigenStateProblem(source, spec, k, start, found.ToList(), source.EigenReferences);
                problem.Validate();
                display?.OnMessage($"state {k}: {spec.Parameter} from {start:G6}" + (found.Count > 0 ? $", orthogonal to states 0…{k - 1}" : ""));
                var stateCfg = cfg with { Problem = problem, Output = cfg.Output with { Name = Path.Combine(folder, $"state{k}") } };
                var outcome = Runner.Run(stateCfg, display, cancel);
                var value = outcome.Result.Identified?.FirstOrDefault(p => p.Name == spec.Parameter)
                            ?? throw new InvalidOperationException($"state {k}: the eigenvalue {spec.Parameter} was not trained");
                results.Add(new EigenStateResult(k, outcome, value.Value, value.Truth));
                if (outcome.Result.Status != "completed") break;
                // The state found, read back from its checkpoint: a fixed function for the next states' orthogonality.
                var model = ModelFactory.Create(stateCfg.Model, problem, dtype, device, stateCfg.Training.Seed);
                models.Add(model);
                Checkpoint.Load(Path.Combine(outcome.Directory, Runner.CheckpointFolder)).Restore(model);
                found.Add(points =>
                {
                    var values = ReferenceComparison.Predict(model, points, dtype, device);
                    return Enumerable.Range(0, points.GetLength(0)).Select(i => values[i, field]).ToArray();
                });
            }
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
        Write(root, source, spec, results);
        return (root, results);
    }

    static string Num(double? v, string format = "G10") => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "—";

    static void Write(string root, Problem source, EigenSpec spec, IReadOnlyList<EigenStateResult> states)
    {
        Directory.CreateDirectory(root);
        var md = new StringBuilder();
        md.AppendLine($"# {source.Name}: first {states.Count} of {spec.States} states");
        md.AppendLine();
        md.AppendLine($"Reference: {source.EigenReferences?.Description ?? source.Reference?.Description ?? "none"}.");
        md.AppendLine();
        md.AppendLine($"| state | {spec.Parameter} | reference | rel. error | {spec.Field} rel. L2 (up to sign) | status | seconds | run |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var s in states)
        {
            var r = s.Run.Result;
            md.AppendLine($"| {s.State} | {Num(s.Eigenvalue)} | {Num(s.Reference)} | {Num(s.RelativeError, "0.00e+00")} | " +
                          $"{Num(r.Error?.RelativeL2, "0.00e+00")} | {r.Status} | {r.Seconds.ToString("F1", CultureInfo.InvariantCulture)} | " +
                          $"{Path.GetFileName(s.Run.Directory)} |");
        }
        File.WriteAllText(Path.Combine(root, "eigen.md"), md.ToString());
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["problem"] = source.Name,
            ["parameter"] = spec.Parameter,
            ["states"] = new System.Text.Json.Nodes.JsonArray(states.Select(s => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["state"] = s.State,
                ["eigenvalue"] = s.Eigenvalue,
                ["reference"] = s.Reference,
                ["relative_error"] = s.RelativeError,
                ["field_relative_l2"] = s.Run.Result.Error?.RelativeL2,
                ["status"] = s.Run.Result.Status,
                ["seconds"] = s.Run.Result.Seconds,
                ["run"] = s.Run.Directory,
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(root, "eigen.json"), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
