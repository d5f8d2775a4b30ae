using Pinn.Geometry;
using Pinn.References;
using Pinn.Symbolic;

namespace Pinn.Problems;

/// <summary>A residual equation of the PDE system; <see cref="Name"/> names its loss term.</summary>
public sealed record ResidualEquation(string Name, Equation Equation);

/// <summary>
/// A named problem parameter. A trainable one is optimised with the model from <see cref="Value"/> (inverse problems,
/// eigenvalues), inside (<see cref="Lower"/>, <see cref="Upper"/>) when given (by reparametrisation, Training.ProblemParameters);
/// <see cref="Truth"/>, when known, is what its error is measured against and what references are computed with.
/// </summary>
public sealed record ProblemParameter(string Name, double Value, bool Trainable = false, double? Lower = null, double? Upper = null, double? Truth = null)
{
    /// <summary>The value a reference solution uses: the truth when known, else the declared value.</summary>
    public double ReferenceValue => Truth ?? Value;
}

/// <summary>
/// What is being solved: coordinates and their ranges, unknown fields, named parameters, residual
/// equations, initial/boundary conditions and a reference to measure against. A subclass declares
/// these in its constructor with the protected builders; a YAML file does the same through
/// <see cref="Config.YamlProblem"/>. A problem says nothing about how fields are represented.
/// </summary>
public abstract class Problem
{
    readonly List<Axis> _space = [];
    Axis? _time;
    readonly List<string> _fields = [];
    readonly Dictionary<string, double> _parameters = [];
    readonly List<string> _parameterOrder = [];
    readonly Dictionary<string, ProblemParameter> _specs = [];
    readonly List<ResidualEquation> _equations = [];
    readonly List<Condition> _conditions = [];
    readonly Dictionary<string, Expr> _exact = [];
    Box? _domain;

    public abstract string Name { get; }
    public virtual string Description => "";

    public Box Domain => _domain ??= BuildDomain();
    public IReadOnlyList<string> Fields => _fields;
    public IReadOnlyList<ResidualEquation> Equations => _equations;
    public IReadOnlyList<Condition> Conditions => _conditions;
    public IReadOnlyList<string> ParameterNames => _parameterOrder;
    /// <summary>The declared values (a trainable parameter's starting value).</summary>
    public IReadOnlyDictionary<string, double> ParameterValues => _parameters;
    /// <summary>Every parameter in declaration order, with whether it is trained, its bounds and its true value.</summary>
    public IReadOnlyList<ProblemParameter> Parameters => _parameterOrder.Select(n => _specs[n]).ToList();
    public IReadOnlyList<ProblemParameter> TrainableParameters => Parameters.Where(p => p.Trainable).ToList();
    /// <summary>The values references are computed with: a trainable parameter's truth when given (else its declared value).</summary>
    public IReadOnlyDictionary<string, double> ReferenceParameterValues => _parameterOrder.ToDictionary(n => n, n => _specs[n].ReferenceValue);
    /// <summary>The values of the parameters that are not trained: what may be baked into operators and constraints.</summary>
    public IReadOnlyDictionary<string, double> FixedParameterValues => _parameterOrder.Where(n => !_specs[n].Trainable).ToDictionary(n => n, n => _parameters[n]);

    /// <summary>
    /// The fields are determined up to one common sign (an eigenfunction ψ and −ψ both solve the problem): errors are measured
    /// against whichever of ±reference is closer. YAML: <c>up_to_sign: true</c>.
    /// </summary>
    public bool UpToSign { get; protected internal set; }

    /// <summary>An eigenvalue problem solved state by state (<see cref="EigenSpec"/>); null for an ordinary problem.</summary>
    public EigenSpec? Eigen { get; protected internal set; }

    /// <summary>References of every state of an eigenproblem (eigenfunction and eigenvalue), when a solver provides them.</summary>
    public IEigenReference? EigenReferences { get; protected internal set; }

    /// <summary>Exact solutions per field, when known (they also serve as the reference).</summary>
    public IReadOnlyDictionary<string, Expr> ExactSolution => _exact;

    /// <summary>What errors are measured against; defaults to the exact solution when one is declared.</summary>
    public IReference? Reference
    {
        get => _reference ?? (_exact.Count == _fields.Count && _fields.Count > 0 ? new AnalyticReference(_exact) : null);
        protected internal set => _reference = value;
    }
    IReference? _reference;

    public SymbolTable Symbols => new(Domain.CoordinateNames, _fields, _parameterOrder, Domain.SpatialAxes.Select(a => a.Name));

    // ---- builders for subclasses ------------------------------------------------------------
    protected internal Coordinate Space(string name, double min, double max)
    {
        _space.Add(new Axis(name, min, max));
        _domain = null;
        return Sym.Coord(name);
    }

    protected internal Coordinate Time(double min, double max, string name = "t")
    {
        if (_time is not null) throw new PinnException($"problem '{Name}': a second time coordinate '{name}'");
        _time = new Axis(name, min, max);
        _domain = null;
        return Sym.Coord(name);
    }

    protected internal FieldDerivative Field(string name)
    {
        _fields.Add(name);
        return Sym.Field(name);
    }

    protected internal Parameter Parameter(string name, double value) => Parameter(new ProblemParameter(name, value));

    /// <summary>A parameter with its training settings, e.g. <c>Parameter(new("nu", 0.05, Trainable: true, Lower: 0, Truth: 0.01 / Math.PI))</c>.</summary>
    protected internal Parameter Parameter(ProblemParameter spec)
    {
        CheckSpec(spec);
        if (!_parameters.ContainsKey(spec.Name)) _parameterOrder.Add(spec.Name);
        _parameters[spec.Name] = spec.Value;
        _specs[spec.Name] = spec;
        return Sym.Param(spec.Name);
    }

    void CheckSpec(ProblemParameter p)
    {
        string where = $"problem '{Name}', parameter '{p.Name}'";
        if (!double.IsFinite(p.Value)) throw new PinnException($"{where}: value {p.Value} is not a finite number");
        if (p.Lower is { } lo && p.Upper is { } hi && !(lo < hi)) throw new PinnException($"{where}: bounds [{lo}, {hi}] are empty (lower must be below upper)");
        if (p.Lower is { } l && !(p.Value > l) || p.Upper is { } u && !(p.Value < u))
            throw new PinnException($"{where}: the starting value {p.Value} must lie strictly inside the bounds [{p.Lower?.ToString() ?? "-inf"}, {p.Upper?.ToString() ?? "inf"}] " +
                                    "(they are kept by reparametrisation, which cannot reach the bounds themselves)");
        if (!p.Trainable && (p.Lower is not null || p.Upper is not null)) throw new PinnException($"{where}: bounds are for trainable parameters (add trainable: true)");
    }

    /// <summary>A residual equation; named pde, pde2, … unless a name is given.</summary>
    protected internal void Equation(Equation eq, string? name = null) =>
        _equations.Add(new ResidualEquation(name ?? NextName("pde", _equations.Select(e => e.Name)), eq));

    /// <summary>An initial condition, e.g. <c>u == -Sin(Pi*x)</c> or <c>Dt(u) == 0</c>, at the start of time.</summary>
    protected internal void Initial(Equation eq, string? name = null) =>
        AddCondition(new PointwiseCondition(name ?? NextName("ic", ConditionNames), ConditionKind.Initial, Region.Initial, eq));

    /// <summary>A Dirichlet condition, e.g. <c>u == 0</c>, on a side or the whole boundary.</summary>
    protected internal void Dirichlet(Region region, Equation eq, string? name = null) =>
        AddCondition(new PointwiseCondition(name ?? NextName("bc", ConditionNames), ConditionKind.Dirichlet, region, eq));

    /// <summary>∂u/∂n = g on a side (outward normal), or on every side of the boundary.</summary>
    protected internal void Neumann(Region region, FieldDerivative u, Expr g, string? name = null)
    {
        if (region.Kind == RegionKind.Boundary)
        {
            foreach (var side in Domain.BoundarySides) Neumann(side, u, g, name is null ? null : $"{name}_{side}");
            return;
        }
        if (region.Kind != RegionKind.Side)
            throw new PinnException($"problem '{Name}': a Neumann condition needs a boundary side, not '{region}'");
        var dn = Sym.D(u, region.Axis!);
        var normal = region.AtMax ? dn : Sym.Neg(dn);
        AddCondition(new PointwiseCondition(name ?? NextName("bc", ConditionNames), ConditionKind.Neumann, region, normal == g));
    }

    /// <summary>Periodicity along <paramref name="axis"/>: the given expressions (default: every field) match on opposite faces.</summary>
    protected internal void Periodic(string axis, params Expr[] matched)
    {
        var exprs = matched.Length > 0 ? matched : _fields.Select(f => (Expr)Sym.Field(f)).ToArray();
        AddCondition(new PeriodicCondition(NextName("periodic", ConditionNames), axis, exprs));
    }

    /// <summary>Any condition <c>eq</c> holding on <paramref name="region"/>.</summary>
    protected internal void Condition(string name, Region region, Equation eq) =>
        AddCondition(new PointwiseCondition(name, ConditionKind.Custom, region, eq));

    /// <summary>
    /// <c>∫ integrand d(axes) = value</c> (every coordinate when no axes are given), e.g. <c>Integral("norm", psi*psi, 1.0)</c>;
    /// <paramref name="nodes"/> Gauss–Legendre nodes per axis (0: 64 in one dimension, 32 in more).
    /// </summary>
    protected internal void Integral(string name, Expr integrand, Expr value, int nodes = 0, params string[] axes) =>
        AddCondition(new IntegralCondition(name, integrand, axes.Length > 0 ? axes : Domain.CoordinateNames.ToArray(), value, Mean: false, nodes));

    /// <summary><c>mean(integrand) = value</c> over <paramref name="axes"/> (default every coordinate): a pure-Neumann problem's gauge.</summary>
    protected internal void Mean(string name, Expr integrand, Expr value, int nodes = 0, params string[] axes) =>
        AddCondition(new IntegralCondition(name, integrand, axes.Length > 0 ? axes : Domain.CoordinateNames.ToArray(), value, Mean: true, nodes));

    /// <summary>Observed values of <paramref name="fields"/> at <paramref name="points"/> (n × d; values n × fields): a data term.</summary>
    protected internal void Observations(string name, double[,] points, IReadOnlyList<string> fields, double[,] values, string source = "data") =>
        AddCondition(new ObservationCondition(name, points, fields, values, source));

    protected internal void Exact(FieldDerivative u, Expr solution)
    {
        if (u.Order != 0) throw new PinnException($"problem '{Name}': an exact solution is given for a field, not for {u}");
        _exact[u.Field] = solution;
    }

    /// <summary>Overrides a declared parameter's value (from a config).</summary>
    public void SetParameter(string name, double value)
    {
        if (!_parameters.ContainsKey(name))
            throw new PinnException($"problem '{Name}' has no parameter '{name}'" +
                                    (_parameterOrder.Count > 0 ? $" (parameters: {string.Join(", ", _parameterOrder)})" : " (it has no parameters)"));
        SetParameter(_specs[name] with { Value = value });
    }

    /// <summary>Overrides a declared parameter's value and training settings (from a config).</summary>
    public void SetParameter(ProblemParameter spec)
    {
        if (!_parameters.ContainsKey(spec.Name)) SetParameter(spec.Name, spec.Value); // the error naming the parameters
        CheckSpec(spec);
        _parameters[spec.Name] = spec.Value;
        _specs[spec.Name] = spec;
    }

    IEnumerable<string> ConditionNames => _conditions.Select(c => c.Name);

    protected internal void AddCondition(Condition c)
    {
        if (_conditions.Any(o => o.Name == c.Name))
            throw new PinnException($"problem '{Name}': two conditions are named '{c.Name}'");
        _conditions.Add(c);
    }

    static string NextName(string stem, IEnumerable<string> taken)
    {
        var set = taken.ToHashSet();
        if (!set.Contains(stem)) return stem;
        for (int i = 2; ; i++)
            if (!set.Contains(stem + i)) return stem + i;
    }

    Box BuildDomain()
    {
        var axes = _space.ToList();
        if (_time is not null) axes.Add(_time);
        return new Box(axes, _time?.Name);
    }

    /// <summary>
    /// Checks that every name used is declared and every derivative is by a coordinate, so a typo in
    /// a C# problem is reported like one in a YAML file rather than failing inside the trainer.
    /// </summary>
    public void Validate()
    {
        if (_fields.Count == 0) throw new PinnException($"problem '{Name}' declares no fields");
        if (_equations.Count == 0) throw new PinnException($"problem '{Name}' declares no equations");
        var coords = Domain.CoordinateNames.ToHashSet();
        void Check(Expr e, string where)
        {
            foreach (var node in e.Descendants())
            {
                switch (node)
                {
                    case Coordinate c when !coords.Contains(c.Name):
                        throw new PinnException($"problem '{Name}', {where}: unknown coordinate '{c.Name}' (coordinates: {string.Join(", ", coords)})");
                    case Parameter p when !_parameters.ContainsKey(p.Name):
                        throw new PinnException($"problem '{Name}', {where}: unknown parameter '{p.Name}'");
                    case FieldDerivative f when !_fields.Contains(f.Field):
                        throw new PinnException($"problem '{Name}', {where}: unknown field '{f.Field}' (fields: {string.Join(", ", _fields)})");
                    case FieldDerivative f when f.Wrt.FirstOrDefault(w => !coords.Contains(w)) is { } bad:
                        throw new PinnException($"problem '{Name}', {where}: {f} differentiates by '{bad}', which is not a coordinate (coordinates: {string.Join(", ", coords)})");
                }
            }
        }
        foreach (var eq in _equations) Check(eq.Equation.Residual, $"equation '{eq.Name}'");
        foreach (var c in _conditions)
        {
            foreach (var e in c.Expressions) Check(e, $"condition '{c.Name}'");
            if (c is PointwiseCondition { Region: var r })
            {
                if (r.Kind == RegionKind.Initial && !Domain.IsTimeDependent)
                    throw new PinnException($"problem '{Name}', condition '{c.Name}': an initial condition needs a time coordinate");
                if (r.Kind == RegionKind.Side) Domain.IndexOf(r.Axis!);
            }
            if (c is PeriodicCondition pc) Domain.IndexOf(pc.Axis);
            if (c is IntegralCondition ic) CheckIntegral(ic);
            if (c is ObservationCondition oc) CheckObservations(oc);
        }
        var used = _equations.SelectMany(e => e.Equation.Residual.Descendants()).Concat(_conditions.SelectMany(c => c.Expressions.SelectMany(x => x.Descendants())))
                             .OfType<Parameter>().Select(p => p.Name).ToHashSet();
        foreach (var p in TrainableParameters)
            if (!used.Contains(p.Name))
                throw new PinnException($"problem '{Name}': trainable parameter '{p.Name}' is used in no equation or condition, so nothing can identify it");
        if (Eigen is { } eig)
        {
            string where = $"problem '{Name}', eigen";
            if (!_specs.ContainsKey(eig.Parameter)) throw new PinnException($"{where}: '{eig.Parameter}' is not a parameter (declare the eigenvalue under parameters)");
            if (!_fields.Contains(eig.Field)) throw new PinnException($"{where}: '{eig.Field}' is not a field ({string.Join(", ", _fields)})");
            if (eig.States < 1) throw new PinnException($"{where}: states must be at least 1, got {eig.States}");
            if (!_conditions.OfType<IntegralCondition>().Any())
                throw new PinnException($"{where}: an eigenfunction needs a normalisation, or ψ = 0 solves every equation: add " +
                                        $"{{type: integral, equation: \"integral({eig.Field}^2, {Domain.CoordinateNames[0]}) = 1\"}}");
        }
        foreach (var (field, e) in _exact)
        {
            if (!_fields.Contains(field)) throw new PinnException($"problem '{Name}': exact solution for unknown field '{field}'");
            if (e.Descendants().OfType<FieldDerivative>().Any())
                throw new PinnException($"problem '{Name}': the exact solution of '{field}' refers to a field");
            Check(e, $"exact solution of '{field}'");
        }
    }

    /// <summary>The largest quadrature grid an integral condition may ask for (nodes^d points evaluated every step).</summary>
    public const int MaxQuadraturePoints = 1 << 17;

    void CheckIntegral(IntegralCondition c)
    {
        string where = $"problem '{Name}', condition '{c.Name}'";
        if (c.Axes.Count == 0) throw new PinnException($"{where}: integrate over at least one coordinate");
        foreach (var a in c.Axes)
            if (!Domain.CoordinateNames.Contains(a))
                throw new PinnException($"{where}: cannot integrate over '{a}', which is not a coordinate (coordinates: {string.Join(", ", Domain.CoordinateNames)})");
        if (c.Axes.Distinct().Count() != c.Axes.Count) throw new PinnException($"{where}: a coordinate is named twice in {string.Join(", ", c.Axes)}");
        if (c.Nodes is < 0 or 1 || c.Nodes > 4096) throw new PinnException($"{where}: {c.Nodes} quadrature nodes per axis (give 2 … 4096, or 0 for the default)");
        if (Math.Pow(QuadratureNodes(c), Domain.Dim) > MaxQuadraturePoints)
            throw new PinnException($"{where}: {QuadratureNodes(c)}^{Domain.Dim} quadrature points exceed {MaxQuadraturePoints}; lower 'nodes'");
        if (c.Value.Descendants().OfType<FieldDerivative>().Any()) throw new PinnException($"{where}: the right-hand side {c.Value} must not contain a field");
        var integrated = c.Value.Descendants().OfType<Coordinate>().Select(k => k.Name).Where(c.Axes.Contains).ToList();
        if (integrated.Count > 0) throw new PinnException($"{where}: the right-hand side depends on '{integrated[0]}', which is integrated over");
    }

    /// <summary>Gauss–Legendre nodes per axis of an integral condition: its own, else 64 in one dimension and 32 in more.</summary>
    public int QuadratureNodes(IntegralCondition c) => c.Nodes > 0 ? c.Nodes : Domain.Dim == 1 ? 64 : 32;

    void CheckObservations(ObservationCondition c)
    {
        string where = $"problem '{Name}', data condition '{c.Name}' ({c.Source})";
        int n = c.Points.GetLength(0);
        if (n == 0) throw new PinnException($"{where}: no observation points");
        if (c.Points.GetLength(1) != Domain.Dim)
            throw new PinnException($"{where}: points have {c.Points.GetLength(1)} columns for {Domain.Dim} coordinates ({string.Join(", ", Domain.CoordinateNames)})");
        if (c.Values.GetLength(0) != n || c.Values.GetLength(1) != c.Fields.Count)
            throw new PinnException($"{where}: values are {c.Values.GetLength(0)}×{c.Values.GetLength(1)}, expected {n}×{c.Fields.Count}");
        foreach (var f in c.Fields)
            if (!_fields.Contains(f)) throw new PinnException($"{where}: unknown field '{f}' (fields: {string.Join(", ", _fields)})");
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < Domain.Dim; j++)
            {
                var a = Domain.Axes[j];
                double x = c.Points[i, j], slack = 1e-9 * (a.Max - a.Min);
                if (!double.IsFinite(x) || x < a.Min - slack || x > a.Max + slack)
                    throw new PinnException($"{where}: point {i + 1} has {a.Name} = {x}, outside [{a.Min}, {a.Max}]");
            }
            for (int k = 0; k < c.Fields.Count; k++)
                if (!double.IsFinite(c.Values[i, k])) throw new PinnException($"{where}: the value of {c.Fields[k]} at point {i + 1} is {c.Values[i, k]}");
        }
    }

    /// <summary>The problem written out: domain, fields, parameters, equations, conditions, reference.</summary>
    public string Describe()
    {
        var w = new System.Text.StringBuilder();
        w.AppendLine($"{Name}: {Description}");
        w.AppendLine($"  domain:     {Domain}");
        w.AppendLine($"  fields:     {string.Join(", ", _fields)}");
        if (_parameterOrder.Count > 0)
            w.AppendLine($"  parameters: {string.Join(", ", _parameterOrder.Select(p => $"{p} = {_parameters[p]:R}" + (_specs[p].Trainable ? " (trained)" : "")))}");
        w.AppendLine("  equations:");
        foreach (var e in _equations) w.AppendLine($"    {e.Name}: {e.Equation}");
        if (_conditions.Count > 0)
        {
            w.AppendLine("  conditions:");
            foreach (var c in _conditions) w.AppendLine($"    {c.Describe()}");
        }
        foreach (var (f, e) in _exact) w.AppendLine($"  exact:      {f} = {e}");
        w.Append($"  reference:  {Reference?.Description ?? "none"}");
        return w.ToString();
    }
}
