using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Symbolic;

/// <summary>
/// The leaves of an expression of coordinates and parameters only (boundary data, a distance function) at a
/// batch of points, in the points' dtype and device. Coordinates are columns of the points tensor, so an
/// expression evaluated on points that require grad is differentiable with respect to them. Reading a field
/// is an error: such expressions have none.
/// </summary>
public sealed class CoordinateProvider(Tensor points, IReadOnlyList<string> coordinates, IReadOnlyDictionary<string, double> parameters)
    : IFieldProvider
{
    public ScalarType DType => points.dtype;
    public Device Device => points.device;
    public long Count => points.shape[0];

    public Tensor Coordinate(string name)
    {
        for (int j = 0; j < coordinates.Count; j++)
            if (coordinates[j] == name) return points[TensorIndex.Colon, j];
        throw new PinnException($"unknown coordinate '{name}' (coordinates: {string.Join(", ", coordinates)})");
    }

    public Tensor Field(FieldDerivative derivative) =>
        throw new InvalidOperationException($"{derivative}: an expression of the coordinates only was expected");

    public Tensor Parameter(string name) =>
        parameters.TryGetValue(name, out var v)
            ? tensor(v, dtype: DType, device: Device)
            : throw new PinnException($"unknown parameter '{name}'");
}
