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

    public string File { get; }
    public YamlMappingNode Root { get; }

    public static YamlDoc Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new PinnException($"config file not found: {path}");
        return Parse(System.IO.File.ReadAllText(path), path);
    }

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

    public Section Section(string path, YamlMappingNode node) => new(this, path, node);
    public Section RootSection() => new(this, "", Root);

    public PinnException Error(YamlNode? node, string message) =>
        new(message, File, node is null ? null : (int)node.Start.Line);

    /// <summary>
    /// Applies a command-line override <c>training.steps=200</c>: the dotted path is created as needed
    /// and the value replaces whatever was there (parsed as YAML, so lists and mappings work too).
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
        var node = Root;
        for (int i = 0; i < keys.Length - 1; i++)
        {
            var k = new YamlScalarNode(keys[i]);
            if (!node.Children.TryGetValue(k, out var child) || child is not YamlMappingNode m)
            {
                if (child is YamlScalarNode sc && i == 0 && keys[0] == "problem")
                {
                    // problem: burgers  →  problem: {name: burgers, …} so problem.parameters.nu=… works
                    m = new YamlMappingNode { { "name", sc.Value ?? "" } };
                }
                else m = new YamlMappingNode();
                node.Children[k] = m;
            }
            node = m;
        }
        node.Children[new YamlScalarNode(keys[^1])] = value;
    }
}

/// <summary>A mapping in a config, read key by key; <see cref="Done"/> rejects any key not read.</summary>
public sealed class Section(YamlDoc doc, string path, YamlMappingNode node)
{
    readonly HashSet<string> _known = [];

    public YamlMappingNode Node => node;
    public string Path => path;
    public YamlDoc Doc => doc;

    string Key(string key) => path.Length == 0 ? key : $"{path}.{key}";

    public YamlNode? Raw(string key)
    {
        _known.Add(key);
        return node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;
    }

    public bool Has(string key) => Raw(key) is not null;

    public Section? SubSection(string key)
    {
        var raw = Raw(key);
        if (raw is null) return null;
        if (raw is not YamlMappingNode m) throw doc.Error(raw, $"{Key(key)}: expected a mapping (key: value lines)");
        return new Section(doc, Key(key), m);
    }

    public string? String(string key)
    {
        var raw = Raw(key);
        if (raw is null) return null;
        if (raw is not YamlScalarNode s) throw doc.Error(raw, $"{Key(key)}: expected a single value");
        return s.Value;
    }

    public string String(string key, string fallback) => String(key) ?? fallback;

    public double Double(string key, double fallback) => Raw(key) is { } raw ? ToDouble(raw, Key(key)) : fallback;

    public int Int(string key, int fallback)
    {
        var raw = Raw(key);
        if (raw is null) return fallback;
        var v = ToDouble(raw, Key(key));
        if (v != Math.Floor(v) || Math.Abs(v) > int.MaxValue)
            throw doc.Error(raw, $"{Key(key)}: expected a whole number, got '{((YamlScalarNode)raw).Value}'");
        return (int)v;
    }

    public bool Bool(string key, bool fallback)
    {
        var raw = Raw(key);
        if (raw is null) return fallback;
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

    /// <summary>Rejects keys this section did not ask for.</summary>
    public void Done()
    {
        foreach (var (k, v) in node.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "?";
            if (_known.Contains(key)) continue;
            var hint = Symbolic.ExprParser.Suggest(key, _known);
            throw doc.Error(k, $"unknown key '{Key(key)}'" + (hint is null ? "" : $" (did you mean '{Key(hint)}'?)")
                               + $"; known keys here: {string.Join(", ", _known.Order())}");
        }
    }
}
