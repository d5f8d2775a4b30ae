using Pinn.Geometry;
using Pinn.Problems;

namespace Pinn.References;

/// <summary>
/// Reference values from a file, evaluated at the file's own points.
/// <list type="bullet">
/// <item>.csv: a header naming every coordinate and field; one row per point.</item>
/// <item>.npy: an n×(d+m) array, columns = coordinates in domain order, then fields.</item>
/// <item>.npz: one 1-D array per coordinate and one per field, either on the tensor grid of the
/// coordinate arrays (shape [n_1, …, n_d] in domain order, or its reverse) or as scattered points of
/// equal length. <paramref name="arrays"/> maps a field or coordinate to another array name
/// (DeepXDE's Burgers.npz stores u as "usol").</item>
/// <item>.mat (MATLAB level 5, <see cref="MatFile"/>): one variable per coordinate and field, read like an .npz
/// (Raissi's burgers_shock.mat: x 256×1, t 100×1, usol 256×100 = u[x, t]). Complex and non-numeric variables are refused.</item>
/// </list>
/// </summary>
public sealed class DataFileReference(string path, IReadOnlyDictionary<string, string>? arrays = null) : IReference
{
    public string Path { get; } = path;
    public string Description => $"data file {Path}";

    string ArrayName(string name) => arrays is not null && arrays.TryGetValue(name, out var a) ? a : name;

    /// <summary>
    /// The file's points and values. Every error starts with the file's path and carries the config key
    /// <c>problem.reference.file</c>, so a run reports the config line that names the file as well.
    /// </summary>
    public ReferenceSolution Solve(Problem problem, IReadOnlyList<int> gridCounts) => Read(problem.Domain.CoordinateNames, problem.Fields);

    /// <summary>The file's points (columns <paramref name="coords"/>) and the values of <paramref name="fields"/> (a data term reads a subset).</summary>
    public ReferenceSolution Read(IReadOnlyList<string> coords, IReadOnlyList<string> fields)
    {
        try
        {
            if (!File.Exists(Path)) throw new PinnException("file not found", Path);
            return System.IO.Path.GetExtension(Path).ToLowerInvariant() switch
            {
                ".csv" => FromCsv(coords, fields),
                ".npy" => FromNpy(coords, fields),
                ".npz" => FromNpz(coords, fields),
                ".mat" => FromMat(coords, fields),
                var ext => throw new PinnException($"{Path}: unsupported reference file type '{ext}' (use .npy, .npz, .mat or .csv)"),
            };
        }
        catch (PinnException e) when (e.Key is null)
        {
            throw new PinnException($"reference file {e.Message}", inner: e) { Key = "problem.reference.file" };
        }
    }

    ReferenceSolution FromCsv(IReadOnlyList<string> coords, IReadOnlyList<string> fields)
    {
        var table = CsvTable.Read(Path);
        var points = Columns(coords.Select(c => table.Column(ArrayName(c))).ToArray());
        var values = Columns(fields.Select(f => table.Column(ArrayName(f))).ToArray());
        return new ReferenceSolution(coords, points, fields, values);
    }

    ReferenceSolution FromNpy(IReadOnlyList<string> coords, IReadOnlyList<string> fields)
    {
        var a = Npy.Read(Path);
        int d = coords.Count, m = fields.Count;
        if (a.Rank != 2 || a.Shape[1] != d + m)
            throw new PinnException($"{Path}: expected an n×{d + m} array (columns {string.Join(", ", coords.Concat(fields))}), got shape [{string.Join(", ", a.Shape)}]");
        int n = a.Shape[0];
        var points = new double[n, d];
        var values = new double[n, m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) points[i, j] = a.Data[i * (d + m) + j];
            for (int k = 0; k < m; k++) values[i, k] = a.Data[i * (d + m) + d + k];
        }
        return new ReferenceSolution(coords, points, fields, values);
    }

    ReferenceSolution FromNpz(IReadOnlyList<string> coords, IReadOnlyList<string> fields)
    {
        var all = Npz.Read(Path);
        return FromNamedArrays(coords, fields, key => all.TryGetValue(key, out var a) ? a : null, $"arrays: {string.Join(", ", all.Keys)}");
    }

    /// <summary>A MAT-file's variables are named arrays like an .npz's, with MATLAB's dimensions (vectors are 1×n or n×1).</summary>
    ReferenceSolution FromMat(IReadOnlyList<string> coords, IReadOnlyList<string> fields)
    {
        var mat = MatFile.Read(Path);
        return FromNamedArrays(coords, fields, key => mat.Contains(key) ? mat.RealArray(key) : null, mat.Listing());
    }

    /// <summary>
    /// One array per coordinate and per field, looked up by name (<paramref name="lookup"/> gives null for a
    /// missing name; <paramref name="listing"/> says what the file has): scattered points of equal length, or
    /// the coordinate arrays as grid axes and each field on that grid, in coordinate order or its reverse.
    /// </summary>
    ReferenceSolution FromNamedArrays(IReadOnlyList<string> coords, IReadOnlyList<string> fields,
                                      Func<string, NdArray?> lookup, string listing)
    {
        NdArray Get(string name)
        {
            var key = ArrayName(name);
            return lookup(key) ?? throw new PinnException($"{Path}: no array '{key}'{(key == name ? "" : $" for '{name}'")} ({listing})");
        }
        var axes = coords.Select(c => Get(c).Data).ToArray();
        var fieldArrays = fields.Select(Get).ToArray();
        long gridSize = axes.Aggregate(1L, (acc, a) => acc * a.Length);
        int n0 = axes[0].Length;
        bool scattered = axes.All(a => a.Length == n0) && fieldArrays.All(f => f.Data.Length == n0) && gridSize != n0;
        if (scattered || coords.Count == 1)
        {
            var points = Columns(axes);
            var values = Columns(fieldArrays.Select(f => f.Data).ToArray());
            return new ReferenceSolution(coords, points, fields, values);
        }
        var gridShape = axes.Select(a => a.Length).ToArray();
        var grid = new double[gridSize, fields.Count];
        for (int k = 0; k < fields.Count; k++)
        {
            var f = fieldArrays[k];
            var shape = f.Shape.Where(s => s != 1).ToArray();
            if (shape.SequenceEqual(gridShape))
                for (long i = 0; i < gridSize; i++) grid[i, k] = f.Data[i];
            else if (shape.SequenceEqual(gridShape.Reverse()))
                for (long i = 0; i < gridSize; i++) grid[i, k] = f.Data[ReverseIndex(i, gridShape)];
            else
                throw new PinnException($"{Path}: array '{ArrayName(fields[k])}' has shape [{string.Join(", ", f.Shape)}], " +
                                        $"but the coordinate arrays make a [{string.Join(", ", gridShape)}] grid");
        }
        return new ReferenceSolution(coords, Box.Cartesian(axes), fields, grid, axes);
    }

    /// <summary>Flat index into the axis-reversed (transposed) layout of row-major index <paramref name="i"/>.</summary>
    static long ReverseIndex(long i, int[] shape)
    {
        var idx = new long[shape.Length];
        for (int j = shape.Length - 1; j >= 0; j--) { idx[j] = i % shape[j]; i /= shape[j]; }
        long r = 0;
        for (int j = shape.Length - 1; j >= 0; j--) r = r * shape[j] + idx[j];
        return r;
    }

    double[,] Columns(double[][] cols)
    {
        int n = cols[0].Length;
        var a = new double[n, cols.Length];
        for (int j = 0; j < cols.Length; j++)
        {
            if (cols[j].Length != n) throw new PinnException($"{Path}: the coordinate and field arrays have different lengths ({n} and {cols[j].Length})");
            for (int i = 0; i < n; i++) a[i, j] = cols[j][i];
        }
        return a;
    }
}
