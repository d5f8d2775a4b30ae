using System.Globalization;
using Pinn.Config;
using YamlDotNet.RepresentationModel;

namespace Pinn.Sweeps;

/// <summary>One coordinate of a run in its sweep: the axis (a config key, <c>config</c>, <c>case</c> or <c>seed</c>) and its value.</summary>
public sealed record SweepCoordinate(string Axis, string Value);

/// <summary>
/// One run of a sweep: its index, name, config file, the overrides that make it (in order: the sweep's
/// <c>set:</c>, its case, its axes, its seed) and its coordinates (what the report groups by).
/// <see cref="Meta"/> holds a case's extra keys (e.g. <c>paper:</c>, the published number for that row).
/// </summary>
public sealed record SweepRun(int Index, string Name, string Config, IReadOnlyList<string> Overrides,
                              IReadOnlyList<SweepCoordinate> Coordinates, int Seed, IReadOnlyDictionary<string, string> Meta)
{
    /// <summary>The coordinates other than the seed: runs that share them are one row of the report.</summary>
    public string Group => string.Join(", ", Coordinates.Where(c => c.Axis != "seed").Select(c => $"{c.Axis}={c.Value}"));
}

/// <summary>Slurm resources of a sweep's array tasks (sweep file <c>slurm:</c>, or flags that override it).</summary>
public sealed record SlurmResources(string? Partition = null, string? Time = null, int Cpus = 1, int Gpus = 0, string? Memory = null,
                                    string? Account = null, IReadOnlyList<string>? Extra = null);

/// <summary>
/// A sweep file: base config(s), axes over any config key, seeds. Layout:
/// <code>
/// name: burgers-lr                        # the sweep's folder under out: (default: the file's name)
/// config: ../burgers/burgers_quick.yaml   # relative to this file; or configs: [a.yaml, b.yaml] (an axis "config")
/// set: {training.steps: 300}              # overrides for every run
/// cases:                                  # optional: named rows, each with its own overrides (an axis "case")
///   - {name: plain, set: {model.type: mlp}, paper: 4.98e-1}
/// grid: {training.lr: [1e-3, 3e-3]}       # cartesian product over the keys
/// zip: {model.layers: [[32, 32], [64, 64]], training.batch.pde: [512, 1024]}   # paired lists, equal lengths
/// seeds: 3                                # or a list [0, 4, 7]; each run gets training.seed
/// out: results/sweeps                     # the sweep folder is out/name (relative to the working directory)
/// slurm: {partition: debug, time: "00:30:00", cpus: 2, gpus: 0, mem: 4G}
/// budgets: {quick: {training.steps: 2000}, full: {}}   # optional: named sets of overrides, chosen by --budget
///                                         # (default: the first); a case's key named after a budget adds its own
/// </code>
/// Runs are the product configs × cases × grid × zip × seeds, in that order (the seed varies fastest).
/// </summary>
public sealed class SweepFile
{
    public required string File { get; init; }
    public required string Name { get; init; }
    public required string Out { get; init; }
    public required IReadOnlyList<SweepRun> Runs { get; init; }
    public required SlurmResources Slurm { get; init; }
    /// <summary>The axes of the sweep in order (the report plots each one that has more than one value).</summary>
    public required IReadOnlyList<string> Axes { get; init; }

    /// <summary>The sweep folder: <c>out/name</c>.</summary>
    public string Directory => Path.Combine(Out, Name);

    /// <summary>The budget the runs were expanded for (<c>budgets:</c>), or null when the file has none.</summary>
    public string? Budget { get; init; }

    /// <summary>The sweep file's own keys that are not runs: <c>title:</c>, <c>note:</c> (what a reproduction's table prints above it).</summary>
    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();

    public static SweepFile Load(string path, IEnumerable<string>? extraOverrides = null, string? outOverride = null, string? budget = null)
    {
        var doc = YamlDoc.Load(path);
        var root = doc.RootSection();
        string Resolve(YamlNode node)
        {
            var v = root.Scalar(node, "config");
            var full = Path.GetFullPath(Path.Combine(doc.DirectoryOf(node), v));
            if (!System.IO.File.Exists(full)) throw doc.Error(node, $"config file not found: {v} (looked in {doc.DirectoryOf(node)})");
            return full;
        }

        // configs: one or several (an axis)
        var configs = new List<(string Path, string Label)>();
        if (root.Raw("config") is { } one) configs.Add((Resolve(one), Path.GetFileNameWithoutExtension(root.Scalar(one, "config"))));
        if (root.Raw("configs") is { } many)
        {
            if (many is not YamlSequenceNode seq || seq.Children.Count == 0) throw doc.Error(many, "configs: expected a list of config files");
            foreach (var c in seq.Children) configs.Add((Resolve(c), Path.GetFileNameWithoutExtension(root.Scalar(c, "configs"))));
        }
        var budgets = ReadBudgets(root);
        if (budget is not null && !budgets.ContainsKey(budget))
            throw budgets.Count == 0 ? doc.Error(null, $"--budget {budget}: this sweep file defines no budgets")
                                     : doc.Error(root.Raw("budgets"), $"--budget: unknown budget '{budget}' (this file has {string.Join(", ", budgets.Keys)})");
        budget ??= budgets.Keys.FirstOrDefault();
        var cases = ReadCases(root, Resolve, budgets.Keys.ToHashSet(), budget);
        if (configs.Count == 0 && (cases.Count == 0 || cases.Any(c => c.Config is null)))
            throw doc.Error(null, "the sweep names no config: give 'config: file.yaml', 'configs: [...]', or a config in every case");
        if (configs.Count > 0 && root.Raw("config") is not null && root.Raw("configs") is not null)
            throw doc.Error(root.Raw("configs"), "give either 'config:' or 'configs:', not both");

        var common = ReadOverrides(root, "set");
        if (budget is not null) common.AddRange(budgets[budget]);
        var info = new Dictionary<string, string>();
        foreach (var key in new[] { "title", "note" })
            if (root.String(key) is { } v) info[key] = v;
        var grid = ReadAxes(root, "grid");
        var zip = ReadAxes(root, "zip");
        if (zip.Count > 0 && zip.Select(a => a.Values.Count).Distinct().Count() > 1)
            throw doc.Error(root.Raw("zip"), $"zip: the lists must have equal lengths (got {string.Join(", ", zip.Select(a => $"{a.Key} {a.Values.Count}"))})");
        foreach (var k in grid.Select(a => a.Key).Intersect(zip.Select(a => a.Key)))
            throw doc.Error(root.Raw("zip"), $"zip: '{k}' is also a grid axis");
        var seeds = ReadSeeds(root);
        var slurm = ReadSlurm(root.SubSection("slurm"));
        var name = root.String("name") ?? Path.GetFileNameWithoutExtension(path);
        if (budget is not null && budgets.Count > 1) name = $"{name}-{budget}";
        if (name.Length == 0 || name.Any(ch => !(char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.')))
            throw doc.Error(root.Raw("name"), $"name: '{name}' must be letters, digits, '-', '_' or '.' (it names a folder)");
        var outDir = outOverride ?? root.String("out") ?? "results/sweeps";
        root.Done();

        // the product, seed fastest
        var runs = new List<SweepRun>();
        var extra = (extraOverrides ?? []).ToArray();
        var configChoices = configs.Count > 0 ? configs.Select(c => ((string, string)?)c).ToList() : [null];
        var caseChoices = cases.Count > 0 ? cases.Select(c => (Case?)c).ToList() : [null];
        int zipLength = zip.Count > 0 ? zip[0].Values.Count : 1;
        foreach (var config in configChoices)
        foreach (var @case in caseChoices)
        foreach (var point in Product(grid))
        for (int z = 0; z < zipLength; z++)
        foreach (var seed in seeds)
        {
            var coords = new List<SweepCoordinate>();
            var overrides = new List<string>(common);
            if (config is { } cf && configs.Count > 1) coords.Add(new("config", cf.Item2));
            if (@case is { } c)
            {
                coords.Add(new("case", c.Name));
                overrides.AddRange(c.Overrides);
            }
            foreach (var (key, value) in point)
            {
                coords.Add(new(key, value));
                overrides.Add($"{key}={value}");
            }
            foreach (var a in zip)
            {
                coords.Add(new(a.Key, a.Values[z]));
                overrides.Add($"{a.Key}={a.Values[z]}");
            }
            if (seeds.Count > 1 || root.Raw("seeds") is not null) coords.Add(new("seed", seed.ToString(CultureInfo.InvariantCulture)));
            overrides.Add($"training.seed={seed}");
            overrides.AddRange(extra);
            var file = @case?.Config ?? config!.Value.Item1;
            int index = runs.Count;
            runs.Add(new SweepRun(index, RunName(index, coords), file, overrides, coords, seed,
                                  @case?.Meta ?? new Dictionary<string, string>()));
        }
        var axes = new List<string>();
        if (configs.Count > 1) axes.Add("config");
        if (cases.Count > 0) axes.Add("case");
        axes.AddRange(grid.Select(a => a.Key));
        axes.AddRange(zip.Select(a => a.Key));
        return new SweepFile { File = Path.GetFullPath(path), Name = name, Out = outDir, Runs = runs, Slurm = slurm, Axes = axes, Budget = budget, Info = info };
    }

    static Dictionary<string, List<string>> ReadBudgets(Section root)
    {
        var raw = root.Raw("budgets");
        var result = new Dictionary<string, List<string>>();
        if (raw is null) return result;
        if (raw is not YamlMappingNode m || m.Children.Count == 0)
            throw root.Doc.Error(raw, "budgets: expected a mapping of budget names to overrides, e.g. {quick: {training.steps: 2000}, full: {}}");
        var sec = root.Doc.Section("budgets", m);
        foreach (var k in m.Children.Keys)
        {
            var name = ((YamlScalarNode)k).Value!;
            if (name is "name" or "config" or "set" or "budgets") throw root.Doc.Error(k, $"budgets: '{name}' cannot name a budget");
            result[name] = ReadOverrides(sec, name);
        }
        return result;
    }

    sealed record Case(string Name, string? Config, IReadOnlyList<string> Overrides, IReadOnlyDictionary<string, string> Meta);

    sealed record Axis(string Key, IReadOnlyList<string> Values);

    static List<Case> ReadCases(Section root, Func<YamlNode, string> resolve, HashSet<string> budgets, string? budget)
    {
        var doc = root.Doc;
        var raw = root.Raw("cases");
        if (raw is null) return [];
        if (raw is not YamlSequenceNode seq || seq.Children.Count == 0) throw doc.Error(raw, "cases: expected a list of {name: …, set: {…}}");
        var cases = new List<Case>();
        foreach (var item in seq.Children)
        {
            if (item is not YamlMappingNode m) throw doc.Error(item, "cases: each case is a mapping {name: …, set: {…}}");
            var s = doc.Section("cases", m);
            var name = s.String("name") ?? throw doc.Error(item, "cases: every case needs a name");
            if (cases.Any(c => c.Name == name)) throw doc.Error(s.Raw("name"), $"cases: the name '{name}' is used twice");
            var config = s.Raw("config") is { } cn ? resolve(cn) : null;
            if (s.Raw("budgets") is { } only) // the budgets this case runs in (default: all)
            {
                if (only is not YamlSequenceNode list || list.Children.Any(c => c is not YamlScalarNode sc || !budgets.Contains(sc.Value ?? "")))
                    throw doc.Error(only, $"cases: budgets: expected a list of this file's budgets ({string.Join(", ", budgets)})");
                if (!list.Children.Any(c => ((YamlScalarNode)c).Value == budget)) continue; // not in this budget
            }
            var overrides = ReadOverrides(s, "set");
            foreach (var b in budgets)
            {
                var own = ReadOverrides(s, b);
                if (b == budget) overrides.AddRange(own);
            }
            var meta = MarkMeta(s, m, budgets);
            s.Done();
            cases.Add(new Case(name, config, overrides, meta));
        }
        return cases;
    }

    /// <summary>A case's keys other than its name, config, overrides and budgets: metadata for the report (paper: 1.4e-3, note: …).</summary>
    static Dictionary<string, string> MarkMeta(Section s, YamlMappingNode m, HashSet<string> budgets)
    {
        var meta = new Dictionary<string, string>();
        foreach (var (k, v) in m.Children)
        {
            var key = ((YamlScalarNode)k).Value!;
            if (key is "name" or "config" or "set" or "budgets" || budgets.Contains(key)) continue;
            meta[key] = v is YamlScalarNode sc ? sc.Value ?? "" : Flow(v);
            s.Raw(key);
        }
        return meta;
    }

    /// <summary><c>set: {training.steps: 300, model.layers: [32, 32]}</c> as <c>key=value</c> overrides (values in flow YAML).</summary>
    static List<string> ReadOverrides(Section s, string key)
    {
        var raw = s.Raw(key);
        if (raw is null) return [];
        if (raw is not YamlMappingNode m) throw s.Doc.Error(raw, $"{key}: expected a mapping of config keys to values, e.g. {{training.steps: 300}}");
        return m.Children.Select(kv => $"{ConfigKey(s.Doc, kv.Key)}={Flow(kv.Value)}").ToList();
    }

    static List<Axis> ReadAxes(Section s, string key)
    {
        var raw = s.Raw(key);
        if (raw is null) return [];
        if (raw is not YamlMappingNode m) throw s.Doc.Error(raw, $"{key}: expected a mapping of config keys to lists of values");
        var axes = new List<Axis>();
        foreach (var (k, v) in m.Children)
        {
            var name = ConfigKey(s.Doc, k);
            if (v is not YamlSequenceNode seq || seq.Children.Count == 0)
                throw s.Doc.Error(v, $"{key}.{name}: expected a list of values, e.g. [1e-3, 3e-3]");
            axes.Add(new Axis(name, seq.Children.Select(Flow).ToArray()));
        }
        return axes;
    }

    static string ConfigKey(YamlDoc doc, YamlNode k)
    {
        var key = (k as YamlScalarNode)?.Value ?? "";
        if (key.Length == 0 || key.Split('.').Any(p => p.Length == 0) || key.Contains('='))
            throw doc.Error(k, $"'{key}' is not a config key (dotted, like training.lr)");
        if (key is "training.seed") throw doc.Error(k, "training.seed: use 'seeds:' to sweep over seeds");
        return key;
    }

    static List<int> ReadSeeds(Section s)
    {
        var raw = s.Raw("seeds");
        if (raw is null) return [0];
        if (raw is YamlScalarNode)
        {
            int n = s.Int("seeds", 1);
            if (n < 1) throw s.Doc.Error(raw, "seeds: expected a positive count or a list of seeds");
            return Enumerable.Range(0, n).ToList();
        }
        if (raw is not YamlSequenceNode seq || seq.Children.Count == 0) throw s.Doc.Error(raw, "seeds: expected a count (3) or a list ([0, 4, 7])");
        var list = seq.Children.Select(c =>
        {
            var v = s.ToDouble(c, "seeds");
            if (v != Math.Floor(v) || v < 0 || v > int.MaxValue) throw s.Doc.Error(c, "seeds: expected whole, non-negative numbers");
            return (int)v;
        }).ToList();
        if (list.Distinct().Count() != list.Count) throw s.Doc.Error(raw, "seeds: a seed is listed twice");
        return list;
    }

    static SlurmResources ReadSlurm(Section? s)
    {
        if (s is null) return new SlurmResources();
        var r = new SlurmResources(s.String("partition"), s.String("time"), s.Has("cpus") ? s.Int("cpus", 1) : 1,
                                   s.Has("gpus") ? s.Int("gpus", 0) : 0, s.String("mem"), s.String("account"),
                                   s.Raw("extra") is YamlSequenceNode ex ? ex.Children.Select(c => s.Scalar(c, "slurm.extra")).ToArray() : null);
        if (r.Cpus < 1) throw s.Doc.Error(s.Raw("cpus"), "slurm.cpus: expected at least 1");
        if (r.Gpus < 0) throw s.Doc.Error(s.Raw("gpus"), "slurm.gpus: expected 0 or more");
        s.Done();
        return r;
    }

    static IEnumerable<List<(string Key, string Value)>> Product(List<Axis> axes)
    {
        IEnumerable<List<(string, string)>> acc = [[]];
        foreach (var a in axes)
        {
            var prev = acc;
            acc = prev.SelectMany(p => a.Values.Select(v => new List<(string, string)>(p) { (a.Key, v) }));
        }
        return acc;
    }

    /// <summary>A node as one line of flow YAML (<c>[64, 64]</c>, <c>{a: 1}</c>, <c>1e-3</c>), what <c>--set</c> parses back.</summary>
    public static string Flow(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "null",
        YamlSequenceNode q => "[" + string.Join(", ", q.Children.Select(Flow)) + "]",
        YamlMappingNode m => "{" + string.Join(", ", m.Children.Select(kv => $"{Flow(kv.Key)}: {Flow(kv.Value)}")) + "}",
        _ => node.ToString(),
    };

    /// <summary><c>003-lr=1e-3-seed1</c>: the index keeps names unique and in order; the coordinates make them readable.</summary>
    static string RunName(int index, List<SweepCoordinate> coords)
    {
        var parts = coords.Select(c => c.Axis == "seed" ? $"seed{c.Value}"
                                     : c.Axis is "case" or "config" ? Slug(c.Value)
                                     : $"{c.Axis[(c.Axis.LastIndexOf('.') + 1)..]}={Slug(c.Value)}");
        var name = string.Join("-", parts.Prepend(index.ToString("000", CultureInfo.InvariantCulture)));
        return name.Length <= 120 ? name : name[..120];
    }

    static string Slug(string v) => new(v.Where(ch => !char.IsWhiteSpace(ch) && ch is not ('[' or ']' or '{' or '}' or '"' or '\''))
                                         .Select(ch => char.IsLetterOrDigit(ch) || ch is '.' or '-' or '+' or '_' ? ch : '_').ToArray());
}
