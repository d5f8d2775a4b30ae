using System.Globalization;
using Pinn.Problems;
using Pinn.Symbolic;

namespace Pinn.References;

/// <summary>
/// The reference of a 1-D Schrödinger eigenproblem −ψ'' + V ψ = E ψ on [a, b], ψ(a) = ψ(b) = 0: each named field is one
/// eigenstate (0 = ground state), evaluated at the points' <paramref name="coordinate"/> column; <see cref="Energies"/>
/// are the reference energies, so a run can report the error of the state and of the eigenvalue. Solved once, in the
/// constructor, by <see cref="SchrodingerSolver"/> (milliseconds); the states follow its sign convention (ψ &gt; 0 just
/// right of a) and unit L² norm. A problem whose <paramref name="coordinate"/> range is not [a, b] is an error.
/// </summary>
public sealed class SchrodingerReference : PointwiseReference
{
    readonly Dictionary<string, int> _fieldStates;

    /// <param name="potential">V(x).</param>
    /// <param name="fieldStates">Field name → state index (0-based) it is compared with.</param>
    /// <param name="intervals">Coarse-grid intervals of the solver (jumps of V on its nodes).</param>
    public SchrodingerReference(Func<double[], double[]> potential, double a, double b, IReadOnlyDictionary<string, int> fieldStates,
                                string coordinate = "x", int intervals = SchrodingerSolver.DefaultIntervals, string? potentialText = null)
    {
        ArgumentNullException.ThrowIfNull(potential);
        ArgumentNullException.ThrowIfNull(fieldStates);
        if (fieldStates.Count == 0) throw new PinnException("Schrödinger reference: no field is mapped to a state");
        if (fieldStates.FirstOrDefault(kv => kv.Value < 0) is { Key: not null } bad)
            throw new PinnException($"Schrödinger reference: field '{bad.Key}' is mapped to state {bad.Value}; states are numbered from 0");
        _fieldStates = new Dictionary<string, int>(fieldStates);
        Coordinate = coordinate;
        States = SchrodingerSolver.Solve(potential, a, b, _fieldStates.Values.Max() + 1, intervals);
        PotentialText = potentialText ?? "V";
    }

    /// <summary>One field compared with state <paramref name="state"/> of the potential <paramref name="potential"/>.</summary>
    public SchrodingerReference(Func<double, double> potential, double a, double b, string field, int state, string coordinate = "x",
                                int intervals = SchrodingerSolver.DefaultIntervals, string? potentialText = null)
        : this(xs => Array.ConvertAll(xs, x => potential(x)), a, b, new Dictionary<string, int> { [field] = state }, coordinate, intervals, potentialText)
    {
    }

    /// <summary>
    /// One field compared with state <paramref name="state"/> of a potential given as an expression of
    /// <paramref name="coordinate"/> and <paramref name="parameters"/> (e.g. a problem's <see cref="Problem.ReferenceParameterValues"/>).
    /// </summary>
    public SchrodingerReference(Expr potential, double a, double b, string field, int state, string coordinate = "x",
                                IReadOnlyDictionary<string, double>? parameters = null, int intervals = SchrodingerSolver.DefaultIntervals)
        : this(SchrodingerSolver.Batch(potential, coordinate, parameters), a, b, new Dictionary<string, int> { [field] = state }, coordinate,
               intervals, potential.ToString())
    {
    }

    public string Coordinate { get; }
    public string PotentialText { get; }
    /// <summary>The solved states 0 … max state: energies, error estimates and ψ_k(x).</summary>
    public SchrodingerStates States { get; }
    /// <summary>Reference energies E_0 &lt; E_1 &lt; … up to the highest mapped state.</summary>
    public IReadOnlyList<double> Energies => States.Energies;
    /// <summary>Field → state index.</summary>
    public IReadOnlyDictionary<string, int> FieldStates => _fieldStates;

    /// <summary>The reference energy of the state that <paramref name="field"/> is compared with.</summary>
    public double Energy(string field) =>
        _fieldStates.TryGetValue(field, out int k) ? States.Energies[k] : throw new PinnException($"Schrödinger reference: no state for field '{field}'");

    public override string Description =>
        $"Schrödinger eigenstates of -psi'' + ({PotentialText}) psi = E psi on [{Fmt(States.A)}, {Fmt(States.B)}] " +
        $"(finite differences, {States.Intervals}/{2 * States.Intervals}/{4 * States.Intervals} intervals, Richardson): " +
        string.Join("; ", _fieldStates.Select(kv => $"{kv.Key} = state {kv.Value}, E = {Fmt(States.Energies[kv.Value])}"));

    static string Fmt(double v) => v.ToString("G10", CultureInfo.InvariantCulture);

    public override double[,] Evaluate(Problem problem, double[,] points)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(points);
        var domain = problem.Domain;
        if (points.GetLength(1) != domain.Dim)
            throw new PinnException($"Schrödinger reference: points have {points.GetLength(1)} columns for {domain.Dim} coordinates");
        if (!domain.CoordinateNames.Contains(Coordinate))
            throw new PinnException($"Schrödinger reference: problem '{problem.Name}' has no coordinate '{Coordinate}' ({string.Join(", ", domain.CoordinateNames)})");
        var axis = domain[Coordinate];
        double slack = 1e-12 * (States.B - States.A);
        if (Math.Abs(axis.Min - States.A) > slack || Math.Abs(axis.Max - States.B) > slack)
            throw new PinnException($"Schrödinger reference: problem '{problem.Name}' has {Coordinate} in [{axis.Min}, {axis.Max}], the states were solved on [{States.A}, {States.B}]");
        int column = domain.IndexOf(Coordinate), n = points.GetLength(0);
        var values = new double[n, problem.Fields.Count];
        for (int f = 0; f < problem.Fields.Count; f++)
        {
            if (!_fieldStates.TryGetValue(problem.Fields[f], out int k))
                throw new PinnException($"Schrödinger reference: problem '{problem.Name}' has field '{problem.Fields[f]}', mapped to no state " +
                                        $"(mapped: {string.Join(", ", _fieldStates.Keys)})");
            for (int i = 0; i < n; i++) values[i, f] = States.Psi(k, points[i, column]);
        }
        return values;
    }
}
