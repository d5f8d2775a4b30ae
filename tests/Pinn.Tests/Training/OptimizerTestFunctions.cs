using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

/// <summary>Test functions for the optimiser tests, in float64: plain C# versions and <see cref="IObjective"/>s.</summary>
static class OptimizerTestFunctions
{
    public static double Rosenbrock(double x, double y) => (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);

    public static (double, double) RosenbrockGradient(double x, double y) =>
        (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x));

    /// <summary>A = Q diag(λ) Qᵀ with Q a seeded random orthogonal matrix, λ log-spaced in [λmin, λmax].</summary>
    public static double[,] SymmetricPositiveDefinite(int n, double lambdaMin, double lambdaMax, Random random)
    {
        var m = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) m[i, j] = Gaussian(random);
        // Gram–Schmidt on the columns (n ≤ 40 here, so plain loops are fine and exactly reproducible).
        var q = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = m[i, j];
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < j; k++)
                {
                    double d = 0;
                    for (int i = 0; i < n; i++) d += q[i, k] * v[i];
                    for (int i = 0; i < n; i++) v[i] -= d * q[i, k];
                }
            double norm = Math.Sqrt(v.Sum(t => t * t));
            for (int i = 0; i < n; i++) q[i, j] = v[i] / norm;
        }
        var a = new double[n, n];
        for (int k = 0; k < n; k++)
        {
            double lambda = n == 1 ? lambdaMin : lambdaMin * Math.Pow(lambdaMax / lambdaMin, (double)k / (n - 1));
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) a[i, j] += q[i, k] * lambda * q[j, k];
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) a[i, j] = a[j, i] = 0.5 * (a[i, j] + a[j, i]);
        return a;
    }

    public static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static double[] GaussianVector(int n, Random random) => Enumerable.Range(0, n).Select(_ => Gaussian(random)).ToArray();

    public static double[] Multiply(double[,] a, double[] x)
    {
        int n = x.Length;
        var y = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) y[i] += a[i, j] * x[j];
        return y;
    }

    public static double Dot(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).Sum();

    public static Tensor Vector(params double[] values) => tensor(values, dtype: ScalarType.Float64);

    public static Tensor Matrix(double[,] a) => tensor(a, dtype: ScalarType.Float64);

    public static double[] Values(Tensor t) => t.data<double>().ToArray();
}

/// <summary>f(x) = ½ xᵀAx (minimum 0 at 0, so f is computed to relative accuracy near the minimum).</summary>
sealed class QuadraticObjective(Tensor a) : IObjective
{
    public Tensor A { get; } = a;
    public int Calls { get; private set; }

    public (double Value, Tensor Gradient) Evaluate(Tensor x)
    {
        Calls++;
        using var scope = NewDisposeScope();
        var g = A.mv(x);
        return (0.5 * x.dot(g).ToDouble(), g.MoveToOuterDisposeScope());
    }
}

/// <summary>The 2-D Rosenbrock function with its analytic gradient.</summary>
sealed class RosenbrockObjective : IObjective
{
    public List<double[]> Points { get; } = [];

    public (double Value, Tensor Gradient) Evaluate(Tensor x)
    {
        var v = x.data<double>().ToArray();
        Points.Add(v);
        var (gx, gy) = OptimizerTestFunctions.RosenbrockGradient(v[0], v[1]);
        return (OptimizerTestFunctions.Rosenbrock(v[0], v[1]), OptimizerTestFunctions.Vector(gx, gy));
    }
}

/// <summary>f(x) = cᵀx: unbounded below, so no strong-Wolfe step exists along any descent direction.</summary>
sealed class LinearObjective(double[] c) : IObjective
{
    public (double Value, Tensor Gradient) Evaluate(Tensor x) =>
        (OptimizerTestFunctions.Dot(c, x.data<double>().ToArray()), OptimizerTestFunctions.Vector(c));
}
