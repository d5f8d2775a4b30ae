using Pinn.Geometry;
using Pinn.Symbolic;

namespace Pinn.Problems;

public enum ConditionKind { Initial, Dirichlet, Neumann, Periodic, Custom, Integral, Data }

/// <summary>An initial, boundary or other side condition; <see cref="Name"/> names its loss term.</summary>
public abstract record Condition(string Name, ConditionKind Kind)
{
    /// <summary>Every expression the condition evaluates (for validation and display).</summary>
    public abstract IEnumerable<Expr> Expressions { get; }
    public abstract string Describe();
}

/// <summary><c>Residual = 0</c> at every point of <see cref="Region"/> (initial, Dirichlet, Neumann, Robin…).</summary>
public sealed record PointwiseCondition(string Name, ConditionKind Kind, Region Region, Equation Equation)
    : Condition(Name, Kind)
{
    public override IEnumerable<Expr> Expressions => [Equation.Residual];
    public override string Describe() => $"{Name} ({Kind.ToString().ToLowerInvariant()}, on {Region}): {Equation}";
}

/// <summary>Each of <see cref="Matched"/> takes equal values on the two opposite faces of <see cref="Axis"/>.</summary>
public sealed record PeriodicCondition(string Name, string Axis, IReadOnlyList<Expr> Matched)
    : Condition(Name, ConditionKind.Periodic)
{
    public override IEnumerable<Expr> Expressions => Matched;
    public override string Describe() =>
        $"{Name} (periodic in {Axis}): {string.Join(", ", Matched)} equal at {Axis}_min and {Axis}_max";
}

/// <summary>
/// <c>∫ Integrand d(Axes) = Value</c> over the domain (with <see cref="Mean"/>: the integral divided by the axes' measure), by
/// tensor-product Gauss–Legendre quadrature with <see cref="Nodes"/> nodes per axis: a normalisation (∫ψ² dx = 1), a pure-Neumann
/// gauge (mean(u) = 0), an orthogonality constraint. Coordinates not integrated over keep their own Gauss–Legendre nodes, and the
/// constraint holds at each of them (∫u dx = 1 at every t). <see cref="Known"/>, when given, multiplies the integrand by a fixed
/// function of the point (n × d → n values; a state already found, for deflation). <see cref="WeightScale"/> multiplies the term's
/// weight (training.weights) — the eigen sequence's orthogonality weight.
/// </summary>
public sealed record IntegralCondition(string Name, Expr Integrand, IReadOnlyList<string> Axes, Expr Value, bool Mean = false,
                                       int Nodes = 0, Func<double[,], double[]>? Known = null, string? KnownName = null,
                                       double WeightScale = 1)
    : Condition(Name, ConditionKind.Integral)
{
    public override IEnumerable<Expr> Expressions => [Integrand, Value];
    public override string Describe() =>
        $"{Name} (integral): {(Mean ? "mean" : "integral")}({Integrand}{(KnownName is null ? "" : $" * {KnownName}")}, {string.Join(", ", Axes)}) = {Value}";
}

/// <summary>
/// Observed values of <see cref="Fields"/> at fixed points (n × d, columns in domain axis order; <see cref="Values"/> n × fields):
/// the data term of an inverse problem, the mean squared mismatch of the model's fields there. <see cref="Source"/> says where
/// they came from (a file, the reference), for display.
/// </summary>
public sealed record ObservationCondition(string Name, double[,] Points, IReadOnlyList<string> Fields, double[,] Values, string Source)
    : Condition(Name, ConditionKind.Data)
{
    public override IEnumerable<Expr> Expressions => Fields.Select(f => (Expr)Sym.Field(f));
    public override string Describe() => $"{Name} (data): {string.Join(", ", Fields)} at {Points.GetLength(0)} points from {Source}";
}
