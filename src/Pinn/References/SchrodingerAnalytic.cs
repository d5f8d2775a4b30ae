using MathNet.Numerics.RootFinding;

namespace Pinn.References;

/// <summary>
/// Exact energies of −ψ'' + V ψ = E ψ, ψ = 0 at the walls, for the infinite square well and for a symmetric finite well
/// or barrier inside the box [0, 1] — the classical references the finite-difference solver is measured against.
/// </summary>
/// <remarks>
/// Finite well and barrier. With y = x − ½, the box is |y| &lt; ½ and the potential is constant on the centre
/// |y| &lt; w/2 and on the two sides w/2 &lt; |y| &lt; ½, d = (1 − w)/2 thick. On a piece where V is constant put
/// s = V − E and C(s, t) = cosh(√s t), S(s, t) = sinh(√s t)/√s (cos(√−s t), sin(√−s t)/√−s when s &lt; 0; S(0, t) = t):
/// entire functions of s, so one formula covers E below and above the step and nothing is singular at E = V.
/// The even (odd) state is C(s_c, y) (S(s_c, y)) in the centre, with derivative s_c S (C), and the side solution that
/// vanishes at the wall is S(s_w, ½ − y), with derivative −C(s_w, ½ − y). The energies are the zeros of the Wronskian
/// of the two at the step y = w/2 (t_c = w/2, t_w = d):
/// even: C_c C_w + s_c S_c S_w = 0;  odd: S_c C_w + C_c S_w = 0.
/// (For the well, s_c = −E = −k², so even: k tan(k w/2) = κ coth(κ d) with κ = √(V0 − E), and odd: k cot(k w/2) =
/// −κ coth(κ d); above V0, κ coth(κ d) becomes q cot(q d) with q = √(E − V0).) Each Wronskian is divided by
/// cosh(√s t) &gt; 0 where it would overflow, which moves no zero. Zeros are bracketed by a scan in k = √E with
/// step 0.01 and refined by Brent's method. Consecutive zeros of one parity are ≳ π/(½ + d√V0/π) apart in k (the phase
/// k w/2 + q d advances by about π between them and dq/dk = k/q ≤ √(1 + V0 d²/π²) once q d ≥ π), so the step is far
/// below their spacing for V0 up to ~10⁶.
/// </remarks>
public static class SchrodingerAnalytic
{
    /// <summary>E_n = (n π / L)², n = 1 … <paramref name="states"/>, of the infinite well of length <paramref name="length"/>.</summary>
    public static double[] InfiniteWellEnergies(double length, int states) =>
        Enumerable.Range(1, states).Select(n => Math.Pow(n * Math.PI / length, 2)).ToArray();

    /// <summary>ψ_n(x) = √(2/L) sin(n π x / L), n ≥ 1 (state index n − 1), on [0, L].</summary>
    public static double InfiniteWellState(int n, double length, double x) => Math.Sqrt(2 / length) * Math.Sin(n * Math.PI * x / length);

    /// <summary>V = 0 for |x − c| &lt; w/2, V0 elsewhere (V0/2 on the edges themselves, the mean of the two sides).</summary>
    public static Func<double, double> FiniteWell(double v0, double width, double centre = 0.5) =>
        x => Step(Math.Abs(x - centre) - width / 2, v0);

    /// <summary>V = V0 for |x − c| &lt; w/2, 0 elsewhere (V0/2 on the edges themselves).</summary>
    public static Func<double, double> FiniteBarrier(double v0, double width, double centre = 0.5) =>
        x => Step(width / 2 - Math.Abs(x - centre), v0);

    static double Step(double d, double v0) => d > 0 ? v0 : d < 0 ? 0 : v0 / 2;

    /// <summary>
    /// The lowest energies of the box [0, 1] with V = 0 on the central well of width <paramref name="width"/> and
    /// V = <paramref name="v0"/> between the well and the walls; both below and above V0, ascending.
    /// </summary>
    public static double[] FiniteWellEnergies(double v0, double width, int states) =>
        SymmetricBoxEnergies(0, v0, width, states, "finite well");

    /// <summary>The lowest energies of the box [0, 1] with V = <paramref name="v0"/> on a central barrier of width <paramref name="width"/>, 0 elsewhere.</summary>
    public static double[] FiniteBarrierEnergies(double v0, double width, int states) =>
        SymmetricBoxEnergies(v0, 0, width, states, "finite barrier");

    /// <summary>Centre potential <paramref name="vc"/> on |y| &lt; w/2, side potential <paramref name="vs"/> out to the walls at |y| = ½.</summary>
    static double[] SymmetricBoxEnergies(double vc, double vs, double width, int states, string what)
    {
        if (!(width > 0 && width < 1)) throw new PinnException($"{what}: width {width} must lie in (0, 1)");
        if (!(double.IsFinite(vc) && double.IsFinite(vs) && vc >= 0 && vs >= 0))
            throw new PinnException($"{what}: V0 = {Math.Max(vc, vs)} must be a finite number ≥ 0");
        if (states < 1) throw new PinnException($"{what}: {states} states requested; at least 1");
        double tc = width / 2, tw = (1 - width) / 2;
        double Even(double e)
        {
            var (cc, sc) = Pair(vc - e, tc);
            var (cw, sw) = Pair(vs - e, tw);
            return cc * cw + (vc - e) * sc * sw;
        }
        double Odd(double e)
        {
            var (cc, sc) = Pair(vc - e, tc);
            var (cw, sw) = Pair(vs - e, tw);
            return sc * cw + cc * sw;
        }
        var roots = new List<double>();
        const double dk = 0.01;
        // Scanning upward in k, every root below the current k has been found: stop once there are enough.
        double kPrev = dk / 2, fe = Even(kPrev * kPrev), fo = Odd(kPrev * kPrev);
        for (double k = kPrev + dk; roots.Count < states; kPrev = k, k += dk)
        {
            double e0 = kPrev * kPrev, e1 = k * k;
            double ge = Even(e1), go = Odd(e1);
            // A sample exactly on a zero is taken as the root of the step ending there, not again by the next one.
            if (fe != 0 && Math.Sign(fe) != Math.Sign(ge)) roots.Add(Root(Even, e0, e1));
            if (fo != 0 && Math.Sign(fo) != Math.Sign(go)) roots.Add(Root(Odd, e0, e1));
            (fe, fo) = (ge, go);
            if (k > 1e6) throw new PinnException($"{what}: fewer than {states} energies below k = 1e6 (scan failed)");
        }
        roots.Sort();
        return roots.Take(states).ToArray();
    }

    /// <summary>(C(s, t), S(s, t)), both divided by cosh(√s t) when s &gt; 0 so that neither overflows.</summary>
    static (double C, double S) Pair(double s, double t)
    {
        if (s > 0)
        {
            double r = Math.Sqrt(s);
            return (1, Math.Tanh(r * t) / r);
        }
        if (s < 0)
        {
            double q = Math.Sqrt(-s);
            return (Math.Cos(q * t), Math.Sin(q * t) / q);
        }
        return (1, t);
    }

    static double Root(Func<double, double> f, double lo, double hi)
    {
        if (f(lo) == 0) return lo;
        if (f(hi) == 0) return hi;
        // MathNet's Brent also stops once |f| < accuracy, and these Wronskians are small (S ~ 1/κ) with small slopes: a
        // tolerance of 1e-15·E left 1e-12 relative errors in E. With a negligible one it stops when the bracket is a few ulp wide.
        return Brent.FindRoot(f, lo, hi, 1e-300, 400);
    }
}
