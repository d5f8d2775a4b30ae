using Pinn.Problems;
using Pinn.Symbolic;

namespace Pinn.References;

/// <summary>
/// Every state of −ψ'' + V ψ = E ψ on the problem's one coordinate, ψ = 0 at both ends (<see cref="SchrodingerReference"/>,
/// solved once per state asked for): the references of an eigen sequence. YAML:
/// <c>reference: {solver: schrodinger, potential: "V0*heaviside(abs(x - 0.5) - 0.25)"}</c>.
/// </summary>
public sealed class SchrodingerEigenReference(Expr potential, string coordinate, double a, double b, string field,
                                              IReadOnlyDictionary<string, double> parameters) : IEigenReference
{
    readonly Dictionary<int, SchrodingerReference> _states = [];

    public string Description => $"Schrödinger eigenstates of -{@field}'' + ({potential}) {@field} = E {@field} on [{a}, {b}] (finite differences, Richardson)";

    public SchrodingerReference Reference(int k)
    {
        if (!_states.TryGetValue(k, out var r)) _states[k] = r = new SchrodingerReference(potential, a, b, field, k, coordinate, parameters);
        return r;
    }

    public IReference State(int k) => Reference(k);
    public double Eigenvalue(int k) => Reference(k).Energies[k];

    /// <summary>The reference of a problem on one coordinate, its potential read with the problem's reference parameter values.</summary>
    public static SchrodingerEigenReference For(Problem problem, Expr potential, string field)
    {
        var domain = problem.Domain;
        if (domain.Dim != 1)
            throw new PinnException($"reference.solver schrodinger: problem '{problem.Name}' has {domain.Dim} coordinates; the solver is for one ({string.Join(", ", domain.CoordinateNames)})");
        if (potential.Descendants().OfType<FieldDerivative>().Any())
            throw new PinnException("reference.potential: the potential must not contain a field");
        var axis = domain.Axes[0];
        return new SchrodingerEigenReference(potential, axis.Name, axis.Min, axis.Max, field, problem.ReferenceParameterValues);
    }
}
