using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pinn.Config;
using Pinn.References;
using Pinn.Training;
using YamlDotNet.RepresentationModel;

namespace Pinn.Reporting;

/// <summary>
/// <c>results/&lt;problem&gt;/&lt;run&gt;/</c>: <c>run.yaml</c> (the resolved config, written first),
/// <c>log.csv</c> (appended and flushed as training goes, so a crash loses nothing logged),
/// <c>metrics.json</c> and <c>prediction.npz</c> (written at the end, also for a diverged run).
/// </summary>
public sealed class RunDirectory : ITrainingObserver, IDisposable
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    StreamWriter? _log;
    string[]? _termColumns;
    string[] _fieldColumns = [];
    string[] _diagnosticColumns = [];

    RunDirectory(string path) => Path = path;

    public string Path { get; }

    public static RunDirectory Create(RunConfig cfg)
    {
        var name = cfg.Output.Name ?? $"{DateTime.Now:yyyyMMdd-HHmmss}-seed{cfg.Training.Seed}";
        var root = System.IO.Path.Combine(cfg.Output.Dir, cfg.Problem.Name);
        var path = System.IO.Path.Combine(root, name);
        for (int i = 2; Directory.Exists(path); i++) path = System.IO.Path.Combine(root, $"{name}-{i}");
        try { Directory.CreateDirectory(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PinnException($"cannot create the run directory {path}: {e.Message}");
        }
        return new RunDirectory(path);
    }

    /// <summary>
    /// An existing run, to be continued from <paramref name="resumeAt"/>: log rows at or after that
    /// point (<see cref="TrainerState.LogStep"/>: log steps are numbered on across phases, so the step alone
    /// places a row) are dropped (they will be run again), the rest is kept and appended to.
    /// </summary>
    public static RunDirectory Open(string path, TrainerState resumeAt)
    {
        if (!Directory.Exists(path)) throw new PinnException($"run directory not found: {path}");
        var dir = new RunDirectory(path);
        var logPath = dir.File("log.csv");
        if (System.IO.File.Exists(logPath))
        {
            var lines = System.IO.File.ReadAllLines(logPath);
            bool Keep(string row)
            {
                var cells = row.Split(',');
                if (cells.Length < 2 || !int.TryParse(cells[1], NumberStyles.Integer, Inv, out var step)) return false;
                if (resumeAt.LogStep is { } from) return step < from;
                return resumeAt.Phase switch // a checkpoint from before phases
                {
                    "adam" => cells[0] == "adam" && step < resumeAt.Step,
                    "lbfgs" => cells[0] == "adam",
                    _ => true,
                };
            }
            var kept = lines.Take(1).Concat(lines.Skip(1).Where(Keep)).ToArray();
            System.IO.File.WriteAllLines(logPath, kept);
            if (kept.Length > 0)
            {
                var header = kept[0].Split(',');
                dir._termColumns = header.Where(h => h.StartsWith("loss_", StringComparison.Ordinal)).Select(h => h[5..]).ToArray();
                dir._fieldColumns = header.Where(h => h.StartsWith("rel_l2_", StringComparison.Ordinal)).Select(h => h[7..]).ToArray();
                dir._diagnosticColumns = header.Skip(5).Where(h => !h.StartsWith("loss_", StringComparison.Ordinal) && !h.StartsWith("rel_l2_", StringComparison.Ordinal)).ToArray();
                dir._log = new StreamWriter(logPath, append: true);
            }
        }
        return dir;
    }

    /// <summary>
    /// run.yaml: the config document as the loader left it (overrides applied, every default filled in),
    /// with this directory's name as output.name — so it reloads to the same config (pinn eval, --resume).
    /// </summary>
    public void WriteConfig(RunConfig cfg)
    {
        var output = (YamlMappingNode)cfg.Document.Root.Children[new YamlScalarNode("output")];
        output.Children[new YamlScalarNode("name")] = new YamlScalarNode(System.IO.Path.GetFileName(Path));
        using var w = new StreamWriter(File("run.yaml"));
        cfg.Document.Save(w, $"resolved from {cfg.Source}");
    }

    public void OnLog(LogEntry e)
    {
        if (_log is null)
        {
            _termColumns = e.Terms.Keys.ToArray();
            // the first entry's diagnostics, then those later phases declared (SetDiagnostics): an Adam warm-up logs none of LM's
            _diagnosticColumns = (e.Diagnostics?.Keys ?? []).Concat(_declaredDiagnostics).Distinct().ToArray();
        }
        // One list of (column, value) feeds log.csv's header, its row and the TensorBoard scalars, so they cannot drift apart.
        var scalars = new List<(string Column, double? Value)> { ("seconds", e.Seconds), ("lr", e.LearningRate), ("loss", e.Loss) };
        scalars.AddRange(_termColumns!.Select(c => ("loss_" + c, e.Terms.TryGetValue(c, out var v) ? v : (double?)null)));
        scalars.AddRange(_fieldColumns.Select(f => ("rel_l2_" + f, e.Error?.Fields.TryGetValue(f, out var fe) == true ? fe.RelativeL2 : (double?)null)));
        // a NaN diagnostic means "not measured yet" (e.g. the GP's solve_cg before its first solve): an empty cell
        scalars.AddRange(_diagnosticColumns.Select(d => (d, e.Diagnostics?.TryGetValue(d, out var v) == true && !double.IsNaN(v) ? v : (double?)null)));
        if (_log is null)
        {
            _log = new StreamWriter(File("log.csv"));
            _log.WriteLine(string.Join(",", new[] { "phase", "step" }.Concat(scalars.Select(s => s.Column))));
        }
        _log.WriteLine(string.Join(",", new[] { e.Phase, Num(e.Step) }.Concat(scalars.Select(s => s.Value is { } v ? Num(v) : ""))));
        _log.Flush();
        _tensorboard?.Write(e.Step, scalars.Where(s => s.Value is not null).Select(s => (s.Column, s.Value!.Value)));
    }

    /// <summary>The folder under the run that holds TensorBoard's event files (<c>output.tensorboard</c>).</summary>
    public const string TensorBoardFolder = "tensorboard";

    TensorBoardLog? _tensorboard;

    /// <summary>
    /// From now on every log row's scalars also go to an event file in <see cref="TensorBoardFolder"/>, tagged with their
    /// log.csv column names, at the row's log step. A resumed run adds a new file to the folder; TensorBoard reads them in
    /// name (time) order and drops the first session's points from the resume step on, as log.csv does.
    /// </summary>
    public void EnableTensorBoard() => _tensorboard ??= new TensorBoardLog(File(TensorBoardFolder));

    string[] _declaredDiagnostics = [];

    /// <summary>Diagnostic columns the phases of the plan will log (<see cref="Training.Phases.PhaseOptions.Diagnostics"/>), set before training starts.</summary>
    public void SetDiagnostics(IEnumerable<string> names)
    {
        if (_log is null) _declaredDiagnostics = names.ToArray(); // a resumed log keeps its columns
    }

    /// <summary>Fields whose error columns the log carries (set before training starts).</summary>
    public void SetFields(IEnumerable<string> fields)
    {
        if (_log is null) _fieldColumns = fields.ToArray(); // a resumed log keeps its columns
    }

    public void WriteMetrics(RunConfig cfg, TrainingResult r, string device, string dtype, string? reference)
    {
        var fields = new JsonObject();
        if (r.Error is not null)
            foreach (var (f, e) in r.Error.Fields)
                fields[f] = new JsonObject { ["relative_l2"] = e.RelativeL2, ["max_abs"] = e.MaxAbs };
        var json = new JsonObject
        {
            ["problem"] = cfg.Problem.Name,
            ["status"] = r.Status,
            ["relative_l2"] = r.Error is null ? null : r.Error.RelativeL2,
            ["fields"] = fields,
            ["final_loss"] = double.IsFinite(r.FinalLoss) ? r.FinalLoss : null,
            ["adam_steps"] = r.AdamSteps,
            ["lbfgs_steps"] = r.LbfgsSteps,
            ["recoveries"] = r.Recoveries,
            ["phases"] = r.Phases is null ? null : new JsonArray(r.Phases.Select(p => (JsonNode)new JsonObject
            {
                ["optimizer"] = p.Name,
                ["steps"] = p.Steps,
                ["evaluations"] = p.Evaluations,
                ["line_searches"] = p.LineSearches,
                ["evaluations_per_line_search"] = double.IsFinite(p.EvaluationsPerLineSearch) ? p.EvaluationsPerLineSearch : null,
                ["final_loss"] = double.IsFinite(p.FinalLoss) ? p.FinalLoss : null,
                ["stop"] = p.Stop,
                ["seconds"] = p.Seconds,
            }).ToArray()),
            ["parameters"] = r.Identified is null ? null : new JsonObject(r.Identified.Select(p => KeyValuePair.Create(p.Name, (JsonNode?)new JsonObject
            {
                ["value"] = p.Value,
                ["initial"] = p.Initial,
                ["truth"] = p.Truth,
                ["relative_error"] = p.RelativeError,
            }))),
            ["wall_seconds"] = r.Seconds,
            ["model"] = r.ModelDescription,
            ["parameter_count"] = r.ParameterCount,
            ["device"] = device,
            ["dtype"] = dtype,
            ["threads"] = TorchSharp.torch.get_num_threads(),
            ["seed"] = cfg.Training.Seed,
            ["reference"] = reference,
            ["config"] = cfg.Source,
        };
        System.IO.File.WriteAllText(File("metrics.json"), json.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));
    }

    public void WritePrediction(ReferenceSolution reference, double[,] predicted)
    {
        var arrays = ReferenceFiles.CoordinateArrays(reference);
        for (int k = 0; k < reference.Fields.Count; k++)
        {
            var pred = Enumerable.Range(0, reference.Count).Select(i => predicted[i, k]).ToArray();
            arrays[reference.Fields[k] + "_pred"] = new NdArray(reference.Shape, pred);
            arrays[reference.Fields[k] + "_ref"] = new NdArray(reference.Shape, reference.FieldValues(k));
        }
        Npz.Write(File("prediction.npz"), arrays);
    }

    string File(string name) => System.IO.Path.Combine(Path, name);
    static string Num(double v) => v.ToString("R", Inv);
    static string Num(int v) => v.ToString(Inv);

    /// <summary>Flushes and closes log.csv (so the plots can read it); later log rows reopen nothing.</summary>
    public void CloseLog()
    {
        _log?.Dispose();
        _log = null;
    }

    public void Dispose() => _log?.Dispose();
}
