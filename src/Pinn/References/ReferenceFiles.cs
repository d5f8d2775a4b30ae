namespace Pinn.References;

/// <summary>Writes a reference solution so other tools can compare against it.</summary>
public static class ReferenceFiles
{
    /// <summary>
    /// .npz: one array per coordinate (the grid axes, or the point columns) and one per field (grid-shaped
    /// [n_1, …, n_d] in coordinate order when on a grid); .npy: an n×(d+m) table; .csv: the same table with a header.
    /// </summary>
    /// <summary>One 1-D array per coordinate (grid axis or point column), the layout both reference and prediction files use.</summary>
    public static Dictionary<string, NdArray> CoordinateArrays(ReferenceSolution r)
    {
        var arrays = new Dictionary<string, NdArray>();
        for (int j = 0; j < r.Coordinates.Count; j++)
        {
            var axis = r.AxisValues(j);
            arrays[r.Coordinates[j]] = new NdArray([axis.Length], axis);
        }
        return arrays;
    }

    public static void Write(ReferenceSolution r, string path)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var names = r.Coordinates.Concat(r.Fields).ToArray();
        double[] Column(int j) => j < r.Coordinates.Count
            ? Enumerable.Range(0, r.Count).Select(i => r.Points[i, j]).ToArray()
            : r.FieldValues(j - r.Coordinates.Count);
        switch (System.IO.Path.GetExtension(path).ToLowerInvariant())
        {
            case ".csv":
                new CsvTable(names, names.Select((_, j) => Column(j)).ToArray()).Write(path);
                break;
            case ".npy":
                var flat = new double[r.Count * names.Length];
                for (int j = 0; j < names.Length; j++)
                {
                    var c = Column(j);
                    for (int i = 0; i < r.Count; i++) flat[i * names.Length + j] = c[i];
                }
                Npy.Write(path, new NdArray([r.Count, names.Length], flat));
                break;
            case ".npz":
                var arrays = CoordinateArrays(r);
                for (int k = 0; k < r.Fields.Count; k++)
                    arrays[r.Fields[k]] = new NdArray(r.Shape, r.FieldValues(k));
                Npz.Write(path, arrays);
                break;
            default:
                throw new PinnException($"{path}: unsupported output type (use .npy, .npz or .csv)");
        }
    }
}
