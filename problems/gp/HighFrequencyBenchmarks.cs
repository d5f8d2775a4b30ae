using Pinn.Geometry;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// The high-frequency and multi-scale benchmarks of GP-HM (Fang et al., ICLR 2024; PAPERS.md §3):
/// Poisson and Allen–Cahn in 1-D and 2-D and a fast advection, each with an exact solution from
/// which the source is derived symbolically (<see cref="Manufactured"/>), Dirichlet data from the
/// exact solution. They are ordinary problems: PINN, PIG and the GP all run them.
/// </summary>
public sealed class HighFrequencyBenchmark : Problem
{
    string _description = "";
    public override string Name { get; }
    public override string Description => _description;

    HighFrequencyBenchmark(string name) => Name = name;

    /// <summary>Every benchmark by name, for the problem catalog.</summary>
    public static readonly IReadOnlyDictionary<string, Func<Problem>> All = new Dictionary<string, Func<Problem>>
    {
        ["poisson1d_sin20"] = () => Poisson1D("poisson1d_sin20", 0, 2 * Math.PI, x => Sin(20 * x)),
        ["poisson1d_sin100"] = () => Poisson1D("poisson1d_sin100", 0, 2 * Math.PI, x => Sin(100 * x)),
        ["poisson1d_sin6cos100"] = () => Poisson1D("poisson1d_sin6cos100", 0, 2 * Math.PI, x => Sin(6 * x) * Cos(100 * x)),
        ["poisson1d_xsin200"] = () => Poisson1D("poisson1d_xsin200", 0, 2 * Math.PI, x => x * Sin(200 * x)),
        ["poisson1d_sin500"] = () => Poisson1D("poisson1d_sin500", 0, 1, x => Sin(500 * x) - 2 * Pow(x - 0.5, 2)),
        ["poisson1d_multiscale"] = () => Poisson1D("poisson1d_multiscale", 0, 1, x => Sin(x) + 0.1 * Sin(20 * x) + 0.05 * Cos(100 * x)),
        ["allen_cahn1d_sin100"] = () => AllenCahn1D("allen_cahn1d_sin100", x => Sin(100 * x)),
        ["allen_cahn1d_sin6cos100"] = () => AllenCahn1D("allen_cahn1d_sin6cos100", x => Sin(6 * x) * Cos(100 * x)),
        ["poisson2d_sin100"] = () => Poisson2D("poisson2d_sin100", 0, 2 * Math.PI, (x, y) => Sin(100 * x) * Sin(100 * y)),
        ["poisson2d_sin6cos20"] = () => Poisson2D("poisson2d_sin6cos20", 0, 2 * Math.PI,
                                                  (x, y) => Sin(6 * x) * Cos(20 * x) + Sin(6 * y) * Cos(20 * y)),
        // A smooth 2-D case (6 and 5 periods per unit): a 100² grid has 16–20 nodes per period.
        ["poisson2d_smooth"] = () => Poisson2D("poisson2d_smooth", 0, 1, (x, y) => Sin(12 * Math.PI * x) * Cos(10 * Math.PI * y)),
        ["allen_cahn2d_multiscale"] = AllenCahn2D,
        ["advection_sin200"] = Advection,
    };

    /// <summary>u_xx = f on [a, b], u = exact at both ends.</summary>
    public static HighFrequencyBenchmark Poisson1D(string name, double a, double b, Func<Expr, Expr> exact)
    {
        var p = new HighFrequencyBenchmark(name);
        var x = p.Space("x", a, b);
        var u = p.Field("u");
        var sol = exact(x);
        p.Equation(Manufactured.Equation(Dxx(u), u, sol));
        p.Dirichlet(Region.Boundary, u == sol);
        p.Exact(u, sol);
        return p.Described($"1-D Poisson u_xx = f on [{a:G4}, {b:G4}], manufactured from u = {sol}");
    }

    /// <summary>u_xx + u(u² − 1) = f on [0, 2π], u = exact at both ends.</summary>
    static HighFrequencyBenchmark AllenCahn1D(string name, Func<Expr, Expr> exact)
    {
        var p = new HighFrequencyBenchmark(name);
        var x = p.Space("x", 0, 2 * Math.PI);
        var u = p.Field("u");
        var sol = exact(x);
        p.Equation(Manufactured.Equation(Dxx(u) + u * (Pow(u, 2) - 1), u, sol));
        p.Dirichlet(Region.Boundary, u == sol);
        p.Exact(u, sol);
        return p.Described($"1-D Allen–Cahn u_xx + u(u² − 1) = f on [0, 2π], manufactured from u = {sol}");
    }

    /// <summary>u_xx + u_yy = f on [a, b]², u = exact on the boundary.</summary>
    public static HighFrequencyBenchmark Poisson2D(string name, double a, double b, Func<Expr, Expr, Expr> exact)
    {
        var p = new HighFrequencyBenchmark(name);
        var x = p.Space("x", a, b);
        var y = p.Space("y", a, b);
        var u = p.Field("u");
        var sol = exact(x, y);
        p.Equation(Manufactured.Equation(Dxx(u) + Dyy(u), u, sol));
        p.Dirichlet(Region.Boundary, u == sol);
        p.Exact(u, sol);
        return p.Described($"2-D Poisson u_xx + u_yy = f on [{a:G4}, {b:G4}]², manufactured from u = {sol}");
    }

    /// <summary>u_xx + u_yy + u(u² − 1) = f on [0, 1]², u = Π_{z∈{x,y}} (sin z + 0.1 sin 20z + cos 100z).</summary>
    static Problem AllenCahn2D()
    {
        var p = new HighFrequencyBenchmark("allen_cahn2d_multiscale");
        var x = p.Space("x", 0, 1);
        var y = p.Space("y", 0, 1);
        var u = p.Field("u");
        Expr Factor(Expr z) => Sin(z) + 0.1 * Sin(20 * z) + Cos(100 * z);
        var sol = Factor(x) * Factor(y);
        p.Equation(Manufactured.Equation(Dxx(u) + Dyy(u) + u * (Pow(u, 2) - 1), u, sol));
        p.Dirichlet(Region.Boundary, u == sol);
        p.Exact(u, sol);
        return p.Described("2-D Allen–Cahn u_xx + u_yy + u(u² − 1) = f on [0, 1]², u = Π (sin z + 0.1 sin 20z + cos 100z)");
    }

    /// <summary>β u_x + u_t = 0 on [0, 1]² (x, t), β = 200, u = sin(x − βt); initial and inflow/outflow data from u.</summary>
    static Problem Advection()
    {
        var p = new HighFrequencyBenchmark("advection_sin200");
        var x = p.Space("x", 0, 1);
        var t = p.Time(0, 1);
        var u = p.Field("u");
        var beta = p.Parameter("beta", 200);
        var sol = Sin(x - beta * t);
        p.Equation(beta * Dx(u) + Dt(u) == 0);
        p.Initial(u == sol);
        p.Dirichlet(Region.Boundary, u == sol);
        p.Exact(u, sol);
        return p.Described("advection β u_x + u_t = 0, β = 200, on [0, 1]², u = sin(x − βt)");
    }

    HighFrequencyBenchmark Described(string description)
    {
        _description = description;
        return this;
    }
}
