using System.Globalization;
using Pinn.References;
using Pinn.Training;
using ScottPlot;
using SkiaSharp;

namespace Pinn.Reporting;

/// <summary>
/// The PNG plots of a finished run, written next to its metrics:
/// <list type="bullet">
/// <item>one coordinate: <c>&lt;field&gt;_profile.png</c>, prediction and reference vs the coordinate over |error|;</item>
/// <item>two coordinates on a grid: <c>&lt;field&gt;_heatmaps.png</c>, prediction / reference / |error| side by side
/// (time across, space up for space–time problems, as in the Burgers figures of Raissi et al.), and for
/// space–time also <c>&lt;field&gt;_slices.png</c>, u(x) at ¼, ½ and ¾ of the time range;</item>
/// <item>two space coordinates and time on a grid: <c>&lt;field&gt;_snapshots.png</c>, one row per snapshot time (the grid
/// times nearest 0, ⅓, ⅔ and 1 of the time range), each row prediction / reference / |error| over the two space
/// coordinates, prediction and reference on one colour scale per row;</item>
/// <item>always <c>loss.png</c> (total loss and each term vs step), and <c>error.png</c> (relative L2 at the
/// evaluated steps) when some log entry carries an error; both on a log10 y-axis.</item>
/// </list>
/// Scattered points, three coordinates without time and more than three get no field plots. Non-finite values are dropped
/// (curves) or left blank (heatmaps), never thrown on. Multi-panel images are ScottPlot <see cref="Multiplot"/>s.
/// </summary>
public static class RunPlots
{
    /// <summary>Size in pixels of single-panel figures and of the two-row profile: loss, error, profile.</summary>
    public const int Width = 1200, Height = 800;

    /// <summary>Size in pixels of the three-panel rows: heatmaps and time slices.</summary>
    public const int RowWidth = 1800, RowHeight = 600;

    /// <summary>Height in pixels of one row of the snapshot figure: it is this times the number of rows high, <see cref="RowWidth"/> wide.</summary>
    public const int SnapshotRowHeight = 500;

    /// <summary>Fractions of the time range at which the slices are drawn (nearest grid time).</summary>
    static readonly double[] SliceFractions = [0.25, 0.5, 0.75];

    /// <summary>Fractions of the time range at which the snapshots are drawn (nearest grid time, each grid time once).</summary>
    static readonly double[] SnapshotFractions = [0, 1.0 / 3, 2.0 / 3, 1];

    static readonly Color ReferenceColor = Colors.Blue, PredictionColor = Colors.Red;

    /// <summary>
    /// An installed sans-serif family, or null for ScottPlot's choice (which falls back to a serif face on
    /// machines without its preferred fonts). Asked of SkiaSharp once.
    /// </summary>
    static readonly Lazy<string?> SansFont = new(() =>
    {
        var installed = SKFontManager.Default.FontFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" }.FirstOrDefault(installed.Contains);
    });

    static readonly Lazy<SKTypeface?> SansBold = new(() => SansFont.Value is { } f ? SKTypeface.FromFamilyName(f, SKFontStyle.Bold) : null);

    /// <summary>A new plot in the house font.</summary>
    static Plot NewPlot()
    {
        var plot = new Plot();
        if (SansFont.Value is { } font)
        {
            plot.Font.Set(font); // sets a regular typeface on every label: the title's Bold flag no longer applies
            plot.Axes.Title.Label.Font = SansBold.Value;
        }
        plot.Axes.Title.Label.Bold = true;
        plot.Axes.Title.Label.FontSize = 16;
        return plot;
    }

    /// <summary>Writes the plots that fit the data into <paramref name="dir"/> and returns the file paths written.</summary>
    public static IReadOnlyList<string> Write(string dir, string problemName, ReferenceSolution reference, double[,] predicted,
                                              string? timeAxis, ErrorReport? error, IReadOnlyList<LogEntry> log)
    {
        Directory.CreateDirectory(dir);
        var written = new List<string>();
        int d = reference.Coordinates.Count;
        for (int k = 0; k < reference.Fields.Count; k++)
        {
            var field = reference.Fields[k];
            var pred = Enumerable.Range(0, reference.Count).Select(i => predicted[i, k]).ToArray();
            var refv = reference.FieldValues(k);
            double rel = error?.Fields.TryGetValue(field, out var fe) == true ? fe.RelativeL2 : RelativeL2(pred, refv);
            if (d == 1)
                written.Add(Profile(dir, problemName, field, rel, reference, pred, refv));
            else if (d == 2 && reference.GridAxes is { Count: 2 } axes
                     && axes[0].Length * axes[1].Length == reference.Count && axes[0].Length > 1 && axes[1].Length > 1)
            {
                int it = timeAxis is null ? -1 : IndexOf(reference.Coordinates, timeAxis);
                written.Add(Heatmaps(dir, problemName, field, rel, reference.Coordinates, axes, pred, refv, it));
                if (it >= 0) written.Add(Slices(dir, problemName, field, reference.Coordinates, axes, pred, refv, it));
            }
            else if (d == 3 && timeAxis is not null && IndexOf(reference.Coordinates, timeAxis) is var it and >= 0
                     && reference.GridAxes is { Count: 3 } axes3 && axes3.All(a => a.Length > 1)
                     && axes3[0].Length * axes3[1].Length * axes3[2].Length == reference.Count)
                written.Add(Snapshots(dir, problemName, field, reference.Coordinates, axes3, pred, refv, it));
        }
        written.AddRange(Curves(dir, problemName, log, error));
        return written;
    }

    /// <summary>
    /// The same plots with the training log read back from <c>dir/log.csv</c> (as <see cref="RunDirectory"/> writes
    /// it: phase, step, seconds, lr, loss, loss_&lt;term&gt;…, rel_l2_&lt;field&gt;…); no log file, no curves.
    /// </summary>
    public static IReadOnlyList<string> Write(string dir, string problemName, ReferenceSolution reference, double[,] predicted,
                                              string? timeAxis, ErrorReport? error) =>
        Write(dir, problemName, reference, predicted, timeAxis, error, ReadLog(Path.Combine(dir, "log.csv")));

    static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (names[i] == name) return i;
        return -1;
    }

    static double RelativeL2(double[] pred, double[] refv)
    {
        double num = 0, den = 0;
        for (int i = 0; i < pred.Length; i++)
        {
            num += (pred[i] - refv[i]) * (pred[i] - refv[i]);
            den += refv[i] * refv[i];
        }
        return den > 0 ? Math.Sqrt(num / den) : Math.Sqrt(num);
    }

    static string Sci(double v) => double.IsFinite(v) ? v.ToString("0.00e+00", CultureInfo.InvariantCulture) : "n/a";
    static string G(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- one coordinate

    static string Profile(string dir, string problem, string field, double rel, ReferenceSolution reference, double[] pred, double[] refv)
    {
        var axis = reference.Coordinates[0];
        var order = Enumerable.Range(0, reference.Count).OrderBy(i => reference.Points[i, 0]).ToArray();
        var x = order.Select(i => reference.Points[i, 0]).ToArray();

        var top = NewPlot();
        AddLine(top, x, order.Select(i => refv[i]).ToArray(), "reference", ReferenceColor, dashed: false);
        AddLine(top, x, order.Select(i => pred[i]).ToArray(), "prediction", PredictionColor, dashed: true);
        top.ShowLegend(Alignment.UpperRight);
        top.Title($"{problem}: {field}({axis}), relative L2 {Sci(rel)}");
        top.XLabel(axis);
        top.YLabel(field);

        var bottom = NewPlot();
        AddLine(bottom, x, order.Select(i => Math.Abs(pred[i] - refv[i])).ToArray(), null, Colors.Black, dashed: false);
        bottom.Title($"|{field} − {field}_ref|");
        bottom.XLabel(axis);
        bottom.YLabel("|error|");

        // One x-range and one data-area width, so the error lines up under the curves.
        foreach (var plot in new[] { top, bottom })
        {
            if (x.Length > 1 && x[^1] > x[0]) plot.Axes.SetLimitsX(x[0], x[^1]);
            plot.Axes.Left.MinimumSize = 90;
            plot.Axes.Right.MinimumSize = 30;
        }

        var path = Path.Combine(dir, $"{field}_profile.png");
        Save(path, [top, bottom], rows: 2, columns: 1, Width, Height);
        return path;
    }

    /// <summary>A line through the finite points (x, y); nothing when there are none.</summary>
    static void AddLine(Plot plot, double[] x, double[] y, string? legend, Color color, bool dashed)
    {
        var keep = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i])).ToArray();
        if (keep.Length == 0) return;
        var s = plot.Add.ScatterLine(keep.Select(i => x[i]).ToArray(), keep.Select(i => y[i]).ToArray());
        s.Color = color;
        s.LineWidth = 2;
        if (dashed) s.LinePattern = LinePattern.Dashed;
        if (legend is not null) s.LegendText = legend;
    }

    // ---------------------------------------------------------------- two coordinates on a grid

    /// <param name="timeIndex">index of the time coordinate, or −1 for two space coordinates.</param>
    static string Heatmaps(string dir, string problem, string field, double rel, IReadOnlyList<string> coords,
                           IReadOnlyList<double[]> axes, double[] pred, double[] refv, int timeIndex)
    {
        // Space–time: time across, space up. Two space coordinates: the first across, the second up.
        int across = timeIndex >= 0 ? timeIndex : 0, up = 1 - across;
        var err = pred.Zip(refv, (a, b) => Math.Abs(a - b)).ToArray();
        var shared = FiniteRange(pred.Concat(refv)); // prediction and reference on one colour scale
        var panels = new[]
        {
            HeatPanel(pred, $"{problem}: {field} predicted", coords, axes, across, up, shared),
            HeatPanel(refv, $"{problem}: {field} reference", coords, axes, across, up, shared),
            HeatPanel(err, $"|error|, relative L2 {Sci(rel)}", coords, axes, across, up, FiniteRange(err)),
        };
        var path = Path.Combine(dir, $"{field}_heatmaps.png");
        Save(path, panels, rows: 1, columns: 3, RowWidth, RowHeight);
        return path;
    }

    static Plot HeatPanel(double[] values, string title, IReadOnlyList<string> coords, IReadOnlyList<double[]> axes,
                          int across, int up, ScottPlot.Range range)
    {
        double[] xa = axes[across], ya = axes[up];
        int na = xa.Length, nu = ya.Length, n1 = axes[1].Length;
        // Heatmap rows are drawn top to bottom: row 0 holds the largest value of the vertical coordinate.
        var data = new double[nu, na];
        for (int ia = 0; ia < na; ia++)
            for (int iu = 0; iu < nu; iu++)
            {
                int i0 = across == 0 ? ia : iu, i1 = across == 0 ? iu : ia;
                double v = values[i0 * n1 + i1];
                data[nu - 1 - iu, ia] = double.IsFinite(v) ? v : double.NaN;
            }
        var plot = NewPlot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Turbo();
        hm.ManualRange = range;
        // Cell centres on the grid points: the image reaches half a cell beyond the first and last.
        double hx = (xa[^1] - xa[0]) / (na - 1) / 2, hy = (ya[^1] - ya[0]) / (nu - 1) / 2;
        hm.Extent = new CoordinateRect(xa[0] - hx, xa[^1] + hx, ya[0] - hy, ya[^1] + hy);
        plot.Add.ColorBar(hm);
        plot.Title(title);
        plot.XLabel(coords[across]);
        plot.YLabel(coords[up]);
        plot.Axes.SetLimits(xa[0] - hx, xa[^1] + hx, ya[0] - hy, ya[^1] + hy);
        return plot;
    }

    static ScottPlot.Range FiniteRange(IEnumerable<double> values)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var v in values)
            if (double.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (lo > hi) return new ScottPlot.Range(0, 1);
        if (lo == hi) return new ScottPlot.Range(lo - 0.5, hi + 0.5);
        return new ScottPlot.Range(lo, hi);
    }

    static string Slices(string dir, string problem, string field, IReadOnlyList<string> coords, IReadOnlyList<double[]> axes,
                         double[] pred, double[] refv, int it)
    {
        int ix = 1 - it, n1 = axes[1].Length;
        double[] ts = axes[it], xs = axes[ix];
        var yRange = FiniteRange(pred.Concat(refv));
        double pad = 0.05 * (yRange.Max - yRange.Min);
        var panels = new List<Plot>();
        foreach (var frac in SliceFractions)
        {
            double target = ts[0] + frac * (ts[^1] - ts[0]);
            int j = Enumerable.Range(0, ts.Length).MinBy(i => Math.Abs(ts[i] - target));
            double[] Cut(double[] v) => Enumerable.Range(0, xs.Length).Select(i => v[it == 0 ? j * n1 + i : i * n1 + j]).ToArray();
            var plot = NewPlot();
            AddLine(plot, xs, Cut(refv), "reference", ReferenceColor, dashed: false);
            AddLine(plot, xs, Cut(pred), "prediction", PredictionColor, dashed: true);
            plot.ShowLegend(Alignment.UpperRight);
            plot.Title($"{problem}: {field} at {coords[it]} = {G(ts[j])}");
            plot.XLabel(coords[ix]);
            plot.YLabel($"{field}({coords[ix]}, {coords[it]})");
            plot.Axes.SetLimits(xs[0], xs[^1], yRange.Min - pad, yRange.Max + pad);
            panels.Add(plot);
        }
        var path = Path.Combine(dir, $"{field}_slices.png");
        Save(path, panels, rows: 1, columns: panels.Count, RowWidth, RowHeight);
        return path;
    }

    // ---------------------------------------------------------------- two space coordinates and time on a grid

    /// <summary>
    /// Grid indices of the snapshot times: nearest to each of <see cref="SnapshotFractions"/> of the range, ascending,
    /// each once (a grid with fewer times than fractions gets fewer rows).
    /// </summary>
    public static int[] SnapshotTimes(double[] ts) =>
        SnapshotFractions.Select(frac => ts[0] + frac * (ts[^1] - ts[0]))
                         .Select(target => Enumerable.Range(0, ts.Length).MinBy(i => Math.Abs(ts[i] - target)))
                         .Distinct().Order().ToArray();

    /// <param name="it">index of the time coordinate among the three; the other two are space, drawn first across, second up.</param>
    static string Snapshots(string dir, string problem, string field, IReadOnlyList<string> coords, IReadOnlyList<double[]> axes,
                            double[] pred, double[] refv, int it)
    {
        int[] space = [.. Enumerable.Range(0, 3).Where(j => j != it)];
        double[] xa = axes[space[0]], xb = axes[space[1]], ts = axes[it];
        int[] n = [axes[0].Length, axes[1].Length, axes[2].Length];
        string[] plane = [coords[space[0]], coords[space[1]]];
        double[][] planeAxes = [xa, xb];
        var panels = new List<Plot>();
        var times = SnapshotTimes(ts);
        foreach (int j in times)
        {
            // The space plane at time index j, laid out as HeatPanel reads a 2-D grid: second space axis fastest.
            double[] Cut(double[] v)
            {
                var cut = new double[xa.Length * xb.Length];
                var index = new int[3];
                index[it] = j;
                for (int a = 0; a < xa.Length; a++)
                    for (int b = 0; b < xb.Length; b++)
                    {
                        (index[space[0]], index[space[1]]) = (a, b);
                        cut[a * xb.Length + b] = v[(index[0] * n[1] + index[1]) * n[2] + index[2]];
                    }
                return cut;
            }
            double[] p = Cut(pred), r = Cut(refv);
            var err = p.Zip(r, (a, b) => Math.Abs(a - b)).ToArray();
            var shared = FiniteRange(p.Concat(r));
            string at = $"{coords[it]} = {G(ts[j])}";
            panels.Add(HeatPanel(p, $"{problem}: {field} predicted, {at}", plane, planeAxes, 0, 1, shared));
            panels.Add(HeatPanel(r, $"{field} reference, {at}", plane, planeAxes, 0, 1, shared));
            panels.Add(HeatPanel(err, $"|error| at {at}, relative L2 {Sci(RelativeL2(p, r))}", plane, planeAxes, 0, 1, FiniteRange(err)));
        }
        var path = Path.Combine(dir, $"{field}_snapshots.png");
        Save(path, panels, rows: times.Length, columns: 3, RowWidth, times.Length * SnapshotRowHeight);
        return path;
    }

    // ---------------------------------------------------------------- training curves

    static IEnumerable<string> Curves(string dir, string problem, IReadOnlyList<LogEntry> log, ErrorReport? final)
    {
        // A divergence recovery steps back: the entry logged last for a step is the one the run kept.
        var entries = log.GroupBy(e => e.Step).Select(g => g.Last()).OrderBy(e => e.Step).ToArray();

        var loss = LogPlot($"{problem}: training loss", "loss");
        AddLogLine(loss, entries, e => e.Loss, "total (weighted)", width: 2.5f);
        var terms = entries.SelectMany(e => e.Terms.Keys).Distinct().ToArray();
        foreach (var term in terms)
            AddLogLine(loss, entries, e => e.Terms.TryGetValue(term, out var v) ? v : double.NaN, term, width: 1.5f);
        FinishLogPlot(loss, entries, "no finite loss in the log");
        var lossPath = Path.Combine(dir, "loss.png");
        loss.SavePng(lossPath, Width, Height);
        yield return lossPath;

        var evaluated = entries.Where(e => e.Error is not null).ToArray();
        if (evaluated.Length == 0) yield break;
        var error = LogPlot($"{problem}: relative L2 error against the reference", "relative L2 error");
        var fields = evaluated.SelectMany(e => e.Error!.Fields.Keys).Distinct().ToArray();
        var colors = new Dictionary<string, Color>();
        foreach (var f in fields)
            if (AddLogLine(error, evaluated, e => e.Error!.Fields.TryGetValue(f, out var fe) ? fe.RelativeL2 : double.NaN, f,
                           width: 2, markers: true) is { } line)
                colors[f] = line.Color;
        // The run's final error (after the last logged step, e.g. at the end of L-BFGS) when the log does not end on it.
        if (final is not null && entries[^1].Error is null)
        {
            var last = new[] { entries[^1] with { Error = final } };
            foreach (var f in final.Fields.Keys)
                if (AddLogLine(error, last, e => e.Error!.Fields[f].RelativeL2, $"{f} (final)", width: 0, markers: true,
                               shape: MarkerShape.FilledDiamond) is { } point && colors.TryGetValue(f, out var c))
                    point.Color = c;
        }
        FinishLogPlot(error, entries, "no finite error in the log");
        var errorPath = Path.Combine(dir, "error.png");
        error.SavePng(errorPath, Width, Height);
        yield return errorPath;
    }

    /// <summary>A plot whose y data will be log10 values (see <see cref="FinishLogPlot"/>).</summary>
    static Plot LogPlot(string title, string ylabel)
    {
        var plot = NewPlot();
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(ylabel);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>
    /// Log-scale ticks for the log10 data in <paramref name="plot"/>: every decade labelled 10ⁿ, also 2·10ⁿ and 5·10ⁿ
    /// when the data span less than three decades and every m·10ⁿ below one; minor ticks and grid lines at the other
    /// multiples. Marks the
    /// phase changes; says so in the plot when there is nothing to draw.
    /// </summary>
    static void FinishLogPlot(Plot plot, IReadOnlyList<LogEntry> entries, string emptyText, bool markPhases = true)
    {
        var ys = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().SelectMany(s => s.Data.GetScatterPoints()).Select(p => p.Y).ToArray();
        if (ys.Length == 0)
        {
            plot.Add.Annotation(emptyText, Alignment.MiddleCenter);
            plot.HideLegend();
            return;
        }
        double lo = ys.Min(), hi = ys.Max(), pad = Math.Max(0.05 * (hi - lo), 0.1);
        double ymin = lo - pad, ymax = hi + pad, span = ymax - ymin;
        plot.Axes.SetLimitsY(ymin, ymax);
        int every = Math.Max(1, (int)Math.Ceiling(span / 12)); // at most about a dozen labelled decades
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int d = (int)Math.Floor(ymin); d <= (int)Math.Ceiling(ymax); d++)
            for (int m = 1; m <= 9; m++)
            {
                double y = d + Math.Log10(m);
                if (y < ymin || y > ymax) continue;
                if (m == 1 && d % every == 0) ticks.AddMajor(y, PowerOfTen(d));
                else if (span < 1 || span < 3 && m is 2 or 5) ticks.AddMajor(y, $"{m}·{PowerOfTen(d)}");
                else if (every == 1) ticks.AddMinor(y);
            }
        plot.Axes.Left.TickGenerator = ticks;
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.2);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.07);
        plot.Grid.MinorLineWidth = 1;
        if (markPhases) MarkPhases(plot, entries, ymax);
    }

    static string PowerOfTen(int e)
    {
        const string sup = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        var digits = Math.Abs(e).ToString(CultureInfo.InvariantCulture).Select(c => sup[c - '0']);
        return "10" + (e < 0 ? "⁻" : "") + string.Concat(digits);
    }

    /// <summary>log10 of the positive, finite values against step; NaN, ±∞ and non-positive values are dropped.</summary>
    static ScottPlot.Plottables.Scatter? AddLogLine(Plot plot, IReadOnlyList<LogEntry> entries, Func<LogEntry, double> value, string legend,
                           float width, bool markers = false, MarkerShape shape = MarkerShape.FilledCircle, Func<LogEntry, double>? x = null)
    {
        var pts = entries.Select(e => (x: x?.Invoke(e) ?? e.Step, y: value(e))).Where(p => double.IsFinite(p.x) && double.IsFinite(p.y) && p.y > 0).ToArray();
        if (pts.Length == 0) return null;
        var s = plot.Add.Scatter(pts.Select(p => p.x).ToArray(), pts.Select(p => Math.Log10(p.y)).ToArray());
        s.LegendText = legend;
        s.LineWidth = width;
        s.MarkerSize = markers || pts.Length == 1 ? 7 : 0;
        s.MarkerShape = shape;
        return s;
    }

    /// <summary>A dashed vertical line where the log's phase changes (Adam → L-BFGS): at the last step logged before.</summary>
    static void MarkPhases(Plot plot, IReadOnlyList<LogEntry> entries, double top)
    {
        for (int i = 1; i < entries.Count; i++)
            if (entries[i].Phase != entries[i - 1].Phase)
            {
                plot.Add.VerticalLine(entries[i - 1].Step, width: 1, color: Colors.Gray, pattern: LinePattern.Dashed);
                var text = plot.Add.Text(" " + entries[i].Phase, entries[i - 1].Step, top); // inside the frame, right of the line
                text.LabelAlignment = Alignment.UpperLeft;
                text.LabelFontColor = Colors.Gray;
                text.LabelFontSize = 13;
                text.OffsetY = 4;
            }
    }

    /// <summary>
    /// Relative L2 error against wall time (minutes), one panel per problem and one line per run in it:
    /// how <c>pinn reproduce optim</c> compares optimisers at equal time. A run without a log is left out of its panel.
    /// </summary>
    /// <param name="panels">Per panel its title and the runs' legends with the paths of their log.csv.</param>
    public static void ErrorVsTime(string path, IReadOnlyList<(string Title, IReadOnlyList<(string Legend, string Log)> Runs)> panels)
    {
        if (panels.Count == 0) throw new PinnException("no runs to plot");
        var plots = new List<Plot>();
        foreach (var (title, runs) in panels)
        {
            var plot = LogPlot(title, "relative L2 error of the iterate");
            plot.XLabel("wall time (min)");
            var all = new List<LogEntry>();
            foreach (var (legend, log) in runs)
            {
                var evaluated = ReadLog(log).Where(e => e.Error is not null).ToArray();
                all.AddRange(evaluated);
                AddLogLine(plot, evaluated, e => e.Error!.RelativeL2, legend, width: 2, x: e => e.Seconds / 60);
            }
            FinishLogPlot(plot, all, "no run logged an error", markPhases: false);
            plots.Add(plot);
        }
        int columns = Math.Min(panels.Count, 3), rows = (panels.Count + columns - 1) / columns;
        Save(path, plots, rows, columns, columns * 700, rows * 500);
    }

    // ---------------------------------------------------------------- output

    static void Save(string path, IReadOnlyList<Plot> panels, int rows, int columns, int width, int height)
    {
        var multiplot = new Multiplot(panels[0]);
        foreach (var p in panels.Skip(1)) multiplot.AddPlot(p);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        multiplot.SavePng(path, width, height);
    }

    /// <summary>log.csv back as log entries (unparsable cells are NaN: they are dropped when plotted).</summary>
    static IReadOnlyList<LogEntry> ReadLog(string path)
    {
        if (!File.Exists(path)) return [];
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length < 2) return [];
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        var terms = Enumerable.Range(0, header.Length).Where(c => header[c].StartsWith("loss_", StringComparison.Ordinal)).ToArray();
        var fields = Enumerable.Range(0, header.Length).Where(c => header[c].StartsWith("rel_l2_", StringComparison.Ordinal)).ToArray();
        var entries = new List<LogEntry>();
        foreach (var line in lines.Skip(1))
        {
            var row = line.Split(',');
            double Cell(int c) => c >= 0 && c < row.Length && double.TryParse(row[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
            var step = Cell(Col("step"));
            if (!double.IsFinite(step)) continue;
            var errors = fields.Where(c => !double.IsNaN(Cell(c)))
                               .ToDictionary(c => header[c][7..], c => new FieldError(Cell(c), double.NaN));
            entries.Add(new LogEntry(Col("phase") is var p and >= 0 && p < row.Length ? row[p] : "", (int)step, Cell(Col("seconds")),
                                     Cell(Col("lr")), Cell(Col("loss")), terms.ToDictionary(c => header[c][5..], Cell),
                                     errors.Count > 0 ? new ErrorReport(errors) : null));
        }
        return entries;
    }
}
