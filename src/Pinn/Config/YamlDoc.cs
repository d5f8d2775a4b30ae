using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Pinn.Config;

/// <summary>
/// A YAML document read for configuration, with every error pointing at its file and line.
/// Values are read through <see cref="Section"/>, which also rejects keys it does not know
/// (with a "did you mean" hint), so a typo never silently falls back to a default.
/// </summary>
public sealed class YamlDoc
{
    YamlDoc(string file, YamlMappingNode root)
    {
        File = file;
        Root = root;
    }

    /// <summary>Nodes that came from a base config through <c>extends:</c>, with the file they were read from.</summary>
    readonly Dictionary<YamlNode, string> _origin = new(ReferenceEqualityComparer.Instance);

    public string File { get; }
    public YamlMappingNode Root { get; }

    /// <summary>
    /// Loads a config file. A top-level <c>extends: base.yaml</c> (relative to this file; bases may extend
    /// further) starts from that config: mappings merge key by key, this file's values win, lists and scalars
    /// are replaced whole. Errors and relative paths in values that came from a base point at the base file.
    /// </summary>
    public static YamlDoc Load(string path) => Load(path, []);

    static YamlDoc Load(string path, List<string> chain)
    {
        if (!System.IO.File.Exists(path))
            throw chain.Count == 0 ? new PinnException($"config file not found: {path}")
                                   : new PinnException($"extends: config file not found: {path}", chain[^1]);
        var doc = Parse(System.IO.File.ReadAllText(path), path);
        var key = new YamlScalarNode("extends");
        if (!doc.Root.Children.TryGetValue(key, out var ext)) return doc;
        if (ext is not YamlScalarNode { Value: { Length: > 0 } baseName })
            throw doc.Error(ext, "extends: expected the path of a base config (relative to this file)");
        var full = System.IO.Path.GetFullPath(path);
        chain.Add(full);
        var basePath = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full) ?? ".", baseName));
        if (chain.Contains(basePath))
            throw doc.Error(ext, $"extends: {baseName} is already in the chain ({string.Join(" → ", chain.Append(basePath).Select(System.IO.Path.GetFileName))})");
        YamlDoc parent;
        try { parent = Load(basePath, chain); }
        catch (PinnException e) when (e.File == path) { throw doc.Error(ext, e.Message); }
        doc.Root.Children.Remove(key);
        foreach (var (n, f) in parent._origin) doc._origin[n] = f;
        foreach (var n in parent.Root.AllNodes) doc._origin.TryAdd(n, parent.File);
        Merge(parent.Root, doc.Root);
        return new YamlDoc(path, parent.Root, doc._origin);
    }

    YamlDoc(string file, YamlMappingNode root, Dictionary<YamlNode, string> origin) : this(file, root) => _origin = origin;

    /// <summary>Writes <paramref name="over"/> into <paramref name="into"/>: mappings recursively, anything else replaced.</summary>
    static void Merge(YamlMappingNode into, YamlMappingNode over)
    {
        foreach (var (k, v) in over.Children)
        {
            if (into.Children.TryGetValue(k, out var old) && old is YamlMappingNode om && v is YamlMappingNode vm) Merge(om, vm);
            else into.Children[k] = v;
        }
    }

    /// <summary>The file a node was read from: this config, or the base config it came from through <c>extends:</c>.</summary>
    public string FileOf(YamlNode? node) => node is not null && _origin.TryGetValue(node, out var f) ? f : File;

    /// <summary>The folder a relative path written at <paramref name="node"/> is relative to.</summary>
    public string DirectoryOf(YamlNode? node) => System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(FileOf(node))) ?? ".";

    public static YamlDoc Parse(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var msg = (e.InnerException?.Message ?? e.Message).Replace('\n', ' ');
            // YamlDotNet's messages start with "(Line: …, Col: …)": the location goes in front instead.
            int close = msg.IndexOf("): ", StringComparison.Ordinal);
            if (msg.StartsWith("(Line", StringComparison.Ordinal) && close > 0) msg = msg[(close + 3)..];
            throw new PinnException($"malformed YAML: {msg}", file, YamlSyntax.Line(text, e));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner throws these on some malformed input instead of a YamlException.
            throw YamlSyntax.Unlocated(text, file, e);
        }
        if (stream.Documents.Count == 0) return new YamlDoc(file, new YamlMappingNode());
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new PinnException("the config must be a mapping of sections (problem:, model:, training: …)",
                                    file, (int)stream.Documents[0].RootNode.Start.Line);
        return new YamlDoc(file, root);
    }

    /// <summary>
    /// Writes the document as it stands: after <see cref="RunConfigLoader.Read"/> that is the resolved
    /// config (overrides applied, every default filled in), which reads back to an equal config.
    /// </summary>
    public void Save(TextWriter w, string? comment = null)
    {
        if (comment is not null) w.WriteLine($"# {comment}");
        new YamlStream(new YamlDocument(Root)).Save(w, assignAnchors: false);
    }

    /// <summary>The document as YAML text (see <see cref="Save"/>).</summary>
    public string Text()
    {
        using var w = new StringWriter();
        Save(w);
        return w.ToString();
    }

    public Section Section(string path, YamlMappingNode node) => new(this, path, node);
    public Section RootSection() => new(this, "", Root);

    public PinnException Error(YamlNode? node, string message) =>
        new(message, FileOf(node), node is null ? null : (int)node.Start.Line);

    /// <summary>
    /// Applies a command-line override <c>training.steps=200</c>: the dotted path is created as needed
    /// and the value replaces whatever was there (parsed as YAML, so lists and mappings work too). A segment after a
    /// list is an index into it, negative from the end: <c>training.phases.-1={lm: {steps: 200}}</c> replaces the last phase.
    /// </summary>
    public void Set(string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new PinnException($"--set expects key=value, got '{assignment}'");
        var keys = assignment[..eq].Trim().Split('.');
        var valueText = assignment[(eq + 1)..];
        YamlNode value;
        try
        {
            var s = new YamlStream();
            s.Load(new StringReader("v: " + valueText));
            value = ((YamlMappingNode)s.Documents[0].RootNode).Children[new YamlScalarNode("v")];
        }
        catch (YamlException)
        {
            value = new YamlScalarNode(valueText);
        }
        YamlNode node = Root;
        for (int i = 0; i < keys.Length; i++)
        {
            bool last = i == keys.Length - 1;
            if (node is YamlSequenceNode list)
            {
                // a list element by index: training.phases.1.adam.steps=500, or from the end: training.phases.-1={lm: {steps: 200}}
                int at = ListIndex(list, keys, i, assignment);
                if (last) list.Children[at] = value;
                else node = list.Children[at];
                continue;
            }
            if (node is not YamlMappingNode map)
                throw new PinnException($"--set {assignment}: {string.Join('.', keys[..i])} is a single value, not a mapping; set it whole");
            var k = new YamlScalarNode(keys[i]);
            if (last)
            {
                map.Children[k] = value;
                break;
            }
            if (!map.Children.TryGetValue(k, out var child) || child is not (YamlMappingNode or YamlSequenceNode))
            {
                if (child is YamlScalarNode sc && i == 0 && keys[0] == "problem")
                {
                    // problem: burgers  →  problem: {name: burgers, …} so problem.parameters.nu=… works
                    child = new YamlMappingNode { { "name", sc.Value ?? "" } };
                }
                else child = new YamlMappingNode();
                map.Children[k] = child;
            }
            node = child;
        }
    }

    static int ListIndex(YamlSequenceNode list, string[] keys, int i, string assignment)
    {
        var path = string.Join('.', keys[..i]);
        if (!int.TryParse(keys[i], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int at))
            throw new PinnException($"--set {assignment}: {path} is a list; expected an index after it (0 … {list.Children.Count - 1}, or −1 for the last), got '{keys[i]}'");
        int resolved = at < 0 ? list.Children.Count + at : at;
        if (resolved < 0 || resolved >= list.Children.Count)
            throw new PinnException($"--set {assignment}: {path} has {list.Children.Count} entries; index {at} is outside it");
        return resolved;
    }
}

/// <summary>
/// A mapping in a config, read key by key; <see cref="Done"/> rejects any key not read.
/// Reading an absent key with a fallback writes the fallback into the node: once a config has been
/// read, its document holds every value the run uses, so <c>run.yaml</c> is that document written
/// back — the reader is the only schema, and nothing can be written that the reader does not read.
/// </summary>
public sealed class Section(YamlDoc doc, string path, YamlMappingNode node)
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    readonly HashSet<string> _known = [];

    public YamlMappingNode Node => node;
    public string Path => path;
    public YamlDoc Doc => doc;
    /// <summary>The keys read so far (what this section understands).</summary>
    public IReadOnlyCollection<string> KnownKeys => _known;

    string Key(string key) => path.Length == 0 ? key : $"{path}.{key}";

    public YamlNode? Raw(string key)
    {
        _known.Add(key);
        return node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;
    }

    public bool Has(string key) => Raw(key) is not null;

    /// <summary>Writes a resolved value (a default, an absolute path) into the document.</summary>
    public void Fill(string key, YamlNode value)
    {
        _known.Add(key);
        node.Children[new YamlScalarNode(key)] = value;
    }

    public Section? SubSection(string key)
    {
        var raw = Raw(key);
        if (raw is null) return null;
        if (raw is not YamlMappingNode m) throw doc.Error(raw, $"{Key(key)}: expected a mapping (key: value lines)");
        return new Section(doc, Key(key), m);
    }

    /// <summary>A sub-section whose absence means "all defaults": created empty, so its defaults get written.</summary>
    public Section Ensure(string key)
    {
        if (SubSection(key) is { } s) return s;
        Fill(key, new YamlMappingNode());
        return SubSection(key)!;
    }

    public string? String(string key)
    {
        var raw = Raw(key);
        if (raw is null) return null;
        if (raw is not YamlScalarNode s) throw doc.Error(raw, $"{Key(key)}: expected a single value");
        return s.Value;
    }

    public string String(string key, string fallback)
    {
        if (String(key) is { } v) return v;
        Fill(key, new YamlScalarNode(fallback));
        return fallback;
    }

    public double Double(string key, double fallback)
    {
        if (Raw(key) is { } raw) return ToDouble(raw, Key(key));
        Fill(key, new YamlScalarNode(Format(fallback)));
        return fallback;
    }

    public int Int(string key, int fallback)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            Fill(key, new YamlScalarNode(fallback.ToString(Inv)));
            return fallback;
        }
        var v = ToDouble(raw, Key(key));
        if (v != Math.Floor(v) || Math.Abs(v) > int.MaxValue)
            throw doc.Error(raw, $"{Key(key)}: expected a whole number, got '{((YamlScalarNode)raw).Value}'");
        return (int)v;
    }

    public bool Bool(string key, bool fallback)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            Fill(key, new YamlScalarNode(fallback ? "true" : "false"));
            return fallback;
        }
        var s = Scalar(raw, Key(key));
        return s switch
        {
            "true" or "True" or "yes" or "on" => true,
            "false" or "False" or "no" or "off" => false,
            _ => throw doc.Error(raw, $"{Key(key)}: expected true or false, got '{s}'"),
        };
    }

    public IReadOnlyList<int>? IntList(string key)
    {
        var raw = Raw(key);
        if (raw is null) return null;
        if (raw is not YamlSequenceNode seq) throw doc.Error(raw, $"{Key(key)}: expected a list like [64, 64]");
        return seq.Children.Select(c =>
        {
            var v = ToDouble(c, Key(key));
            if (v != Math.Floor(v)) throw doc.Error(c, $"{Key(key)}: expected whole numbers");
            return (int)v;
        }).ToArray();
    }

    public IReadOnlyList<int> IntList(string key, IReadOnlyList<int> fallback)
    {
        if (IntList(key) is { } v) return v;
        Fill(key, FlowList(fallback.Select(i => i.ToString(Inv))));
        return fallback;
    }

    /// <summary>A list of numbers (<c>[0.9, 0.8]</c>; a single number is a list of one); the fallback is written in when absent.</summary>
    public IReadOnlyList<double> DoubleList(string key, IReadOnlyList<double> fallback)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            Fill(key, FlowList(fallback.Select(Format)));
            return fallback;
        }
        if (raw is YamlScalarNode) return [ToDouble(raw, Key(key))];
        if (raw is not YamlSequenceNode seq) throw doc.Error(raw, $"{Key(key)}: expected a list like [0.9, 0.8]");
        return seq.Children.Select(c => ToDouble(c, Key(key))).ToArray();
    }

    /// <summary>A mapping of names to whole numbers; names missing from it keep their defaults (written in too).</summary>
    public IReadOnlyDictionary<string, int> IntMap(string key, IReadOnlyDictionary<string, int> defaults)
    {
        var s = Ensure(key);
        var r = new Dictionary<string, int>(defaults);
        foreach (var k in s.Node.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList()) r[k] = s.Int(k, 0);
        foreach (var (k, v) in defaults) s.Int(k, v);
        return r;
    }

    /// <summary>A mapping of names to numbers; names missing from it keep their defaults (written in too).</summary>
    public IReadOnlyDictionary<string, double> DoubleMap(string key, IReadOnlyDictionary<string, double> defaults)
    {
        var s = Ensure(key);
        var r = new Dictionary<string, double>(defaults);
        foreach (var k in s.Node.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList()) r[k] = s.Double(k, 0);
        foreach (var (k, v) in defaults) s.Double(k, v);
        return r;
    }

    public string Scalar(YamlNode raw, string where) =>
        raw is YamlScalarNode s && s.Value is not null ? s.Value : throw doc.Error(raw, $"{where}: expected a single value");

    /// <summary>A number; constant expressions such as <c>0.01/pi</c> are accepted too.</summary>
    public double ToDouble(YamlNode raw, string where)
    {
        var s = Scalar(raw, where);
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        try
        {
            var e = Symbolic.ExprParser.ParseExpr(s, new Symbolic.SymbolTable([], []));
            if (e is Symbolic.Constant c) return c.Value;
            return Symbolic.ConstantFolding.Evaluate(e);
        }
        catch (PinnException)
        {
            throw doc.Error(raw, $"{where}: expected a number, got '{s}'");
        }
    }

    /// <summary>Round-trip number text ("R"), so a written default reads back as the same double.</summary>
    public static string Format(double v) => v.ToString("R", Inv);

    public static YamlSequenceNode FlowList(IEnumerable<string> items) =>
        new(items.Select(i => new YamlScalarNode(i))) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow };

    /// <summary>
    /// Rejects keys this section did not ask for. <paramref name="elsewhere"/> names the keys that other
    /// variants of this section understand (other model types), so a key in the wrong place is named as such.
    /// </summary>
    public void Done(IReadOnlyDictionary<string, IReadOnlyList<string>>? elsewhere = null, string? variant = null)
    {
        foreach (var (k, v) in node.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "?";
            if (_known.Contains(key)) continue;
            var owners = elsewhere?.Where(e => e.Value.Contains(key)).Select(e => e.Key).ToList();
            if (owners is { Count: > 0 })
                throw doc.Error(k, $"'{Key(key)}' does not apply to {variant ?? "this section"} (it is a key of {string.Join(", ", owners)}); " +
                                   $"known keys here: {string.Join(", ", _known.Order())}");
            var hint = Symbolic.ExprParser.Suggest(key, _known);
            throw doc.Error(k, $"unknown key '{Key(key)}'" + (hint is null ? "" : $" (did you mean '{Key(hint)}'?)")
                               + $"; known keys here: {string.Join(", ", _known.Order())}");
        }
    }
}
