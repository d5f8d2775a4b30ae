using Pinn.Geometry;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Flow mixing (2+1)-D u_t + a u_x + b u_y = 0, t ∈ [0, 4], x, y ∈ [−4, 4] (PIG paper §5, after SPINN):
/// a vortex with r = √(x² + y²), v_t = sech²(r) tanh(r), v_max = 0.385, a = −(v_t/v_max)(y/r),
/// b = (v_t/v_max)(x/r), ω = v_t/(r·v_max), exact u = −tanh((y/2) cos(ωt) − (x/2) sin(ωt)).
/// Initial and Dirichlet data from the exact solution. The velocity is 0/0 at r = 0 (its limit is 0):
/// evaluation grids must avoid the origin (even point counts on the symmetric box do).
/// </summary>
public sealed class FlowMixing : Problem
{
    public override string Name => "flow_mixing";
    public override string Description => "(2+1)-D flow mixing u_t + a u_x + b u_y = 0 (vortex, v_max = 0.385), exact solution";

    public FlowMixing()
    {
        var x = Space("x", -4, 4);
        var y = Space("y", -4, 4);
        var t = Time(0, 4);
        var u = Field("u");
        var vmax = Parameter("v_max", 0.385);
        var r = Sqrt(Pow(x, 2) + Pow(y, 2));
        var vt = Tanh(r) / Pow(Cosh(r), 2);
        var a = -(vt / vmax) * (y / r);
        var b = (vt / vmax) * (x / r);
        var omega = vt / (r * vmax);
        var exact = -Tanh(y / 2 * Cos(omega * t) - x / 2 * Sin(omega * t));
        Equation(Dt(u) + a * Dx(u) + b * Dy(u) == 0);
        Initial(u == exact);
        Dirichlet(Region.Boundary, u == exact);
        Exact(u, exact);
    }
}
