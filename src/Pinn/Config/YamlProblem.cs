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
///     - {type: integral, name: norm, equation: "integral(psi^2, x) = 1"}   # or "mean(u) = 0"; nodes: 64 (Gauss–Legendre)
///     - {type: data, file: obs.npz, arrays: {u: usol}, fields: [u], points: 2000, noise: 0.01, seed: 1}  # no file: from the reference
///   exact: {u: "exp(-alpha*pi^2*t)*sin(pi*x)"}
///   eigen: {parameter: E, states: 3}  # an eigenproblem: the first 3 states in sequence (EigenSequence)
///   reference: {file: ref.npz, arrays: {u: usol}}             # .npz/.npy/.csv/.mat, {solver: burgers} or {solver: schrodinger, potential: "V"}; default: exact
///   up_to_sign: true                  # fields known up to a common sign (eigenfunctions): errors against ±reference
/// </code>
/// The expression language (<see cref="ExprParser"/>): + - * / ^ (**), sin cos tan exp log tanh sinh cosh sqrt abs sign,
/// pi, e, parameters, u_x / d(u, x, x) / lap(u), and for piecewise data the comparisons &lt; &lt;= &gt; &gt;= (1 or 0),
/// heaviside(x) (½ at 0), min(a, b), max(a, b), piecewise(cond, a, b) — e.g. a finite square well
/// <c>piecewise(abs(x - 0.5) &lt; 0.25, 0, V0)</c> (problems/poisson1d/square_well.yaml).
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
            if (ExprParser.EquationSigns(text).Count > 0) throw doc.Error(node, $"{where}: expected an expression, not an equation");
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

        var deferred = new List<Action>(); // data conditions drawn from the reference, read once it is
        if (s.Raw("conditions") is { } conds)
        {
            if (conds is not YamlSequenceNode list) throw doc.Error(conds, "problem.conditions: expected a list");
            for (int i = 0; i < list.Children.Count; i++)
            {
                if (list.Children[i] is not YamlMappingNode cm) throw doc.Error(list.Children[i], $"condition {i + 1}: expected a mapping like {{type: dirichlet, on: boundary, equation: \"u = 0\"}}");
                ReadCondition(p, doc.Section($"problem.conditions[{i + 1}]", cm), ParseEq, ParseExpr, i + 1, symbols, deferred);
            }
        }

        if (s.SubSection("exact") is { } exact)
            foreach (var (k, v) in exact.Node.Children)
            {
                var field = s.Scalar(k, "problem.exact");
                if (!p.Fields.Contains(field)) throw doc.Error(k, $"problem.exact: '{field}' is not a field ({string.Join(", ", p.Fields)})");
                p.Exact(Sym.Field(field), ParseExpr(v, $"exact solution of '{field}'"));
            }

        p.UpToSign = s.Bool("up_to_sign", false);
        if (s.SubSection("eigen") is { } es) p.Eigen = ReadEigen(p, es);
        if (s.SubSection("reference") is { } rs && rs.String("solver") == "schrodinger")
        {
            var field = p.Eigen?.Field ?? p.Fields[0];
            var potential = ParseExpr(rs.Raw("potential") ?? throw doc.Error(rs.Node, "problem.reference: the schrodinger solver needs 'potential:' (an expression of the coordinate; \"0\" for a box)"),
                                      "problem.reference.potential");
            var states = Guard(doc, rs.Node, () => SchrodingerEigenReference.For(p, potential, field));
            p.EigenReferences = states;
            p.Reference = states.State(0);
            rs.Done();
        }
        else if (s.SubSection("reference") is { } other) p.Reference = ReadReference(other);
        foreach (var d in deferred) d();
        s.Done();
        return p;
    }

    static void ReadCondition(YamlProblem p, Section c, Func<YamlNode, string, Equation> parseEq,
                              Func<YamlNode, string, Expr> parseExpr, int index, SymbolTable symbols, List<Action> deferred)
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
                case "integral":
                    var eqNode = Need("equation");
                    IntegralEquation ie;
                    try { ie = IntegralSyntax.Parse(c.Scalar(eqNode, where), symbols); }
                    catch (ExprParseException e) { throw doc.Error(eqNode, e.Describe(where)); }
                    var nn = c.Raw("nodes");
                    int nodes = nn is null ? 0 : c.Int("nodes", 0); // absent: the default (64 in 1-D, 32 in more), left unwritten
                    if (nn is not null && (nodes < 2 || nodes > 4096)) throw doc.Error(nn, $"{where}.nodes: {nodes} quadrature nodes per axis (give 2 … 4096)");
                    p.AddCondition(new IntegralCondition(name ?? $"integral{index}", ie.Integrand, ie.Axes, ie.Value, ie.Mean, nodes));
                    break;
                case "data":
                    ReadData(p, c, name ?? $"data{index}", where, deferred);
                    break;
                default:
                    throw doc.Error(c.Raw("type"), $"{where}: unknown type '{type}' (use initial, dirichlet, neumann, periodic, custom, integral or data)");
            }
        });
        c.Done();
    }

    /// <summary>
    /// <c>{type: data, file: obs.npz, arrays: {u: usol}, fields: [u], points: 2000, noise: 0.01, seed: 1}</c>: observations from a
    /// data file (the layouts of <see cref="DataFileReference"/>), or without <c>file:</c> from the problem's reference (an exact
    /// solution or solver: <c>points</c> uniform random points; a data file: its points).
    /// </summary>
    static void ReadData(YamlProblem p, Section c, string name, string where, List<Action> deferred)
    {
        var doc = c.Doc;
        var fields = c.Raw("fields") is { } fn
            ? fn is YamlSequenceNode fs ? fs.Children.Select(f => c.Scalar(f, $"{where}.fields")).ToList()
                                        : throw doc.Error(fn, $"{where}.fields: expected a list of field names, e.g. [u]")
            : p.Fields.ToList();
        foreach (var f in fields)
            if (!p.Fields.Contains(f)) throw doc.Error(c.Raw("fields"), $"{where}.fields: '{f}' is not a field ({string.Join(", ", p.Fields)})");
        int? points = c.Raw("points") is null ? null : c.Int("points", 0);
        if (points is < 1) throw doc.Error(c.Raw("points"), $"{where}.points: give a positive number of observation points");
        double noise = c.Double("noise", 0);
        if (!(noise >= 0)) throw doc.Error(c.Raw("noise"), $"{where}.noise: must be ≥ 0 (a fraction of each field's standard deviation)");
        int seed = c.Int("seed", 1);
        var fileNode = c.Raw("file");
        string? file = c.String("file");
        var arrays = new Dictionary<string, string>();
        if (c.SubSection("arrays") is { } a)
            foreach (var (k, v) in a.Node.Children) arrays[a.Scalar(k, $"{where}.arrays")] = a.Scalar(v, $"{where}.arrays");
        var node = c.Node;
        void Add(ReferenceSolution available, string source, bool subsample = true) => Guard(doc, fileNode ?? node, () =>
        {
            var (xs, vs, account) = References.Observations.Draw(available, fields, subsample ? points : null, noise, seed, source);
            p.Observations(name, xs, fields, vs, account);
        });
        if (file is not null)
        {
            var baseDir = doc.DirectoryOf(fileNode);
            var path = Path.IsPathRooted(file) ? file : Path.Combine(baseDir, file);
            if (!File.Exists(path)) throw doc.Error(fileNode, $"{where}.file: data file not found: {file} (looked in {baseDir})");
            c.Fill("file", new YamlScalarNode(Path.GetFullPath(path))); // run.yaml lives elsewhere: it records the absolute path
            var coords = p.Domain.CoordinateNames;
            Add(Guard(doc, fileNode!, () => new DataFileReference(path, arrays).Read(coords, fields)), Path.GetFileName(path));
            return;
        }
        if (arrays.Count > 0) throw doc.Error(c.Raw("arrays"), $"{where}.arrays: only with 'file:'");
        deferred.Add(() =>
        {
            switch (p.Reference)
            {
                case null:
                    throw doc.Error(node, $"{where}: give 'file:' with the observations, or an exact solution / reference to draw them from");
                case PointwiseReference pr:
                    if (points is null) throw doc.Error(node, $"{where}: give 'points:' (how many observations to draw from {pr.Description})");
                    Add(Guard(doc, node, () => References.Observations.Sampled(pr, p, points.Value, seed)), pr.Description, subsample: false);
                    break;
                case var r:
                    Add(Guard(doc, node, () => r.Solve(p, [])), r.Description);
                    break;
            }
        });
    }

    /// <summary><c>eigen: {parameter: E, field: psi, states: 3, initial: [9, 40], orthogonality_weight: 1}</c>.</summary>
    static EigenSpec ReadEigen(YamlProblem p, Section e)
    {
        var doc = e.Doc;
        var parameter = e.String("parameter") ?? (p.ParameterNames.Count == 1 ? p.ParameterNames[0]
                        : throw doc.Error(e.Node, "problem.eigen: name the eigenvalue parameter, e.g. {parameter: E, states: 3}"));
        if (!p.ParameterNames.Contains(parameter)) throw doc.Error(e.Raw("parameter") ?? e.Node, $"problem.eigen.parameter: '{parameter}' is not a parameter ({string.Join(", ", p.ParameterNames)})");
        var field = e.String("field") ?? p.Fields[0];
        if (!p.Fields.Contains(field)) throw doc.Error(e.Raw("field") ?? e.Node, $"problem.eigen.field: '{field}' is not a field ({string.Join(", ", p.Fields)})");
        int states = e.Int("states", 1);
        if (states < 1) throw doc.Error(e.Raw("states"), "problem.eigen.states: at least 1");
        var initial = new List<double>();
        if (e.Raw("initial") is { } i)
        {
            if (i is not YamlSequenceNode list) throw doc.Error(i, "problem.eigen.initial: expected a list of starting eigenvalues, e.g. [9, 40, 90]");
            initial.AddRange(list.Children.Select(n => e.ToDouble(n, "problem.eigen.initial")));
        }
        double w = e.Double("orthogonality_weight", 1);
        if (!(w > 0)) throw doc.Error(e.Raw("orthogonality_weight"), "problem.eigen.orthogonality_weight: must be positive");
        e.Done();
        return new EigenSpec(parameter, field, states, initial, w);
    }

    static IReference ReadReference(Section r)
    {
        var doc = r.Doc;
        IReference result;
        if (r.String("file") is { } file)
        {
            var baseDir = doc.DirectoryOf(r.Raw("file"));
            var path = Path.IsPathRooted(file) ? file : Path.Combine(baseDir, file);
            if (!File.Exists(path)) throw doc.Error(r.Raw("file"), $"reference file not found: {file} (looked in {baseDir})");
            r.Fill("file", new YamlScalarNode(Path.GetFullPath(path))); // run.yaml lives elsewhere: it records the absolute path
            var arrays = new Dictionary<string, string>();
            if (r.SubSection("arrays") is { } a)
                foreach (var (k, v) in a.Node.Children) arrays[a.Scalar(k, "reference.arrays")] = a.Scalar(v, "reference.arrays");
            result = new DataFileReference(Path.GetFullPath(path), arrays);
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
