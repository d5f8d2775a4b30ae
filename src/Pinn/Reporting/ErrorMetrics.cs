using Pinn.Models;
using Pinn.References;
using static TorchSharp.torch;

namespace Pinn.Reporting;

/// <summary>Error of one field against the reference: ‖u−u_ref‖₂/‖u_ref‖₂ and max |u−u_ref| over the evaluation points.</summary>
public sealed record FieldError(double RelativeL2, double MaxAbs);

public sealed record ErrorReport(IReadOnlyDictionary<string, FieldError> Fields)
{
    /// <summary>The worst relative L2 error over the fields: the one number a summary line shows.</summary>
    public double RelativeL2 => Fields.Values.Max(f => f.RelativeL2);

    public override string ToString() =>
        string.Join(", ", Fields.Select(kv => $"{kv.Key}: rel L2 {kv.Value.RelativeL2:0.000e+00}, max {kv.Value.MaxAbs:0.000e+00}"));

    /// <param name="upToSign">The fields are determined up to one common sign (eigenfunctions): compare with whichever of ±reference
    /// is closer in the summed squared error.</param>
    public static ErrorReport Compare(double[,] predicted, ReferenceSolution reference, bool upToSign = false)
    {
        double sign = 1;
        if (upToSign)
        {
            double plus = 0, minus = 0;
            for (int k = 0; k < reference.Fields.Count; k++)
                for (int i = 0; i < reference.Count; i++)
                {
                    plus += Math.Pow(predicted[i, k] - reference.Values[i, k], 2);
                    minus += Math.Pow(predicted[i, k] + reference.Values[i, k], 2);
                }
            if (minus < plus) sign = -1;
        }
        var fields = new Dictionary<string, FieldError>();
        for (int k = 0; k < reference.Fields.Count; k++)
        {
            double num = 0, den = 0, max = 0;
            for (int i = 0; i < reference.Count; i++)
            {
                double e = predicted[i, k] - sign * reference.Values[i, k];
                num += e * e;
                den += reference.Values[i, k] * reference.Values[i, k];
                max = Math.Max(max, Math.Abs(e));
            }
            // A zero reference makes the relative error meaningless: report the absolute L2 norm then.
            fields[reference.Fields[k]] = new FieldError(den > 0 ? Math.Sqrt(num / den) : Math.Sqrt(num), max);
        }
        return new ErrorReport(fields);
    }
}

/// <summary>Evaluates a model on the reference's points and compares; the reference is computed once per run.</summary>
/// <param name="upToSign">Errors against ±reference, whichever is closer (<see cref="Problems.Problem.UpToSign"/>).</param>
public sealed class ReferenceComparison(ReferenceSolution reference, bool upToSign = false)
{
    const int Chunk = 65536; // bounds peak memory of a forward pass on large grids

    public ReferenceSolution Reference { get; } = reference;

    public ErrorReport Measure(IFieldModel model, ScalarType dtype, Device device) =>
        ErrorReport.Compare(Predict(model, Reference.Points, dtype, device), Reference, upToSign);

    public static double[,] Predict(IFieldModel model, double[,] points, ScalarType dtype, Device device)
    {
        int n = points.GetLength(0), d = points.GetLength(1);
        var result = new double[n, model.OutputDim];
        using var _ = no_grad();
        for (int start = 0; start < n; start += Chunk)
        {
            using var scope = NewDisposeScope();
            int len = Math.Min(Chunk, n - start);
            var flat = new double[len * d];
            for (int i = 0; i < len; i++)
                for (int j = 0; j < d; j++) flat[i * d + j] = points[start + i, j];
            var x = tensor(flat, [len, d], dtype: ScalarType.Float64).to(dtype, device);
            var y = model.Forward(x).to(ScalarType.Float64).cpu().data<double>().ToArray();
            for (int i = 0; i < len; i++)
                for (int k = 0; k < model.OutputDim; k++) result[start + i, k] = y[i * model.OutputDim + k];
        }
        return result;
    }
}
