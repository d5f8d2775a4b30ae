// TEMPORARY until helper files land
namespace Pinn.Geometry { public interface IPointSampler { double[,] Sample(int n, int dim); }
 public static class SamplerFactory { public static IPointSampler Create(string kind, int seed) => new UniformSampler(seed); }
 public class UniformSampler(int seed) : IPointSampler { Random r = new(seed); public double[,] Sample(int n, int dim) { var a = new double[n, dim]; for (int i = 0; i < n; i++) for (int j = 0; j < dim; j++) a[i, j] = r.NextDouble(); return a; } } }
namespace Pinn.References {
 public sealed class NdArray { public NdArray(int[] shape, double[] data) { Shape = shape; Data = data; } public int[] Shape { get; } public double[] Data { get; } public int Rank => Shape.Length; }
 public static class Npy { public static NdArray Read(string path) => throw new NotImplementedException(); public static void Write(string path, NdArray a) => throw new NotImplementedException(); }
 public static class Npz { public static IReadOnlyDictionary<string, NdArray> Read(string path) => throw new NotImplementedException(); public static void Write(string path, IReadOnlyDictionary<string, NdArray> arrays) { } }
 public sealed class CsvTable { public CsvTable(string[] header, double[][] columns) { } public int Rows => 0; public double[] Column(string name) => throw new NotImplementedException(); public static CsvTable Read(string path) => throw new NotImplementedException(); public void Write(string path) { } }
}
