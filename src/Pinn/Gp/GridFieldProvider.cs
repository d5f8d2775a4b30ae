using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// Field derivatives of a grid GP at every node of its grid (flattened row-major): ∂^α u by
/// per-axis kernel-derivative operators (<see cref="GridStep.Field"/>) instead of autograd. The
/// symbolic residuals are evaluated on it unchanged.
/// </summary>
public sealed class GridFieldProvider(GridGpField gp, GridStep step, IReadOnlyList<string> coordinates,
                                      IReadOnlyList<string> fields, Func<string, Tensor> parameter) : IFieldProvider
{
    public ScalarType DType => gp.DType;
    public Device Device => gp.Device;
    public long Count => gp.NodeCount;

    public Tensor Coordinate(string name)
    {
        for (int j = 0; j < coordinates.Count; j++)
            if (coordinates[j] == name) return gp.Coordinates[j];
        throw new PinnException($"unknown coordinate '{name}'");
    }

    public Tensor Field(FieldDerivative derivative)
    {
        for (int i = 0; i < fields.Count; i++)
            if (fields[i] == derivative.Field) return step.Field(derivative, i).reshape(-1);
        throw new PinnException($"unknown field '{derivative.Field}'");
    }

    public Tensor Parameter(string name) => parameter(name);
}
