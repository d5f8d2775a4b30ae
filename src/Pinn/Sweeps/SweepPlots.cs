using System.Globalization;
using ScottPlot;

namespace Pinn.Sweeps;

/// <summary>
/// One PNG per sweep axis with more than one value (<c>plot_&lt;axis&gt;.png</c> in the sweep folder): the headline
/// metric (relative L2, or the final loss where no run has a reference) of every completed run against that axis's
/// values, log scale, one series per combination of the other axes, the mean over seeds joined by a line.
/// </summary>
public static class SweepPlots
{
    public const int Width = 1000, Height = 650;

    public static IReadOnlyList<string> Write(SweepReport.Result r)
    {
        var metric = r.Metrics.Contains("rel_l2") ? "rel_l2" : r.Metrics.Contains("final_loss") ? "final_loss" : null;
        if (metric is null) return [];
        var written = new List<string>();
        var done = r.Runs.Where(x => x.Status == "completed" && x.Metrics.TryGetValue(metric, out var v) && v > 0).ToList();
        foreach (var axis in r.Manifest.Axes)
        {
            var values = r.Manifest.Runs.Select(e => Value(e.Run, axis)).Distinct().ToList();
            if (values.Count < 2) continue;
            var plot = new Plot();
            plot.Title($"{r.Manifest.Name}: {(metric == "rel_l2" ? "relative L2 error" : "final loss")} vs {axis}");
            plot.XLabel(axis);
            plot.YLabel($"log10 {(metric == "rel_l2" ? "relative L2" : "final loss")}");
            var palette = new ScottPlot.Palettes.Category10();
            int series = 0;
            foreach (var g in done.GroupBy(x => Others(x.Entry.Run, axis)))
            {
                var color = palette.GetColor(series++);
                var xs = g.Select(x => (double)values.IndexOf(Value(x.Entry.Run, axis))).ToArray();
                var ys = g.Select(x => Math.Log10(x.Metrics[metric])).ToArray();
                var pts = plot.Add.ScatterPoints(xs, ys);
                pts.Color = color;
                pts.MarkerSize = 7;
                var means = g.GroupBy(x => values.IndexOf(Value(x.Entry.Run, axis))).OrderBy(m => m.Key)
                             .Select(m => (X: (double)m.Key, Y: m.Average(x => Math.Log10(x.Metrics[metric])))).ToArray();
                var line = plot.Add.ScatterLine(means.Select(m => m.X).ToArray(), means.Select(m => m.Y).ToArray());
                line.Color = color;
                line.LineWidth = 2;
                if (g.Key.Length > 0) line.LegendText = g.Key;
            }
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (int i = 0; i < values.Count; i++) ticks.AddMajor(i, values[i]);
            plot.Axes.Bottom.TickGenerator = ticks;
            plot.Axes.SetLimitsX(-0.5, values.Count - 0.5);
            if (series == 0) plot.Add.Annotation("no completed run", Alignment.MiddleCenter);
            if (series > 1) plot.ShowLegend(Alignment.UpperRight);
            var path = Path.Combine(r.Manifest.Directory, $"plot_{Slug(axis)}.png");
            plot.SavePng(path, Width, Height);
            written.Add(path);
        }
        return written;
    }

    static string Value(SweepRun run, string axis) => run.Coordinates.FirstOrDefault(c => c.Axis == axis)?.Value ?? "";

    static string Others(SweepRun run, string axis) =>
        string.Join(", ", run.Coordinates.Where(c => c.Axis != axis && c.Axis != "seed").Select(c => $"{c.Axis}={c.Value}"));

    static string Slug(string s) => new(s.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray());
}
