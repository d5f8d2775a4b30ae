using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Tests.Symbolic;

public class DifferentiationTests
{
    static readonly FieldDerivative U = Field("u"), V = Field("v");
    static readonly Coordinate X = Coord("x"), T = Coord("t");

    [Fact]
    public void Field_derivatives_gain_an_index()
    {
        D(U, X).Equals(new FieldDerivative("u", ["x"])).Should().BeTrue();
        D(Dt(U), X).Equals(new FieldDerivative("u", ["x", "t"])).Should().BeTrue();
        Dxx(U).Should().BeOfType<FieldDerivative>().Which.Order.Should().Be(2);
    }

    [Fact]
    public void Product_rule_for_u_squared()
    {
        D(U * U, X).Equals(Dx(U) * U + U * Dx(U)).Should().BeTrue();
    }

    [Fact]
    public void Chain_rule_through_elementary_functions()
    {
        D(Sin(U), X).Equals(Cos(U) * Dx(U)).Should().BeTrue();
        D(Exp(2 * X), X).Equals(Exp(2 * X) * 2).Should().BeTrue();
        D(Tanh(U), T).Equals((1 - Pow(Tanh(U), 2)) * Dt(U)).Should().BeTrue();
        D(Log(U), X).Equals(1 / U * Dx(U)).Should().BeTrue();
        D(Pow(U, 3), X).Equals(3 * Pow(U, 2) * Dx(U)).Should().BeTrue();
    }

    [Fact]
    public void Constants_parameters_and_other_coordinates_have_zero_derivative()
    {
        D(Pi * Param("nu") + T, X).Equals(Const(0)).Should().BeTrue();
        D(X, X).Equals(Const(1)).Should().BeTrue();
        D(Sin(T), X).Equals(Const(0)).Should().BeTrue();
    }

    [Fact]
    public void Quotient_and_general_power_rules()
    {
        D(U / V, X).Equals(Dx(U) / V - U * Dx(V) / Pow(V, 2)).Should().BeTrue();
        D(Pow(U, X), X).Equals(Pow(U, X) * (Log(U) + X * Dx(U) / U)).Should().BeTrue();
    }

    [Fact]
    public void Laplacian_grad_and_div()
    {
        var y = Coord("y");
        Laplacian(U, X, y).Equals(Dxx(U) + Dyy(U)).Should().BeTrue();
        var g = Grad(U, X, y);
        Div(g, X, y).Equals(Laplacian(U, X, y)).Should().BeTrue();
    }

    [Fact]
    public void Equality_operator_builds_an_equation()
    {
        Equation eq = Dt(U) == Param("nu") * Dxx(U);
        eq.Residual.Equals(Dt(U) - Param("nu") * Dxx(U)).Should().BeTrue();
        eq.ToString().Should().Be("u_t = nu*u_xx");
    }
}
