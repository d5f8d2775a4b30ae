using System.Globalization;
using Pinn.Autodiff;
using Pinn.Config;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.References;
using Pinn.Symbolic;
using Pinn.Training;
using static TorchSharp.torch;

namespace Pinn.Reporting;

/// <summary>One requested derivative column: the name as the user typed it (<c>u_tx</c>) and the ∂^α u it stands for.</summary>
public sealed record DerivativeColumn(string Name, FieldDerivative Derivative);

/// <summary>Predictions at a list of points, column by column: the coordinates, then the fields, then the requested derivatives.</summary>
public sealed record PredictionTable(IReadOnlyList<string> Columns, double[][] Values)
{
    public int Rows => Values.Length == 0 ? 0 : Values[0].Length;

    public double[] Column(string name)
    {
        for (int j = 0; j < Columns.Count; j++) if (Columns[j] == name) return Values[j];
        throw new ArgumentException($"no column '{name}'", nameof(name));
    }
}

/// <summary>What <see cref="Prediction.Predict"/> computed, and from which run and checkpoint.</summary>
public sealed record PredictionResult(PredictionTable Table, RunConfig Config, TrainerState State);

/// <summary>
/// <c>pinn predict</c>: a trained run's model (<see cref="TrainedRun"/>) at the user's points, with derivatives by the same
/// nested autograd the residuals use (<see cref="AutogradFieldProvider"/>), in batches under a dispose scope.
/// </summary>
public static class Prediction
{
    /// <summary>Points per forward pass: bounds the autograd graph of second derivatives to a few MB per layer.</summary>
    public const int DefaultBatch = 4096;

    static readonly string[] OutputTypes = [".csv", ".npy", ".npz"];

    /// <summary>
    /// Loads the run, reads <paramref name="pointsPath"/> and evaluates. Points outside the domain are evaluated (the model
    /// extrapolates) with one warning line on <paramref name="warnings"/>.
    /// </summary>
    public static PredictionResult Predict(string runDir, string pointsPath, IEnumerable<string> derivatives,
                                           IProblemCatalog catalog, TextWriter? warnings = null, int batch = DefaultBatch)
    {
        using var run = TrainedRun.Load(runDir, catalog);
        var problem = run.Config.Problem;
        var coordinates = problem.Domain.CoordinateNames;
        var columns = ParseDerivatives(derivatives, coordinates, problem.Fields);
        if (columns.Count > 0 && !run.Model.DifferentiableInPoints)
            throw new PinnException($"--derivatives: the {run.Config.Model.Type} model has no derivatives at arbitrary points " +
                                    "(the grid GP differentiates on its grid only); predict its values without --derivatives");
        var points = ReadPoints(pointsPath, coordinates);
        if (Outside(points, problem.Domain, pointsPath) is { } warning) warnings?.WriteLine(warning);
        var table = Evaluate(run.Model, points, coordinates, problem.Fields, columns, run.DType, run.Device, batch);
        return new PredictionResult(table, run.Config, run.State);
    }

    /// <summary>Refuses an output file type before anything is computed.</summary>
    public static void CheckOutput(string path)
    {
        if (!OutputTypes.Contains(Path.GetExtension(path).ToLowerInvariant()))
            throw new PinnException($"{path}: unsupported output type (use .csv, .npy or .npz)");
    }

    /// <summary>
    /// Derivative names (<c>u_x</c>, <c>u_xx</c>, <c>v_xt</c>: a field, '_', then coordinates) parsed with the equation
    /// parser's own shorthand; anything else is an error with the closest valid name.
    /// </summary>
    public static IReadOnlyList<DerivativeColumn> ParseDerivatives(IEnumerable<string> names, IReadOnlyList<string> coordinates, IReadOnlyList<string> fields)
    {
        var symbols = new SymbolTable(coordinates, fields);
        var result = new List<DerivativeColumn>();
        foreach (var raw in names)
        {
            var name = raw.Trim();
            if (name.Length == 0) continue;
            if (result.Any(c => c.Name == name)) throw new PinnException($"--derivatives: '{name}' is given twice");
            Expr? parsed = null;
            if (name.All(ch => char.IsLetterOrDigit(ch) || ch == '_'))
                try { parsed = ExprParser.ParseExpr(name, symbols); }
                catch (ExprParseException) { }
            switch (parsed)
            {
                case FieldDerivative { Order: > 0 } d:
                    result.Add(new DerivativeColumn(name, d));
                    continue;
                case FieldDerivative:
                    throw new PinnException($"--derivatives: '{name}' is a field, always in the output; a derivative is written like {fields[0]}_{coordinates[0]}");
            }
            var hint = ExprParser.Suggest(name, Candidates(coordinates, fields, maxOrder: 3));
            throw new PinnException($"--derivatives: unknown derivative '{name}'{(hint is null ? "" : $" (did you mean '{hint}'?)")}; " +
                                    $"a derivative is a field ({string.Join(", ", fields)}), '_' and coordinates ({string.Join(", ", coordinates)}), e.g. {fields[0]}_{coordinates[0]}{coordinates[0]}");
        }
        return result;
    }

    /// <summary>u_x, u_t, u_xx, u_xt, … (coordinates in domain order) up to <paramref name="maxOrder"/>: the names a typo is matched against.</summary>
    static IEnumerable<string> Candidates(IReadOnlyList<string> coordinates, IReadOnlyList<string> fields, int maxOrder)
    {
        IEnumerable<string> Runs(int order, int from) => order == 0
            ? [""]
            : Enumerable.Range(from, coordinates.Count - from).SelectMany(j => Runs(order - 1, j).Select(rest => coordinates[j] + rest));
        return fields.SelectMany(f => Enumerable.Range(1, maxOrder).SelectMany(k => Runs(k, 0)).Select(run => $"{f}_{run}"));
    }

    /// <summary>
    /// n × d points in the domain's coordinate order from a .csv (a header naming the coordinates in any order, or no header
    /// and the columns in the domain's order) or an n × d .npy array (domain order).
    /// </summary>
    public static double[,] ReadPoints(string path, IReadOnlyList<string> coordinates)
    {
        int d = coordinates.Count;
        var names = string.Join(", ", coordinates);
        if (!File.Exists(path)) throw new PinnException("points file not found", path);
        double[,] points;
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".npy":
            {
                var a = Npy.Read(path);
                bool table = a.Rank == 2 && a.Shape[1] == d, column = a.Rank == 1 && d == 1;
                if (!table && !column)
                    throw new PinnException($"expected an n×{d} array (columns {names}, in that order), got shape [{string.Join(", ", a.Shape)}]", path);
                int n = a.Shape[0];
                points = new double[n, d];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < d; j++) points[i, j] = a.Data[i * d + j];
                break;
            }
            case ".csv":
            {
                var t = CsvTable.Read(path, headerless: coordinates);
                var extra = t.Header.Where(h => !coordinates.Contains(h)).ToList();
                if (extra.Count > 0)
                {
                    var hint = extra[0].Length > 1 ? ExprParser.Suggest(extra[0], coordinates) : null; // one letter is one edit from any other
                    throw new PinnException($"unknown column{(extra.Count > 1 ? "s" : "")} {string.Join(", ", extra.Select(e => $"'{e}'"))} " +
                                            $"(the columns must be the coordinates {names}{(hint is null ? "" : $"; did you mean '{hint}'?")})", path);
                }
                var missing = coordinates.Where(c => !t.Header.Contains(c)).ToList();
                if (missing.Count > 0)
                    throw new PinnException($"no column for coordinate{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))} " +
                                            $"(header: {string.Join(", ", t.Header)}; the coordinates are {names})", path);
                points = new double[t.Rows, d];
                for (int j = 0; j < d; j++)
                {
                    var c = t.Column(coordinates[j]);
                    for (int i = 0; i < t.Rows; i++) points[i, j] = c[i];
                }
                break;
            }
            default:
                throw new PinnException("unsupported points file type (use .csv or .npy)", path);
        }
        if (points.GetLength(0) == 0) throw new PinnException("no points in the file", path);
        for (int i = 0; i < points.GetLength(0); i++)
            for (int j = 0; j < d; j++)
                if (!double.IsFinite(points[i, j]))
                    throw new PinnException($"point {i + 1}: {coordinates[j]} = {points[i, j].ToString(CultureInfo.InvariantCulture)} is not a finite number", path);
        return points;
    }

    /// <summary>A one-line warning when some points lie outside the box (beyond round-off), else null.</summary>
    public static string? Outside(double[,] points, Box domain, string path)
    {
        int n = points.GetLength(0), count = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < domain.Dim; j++)
            {
                var a = domain.Axes[j];
                double slack = 1e-12 * Math.Max(1, a.Length); // a grid written with %g and read back may overshoot by round-off
                if (points[i, j] < a.Min - slack || points[i, j] > a.Max + slack)
                {
                    count++;
                    break;
                }
            }
        if (count == 0) return null;
        var box = string.Join(", ", domain.Axes.Select(a => $"{a.Name} ∈ [{a.Min.ToString(CultureInfo.InvariantCulture)}, {a.Max.ToString(CultureInfo.InvariantCulture)}]"));
        return $"warning: {path}: {count} of {n} points lie outside the domain ({box}); the model extrapolates there";
    }

    /// <summary>The model's fields and <paramref name="derivatives"/> at <paramref name="points"/> (n × d, coordinate order).</summary>
    public static PredictionTable Evaluate(IFieldModel model, double[,] points, IReadOnlyList<string> coordinates, IReadOnlyList<string> fields,
                                           IReadOnlyList<DerivativeColumn> derivatives, ScalarType dtype, Device device, int batch = DefaultBatch)
    {
        int n = points.GetLength(0), d = coordinates.Count, m = fields.Count, k = derivatives.Count;
        if (points.GetLength(1) != d) throw new ArgumentException($"points have {points.GetLength(1)} columns, the domain {d}", nameof(points));
        if (model.InputDim != d || model.OutputDim != m)
            throw new ArgumentException($"the model maps {model.InputDim} → {model.OutputDim}, the problem {d} → {m}", nameof(model));
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch));
        var values = Enumerable.Range(0, d + m + k).Select(_ => new double[n]).ToArray();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) values[j][i] = points[i, j];

        for (int start = 0; start < n; start += batch)
        {
            using var scope = NewDisposeScope();
            int len = Math.Min(batch, n - start);
            var flat = new double[len * d];
            for (int i = 0; i < len; i++)
                for (int j = 0; j < d; j++) flat[i * d + j] = points[start + i, j];
            var x = tensor(flat, [len, d], dtype: ScalarType.Float64).to(dtype, device);
            Tensor y;
            var columns = new List<Tensor>();
            if (k == 0)
            {
                using var _ = no_grad();
                y = model.Forward(x);
            }
            else
            {
                x.requires_grad_(true);
                y = model.Forward(x);
                var provider = new AutogradFieldProvider(x, y, coordinates, fields,
                    name => throw new PinnException($"a derivative column cannot read the parameter '{name}'"));
                columns.AddRange(derivatives.Select(c => provider.Field(c.Derivative)));
            }
            var yv = y.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
            for (int i = 0; i < len; i++)
                for (int f = 0; f < m; f++) values[d + f][start + i] = yv[i * m + f];
            for (int c = 0; c < k; c++)
            {
                var dv = columns[c].detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
                Array.Copy(dv, 0, values[d + m + c], start, len);
            }
        }
        return new PredictionTable([.. coordinates, .. fields, .. derivatives.Select(c => c.Name)], values);
    }

    /// <summary>
    /// .csv: a header and one row per point; .npy: one n × (d + m + k) float64 array in <see cref="PredictionTable.Columns"/>
    /// order; .npz: one array of length n per column name.
    /// </summary>
    public static void Write(PredictionTable table, string path)
    {
        CheckOutput(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        int n = table.Rows, c = table.Columns.Count;
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".csv":
                new CsvTable([.. table.Columns], table.Values).Write(path);
                break;
            case ".npy":
                var flat = new double[n * c];
                for (int j = 0; j < c; j++)
                    for (int i = 0; i < n; i++) flat[i * c + j] = table.Values[j][i];
                Npy.Write(path, new NdArray([n, c], flat));
                break;
            default:
                Npz.Write(path, table.Columns.Select((name, j) => (name, j)).ToDictionary(t => t.name, t => new NdArray([n], table.Values[t.j])));
                break;
        }
    }
}
