using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Tests.Symbolic;

public class ParserTests
{
    static readonly SymbolTable Burgers = new(["x", "t"], ["u"], ["nu"], ["x"]);
    static readonly SymbolTable TwoD = new(["x", "y"], ["u"], []);
    static readonly FieldDerivative U = Field("u");
    static readonly Coordinate X = Coord("x"), Y = Coord("y");

    static Expr P(string s, SymbolTable? t = null) => ExprParser.ParseExpr(s, t ?? Burgers);

    [Fact]
    public void Parser_and_operators_build_the_same_Burgers_residual()
    {
        var built = Dt(U) + U * Dx(U) - 0.01 / Pi * Dxx(U);
        P("u_t + u*u_x - 0.01/pi*u_xx").Equals(built).Should().BeTrue();
    }

    [Fact]
    public void Derivative_forms_are_interchangeable()
    {
        P("d(u, x, x)").Equals(P("u_xx")).Should().BeTrue();
        P("d(u, x, t)").Equals(P("u_tx")).Should().BeTrue("mixed partials commute: the multi-index is sorted");
        P("u_xt").Equals(P("u_tx")).Should().BeTrue();
        ExprParser.ParseExpr("lap(u)", TwoD).Equals(Dxx(U) + Dyy(U)).Should().BeTrue();
        P("lap(u)").Equals(Dxx(U)).Should().BeTrue("lap only sums over the spatial coordinates, not t");
    }

    [Fact]
    public void Precedence_and_associativity_follow_the_usual_rules()
    {
        P("-x^2").Equals(-Pow(X, 2)).Should().BeTrue("unary minus binds looser than ^");
        P("2^3^2").Equals(Const(512)).Should().BeTrue("^ is right-associative: 2^(3^2)");
        P("x - t - u").Equals((X - Coord("t")) - U).Should().BeTrue("- is left-associative");
        P("x/t/u").Equals((X / Coord("t")) / U).Should().BeTrue();
        P("x**2").Equals(Pow(X, 2)).Should().BeTrue("** is accepted as power");
        P("1e-3*x").Equals(Const(1e-3) * X).Should().BeTrue();
    }

    [Fact]
    public void Equation_strings_split_at_the_equals_sign()
    {
        var eq = ExprParser.ParseEquation("u_t = nu*u_xx", Burgers);
        eq.Residual.Equals(Dt(U) - Param("nu") * Dxx(U)).Should().BeTrue();
    }

    [Theory]
    [InlineData("u_t + ux", "ux", 7, "u_x")]
    [InlineData("sni(x)", "sni", 1, "sin")]
    [InlineData("u_t - nuu*u_xx", "nuu", 7, "nu")]
    public void Unknown_names_report_symbol_column_and_suggestion(string text, string symbol, int column, string suggestion)
    {
        var act = () => P(text);
        var e = act.Should().Throw<ExprParseException>().Which;
        e.Symbol.Should().Be(symbol);
        e.Column.Should().Be(column);
        e.Message.Should().Contain($"'{symbol}'").And.Contain($"column {column}").And.Contain($"did you mean '{suggestion}'");
    }

    [Theory]
    [InlineData("u_t +", "ended")]
    [InlineData("(x + t", "expected ')'")]
    [InlineData("x $ t", "unexpected '$'")]
    [InlineData("sin(x, t)", "takes 1 argument")]
    [InlineData("d(u, 2)", "not a coordinate")]
    [InlineData("u = x = t", "more than one '='")]
    [InlineData("", "empty")]
    public void Malformed_strings_give_a_clear_error(string text, string fragment)
    {
        var act = () => ExprParser.ParseEquation(text, Burgers);
        act.Should().Throw<ExprParseException>().WithMessage($"*{fragment}*");
    }

    [Theory]
    [InlineData("u_t + u*u_x - 0.01/pi*u_xx")]
    [InlineData("-(x + t)*sin(pi*x)^2 - exp(-nu*t)/(1 + u^2)")]
    [InlineData("x^(-1) + (-2)*u + 2^x^t + (x^2)^t")]
    [InlineData("tanh(u) - sqrt(abs(x)) + log(1 + x*x)*cosh(t) - sinh(u_xt)/tan(x)")]
    [InlineData("a_b_c")]
    public void Printer_round_trips_through_the_parser(string text)
    {
        var symbols = text == "a_b_c" ? new SymbolTable(["x1", "x2"], ["a_b_c"]) : Burgers;
        var e = ExprParser.ParseExpr(text, symbols);
        var printed = ExprPrinter.Print(e);
        ExprParser.ParseExpr(printed, symbols).Equals(e).Should().BeTrue($"'{printed}' should parse back to the same tree");
    }

    [Fact]
    public void Multi_letter_coordinates_print_derivatives_with_d()
    {
        var t = new SymbolTable(["x1", "x2"], ["u"]);
        var e = ExprParser.ParseExpr("d(u, x1, x2) + u_x1x1", t);
        ExprPrinter.Print(e).Should().Be("d(u, x1, x2) + d(u, x1, x1)");
        ExprParser.ParseExpr(ExprPrinter.Print(e), t).Equals(e).Should().BeTrue();
    }

    [Fact]
    public void Constants_fold_but_named_constants_stay_symbolic()
    {
        P("2*3 + 1").Equals(Const(7)).Should().BeTrue();
        ExprPrinter.Print(P("0.01/pi")).Should().Be("0.01/pi");
        P("0*u + 1*x").Equals(X).Should().BeTrue();
    }
}
