using System.Globalization;
using Pinn.References;
using ScottPlot;
using SkiaSharp;

namespace Pinn.Reporting;

/// <summary>
/// The PNG plots of a finished run, next to its metrics: prediction / reference / |error| heatmaps and
/// time slices for two-coordinate problems on a grid, profiles for one-coordinate problems, and loss
/// and error curves from log.csv. Each panel is a ScottPlot figure; multi-panel images are composed
/// with SkiaSharp.
/// </summary>
public static class RunPlots
{
    public const int PanelWidth = 600, PanelHeight = 480;

    public static IReadOnlyList<string> Write(string dir, string problem, ReferenceSolution reference, double[,] predicted,
                                              string? timeAxis, ErrorReport? error)
    {
        var written = new List<string>();
        for (int k = 0; k < reference.Fields.Count; k++)
        {
            var field = reference.Fields[k];
            var rel = error?.Fields.TryGetValue(field, out var fe) == true ? $"rel. L2 {fe.RelativeL2:0.00e+00}" : "";
            var pred = Enumerable.Range(0, reference.Count).Select(i => predicted[i, k]).ToArray();
            var refv = reference.FieldValues(k);
            if (reference.Coordinates.Count == 1)
                written.Add(Profile(dir, problem, field, rel, reference.Points, pred, refv, reference.Coordinates[0]));
            else if (reference.Coordinates.Count == 2 && reference.GridAxes is { } axes)
            {
                written.Add(Heatmaps(dir, problem, field, rel, reference.Coordinates, axes, pred, refv, timeAxis));
                if (timeAxis is not null) written.Add(Slices(dir, problem, field, reference.Coordinates, axes, pred, refv, timeAxis));
            }
        }
        written.AddRange(Curves(dir, problem));
        return written;
    }

    static string Profile(string dir, string problem, string field, string rel, double[,] points, double[] pred, double[] refv, string axis)
    {
        var x = Enumerable.Range(0, pred.Length).Select(i => points[i, 0]).ToArray();
        var top = new Plot();
        var r = top.Add.ScatterLine(x, refv);
        r.LegendText = "reference";
        r.LineWidth = 2;
        var p = top.Add.ScatterLine(x, pred);
        p.LegendText = "prediction";
        p.LinePattern = LinePattern.Dashed;
        p.LineWidth = 2;
        top.ShowLegend();
        top.Title($"{problem}: {field} ({rel})");
        top.XLabel(axis);
        top.YLabel(field);
        var bottom = new Plot();
        bottom.Add.ScatterLine(x, pred.Zip(refv, (a, b) => Math.Abs(a - b)).ToArray());
        bottom.Title($"|{field} − {field}_ref|");
        bottom.XLabel(axis);
        return Compose(Path.Combine(dir, $"{field}_profile.png"), [top, bottom], columns: 2);
    }

    static string Heatmaps(string dir, string problem, string field, string rel, IReadOnlyList<string> coords,
                           IReadOnlyList<double[]> axes, double[] pred, double[] refv, string? timeAxis)
    {
        // Space–time: time across, space up (as in the Burgers figures of Raissi et al.); 2-D space: x across, y up.
        int across = timeAxis is not null && coords[0] == timeAxis ? 0 : timeAxis is not null ? 1 : 0;
        int up = 1 - across;
        var error = pred.Zip(refv, (a, b) => Math.Abs(a - b)).ToArray();
        var panels = new[] { (pred, $"{problem}: {field} predicted"), (refv, $"{field} reference"), (error, $"|error| ({rel})") }
            .Select(pv => HeatPanel(pv.Item1, pv.Item2, coords, axes, across, up)).ToArray();
        return Compose(Path.Combine(dir, $"{field}_heatmaps.png"), panels, columns: 3);
    }

    static Plot HeatPanel(double[] values, string title, IReadOnlyList<string> coords, IReadOnlyList<double[]> axes, int across, int up)
    {
        int na = axes[across].Length, nu = axes[up].Length;
        var data = new double[nu, na];
        for (int i0 = 0; i0 < axes[0].Length; i0++)
            for (int i1 = 0; i1 < axes[1].Length; i1++)
            {
                int ia = across == 0 ? i0 : i1, iu = up == 0 ? i0 : i1;
                data[nu - 1 - iu, ia] = values[i0 * axes[1].Length + i1]; // row 0 is drawn at the top
            }
        var plot = new Plot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Turbo();
        hm.Extent = new CoordinateRect(axes[across][0], axes[across][^1], axes[up][0], axes[up][^1]);
        plot.Add.ColorBar(hm);
        plot.Title(title);
        plot.XLabel(coords[across]);
        plot.YLabel(coords[up]);
        plot.Axes.Margins(0, 0);
        return plot;
    }

    static string Slices(string dir, string problem, string field, IReadOnlyList<string> coords, IReadOnlyList<double[]> axes,
                         double[] pred, double[] refv, string timeAxis)
    {
        int it = coords[0] == timeAxis ? 0 : 1, ix = 1 - it;
        var ts = axes[it];
        var panels = new List<Plot>();
        foreach (var frac in new[] { 0.25, 0.5, 0.75, 1.0 })
        {
            double target = ts[0] + frac * (ts[^1] - ts[0]);
            int j = Enumerable.Range(0, ts.Length).MinBy(i => Math.Abs(ts[i] - target));
            double[] Cut(double[] v) => axes[ix].Select((_, i) => v[it == 0 ? j * axes[1].Length + i : i * axes[1].Length + j]).ToArray();
            var plot = new Plot();
            var r = plot.Add.ScatterLine(axes[ix], Cut(refv));
            r.LegendText = "reference";
            r.LineWidth = 2;
            var p = plot.Add.ScatterLine(axes[ix], Cut(pred));
            p.LegendText = "prediction";
            p.LinePattern = LinePattern.Dashed;
            p.LineWidth = 2;
            plot.ShowLegend();
            plot.Title($"{problem}: {field} at {timeAxis} = {ts[j].ToString("G3", CultureInfo.InvariantCulture)}");
            plot.XLabel(coords[ix]);
            plot.YLabel(field);
            panels.Add(plot);
        }
        return Compose(Path.Combine(dir, $"{field}_slices.png"), panels, columns: 4);
    }

    /// <summary>loss.png (every loss column of log.csv, log scale) and error.png (relative L2 where evaluated).</summary>
    static IEnumerable<string> Curves(string dir, string problem)
    {
        var log = Path.Combine(dir, "log.csv");
        if (!File.Exists(log)) yield break;
        var lines = File.ReadAllLines(log);
        if (lines.Length < 2) yield break;
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        double Cell(string[] row, int c) =>
            c < row.Length && double.TryParse(row[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                ? v : double.NaN;
        double Positive(string[] row, int c) => Cell(row, c) is var v && v > 0 ? v : double.NaN; // log scale

        Plot LogPlot(IEnumerable<int> columns, string title, string ylabel, Func<string, string> name)
        {
            var plot = new Plot();
            foreach (var c in columns)
            {
                var pts = rows.Select(r => (x: Cell(r, 1), y: Positive(r, c))).Where(p => !double.IsNaN(p.y) && !double.IsNaN(p.x)).ToArray();
                if (pts.Length == 0) continue;
                var s = plot.Add.ScatterLine(pts.Select(p => p.x).ToArray(), pts.Select(p => Math.Log10(p.y)).ToArray());
                s.LegendText = name(header[c]);
            }
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                LabelFormatter = y => $"1e{y:0}",
            };
            plot.ShowLegend();
            plot.Title($"{problem}: {title}");
            plot.XLabel("step");
            plot.YLabel(ylabel);
            return plot;
        }

        var lossCols = Enumerable.Range(0, header.Length).Where(c => header[c] == "loss" || header[c].StartsWith("loss_", StringComparison.Ordinal));
        var lossPath = Path.Combine(dir, "loss.png");
        LogPlot(lossCols, "loss", "loss (log10)", h => h == "loss" ? "total (weighted)" : h[5..]).SavePng(lossPath, 900, 600);
        yield return lossPath;

        var errCols = Enumerable.Range(0, header.Length).Where(c => header[c].StartsWith("rel_l2_", StringComparison.Ordinal)).ToArray();
        if (errCols.Any(c => rows.Any(r => !double.IsNaN(Positive(r, c)))))
        {
            var errPath = Path.Combine(dir, "error.png");
            LogPlot(errCols, "error against the reference", "relative L2 (log10)", h => h[7..]).SavePng(errPath, 900, 600);
            yield return errPath;
        }
    }

    /// <summary>Renders the panels side by side (rows of <paramref name="columns"/>) into one PNG.</summary>
    static string Compose(string path, IReadOnlyList<Plot> panels, int columns)
    {
        int rowsN = (panels.Count + columns - 1) / columns;
        using var surface = SKSurface.Create(new SKImageInfo(columns * PanelWidth, rowsN * PanelHeight));
        surface.Canvas.Clear(SKColors.White);
        for (int i = 0; i < panels.Count; i++)
        {
            using var bmp = SKBitmap.Decode(panels[i].GetImage(PanelWidth, PanelHeight).GetImageBytes());
            surface.Canvas.DrawBitmap(bmp, i % columns * PanelWidth, i / columns * PanelHeight);
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
        return path;
    }
}
