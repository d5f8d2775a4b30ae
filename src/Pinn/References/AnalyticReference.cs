using Pinn.Problems;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.References;

/// <summary>An exact solution given as expressions of the coordinates (and parameters), one per field.</summary>
public sealed class AnalyticReference(IReadOnlyDictionary<string, Expr> exact) : PointwiseReference
{
    public IReadOnlyDictionary<string, Expr> Exact { get; } = exact;

    public override string Description =>
        "exact solution " + string.Join("; ", Exact.Select(kv => $"{kv.Key} = {kv.Value}"));

    public override double[,] Evaluate(Problem problem, double[,] points)
    {
        using var scope = NewDisposeScope();
        var provider = new ExactSolutionProvider(problem.Domain.CoordinateNames, Exact, problem.ReferenceParameterValues,
                                                 ExactSolutionProvider.ToTensor(points));
        var values = new double[points.GetLength(0), problem.Fields.Count];
        for (int k = 0; k < problem.Fields.Count; k++)
        {
            if (!Exact.ContainsKey(problem.Fields[k]))
                throw new PinnException($"problem '{problem.Name}': no exact solution for field '{problem.Fields[k]}'");
            var v = provider.Field(Sym.Field(problem.Fields[k])).data<double>().ToArray();
            for (int i = 0; i < v.Length; i++) values[i, k] = v[i];
        }
        return values;
    }
}

/// <summary>
/// Field derivatives of an exact solution, by symbolic differentiation (float64, no autograd):
/// plugged into the residual evaluator it shows whether a problem's equations and its exact
/// solution agree.
/// </summary>
public sealed class ExactSolutionProvider : IFieldProvider
{
    readonly IReadOnlyList<string> _coords;
    readonly IReadOnlyDictionary<string, Expr> _exact;
    readonly IReadOnlyDictionary<string, double> _parameters;
    readonly Tensor _points;
    readonly TensorEvaluator _inner;

    public ExactSolutionProvider(IReadOnlyList<string> coordinates, IReadOnlyDictionary<string, Expr> exact,
                                 IReadOnlyDictionary<string, double> parameters, Tensor points)
    {
        _coords = coordinates;
        _exact = exact;
        _parameters = parameters;
        _points = points;
        _inner = new TensorEvaluator(this);
    }

    public static Tensor ToTensor(double[,] points) =>
        tensor(points, dtype: ScalarType.Float64);

    public ScalarType DType => ScalarType.Float64;
    public Device Device => CPU;
    public long Count => _points.shape[0];

    public Tensor Coordinate(string name)
    {
        int j = _coords.ToList().IndexOf(name);
        if (j < 0) throw new PinnException($"unknown coordinate '{name}'");
        return _points[TensorIndex.Colon, j];
    }

    public Tensor Field(FieldDerivative d)
    {
        if (!_exact.TryGetValue(d.Field, out var u)) throw new PinnException($"no exact solution for field '{d.Field}'");
        return _inner.Evaluate(Sym.D(u, d.Wrt.ToArray()));
    }

    public Tensor Parameter(string name) =>
        _parameters.TryGetValue(name, out var v)
            ? tensor(v, dtype: ScalarType.Float64)
            : throw new PinnException($"unknown parameter '{name}'");
}
