using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace Pinn.References;

/// <summary>
/// Fourier pseudo-spectral solver for 1-D periodic semilinear PDEs u_t = L u + N(u), stepped with
/// ETDRK4 (Cox &amp; Matthews 2002, "Exponential time differencing for stiff systems", eq. 26–29) and
/// its coefficients evaluated by contour integrals (Kassam &amp; Trefethen 2005, "Fourth-order
/// time-stepping for stiff PDEs", §3), which avoids the cancellation of the closed forms for small hL.
/// float64 throughout; no dealiasing (at 512 modes the Allen–Cahn and KS solutions of the benchmarks
/// are resolved to round-off in their highest modes, and the self-convergence tests pin the result).
/// </summary>
public sealed class Etdrk4Solver
{
    const int ContourPoints = 32;
    readonly double _a, _period;
    readonly int _n;
    readonly Complex[] _linear;
    readonly double[] _k;
    readonly Action<double[], Complex[], Complex[]> _nonlinear;

    /// <param name="linearSymbol">L in Fourier space at angular wavenumber k (u_xx → −k², u_xxxx → k⁴, −c u_x → −ick).</param>
    /// <param name="nonlinearHat">Given u on the grid and its transform, writes the transform of N(u).</param>
    public Etdrk4Solver(double a, double period, int points, Func<double, Complex> linearSymbol,
                        Action<double[], Complex[], Complex[]> nonlinearHat)
    {
        if (points < 4 || points % 2 != 0) throw new ArgumentException("need an even number of at least 4 grid points", nameof(points));
        if (!(period > 0)) throw new ArgumentException("period must be positive", nameof(period));
        _a = a;
        _period = period;
        _n = points;
        _k = Wavenumbers(points, period);
        _linear = _k.Select(linearSymbol).ToArray();
        _nonlinear = nonlinearHat;
        Grid = Enumerable.Range(0, points).Select(j => a + period * j / points).ToArray();
    }

    public double[] Grid { get; }

    /// <summary>Angular wavenumbers in FFT order; the Nyquist mode is 0 so odd derivatives stay real.</summary>
    static double[] Wavenumbers(int n, double period)
    {
        var k = new double[n];
        for (int j = 0; j < n; j++) k[j] = 2 * Math.PI / period * (j < n / 2 ? j : j == n / 2 ? 0 : j - n);
        return k;
    }

    /// <summary>i·k·û (the transform of u_x), for building nonlinear terms.</summary>
    public Complex[] DerivativeHat(Complex[] uHat) => uHat.Select((v, j) => Complex.ImaginaryOne * _k[j] * v).ToArray();

    public Complex[] Forward(double[] u)
    {
        var c = u.Select(v => new Complex(v, 0)).ToArray();
        Fourier.Forward(c, FourierOptions.Matlab);
        return c;
    }

    public double[] Inverse(Complex[] uHat)
    {
        var c = (Complex[])uHat.Clone();
        Fourier.Inverse(c, FourierOptions.Matlab);
        return c.Select(v => v.Real).ToArray();
    }

    sealed record Coefficients(Complex[] E, Complex[] E2, Complex[] Q, Complex[] F1, Complex[] F2, Complex[] F3);

    Coefficients For(double h)
    {
        int n = _n;
        var e = new Complex[n]; var e2 = new Complex[n]; var q = new Complex[n];
        var f1 = new Complex[n]; var f2 = new Complex[n]; var f3 = new Complex[n];
        for (int j = 0; j < n; j++)
        {
            var hl = h * _linear[j];
            e[j] = Complex.Exp(hl);
            e2[j] = Complex.Exp(hl / 2);
            Complex sq = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int m = 1; m <= ContourPoints; m++)
            {
                // Points on a unit circle around hL (Kassam & Trefethen eq. 3.3).
                var lr = hl + Complex.Exp(Complex.ImaginaryOne * Math.PI * (m - 0.5) / ContourPoints);
                var el = Complex.Exp(lr);
                var lr3 = lr * lr * lr;
                sq += (Complex.Exp(lr / 2) - 1) / lr;
                s1 += (-4 - lr + el * (4 - 3 * lr + lr * lr)) / lr3;
                s2 += (2 + lr + el * (-2 + lr)) / lr3;
                s3 += (-4 - 3 * lr - lr * lr + el * (4 - lr)) / lr3;
            }
            q[j] = h * sq / ContourPoints;
            f1[j] = h * s1 / ContourPoints;
            f2[j] = h * s2 / ContourPoints;
            f3[j] = h * s3 / ContourPoints;
        }
        return new Coefficients(e, e2, q, f1, f2, f3);
    }

    Complex[] N(Complex[] vHat)
    {
        var u = Inverse(vHat);
        var result = new Complex[_n];
        _nonlinear(u, vHat, result);
        return result;
    }

    /// <summary>u at each of <paramref name="outputTimes"/> (ascending, ≥ 0): [times][grid points]. Steps are at most <paramref name="dt"/>, shortened so every output time is hit exactly.</summary>
    public double[][] Solve(Func<double, double> u0, IReadOnlyList<double> outputTimes, double dt)
    {
        if (!(dt > 0)) throw new ArgumentException("dt must be positive", nameof(dt));
        var v = Forward(Grid.Select(u0).ToArray());
        var cache = new Dictionary<double, Coefficients>();
        var result = new double[outputTimes.Count][];
        double t = 0;
        for (int o = 0; o < outputTimes.Count; o++)
        {
            double target = outputTimes[o];
            if (target < t - 1e-12) throw new ArgumentException("output times must be ascending and ≥ 0", nameof(outputTimes));
            int steps = (int)Math.Ceiling((target - t) / dt - 1e-9);
            if (steps > 0)
            {
                double h = (target - t) / steps;
                double key = Math.Round(h, 15);
                if (!cache.TryGetValue(key, out var c)) cache[key] = c = For(h);
                for (int s = 0; s < steps; s++) v = Step(v, c);
                t = target;
                if (v.Any(x => !double.IsFinite(x.Real) || !double.IsFinite(x.Imaginary)))
                    throw new PinnException($"spectral reference solver: the solution became non-finite by t = {t:G6}");
            }
            result[o] = Inverse(v);
        }
        return result;
    }

    Complex[] Step(Complex[] v, Coefficients c)
    {
        int n = _n;
        var nv = N(v);
        var a = new Complex[n];
        for (int j = 0; j < n; j++) a[j] = c.E2[j] * v[j] + c.Q[j] * nv[j];
        var na = N(a);
        var b = new Complex[n];
        for (int j = 0; j < n; j++) b[j] = c.E2[j] * v[j] + c.Q[j] * na[j];
        var nb = N(b);
        var cc = new Complex[n];
        for (int j = 0; j < n; j++) cc[j] = c.E2[j] * a[j] + c.Q[j] * (2 * nb[j] - nv[j]);
        var nc = N(cc);
        var next = new Complex[n];
        for (int j = 0; j < n; j++)
            next[j] = c.E[j] * v[j] + nv[j] * c.F1[j] + 2 * (na[j] + nb[j]) * c.F2[j] + nc[j] * c.F3[j];
        return next;
    }

    /// <summary>Trigonometric interpolation of grid values at any x (periodic): exact for band-limited data.</summary>
    public double Interpolate(Complex[] uHat, double x)
    {
        double s = 0;
        double theta = 2 * Math.PI / _period * (x - _a);
        for (int j = 0; j < _n; j++)
        {
            int m = j < _n / 2 ? j : j - _n;
            double w = j == _n / 2 ? 0.5 : 1.0; // split the Nyquist mode evenly between ±N/2
            var term = uHat[j] * Complex.Exp(Complex.ImaginaryOne * m * theta);
            s += w * term.Real;
            if (j == _n / 2) s += w * (uHat[j] * Complex.Exp(-Complex.ImaginaryOne * m * theta)).Real;
        }
        return s / _n;
    }

    public double Interpolate(double[] u, double x) => Interpolate(Forward(u), x);

    // ---- the benchmarks' equations ----------------------------------------------------------
    /// <summary>u_t = d u_xx + r (u − u³).</summary>
    public static Etdrk4Solver AllenCahn(double diffusion = 1e-4, double reaction = 5, int points = 512, double a = -1, double period = 2)
    {
        Etdrk4Solver? s = null;
        s = new Etdrk4Solver(a, period, points, k => -diffusion * k * k + reaction, (u, _, outHat) =>
        {
            var cube = s!.Forward(u.Select(v => -reaction * v * v * v).ToArray());
            Array.Copy(cube, outHat, cube.Length);
        });
        return s;
    }

    /// <summary>u_t + α u u_x + β u_xx + γ u_xxxx = 0, with N(u) = −(α/2)(u²)_x.</summary>
    public static Etdrk4Solver KuramotoSivashinsky(double alpha = 5, double beta = 0.5, double gamma = 0.005, int points = 512,
                                                   double a = -1, double period = 2)
    {
        Etdrk4Solver? s = null;
        s = new Etdrk4Solver(a, period, points, k => beta * k * k - gamma * k * k * k * k, (u, _, outHat) =>
        {
            var sq = s!.DerivativeHat(s.Forward(u.Select(v => v * v).ToArray()));
            for (int j = 0; j < sq.Length; j++) outHat[j] = -alpha / 2 * sq[j];
        });
        return s;
    }

    /// <summary>u_t + c u_x = 0 (linear: N = 0).</summary>
    public static Etdrk4Solver Advection(double c, int points, double a, double period) =>
        new(a, period, points, k => -Complex.ImaginaryOne * c * k, (_, _, outHat) => Array.Clear(outHat));

    /// <summary>u_t = d u_xx (linear: N = 0).</summary>
    public static Etdrk4Solver Heat(double diffusion, int points, double a, double period) =>
        new(a, period, points, k => -diffusion * k * k, (_, _, outHat) => Array.Clear(outHat));
}
