namespace Pinn.References;

/// <summary>
/// The lowest eigenpairs found by <see cref="SchrodingerSolver"/>: energies in ascending order and eigenfunctions that
/// can be evaluated anywhere in [a, b]. Between two nodes of the coarse grid ψ is the solution of ψ'' = (V_mid − E) ψ
/// through the two nodal values, V_mid being the potential at the interval's midpoint: exact for a piecewise constant
/// potential whose jumps are on nodes, and within ~h³|V'|ψ/125 of the true ψ for a smooth one (a cubic spline would be
/// O(h²) wrong next to a jump, where ψ'' jumps).
/// </summary>
public sealed class SchrodingerStates
{
    readonly double[][] _values;
    readonly double[] _midPotential;

    internal SchrodingerStates(double a, double b, double[] energies, double[] energyErrors, double[][] values, double[] midPotential)
    {
        A = a;
        B = b;
        Energies = energies;
        EnergyErrorEstimates = energyErrors;
        _values = values;
        _midPotential = midPotential;
        Intervals = midPotential.Length;
    }

    public double A { get; }
    public double B { get; }
    /// <summary>Number of states.</summary>
    public int Count => Energies.Count;
    /// <summary>Intervals of the coarse grid on which the nodal values are kept.</summary>
    public int Intervals { get; }
    /// <summary>E_0 &lt; E_1 &lt; … (Richardson-extrapolated).</summary>
    public IReadOnlyList<double> Energies { get; }
    /// <summary>Per energy, |three-grid − two-grid extrapolation|: an upper estimate of its error when the jumps are on nodes.</summary>
    public IReadOnlyList<double> EnergyErrorEstimates { get; }

    /// <summary>The coarse grid's nodes a = x_0 &lt; … &lt; x_n = b.</summary>
    public double[] Nodes => Enumerable.Range(0, Intervals + 1).Select(Node).ToArray();

    /// <summary>ψ_k at the coarse grid's nodes (zero at both walls), normalised to unit trapezoid norm.</summary>
    public double[] NodalValues(int state) => (double[])_values[CheckState(state)].Clone();

    double Node(int i) => i == Intervals ? B : A + (B - A) * i / Intervals;

    int CheckState(int state) =>
        state >= 0 && state < Count ? state : throw new PinnException($"Schrödinger states: state {state} was not computed (0 … {Count - 1})");

    /// <summary>ψ_k(x) for x in [a, b] (a point outside by more than rounding is an error).</summary>
    public double Psi(int state, double x)
    {
        var psi = _values[CheckState(state)];
        double h = (B - A) / Intervals, slack = 1e-12 * (B - A);
        if (!(x >= A - slack && x <= B + slack))
            throw new PinnException($"Schrödinger state {state}: x = {x} is outside [{A}, {B}]");
        double t = Math.Clamp((x - A) / h, 0, Intervals);
        int i = Math.Min((int)t, Intervals - 1);
        double u = (t - i) * h;
        double s = _midPotential[i] - Energies[state];
        return psi[i] * Ratio(s, h - u, h) + psi[i + 1] * Ratio(s, u, h);
    }

    /// <summary>ψ_k at every point of <paramref name="xs"/>.</summary>
    public double[] Psi(int state, IReadOnlyList<double> xs) => xs.Select(x => Psi(state, x)).ToArray();

    /// <summary>
    /// S(s, t)/S(s, h) with S(s, t) = sinh(√s t)/√s (sin(√−s t)/√−s for s &lt; 0, t for s = 0): the weight of the far node
    /// in the two-point solution of ψ'' = s ψ at distance t from it.
    /// </summary>
    static double Ratio(double s, double t, double h)
    {
        double r = Math.Sqrt(Math.Abs(s));
        double rh = r * h;
        // Below 1e-8 the relative difference from t/h is (rh)²/6 < 1e-16; above 3 (s < 0) the grid does not resolve the
        // state (fewer than ~2 intervals per half-wave) and the linear weight is as good as any.
        if (rh < 1e-8 || s < 0 && rh > 3) return t / h;
        if (s < 0) return Math.Sin(r * t) / Math.Sin(rh);
        if (rh < 30) return Math.Sinh(r * t) / Math.Sinh(rh);
        // sinh(rt)/sinh(rh) without overflow.
        return Math.Exp(r * (t - h)) * (1 - Math.Exp(-2 * r * t)) / (1 - Math.Exp(-2 * rh));
    }
}
