using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Symbolic;

/// <summary>
/// Supplies the leaves of an expression as tensors at one batch of points: coordinates, field
/// derivatives ∂^α u, parameter values. A neural model answers by autograd, an exact solution by
/// symbolic differentiation, a grid GP by kernel matrices — the evaluator does not know which.
/// </summary>
public interface IFieldProvider
{
    ScalarType DType { get; }
    Device Device { get; }
    /// <summary>Number of points in the batch.</summary>
    long Count { get; }
    Tensor Coordinate(string name);
    Tensor Field(FieldDerivative derivative);
    Tensor Parameter(string name);

    /// <summary>
    /// Told, before an expression is evaluated, which field derivatives it reads — so a provider that
    /// computes derivatives in one pass (jets) can compute just those. Optional.
    /// </summary>
    void Prepare(IEnumerable<FieldDerivative> needed) { }
}

/// <summary>
/// Evaluates expressions to tensors at one batch of points. Results are memoised by structural
/// equality, so a sub-expression shared by several residuals (or repeated inside one) is computed
/// once per batch. Create one evaluator per batch and step; the tensors belong to the caller's
/// dispose scope.
/// </summary>
public sealed class TensorEvaluator(IFieldProvider provider)
{
    readonly Dictionary<Expr, Tensor> _memo = new();

    public IFieldProvider Provider => provider;

    /// <summary>The value of <paramref name="e"/> at every point: a tensor of shape [Count].</summary>
    public Tensor Evaluate(Expr e)
    {
        if (!_memo.ContainsKey(e)) provider.Prepare(e.Descendants().OfType<FieldDerivative>());
        var t = Eval(e);
        return t.dim() == 0 ? t.expand(provider.Count) : t;
    }

    Tensor Eval(Expr e)
    {
        if (_memo.TryGetValue(e, out var cached)) return cached;
        var t = e switch
        {
            Constant c => Scalar(c.Value),
            NamedConstant n => Scalar(n.Value),
            Coordinate x => provider.Coordinate(x.Name),
            Parameter p => provider.Parameter(p.Name),
            FieldDerivative f => provider.Field(f),
            Unary u => ApplyUnary(u.Op, Eval(u.Arg)),
            Binary b => ApplyBinary(b, Eval(b.Left)),
            Piecewise p => Select(Eval(p.Cond), Eval(p.IfTrue), Eval(p.IfFalse)),
            _ => throw new PinnException($"the tensor evaluator cannot evaluate a {e.GetType().Name} node ('{e}')"),
        };
        _memo[e] = t;
        return t;
    }

    Tensor Scalar(double v) => tensor(v, dtype: provider.DType, device: provider.Device);

    /// <summary>
    /// where(c ≠ 0, a, b), NaN where c is NaN: a selection, so an inf or NaN in the branch not taken stays out of the value
    /// (the gradient's limitation is in <see cref="Symbolic.Piecewise"/>).
    /// </summary>
    static Tensor Select(Tensor c, Tensor a, Tensor b)
    {
        var picked = where(c.ne(0), a, b);
        var nan = c.isnan();
        return where(nan, c.detach(), picked);
    }

    /// <summary>1 or 0 in the provider's dtype: the bool result of a comparison carries no gradient (derivative 0).</summary>
    Tensor Indicator(Tensor condition) => condition.to_type(provider.DType);

    /// <summary>H(a) = 1 (a &gt; 0), 0 (a &lt; 0), ½ (a = 0), NaN (NaN): numpy's heaviside(a, 0.5); no gradient.</summary>
    Tensor Heaviside(Tensor a)
    {
        var h = Indicator(a.gt(0)) + 0.5 * Indicator(a.eq(0));
        return where(a.isnan(), a.detach().to_type(provider.DType), h);
    }

    Tensor ApplyUnary(UnaryOp op, Tensor a) => op switch
    {
        UnaryOp.Neg => a.neg(),
        UnaryOp.Sin => a.sin(),
        UnaryOp.Cos => a.cos(),
        UnaryOp.Tan => a.tan(),
        UnaryOp.Exp => a.exp(),
        UnaryOp.Log => a.log(),
        UnaryOp.Tanh => a.tanh(),
        UnaryOp.Sinh => a.sinh(),
        UnaryOp.Cosh => a.cosh(),
        UnaryOp.Sqrt => a.sqrt(),
        UnaryOp.Abs => a.abs(),
        UnaryOp.Sign => a.sign(),
        UnaryOp.Heaviside => Heaviside(a),
        _ => throw new PinnException($"the tensor evaluator does not know the function {op}"),
    };

    Tensor ApplyBinary(Binary b, Tensor l)
    {
        // Integer powers by repeated multiplication: exact, and well-defined for negative bases.
        if (b.Op == BinaryOp.Pow && b.Right is Constant { Value: var n } && n == Math.Round(n) && n is >= 2 and <= 4)
        {
            var r = l;
            for (int i = 1; i < (int)n; i++) r = r * l;
            return r;
        }
        var rt = Eval(b.Right);
        return b.Op switch
        {
            BinaryOp.Add => l + rt,
            BinaryOp.Sub => l - rt,
            BinaryOp.Mul => l * rt,
            BinaryOp.Div => l / rt,
            BinaryOp.Pow => l.pow(rt),
            BinaryOp.Lt => Indicator(l.lt(rt)),
            BinaryOp.Le => Indicator(l.le(rt)),
            BinaryOp.Gt => Indicator(l.gt(rt)),
            BinaryOp.Ge => Indicator(l.ge(rt)),
            // Selections (not torch.minimum, whose gradient splits on a tie): a on a tie, NaN from either side kept.
            BinaryOp.Min => where(l.le(rt).logical_or(l.isnan()), l, rt),
            BinaryOp.Max => where(l.ge(rt).logical_or(l.isnan()), l, rt),
            _ => throw new PinnException($"the tensor evaluator does not know the operator {b.Op} ('{b}')"),
        };
    }
}
