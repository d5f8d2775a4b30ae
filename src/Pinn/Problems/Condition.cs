using Pinn.Geometry;
using Pinn.Symbolic;

namespace Pinn.Problems;

public enum ConditionKind { Initial, Dirichlet, Neumann, Periodic, Custom }

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
