namespace Pinn.References;

/// <summary>
/// Finite-difference reference solver for the 2-D nonlinear (porous-medium-type) diffusion
/// u_t = D (u_x² + u u_xx + u_y² + u u_yy) = (D/2) Δ(u²) on a rectangle with u = 0 on its boundary
/// (the PIG benchmark, Kang et al. ICLR 2025, D = 0.05).
/// <para>
/// Space: the conservative form (D/2) Δ_h(u²) with the 5-point Laplacian on a uniform grid of
/// <see cref="Points"/> nodes per axis (boundary nodes included and held at 0): second order where u is
/// smooth, and a sum of fluxes, so the discrete mass h_x h_y Σ u changes only through the boundary.
/// </para>
/// <para>
/// Time: classical RK4, explicit. The diffusivity D·u is at most D·max u0 (max principle), about 0.02 for the
/// benchmark, so the explicit step limit is mild; measured at the default 257² grid the whole t ∈ [0, 1]
/// solve takes ~1 s, cheaper than any implicit step would be. The linearised operator D Δ_h(u ·) has
/// eigenvalues in [−D·max u·4(1/h_x² + 1/h_y²), 0]; RK4 is stable on the real interval [−2.785, 0], and the
/// step is <see cref="StabilityFactor"/>/(D·max u0·4(1/h_x² + 1/h_y²)) (factor 2, ~70 % of the limit) or the
/// caller's smaller dt. At that step the time error is far below the space error (measured in the tests).
/// </para>
/// The solver is immutable; <see cref="Solve"/> allocates its own work space and is thread-safe.
/// </summary>
public sealed class NonlinearDiffusionSolver
{
    /// <summary>dt·(largest |eigenvalue|) of the linearised operator; RK4's real stability limit is 2.785.</summary>
    public const double StabilityFactor = 2.0;

    readonly int _n;
    readonly double _hx, _hy, _half, _maxDt;

    /// <param name="diffusion">D in u_t = D(|∇u|² + u Δu).</param>
    /// <param name="points">Grid nodes per axis, boundary included (≥ 3).</param>
    /// <param name="maxDt">Largest time step; the stability limit applies anyway (∞ = use the limit).</param>
    public NonlinearDiffusionSolver(double diffusion = 0.05, int points = 257, double xMin = -1, double xMax = 1,
                                    double yMin = -1, double yMax = 1, double maxDt = double.PositiveInfinity)
    {
        if (!(diffusion > 0) || !double.IsFinite(diffusion)) throw new ArgumentException($"nonlinear diffusion solver: D must be positive and finite, got {diffusion}", nameof(diffusion));
        if (points < 3) throw new ArgumentException($"nonlinear diffusion solver: need at least 3 grid points per axis, got {points}", nameof(points));
        if (!(xMax > xMin) || !(yMax > yMin) || !double.IsFinite(xMax - xMin) || !double.IsFinite(yMax - yMin))
            throw new ArgumentException($"nonlinear diffusion solver: empty or infinite rectangle [{xMin}, {xMax}]×[{yMin}, {yMax}]");
        if (!(maxDt > 0)) throw new ArgumentException($"nonlinear diffusion solver: dt must be positive, got {maxDt}", nameof(maxDt));
        Diffusion = diffusion;
        _n = points;
        _hx = (xMax - xMin) / (points - 1);
        _hy = (yMax - yMin) / (points - 1);
        _half = diffusion / 2;
        _maxDt = maxDt;
        X = Enumerable.Range(0, points).Select(i => i == points - 1 ? xMax : xMin + i * _hx).ToArray();
        Y = Enumerable.Range(0, points).Select(j => j == points - 1 ? yMax : yMin + j * _hy).ToArray();
    }

    public double Diffusion { get; }
    public int Points => _n;
    /// <summary>Grid nodes in x (index i of a solution u[i, j]).</summary>
    public double[] X { get; }
    /// <summary>Grid nodes in y (index j of a solution u[i, j]).</summary>
    public double[] Y { get; }

    /// <summary>The RK4 step used while max |u| ≤ <paramref name="uMax"/>: the stability limit, or the caller's smaller dt.</summary>
    public double Step(double uMax) =>
        Math.Min(_maxDt, uMax > 0 ? StabilityFactor / (Diffusion * uMax * 4 * (1 / (_hx * _hx) + 1 / (_hy * _hy))) : double.PositiveInfinity);

    /// <summary>
    /// Integrates from t = 0 and returns u[i, j] = u(X[i], Y[j]) at each of <paramref name="times"/> (ascending, ≥ 0).
    /// At t = 0 the result is <paramref name="u0"/> itself, boundary nodes included (the problem's initial condition);
    /// for t &gt; 0 the boundary nodes are 0. Between output times the steps are equal and at most <see cref="Step"/>.
    /// </summary>
    public double[][,] Solve(Func<double, double, double> u0, IReadOnlyList<double> times)
    {
        ArgumentNullException.ThrowIfNull(u0);
        ArgumentNullException.ThrowIfNull(times);
        for (int o = 0; o < times.Count; o++)
        {
            if (!double.IsFinite(times[o]) || times[o] < 0) throw new ArgumentException($"nonlinear diffusion solver: output time {times[o]} is not a finite time ≥ 0", nameof(times));
            if (o > 0 && times[o] < times[o - 1]) throw new ArgumentException("nonlinear diffusion solver: output times must be in ascending order", nameof(times));
        }
        int n = _n;
        var initial = new double[n, n];
        var u = new double[n * n];
        double uMax = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = u0(X[i], Y[j]);
                if (!double.IsFinite(v)) throw new PinnException($"nonlinear diffusion solver: u0 is not finite at ({X[i]:G6}, {Y[j]:G6})");
                initial[i, j] = v;
                bool boundary = i == 0 || j == 0 || i == n - 1 || j == n - 1;
                u[i * n + j] = boundary ? 0 : v;
                if (!boundary) uMax = Math.Max(uMax, Math.Abs(v));
            }
        // max |u| does not grow (max principle), so the step chosen from u0 stays stable.
        double dtMax = Step(uMax);
        var w = new Work(n * n);
        var result = new double[times.Count][,];
        double t = 0;
        for (int o = 0; o < times.Count; o++)
        {
            double span = times[o] - t;
            // Equal steps ≤ dtMax; the relative 1e-9 keeps a span that is a multiple of dtMax from gaining a step to round-off.
            int steps = span > 0 ? (int)Math.Max(1, Math.Ceiling(span / dtMax * (1 - 1e-9))) : 0;
            for (int s = 0; s < steps; s++) RungeKutta4(u, span / steps, w);
            if (steps > 0 && !u.All(double.IsFinite))
                throw new PinnException($"nonlinear diffusion solver: the solution became non-finite before t = {times[o]:G6}");
            t = times[o];
            if (t == 0) { result[o] = (double[,])initial.Clone(); continue; }
            var r = new double[n, n];
            Buffer.BlockCopy(u, 0, r, 0, n * n * sizeof(double));
            result[o] = r;
        }
        return result;
    }

    sealed class Work(int size)
    {
        public readonly double[] Sum = new double[size], A = new double[size], B = new double[size];
    }

    /// <summary>One classical RK4 step of length h, in place (boundary entries stay 0: every stage leaves them alone).</summary>
    void RungeKutta4(double[] u, double h, Work w)
    {
        // k_s = F(y_s) with F(y) = (D/2) Δ_h(y²); y_1 = u, y_2 = u + h/2 k_1, y_3 = u + h/2 k_2, y_4 = u + h k_3,
        // u ← u + h/6 (k_1 + 2k_2 + 2k_3 + k_4). Each pass evaluates one k and forms the next stage (one sweep over memory).
        Stage(u, u, w.Sum, w.A, 0, 1, h / 2);
        Stage(w.A, u, w.Sum, w.B, 1, 2, h / 2);
        Stage(w.B, u, w.Sum, w.A, 1, 2, h);
        Stage(w.A, u, w.Sum, u, 1, 1, 0, h / 6);
    }

    /// <summary>
    /// At interior nodes: k = (D/2) Δ_h(y²); sum ← keep·sum + weight·k; next = u + a·k. The last stage (a = 0) writes
    /// u + last·(sum + k) into next (= u, read only at the same node).
    /// </summary>
    void Stage(double[] y, double[] u, double[] sum, double[] next, double keep, double weight, double a, double last = 0)
    {
        int n = _n;
        double cx = _half / (_hx * _hx), cy = _half / (_hy * _hy);
        // Plain array indexing, no spans: Debug builds (the CLI's and the tests') run this loop unoptimised.
        if (last == 0)
            for (int i = 1; i < n - 1; i++)
                for (int m = i * n + 1, end = i * n + n - 1; m < end; m++)
                {
                    double c = y[m] * y[m];
                    double k = cx * (y[m - n] * y[m - n] + y[m + n] * y[m + n] - 2 * c) + cy * (y[m - 1] * y[m - 1] + y[m + 1] * y[m + 1] - 2 * c);
                    sum[m] = keep * sum[m] + weight * k;
                    next[m] = u[m] + a * k;
                }
        else
            for (int i = 1; i < n - 1; i++)
                for (int m = i * n + 1, end = i * n + n - 1; m < end; m++)
                {
                    double c = y[m] * y[m];
                    double k = cx * (y[m - n] * y[m - n] + y[m + n] * y[m + n] - 2 * c) + cy * (y[m - 1] * y[m - 1] + y[m + 1] * y[m + 1] - 2 * c);
                    next[m] = u[m] + last * (sum[m] + k);
                }
    }

    /// <summary>
    /// Interpolates grid values u[i, j] ≥ 0 at (x, y): tensor-product cubic Lagrange (four nodes per axis, the window
    /// shifted inward at the edges) applied to u², then the square root. Not u itself, because at a zero Dirichlet
    /// boundary the porous-medium solution behaves like u ≈ A·√(distance) (here A ≈ 0.1 near x = −1 at t = 1): u² is
    /// linear there and smooth everywhere, u is not (cubic interpolation of u from a 129² grid misses the 257² grid's
    /// solution by 5.5e-4 relative L2, max 1.2e-3, all at the boundary layer; of u², by the figure in the tests).
    /// Where any of the 16 values is negative (a u0 of both signs) u is interpolated directly. Points on grid nodes
    /// (within 1e-10 spacings per axis) return the grid values exactly. Points outside the rectangle extrapolate.
    /// </summary>
    public double Interpolate(double[,] u, double x, double y)
    {
        ArgumentNullException.ThrowIfNull(u);
        if (u.GetLength(0) != _n || u.GetLength(1) != _n) throw new ArgumentException($"nonlinear diffusion solver: {u.GetLength(0)}×{u.GetLength(1)} values for a {_n}×{_n} grid", nameof(u));
        Span<double> wx = stackalloc double[4], wy = stackalloc double[4];
        int i0 = Weights((x - X[0]) / _hx, wx, out bool nodeX), j0 = Weights((y - Y[0]) / _hy, wy, out bool nodeY);
        if (nodeX && nodeY) return u[i0 + wx.IndexOf(1.0), j0 + wy.IndexOf(1.0)];
        double direct = 0, squares = 0;
        bool negative = false;
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
            {
                if (wx[a] == 0 || wy[b] == 0) continue;
                double v = u[i0 + a, j0 + b], w = wx[a] * wy[b];
                negative |= v < 0;
                direct += w * v;
                squares += w * v * v;
            }
        return negative ? direct : Math.Sqrt(Math.Max(squares, 0));
    }

    /// <summary>Lagrange weights of the 4-node window around fractional index s; returns the window's first index.</summary>
    int Weights(double s, Span<double> w, out bool onNode)
    {
        w.Clear();
        double node = Math.Round(s);
        onNode = Math.Abs(s - node) <= 1e-10 && node >= 0 && node <= _n - 1;
        if (onNode)
        {
            int k = (int)node, start = Math.Clamp(k - 1, 0, Math.Max(0, _n - 4));
            w[k - start] = 1;
            return start;
        }
        int first = _n < 4 ? 0 : Math.Clamp((int)Math.Floor(s) - 1, 0, _n - 4);
        int count = Math.Min(4, _n);
        for (int a = 0; a < count; a++)
        {
            double p = 1;
            for (int b = 0; b < count; b++)
                if (b != a) p *= (s - (first + b)) / (a - b);
            w[a] = p;
        }
        return first;
    }
}
