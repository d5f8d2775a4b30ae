using System.Text.Json;
using System.Text.Json.Nodes;
using Pinn.Config;
using Pinn.Problems;

namespace Pinn.Sweeps;

/// <summary>
/// A sweep folder's <c>sweep.json</c>: one entry per run with its config, overrides, coordinates and run
/// folder (relative to the sweep folder). Written by <c>pinn sweep</c> before anything runs; each task reads
/// its entry from it (so a Slurm array task needs nothing but the manifest path and its index), and
/// <c>pinn report</c> reads it back to group the runs.
/// </summary>
public sealed class SweepManifest
{
    public const string FileName = "sweep.json";

    public required string Directory { get; init; }
    public required string Name { get; init; }
    public required string Source { get; init; }
    public required IReadOnlyList<string> Axes { get; init; }
    public required IReadOnlyList<Entry> Runs { get; init; }
    public string? Budget { get; init; }
    /// <summary>The sweep file's <c>title:</c> and <c>note:</c>, for the report.</summary>
    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// One run. <see cref="RunDir"/> is where its results go, relative to the sweep folder, or null when its
    /// config could not be read at expansion (<see cref="ConfigError"/>): that run fails with the error when it is started.
    /// </summary>
    public sealed record Entry(SweepRun Run, string? RunDir, string? ConfigError);

    public string PathOf(Entry e) => Path.Combine(Directory, e.RunDir ?? Path.Combine("runs", e.Run.Name));

    /// <summary>
    /// The manifest of <paramref name="sweep"/>: each run's config is loaded with its overrides to find its
    /// problem (the run folder is <c>runs/&lt;problem&gt;/&lt;run&gt;</c>) and to catch bad configs before anything runs.
    /// </summary>
    public static SweepManifest Expand(SweepFile sweep, IProblemCatalog catalog)
    {
        var dir = Path.GetFullPath(sweep.Directory);
        var entries = new List<Entry>();
        foreach (var r in sweep.Runs)
        {
            try
            {
                var cfg = RunConfigLoader.Load(r.Config, catalog, RunOverrides(r, dir));
                if (cfg.Problem.Eigen is not null)
                    throw new PinnException($"{r.Config}: eigenvalue sequences do not run in sweeps yet; run them with 'pinn run'");
                entries.Add(new Entry(r, Path.Combine("runs", cfg.Problem.Name, r.Name), null));
            }
            catch (PinnException e)
            {
                entries.Add(new Entry(r, null, e.Message));
            }
        }
        return new SweepManifest { Directory = dir, Name = sweep.Name, Source = sweep.File, Axes = sweep.Axes, Runs = entries, Budget = sweep.Budget, Info = sweep.Info };
    }

    /// <summary>A run's overrides plus the two that place its results in the sweep folder.</summary>
    public static IReadOnlyList<string> RunOverrides(SweepRun r, string sweepDir) =>
        [.. r.Overrides, $"output.dir={Path.Combine(sweepDir, "runs")}", $"output.name={r.Name}"];

    public void Save()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var json = new JsonObject
        {
            ["sweep"] = Name,
            ["source"] = Source,
            ["budget"] = Budget,
            ["info"] = new JsonObject(Info.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["axes"] = new JsonArray(Axes.Select(a => (JsonNode)a).ToArray()),
            ["runs"] = new JsonArray(Runs.Select(e => (JsonNode)new JsonObject
            {
                ["index"] = e.Run.Index,
                ["name"] = e.Run.Name,
                ["config"] = e.Run.Config,
                ["overrides"] = new JsonArray(e.Run.Overrides.Select(o => (JsonNode)o).ToArray()),
                ["coordinates"] = new JsonObject(e.Run.Coordinates.Select(c => KeyValuePair.Create(c.Axis, (JsonNode?)c.Value))),
                ["seed"] = e.Run.Seed,
                ["meta"] = new JsonObject(e.Run.Meta.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["run_dir"] = e.RunDir,
                ["config_error"] = e.ConfigError,
            }).ToArray()),
        };
        AtomicWrite(Path.Combine(Directory, FileName), json.ToJsonString(Json.Options));
    }

    /// <summary>Reads <c>sweep.json</c> from a sweep folder or the file itself.</summary>
    public static SweepManifest Load(string path)
    {
        var file = System.IO.Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file)) throw new PinnException($"no sweep manifest: {file} (run 'pinn sweep FILE' first)");
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            var runs = root["runs"]!.AsArray().Select(n =>
            {
                var o = n!.AsObject();
                var coords = o["coordinates"]!.AsObject().Select(kv => new SweepCoordinate(kv.Key, kv.Value!.GetValue<string>())).ToArray();
                var meta = o["meta"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());
                var run = new SweepRun(o["index"]!.GetValue<int>(), o["name"]!.GetValue<string>(), o["config"]!.GetValue<string>(),
                                       o["overrides"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray(), coords,
                                       o["seed"]!.GetValue<int>(), meta);
                return new Entry(run, o["run_dir"]?.GetValue<string>(), o["config_error"]?.GetValue<string>());
            }).ToArray();
            return new SweepManifest
            {
                Directory = Path.GetDirectoryName(Path.GetFullPath(file))!,
                Name = root["sweep"]!.GetValue<string>(),
                Source = root["source"]!.GetValue<string>(),
                Axes = root["axes"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray(),
                Runs = runs,
                Budget = root["budget"]?.GetValue<string>(),
                Info = root["info"]?.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) ?? new Dictionary<string, string>(),
            };
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new PinnException($"{file}: not a Pinn sweep manifest ({e.Message})");
        }
    }

    /// <summary>Writes through a temporary file and a rename, so a reader never sees half a file.</summary>
    public static void AtomicWrite(string path, string text)
    {
        var tmp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>
/// What became of one task: <c>tasks/&lt;index&gt;.json</c> in the sweep folder, written by the task itself
/// (or, when it died without a word — a native abort, a kill — by its launcher from the exit code).
/// </summary>
public sealed record TaskRecord(int Index, string Name, int ExitCode, string Status, string? Error, double Seconds,
                                string Host, DateTimeOffset Finished, string? RunDir)
{
    public static string PathFor(string sweepDir, int index) => Path.Combine(sweepDir, "tasks", $"{index}.json");

    public void Save(string sweepDir)
    {
        System.IO.Directory.CreateDirectory(Path.Combine(sweepDir, "tasks"));
        SweepManifest.AtomicWrite(PathFor(sweepDir, Index), JsonSerializer.Serialize(this, Json.Options));
    }

    public static TaskRecord? Load(string sweepDir, int index)
    {
        var path = PathFor(sweepDir, index);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<TaskRecord>(File.ReadAllText(path), Json.Options); }
        catch (JsonException) { return null; } // half-written by a task killed mid-write: as if none
    }
}

static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
