using Pinn.References;
using Pinn.Symbolic;

namespace Pinn.Problems;

/// <summary>
/// An eigenvalue problem solved state by state (<c>problem.eigen</c>): the eigenvalue is the trainable parameter
/// <see cref="Parameter"/>, the eigenfunction is <see cref="Field"/> (normalised by an integral condition of the problem), and
/// the first <see cref="States"/> states are found in sequence, each orthogonal to the ones before (deflation).
/// <see cref="Initial"/>: each state's starting eigenvalue; missing entries start state k from the state before ×((k+1)/k)²
/// (the ratio of a box's levels). <see cref="OrthogonalityWeight"/> weighs ∫ψ_k ψ_j = 0 against the other terms.
/// </summary>
public sealed record EigenSpec(string Parameter, string Field, int States, IReadOnlyList<double> Initial, double OrthogonalityWeight = 1)
{
    /// <summary>State k's starting eigenvalue, given the eigenvalue found for state k − 1.</summary>
    public double Start(int k, double declared, double? previous) =>
        k < Initial.Count ? Initial[k] : k == 0 || previous is null ? declared : previous.Value * Math.Pow((k + 1.0) / k, 2);
}

/// <summary>The references of an eigenproblem's states: state k's eigenfunction and eigenvalue.</summary>
public interface IEigenReference
{
    string Description { get; }
    IReference State(int k);
    double Eigenvalue(int k);
}

/// <summary>
/// State <c>k</c> of an eigenproblem: the source's domain, equations and conditions, its eigenvalue parameter trained from
/// <paramref name="start"/> (truth: the reference's eigenvalue when known), the orthogonality conditions <c>orth_j</c>
/// (∫ ψ φ_j = 0 over the domain, φ_j a state already found, evaluated by <paramref name="found"/>), state k's reference, and
/// errors up to sign.
/// </summary>
public sealed class EigenStateProblem : Problem
{
    readonly Problem _source;

    public EigenStateProblem(Problem source, EigenSpec spec, int k, double start, IReadOnlyList<Func<double[,], double[]>> found,
                             IEigenReference? references)
    {
        _source = source;
        State = k;
        var domain = source.Domain;
        foreach (var a in domain.SpatialAxes) Space(a.Name, a.Min, a.Max);
        if (domain.TimeAxis is { } t) Time(domain.Axes[domain.IndexOf(t)].Min, domain.Axes[domain.IndexOf(t)].Max, t);
        foreach (var f in source.Fields) Field(f);
        foreach (var p in source.Parameters)
            Parameter(p.Name == spec.Parameter
                ? p with { Value = start, Trainable = true, Truth = p.Truth is not null && k == 0 ? p.Truth : references?.Eigenvalue(k) }
                : p);
        foreach (var eq in source.Equations) Equation(eq.Equation, eq.Name);
        foreach (var c in source.Conditions) AddCondition(c);
        for (int j = 0; j < found.Count; j++)
            AddCondition(new IntegralCondition($"orth_{j}", Sym.Field(spec.Field), domain.CoordinateNames, 0.0, Known: found[j], KnownName: $"psi_{j}",
                                               WeightScale: spec.OrthogonalityWeight));
        foreach (var (f, e) in source.ExactSolution.Where(_ => k == 0)) Exact(Sym.Field(f), e);
        Reference = references?.State(k) ?? (k == 0 ? source.Reference : null);
        UpToSign = true;
    }

    public int State { get; }
    public override string Name => _source.Name;
    public override string Description => $"{_source.Description} (state {State})";
}
