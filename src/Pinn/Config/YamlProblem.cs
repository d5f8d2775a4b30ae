using Pinn.Geometry;
using Pinn.Problems;
using Pinn.References;
using Pinn.Symbolic;
using YamlDotNet.RepresentationModel;

namespace Pinn.Config;

/// <summary>
/// A problem defined in a config file, equations as strings parsed into the same trees a C# problem
/// class builds:
/// <code>
/// problem:
///   name: heat
///   coordinates: {x: [0, 1]}          # spatial coordinates and ranges
///   time: {t: [0, 1]}                 # optional
///   fields: [u]
///   parameters: {alpha: 0.1}          # numbers or constant expressions (0.01/pi)
///   equations: ["u_t = alpha*u_xx"]   # a list, or {name: equation}
///   conditions:
///     - {type: initial, equation: "u = sin(pi*x)"}
///     - {type: dirichlet, on: boundary, equation: "u = 0"}     # on: boundary | x_min | x_max | …
///     - {type: neumann, on: x_max, field: u, value: "0"}       # outward normal derivative
///     - {type: periodic, axis: x, match: [u, u_x]}             # match defaults to every field
///   exact: {u: "exp(-alpha*pi^2*t)*sin(pi*x)"}
///   reference: {file: ref.npz, arrays: {u: usol}}             # .npz/.npy/.csv/.mat, or {solver: burgers}; default: exact
/// </code>
/// Every error names the file, the line and, for equations, the column and the unknown symbol.
/// </summary>
public sealed class YamlProblem : Problem
{
    readonly string _name;
    readonly string _description;

    YamlProblem(string name, string description)
    {
        _name = name;
        _description = description;
    }

    public override string Name => _name;
    public override string Description => _description;

    public static Problem Read(Section s)
    {
        var doc = s.Doc;
        var p = new YamlProblem(s.String("name", "custom"), s.String("description", "defined in " + doc.File));
        foreach (var (name, lo, hi, node) in Ranges(s.SubSection("coordinates") ?? throw doc.Error(s.Node, "problem.coordinates: missing (e.g. {x: [0, 1]})")))
            Guard(doc, node, () => p.Space(name, lo, hi));
        if (s.SubSection("time") is { } time)
        {
            var ranges = Ranges(time).ToList();
            if (ranges.Count != 1) throw doc.Error(time.Node, "problem.time: give exactly one time coordinate, e.g. {t: [0, 1]}");
            Guard(doc, ranges[0].node, () => p.Time(ranges[0].lo, ranges[0].hi, ranges[0].name));
        }
        var fieldsNode = s.Raw("fields") as YamlSequenceNode
                         ?? throw doc.Error(s.Raw("fields") ?? s.Node, "problem.fields: expected a list of field names, e.g. [u]");
        foreach (var f in fieldsNode.Children) p.Field(s.Scalar(f, "problem.fields"));
        if (s.SubSection("parameters") is { } ps)
            foreach (var (k, v) in ps.Node.Children)
            {
                var key = s.Scalar(k, "problem.parameters");
                var spec = ReadParameter(ps, key, v, null);
                Guard(doc, k, () => p.Parameter(spec));
            }
        Guard(doc, s.Node, () => _ = p.Domain);
        var symbols = Guard(doc, s.Node, () => p.Symbols);

        Equation ParseEq(YamlNode node, string where)
        {
            var text = s.Scalar(node, where);
            try { return ExprParser.ParseEquation(text, symbols); }
            catch (ExprParseException e) { throw doc.Error(node, e.Describe(where)); }
        }
        Expr ParseExpr(YamlNode node, string where)
        {
            var text = s.Scalar(node, where);
            if (text.Contains('=')) throw doc.Error(node, $"{where}: expected an expression, not an equation");
            try { return ExprParser.ParseExpr(text, symbols); }
            catch (ExprParseException e) { throw doc.Error(node, e.Describe(where)); }
        }

        switch (s.Raw("equations"))
        {
            case YamlSequenceNode seq:
                for (int i = 0; i < seq.Children.Count; i++) p.Equation(ParseEq(seq.Children[i], $"equation {i + 1}"));
                break;
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children) p.Equation(ParseEq(v, $"equation '{s.Scalar(k, "equations")}'"), s.Scalar(k, "equations"));
                break;
            case var other:
                throw doc.Error(other ?? s.Node, "problem.equations: expected a list of equation strings");
        }

        if (s.Raw("conditions") is { } conds)
        {
            if (conds is not YamlSequenceNode list) throw doc.Error(conds, "problem.conditions: expected a list");
            for (int i = 0; i < list.Children.Count; i++)
            {
                if (list.Children[i] is not YamlMappingNode cm) throw doc.Error(list.Children[i], $"condition {i + 1}: expected a mapping like {{type: dirichlet, on: boundary, equation: \"u = 0\"}}");
                ReadCondition(p, doc.Section($"problem.conditions[{i + 1}]", cm), ParseEq, ParseExpr, i + 1);
            }
        }

        if (s.SubSection("exact") is { } exact)
            foreach (var (k, v) in exact.Node.Children)
            {
                var field = s.Scalar(k, "problem.exact");
                if (!p.Fields.Contains(field)) throw doc.Error(k, $"problem.exact: '{field}' is not a field ({string.Join(", ", p.Fields)})");
                p.Exact(Sym.Field(field), ParseExpr(v, $"exact solution of '{field}'"));
            }

        if (s.SubSection("reference") is { } rs) p.Reference = ReadReference(rs);
        s.Done();
        return p;
    }

    static void ReadCondition(YamlProblem p, Section c, Func<YamlNode, string, Equation> parseEq,
                              Func<YamlNode, string, Expr> parseExpr, int index)
    {
        var doc = c.Doc;
        var type = c.String("type") ?? throw doc.Error(c.Node, $"condition {index}: missing 'type' (initial, dirichlet, neumann, periodic or custom)");
        var name = c.String("name");
        string where = $"condition {index}";
        Region RegionOf(string fallback) => Guard(doc, c.Raw("on") ?? c.Node, () => Geometry.Region.Parse(c.String("on", fallback), p.Domain));
        YamlNode Need(string key) => c.Raw(key) ?? throw doc.Error(c.Node, $"{where} ({type}): missing '{key}'");
        Guard(doc, c.Node, () =>
        {
            switch (type)
            {
                case "initial":
                    p.Initial(parseEq(Need("equation"), where), name);
                    break;
                case "dirichlet":
                    p.Dirichlet(RegionOf("boundary"), parseEq(Need("equation"), where), name);
                    break;
                case "neumann":
                    var fieldText = c.Scalar(Need("field"), $"{where}.field");
                    if (!p.Fields.Contains(fieldText)) throw doc.Error(c.Raw("field"), $"{where}: '{fieldText}' is not a field ({string.Join(", ", p.Fields)})");
                    p.Neumann(RegionOf("boundary"), Sym.Field(fieldText), parseExpr(Need("value"), where), name);
                    break;
                case "periodic":
                    var axis = c.Scalar(Need("axis"), $"{where}.axis");
                    p.Domain.IndexOf(axis);
                    var match = c.Raw("match") is YamlSequenceNode ms ? ms.Children.Select(m => parseExpr(m, where)).ToArray() : [];
                    p.Periodic(axis, match);
                    break;
                case "custom":
                    p.Condition(name ?? $"condition{index}", RegionOf("boundary"), parseEq(Need("equation"), where));
                    break;
                default:
                    throw doc.Error(c.Raw("type"), $"{where}: unknown type '{type}' (use initial, dirichlet, neumann, periodic or custom)");
            }
        });
        c.Done();
    }

    static IReference ReadReference(Section r)
    {
        var doc = r.Doc;
        IReference result;
        if (r.String("file") is { } file)
        {
            var baseDir = Path.GetDirectoryName(Path.GetFullPath(doc.File)) ?? ".";
            var path = Path.IsPathRooted(file) ? file : Path.Combine(baseDir, file);
            if (!File.Exists(path)) throw doc.Error(r.Raw("file"), $"reference file not found: {file} (looked in {baseDir})");
            var arrays = new Dictionary<string, string>();
            if (r.SubSection("arrays") is { } a)
                foreach (var (k, v) in a.Node.Children) arrays[a.Scalar(k, "reference.arrays")] = a.Scalar(v, "reference.arrays");
            result = new DataFileReference(path, arrays);
        }
        else if (r.String("solver") is { } solver)
        {
            result = solver switch
            {
                "burgers" => new BurgersReference(),
                _ => throw doc.Error(r.Raw("solver"), $"problem.reference.solver: unknown solver '{solver}' (available: burgers)"),
            };
        }
        else throw doc.Error(r.Node, "problem.reference: give 'file:' or 'solver:' (or omit it to use 'exact:')");
        r.Done();
        return result;
    }

    static IEnumerable<(string name, double lo, double hi, YamlNode node)> Ranges(Section s)
    {
        foreach (var (k, v) in s.Node.Children)
        {
            var name = s.Scalar(k, s.Path);
            if (v is not YamlSequenceNode seq || seq.Children.Count != 2)
                throw s.Doc.Error(v, $"{s.Path}.{name}: expected a range [min, max]");
            double lo = s.ToDouble(seq.Children[0], $"{s.Path}.{name}"), hi = s.ToDouble(seq.Children[1], $"{s.Path}.{name}");
            if (!double.IsFinite(lo) || !double.IsFinite(hi))
                throw s.Doc.Error(v, $"{s.Path}.{name}: the range [{lo}, {hi}] of coordinate '{name}' is not finite");
            if (!(hi > lo))
                throw s.Doc.Error(v, $"{s.Path}.{name}: the range [{lo}, {hi}] of coordinate '{name}' is {(hi == lo ? "empty" : "reversed")} (give [min, max] with min < max)");
            yield return (name, lo, hi, v);
        }
    }

    /// <summary>Runs a builder step; a problem-level error without a location gets this node's.</summary>
    static T Guard<T>(YamlDoc doc, YamlNode node, Func<T> f)
    {
        try { return f(); }
        catch (PinnException e) when (e.File is null) { throw doc.Error(node, e.Message); }
    }

    static void Guard(YamlDoc doc, YamlNode node, Action f) => Guard(doc, node, () => { f(); return 0; });

    /// <summary>
    /// One entry of <c>parameters:</c> — a number (<c>nu: 0.01/pi</c>) or a mapping
    /// <c>{value: 0.05, trainable: true, bounds: [0, 1], truth: 0.00318}</c> (a bound may be <c>null</c>: one-sided).
    /// <paramref name="declared"/>: the built-in problem's parameter being overridden (its settings are the defaults).
    /// </summary>
    public static ProblemParameter ReadParameter(Section parameters, string name, YamlNode node, ProblemParameter? declared)
    {
        string where = $"{parameters.Path}.{name}";
        if (node is not YamlMappingNode)
            return (declared ?? new ProblemParameter(name, 0)) with { Value = parameters.ToDouble(node, where) };
        var s = parameters.SubSection(name)!;
        var doc = parameters.Doc;
        var valueNode = s.Raw("value");
        if (valueNode is null && declared is null) throw doc.Error(node, $"{where}: give its starting value, e.g. {{value: 0.05, trainable: true}}");
        double value = valueNode is null ? declared!.Value : s.ToDouble(valueNode, $"{where}.value");
        bool trainable = s.Raw("trainable") is null ? declared?.Trainable ?? false : s.Bool("trainable", false);
        double? lower = declared?.Lower, upper = declared?.Upper, truth = declared?.Truth;
        if (s.Raw("bounds") is { } b)
        {
            if (b is not YamlSequenceNode { Children.Count: 2 } pair)
                throw doc.Error(b, $"{where}.bounds: expected [lower, upper] (null or inf for an open side), e.g. [0, 1] or [0, null]");
            double? Bound(YamlNode n)
            {
                if (n is YamlScalarNode { Value: null or "" or "null" or "~" or "inf" or "-inf" }) return null;
                double x = s.ToDouble(n, $"{where}.bounds");
                return double.IsInfinity(x) ? null : x;
            }
            (lower, upper) = (Bound(pair.Children[0]), Bound(pair.Children[1]));
        }
        if (s.Raw("truth") is { } t) truth = s.ToDouble(t, $"{where}.truth");
        s.Done();
        return new ProblemParameter(name, value, trainable, lower, upper, truth);
    }
}
