using Pinn.Geometry;

namespace Pinn.Problems;

/// <summary>
/// A problem restricted to a time window [t0, t1] (for time marching): same equations, parameters
/// and boundary conditions; its initial conditions are kept only for the first window — later
/// windows start from the previous window's prediction instead.
/// </summary>
public sealed class TimeWindowProblem : Problem
{
    readonly Problem _source;

    public TimeWindowProblem(Problem source, double t0, double t1, bool keepInitialConditions)
    {
        _source = source;
        var domain = source.Domain;
        if (domain.TimeAxis is null) throw new PinnException($"time marching: problem '{source.Name}' has no time coordinate");
        foreach (var a in domain.SpatialAxes) Space(a.Name, a.Min, a.Max);
        Time(t0, t1, domain.TimeAxis);
        foreach (var f in source.Fields) Field(f);
        foreach (var p in source.Parameters) Parameter(p);
        foreach (var eq in source.Equations) Equation(eq.Equation, eq.Name);
        foreach (var c in source.Conditions)
            if (keepInitialConditions || c.Kind != ConditionKind.Initial) AddCondition(c);
    }

    public override string Name => _source.Name;
    public override string Description => _source.Description;
}
