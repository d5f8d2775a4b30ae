using Pinn.Geometry;
using Pinn.Problems;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;
using static Pinn.Symbolic.Sym;

namespace Pinn.Models;

/// <summary>
/// The hard-constraint ansatz u_k = A_k + W_k·N_k, one per field, built from the problem's symbolic conditions
/// (Lagaris et al. 1998; Sukumar &amp; Srivastava 2022 for distance functions on boxes):
/// <list type="bullet">
/// <item>initial value u(x, t0) = u0(x): A = u0, W = τ with τ = (t − t0)/(T − t0) (the paper's (t − t0), scaled to [0, 1]);</item>
/// <item>Dirichlet u = g on sides of the box: A = G, W = φ(x) = Π_j φ_j over the spatial axes with Dirichlet sides,
/// φ_j = (x_j − a_j)(b_j − x_j)/((b_j − a_j)/2)² for both sides, (x_j − a_j)/(b_j − a_j) or (b_j − x_j)/(b_j − a_j) for
/// one; G = g when one expression g is given for every side (g is its own extension into the interior), or the
/// linear blend g_a(a_j)·(b_j − x_j)/L + g_b(b_j)·(x_j − a_j)/L when the two ends of the single Dirichlet axis differ;</item>
/// <item>both: A = G + u0 − G|_{t=t0}, W = τ·φ — exact on both when u0 = g at t0 on the boundary (checked).</item>
/// </list>
/// A, W and all their derivatives are expressions of the coordinates: they do not depend on the parameters.
/// What is not enforced stays a loss term: initial conditions on derivatives (u_t = v0), Neumann, periodic and
/// custom conditions. What cannot be enforced is refused with the condition named.
/// </summary>
public sealed class ConstraintAnsatz
{
    const string Key = "model.hard_constraints";

    ConstraintAnsatz(IReadOnlyList<Expr> offsets, IReadOnlyList<Expr> factors, IReadOnlyList<string> enforced)
    {
        Offsets = offsets;
        Factors = factors;
        Enforced = enforced;
    }

    /// <summary>A_k per field (the data, extended into the domain).</summary>
    public IReadOnlyList<Expr> Offsets { get; }
    /// <summary>W_k per field (zero where the constraints hold); 1 for an unconstrained field.</summary>
    public IReadOnlyList<Expr> Factors { get; }
    /// <summary>The names of the conditions that hold by construction.</summary>
    public IReadOnlyList<string> Enforced { get; }

    public static ConstraintAnsatz Build(Problem problem, HardConstraintOptions options, IEnumerable<string>? periodicAxes = null)
    {
        var domain = problem.Domain;
        var enforced = new List<string>();
        var initial = options.Initial ? InitialValues(problem, enforced) : [];
        var sides = options.Dirichlet ? DirichletSides(problem, periodicAxes ?? [], enforced) : [];
        string? t = domain.TimeAxis;
        Expr tau = 1;
        if (t is not null)
        {
            var time = domain[t];
            tau = Minus(Coord(t), time.Min) / time.Length;
        }

        var offsets = new List<Expr>();
        var factors = new List<Expr>();
        foreach (var field in problem.Fields)
        {
            var u0 = initial.TryGetValue(field, out var ic) ? ic.Value : null;
            Expr? g = null;
            Expr phi = 1;
            if (sides.TryGetValue(field, out var fs))
                (g, phi) = BoundaryExtension(problem, field, fs);
            if (u0 is not null && g is not null)
            {
                var g0 = At(g, t!, domain[t!].Min);
                CheckCompatible(problem, field, ic!, fs!, u0, g0);
                offsets.Add(g + u0 - g0);
                factors.Add(tau * phi);
            }
            else if (u0 is not null)
            {
                offsets.Add(u0);
                factors.Add(tau);
            }
            else
            {
                offsets.Add(g ?? Const(0));
                factors.Add(phi);
            }
        }
        return new ConstraintAnsatz(offsets, factors, enforced);
    }

    /// <summary>One line for the run header: what holds exactly and the factor W per constrained field.</summary>
    public string Describe(IReadOnlyList<string> fields) =>
        $"hard constraints {string.Join(", ", Enforced)}: " +
        string.Join("; ", fields.Select((f, k) => (f, k)).Where(p => !(Factors[p.k] is Constant { Value: 1 }))
                                .Select(p => $"{p.f} = A + W·N, W = {Factors[p.k]}"));

    sealed record Datum(string Condition, Expr Value, Equation Equation);

    /// <summary>u = u0(x) per field from the initial conditions; conditions on derivatives (u_t = v0) stay loss terms.</summary>
    static Dictionary<string, Datum> InitialValues(Problem problem, List<string> enforced)
    {
        var domain = problem.Domain;
        if (domain.TimeAxis is null)
            throw new PinnException($"{Key}.initial: problem '{problem.Name}' has no time coordinate, so no initial condition to enforce") { Key = $"{Key}.initial" };
        var values = new Dictionary<string, Datum>();
        foreach (var c in problem.Conditions.OfType<PointwiseCondition>().Where(c => c.Kind == ConditionKind.Initial))
        {
            if (BareField(c.Equation) is not (FieldDerivative f, Expr value))
                throw new PinnException($"{Key}.initial: initial condition '{c.Name}' ({c.Equation}) is not of the form u = u0(x) with no field on the " +
                                        "other side, so it cannot be enforced exactly; set initial: false to keep it as a loss term") { Key = $"{Key}.initial" };
            if (f.Order > 0) continue; // u_t = v0: stays a loss term (the ansatz fixes values only)
            if (values.TryGetValue(f.Field, out var other))
                throw new PinnException($"{Key}.initial: two initial values for field '{f.Field}' ('{other.Condition}' and '{c.Name}')") { Key = $"{Key}.initial" };
            values[f.Field] = new Datum(c.Name, At(value, domain.TimeAxis, domain[domain.TimeAxis].Min), c.Equation);
            enforced.Add(c.Name);
        }
        if (values.Count == 0)
            throw new PinnException($"{Key}.initial: problem '{problem.Name}' has no initial condition of the form u = u0(x) to enforce") { Key = $"{Key}.initial" };
        return values;
    }

    /// <summary>The Dirichlet data per field and side of the box.</summary>
    static Dictionary<string, Dictionary<Region, Datum>> DirichletSides(Problem problem, IEnumerable<string> periodicAxes, List<string> enforced)
    {
        var domain = problem.Domain;
        var periodic = periodicAxes.Select(a => (Axis: a, Why: $"model.periodic.{a}"))
                                   .Concat(problem.Conditions.OfType<PeriodicCondition>().Select(p => (p.Axis, Why: $"periodic condition '{p.Name}'")))
                                   .ToList();
        var sides = new Dictionary<string, Dictionary<Region, Datum>>();
        foreach (var c in problem.Conditions.OfType<PointwiseCondition>().Where(c => c.Kind == ConditionKind.Dirichlet))
        {
            if (BareField(c.Equation) is not ({ Order: 0 } f, var g))
                throw new PinnException($"{Key}.dirichlet: Dirichlet condition '{c.Name}' ({c.Equation}) is not of the form u = g(x, t) with no field " +
                                        "on the right, so it cannot be enforced exactly; set dirichlet: false to keep it as a loss term") { Key = $"{Key}.dirichlet" };
            var regions = c.Region.Kind switch
            {
                RegionKind.Boundary => domain.BoundarySides.ToList(),
                RegionKind.Side when c.Region.Axis != domain.TimeAxis => new List<Region> { c.Region },
                _ => throw new PinnException($"{Key}.dirichlet: Dirichlet condition '{c.Name}' holds on '{c.Region}'; hard constraints are built " +
                                             "for sides of the spatial box only; set dirichlet: false to keep it as a loss term") { Key = $"{Key}.dirichlet" },
            };
            if (!sides.TryGetValue(f.Field, out var fs)) sides[f.Field] = fs = [];
            foreach (var side in regions)
            {
                if (periodic.FirstOrDefault(p => p.Axis == side.Axis) is { Why: { } why })
                    throw new PinnException($"{Key}.dirichlet: Dirichlet condition '{c.Name}' is on {side}, but '{side.Axis}' is periodic ({why}): " +
                                            "a distance function for that side would break periodicity; set dirichlet: false") { Key = $"{Key}.dirichlet" };
                if (fs.TryGetValue(side, out var other))
                    throw new PinnException($"{Key}.dirichlet: two Dirichlet conditions for field '{f.Field}' on {side} ('{other.Condition}' and '{c.Name}')") { Key = $"{Key}.dirichlet" };
                fs[side] = new Datum(c.Name, g, c.Equation);
            }
            enforced.Add(c.Name);
        }
        if (sides.Count == 0)
            throw new PinnException($"{Key}.dirichlet: problem '{problem.Name}' has no Dirichlet condition u = g to enforce") { Key = $"{Key}.dirichlet" };
        return sides;
    }

    /// <summary>G (the boundary data extended into the box) and φ (zero exactly on the Dirichlet sides) for one field.</summary>
    static (Expr G, Expr Phi) BoundaryExtension(Problem problem, string field, Dictionary<Region, Datum> sides)
    {
        var domain = problem.Domain;
        var axes = sides.Keys.Select(s => s.Axis!).Distinct().OrderBy(domain.IndexOf).ToList();
        Expr phi = 1;
        foreach (var name in axes)
        {
            var a = domain[name];
            var x = Coord(name);
            bool lo = sides.ContainsKey(Region.Side(name, atMax: false)), hi = sides.ContainsKey(Region.Side(name, atMax: true));
            Expr factor = lo && hi ? Minus(x, a.Min) * (a.Max - x) / Math.Pow(a.Length / 2, 2)
                        : lo ? Minus(x, a.Min) / a.Length
                        : (a.Max - x) / a.Length;
            phi = phi * factor;
        }
        var distinct = sides.Values.Select(d => d.Value).Distinct().ToList();
        if (distinct.Count == 1) return (distinct[0], phi);
        if (axes.Count == 1 && sides.Count == 2)
        {
            // Two ends of one axis with their own data: blend the end values linearly along the axis.
            var a = domain[axes[0]];
            var x = Coord(axes[0]);
            var ga = At(sides[Region.Side(a.Name, atMax: false)].Value, a.Name, a.Min);
            var gb = At(sides[Region.Side(a.Name, atMax: true)].Value, a.Name, a.Max);
            return (ga * (a.Max - x) / a.Length + gb * Minus(x, a.Min) / a.Length, phi);
        }
        var listing = string.Join("; ", sides.OrderBy(s => s.Key.ToString()).Select(s => $"'{s.Value.Condition}' on {s.Key}: {s.Value.Equation}"));
        throw new PinnException($"{Key}.dirichlet: field '{field}' has different Dirichlet data on different sides ({listing}); a hard constraint " +
                                "needs one expression g valid on every Dirichlet side (or different ones on the two ends of a single axis); " +
                                "set dirichlet: false to keep them as loss terms") { Key = $"{Key}.dirichlet" };
    }

    /// <summary>
    /// A = G + u0 − G(t0) satisfies both conditions only where u0 = g at t0 on the Dirichlet sides: checked on a grid of
    /// each side at t0 (17 points per free spatial axis), to round-off relative to the data's size.
    /// </summary>
    static void CheckCompatible(Problem problem, string field, Datum ic, Dictionary<Region, Datum> sides, Expr u0, Expr g0)
    {
        var domain = problem.Domain;
        using var scope = NewDisposeScope();
        foreach (var (side, bc) in sides)
        {
            var axes = domain.Axes.Select(a => a.Name == side.Axis ? new[] { side.AtMax ? a.Max : a.Min }
                                              : a.Name == domain.TimeAxis ? new[] { a.Min }
                                              : Box.Linspace(a.Min, a.Max, 17)).ToList();
            var points = tensor(Box.Cartesian(axes), dtype: ScalarType.Float64);
            var ev = new TensorEvaluator(new CoordinateProvider(points, domain.CoordinateNames, problem.ParameterValues));
            var u = ev.Evaluate(u0);
            double gap = (u - ev.Evaluate(g0)).abs().max().ToDouble();
            double scale = Math.Max(1, u.abs().max().ToDouble());
            // Data written as formulas (−sin(πx) at x = ±1 against 0) agree to a few ulps; 1e-9 leaves room for
            // longer formulas and still catches a real mismatch.
            if (!(gap <= 1e-9 * scale))
                throw new PinnException($"{Key}: initial condition '{ic.Condition}' ({ic.Equation}) and Dirichlet condition '{bc.Condition}' ({bc.Equation}) " +
                                        $"disagree at {domain.TimeAxis} = {domain[domain.TimeAxis!].Min:G6} on {side} (|u0 − g| up to {gap:G3}), so no field " +
                                        "satisfies both; fix the data or enforce only one of them (initial: false or dirichlet: false)") { Key = Key };
        }
    }

    /// <summary>(u, g) for <c>u = g</c> or <c>g = u</c> with a bare field derivative on one side and no field on the other; else null.</summary>
    static (FieldDerivative Field, Expr Value)? BareField(Equation eq)
    {
        static bool Free(Expr e) => !e.Descendants().OfType<FieldDerivative>().Any();
        if (eq.Lhs is FieldDerivative l && Free(eq.Rhs)) return (l, eq.Rhs);
        if (eq.Rhs is FieldDerivative r && Free(eq.Lhs)) return (r, eq.Lhs);
        return null;
    }

    /// <summary>e − c, written e + |c| for negative c (so the header reads x + 1, not x − (−1)).</summary>
    static Expr Minus(Expr e, double c) => c < 0 ? e + -c : e - c;

    /// <summary><paramref name="e"/> with the coordinate <paramref name="name"/> set to <paramref name="value"/>.</summary>
    static Expr At(Expr e, string name, double value) => e switch
    {
        Coordinate c when c.Name == name => Const(value),
        _ => MapChildren(e, x => At(x, name, value)),
    };
}
