using System.Buffers.Binary;
using Pinn.References;
using Pinn.Reporting;
using Pinn.Training;

namespace Pinn.Tests.Reporting;

public class RunPlotsTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Width and height from the PNG signature and IHDR chunk (bytes 16–23, big-endian).</summary>
    static (int w, int h) PngSize(string path)
    {
        File.Exists(path).Should().BeTrue(path);
        var b = File.ReadAllBytes(path);
        b.Take(8).Should().Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], "{0} is a PNG", path);
        b.Skip(12).Take(4).Should().Equal("IHDR"u8.ToArray(), "the first chunk of a PNG is IHDR");
        b.Length.Should().BeGreaterThan(5000, "a rendered figure, not an empty image");
        return (BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)));
    }

    static double[] Linspace(double a, double b, int n) => Enumerable.Range(0, n).Select(i => a + (b - a) * i / (n - 1)).ToArray();

    /// <summary>A one-field reference on the grid axes0 × axes1 (last axis fastest) and a slightly wrong prediction.</summary>
    static ReferenceSolution Grid(string[] coords, double[] axis0, double[] axis1, Func<double, double, double> f, out double[,] predicted)
    {
        int n = axis0.Length * axis1.Length;
        var pts = new double[n, 2];
        var values = new double[n, 1];
        predicted = new double[n, 1];
        for (int i = 0; i < axis0.Length; i++)
            for (int j = 0; j < axis1.Length; j++)
            {
                int k = i * axis1.Length + j;
                pts[k, 0] = axis0[i];
                pts[k, 1] = axis1[j];
                values[k, 0] = f(axis0[i], axis1[j]);
                predicted[k, 0] = values[k, 0] + 0.01 * Math.Sin(7 * axis0[i]);
            }
        return new ReferenceSolution(coords, pts, ["u"], values, [axis0, axis1]);
    }

    /// <summary>Three loss terms over 5000 steps, an error every 500 steps, a NaN loss and a switch to L-BFGS.</summary>
    static List<LogEntry> Log(bool withErrors = true)
    {
        var log = new List<LogEntry>();
        for (int s = 0; s <= 5000; s += 100)
        {
            var terms = new Dictionary<string, double>
            {
                ["pde"] = Math.Exp(-s / 700.0) + 1e-4,
                ["ic"] = 0.5 * Math.Exp(-s / 400.0) + 1e-5,
                ["bc"] = 0.1 * Math.Exp(-s / 900.0) + 1e-5,
            };
            double loss = s == 1200 ? double.NaN : terms.Values.Sum();
            ErrorReport? error = withErrors && s % 500 == 0
                ? new ErrorReport(new Dictionary<string, FieldError> { ["u"] = new(0.8 * Math.Exp(-s / 1500.0), 0.1) })
                : null;
            log.Add(new LogEntry(s < 4000 ? "adam" : "lbfgs", s, s * 0.01, 1e-3, loss, terms, error));
        }
        return log;
    }

    static string[] Names(IEnumerable<string> paths) => paths.Select(p => Path.GetFileName(p)!).ToArray();

    [Fact]
    public void Space_time_run_gets_heatmaps_slices_loss_and_error()
    {
        var r = Grid(["x", "t"], Linspace(-1, 1, 256), Linspace(0, 1, 100), (x, t) => -Math.Sin(Math.PI * x) * Math.Exp(-t), out var p);
        var files = RunPlots.Write(_dir, "burgers", r, p, "t", ErrorReport.Compare(p, r), Log());
        Names(files).Should().BeEquivalentTo(["u_heatmaps.png", "u_slices.png", "loss.png", "error.png"]);
        files.Should().OnlyContain(f => Path.GetDirectoryName(f) == _dir);
        PngSize(Path.Combine(_dir, "u_heatmaps.png")).Should().Be((RunPlots.RowWidth, RunPlots.RowHeight));
        PngSize(Path.Combine(_dir, "u_slices.png")).Should().Be((RunPlots.RowWidth, RunPlots.RowHeight));
        PngSize(Path.Combine(_dir, "loss.png")).Should().Be((RunPlots.Width, RunPlots.Height));
        PngSize(Path.Combine(_dir, "error.png")).Should().Be((RunPlots.Width, RunPlots.Height));
        ShouldShowHeatmaps(Path.Combine(_dir, "u_heatmaps.png"));
        PixelSpread(Path.Combine(_dir, "u_slices.png")).GreyStd.Should().BeGreaterThan(5, "the slices draw lines and labels");
    }

    [Fact]
    public void Time_as_the_first_coordinate_works_too()
    {
        var r = Grid(["t", "x"], Linspace(0, 1, 20), Linspace(-1, 1, 40), (t, x) => -Math.Sin(Math.PI * x) * Math.Exp(-t), out var p);
        Names(RunPlots.Write(_dir, "burgers", r, p, "t", null, Log(withErrors: false)))
            .Should().BeEquivalentTo(["u_heatmaps.png", "u_slices.png", "loss.png"]);
    }

    [Fact]
    public void Steady_2d_run_gets_heatmaps_per_field_but_no_slices()
    {
        var (xs, ys) = (Linspace(0, 1, 40), Linspace(0, 2, 30));
        int n = xs.Length * ys.Length;
        var pts = new double[n, 2];
        var values = new double[n, 2];
        var predicted = new double[n, 2];
        for (int i = 0; i < xs.Length; i++)
            for (int j = 0; j < ys.Length; j++)
            {
                int k = i * ys.Length + j;
                (pts[k, 0], pts[k, 1]) = (xs[i], ys[j]);
                values[k, 0] = Math.Sin(Math.PI * xs[i]) * Math.Sin(Math.PI * ys[j]);
                values[k, 1] = xs[i] * xs[i];
                predicted[k, 0] = values[k, 0] + 0.005 * xs[i] * ys[j];
                predicted[k, 1] = k == 5 ? double.NaN : values[k, 1]; // a non-finite prediction is left blank, not thrown on
            }
        var r = new ReferenceSolution(["x", "y"], pts, ["u", "v"], values, [xs, ys]);
        var files = RunPlots.Write(_dir, "poisson2d", r, predicted, null, null, Log());
        Names(files).Should().BeEquivalentTo(["u_heatmaps.png", "v_heatmaps.png", "loss.png", "error.png"]);
        PngSize(Path.Combine(_dir, "v_heatmaps.png")).Should().Be((RunPlots.RowWidth, RunPlots.RowHeight));
        ShouldShowHeatmaps(Path.Combine(_dir, "u_heatmaps.png"));
    }

    [Fact]
    public void One_dimensional_run_gets_a_profile_and_no_error_plot_without_evaluations()
    {
        var x = Linspace(0, 1, 200);
        var pts = new double[200, 1];
        var v = new double[200, 1];
        var p = new double[200, 1];
        for (int i = 0; i < 200; i++)
        {
            pts[i, 0] = x[i];
            v[i, 0] = Math.Sin(Math.PI * x[i]);
            p[i, 0] = v[i, 0] + 0.01 * Math.Sin(5 * Math.PI * x[i]);
        }
        var r = new ReferenceSolution(["x"], pts, ["u"], v);
        var files = RunPlots.Write(_dir, "poisson1d", r, p, null, ErrorReport.Compare(p, r), Log(withErrors: false));
        Names(files).Should().BeEquivalentTo(["u_profile.png", "loss.png"]);
        PngSize(Path.Combine(_dir, "u_profile.png")).Should().Be((RunPlots.Width, RunPlots.Height));
        PngSize(Path.Combine(_dir, "loss.png")).Should().Be((RunPlots.Width, RunPlots.Height));
        File.Exists(Path.Combine(_dir, "error.png")).Should().BeFalse();
    }

    [Fact]
    public void Scattered_points_skip_the_heatmaps_without_error()
    {
        var pts = new double[,] { { 0, 0 }, { 0.5, 0.2 }, { 1, 1 } };
        var v = new double[,] { { 1 }, { 2 }, { 3 } };
        var r = new ReferenceSolution(["x", "t"], pts, ["u"], v);
        Names(RunPlots.Write(_dir, "scattered", r, v, "t", null, Log())).Should().BeEquivalentTo(["loss.png", "error.png"]);
        Directory.GetFiles(_dir, "*_heatmaps.png").Should().BeEmpty();
        Directory.GetFiles(_dir, "*_slices.png").Should().BeEmpty();
    }

    /// <summary>A reference on the Cartesian grid of <paramref name="axes"/> (last axis fastest), one value column per function.</summary>
    static ReferenceSolution GridN(string[] coords, double[][] axes, string[] fields, Func<double[], double>[] f, out double[,] predicted,
                                   Func<double[], double>? perturbation = null)
    {
        int n = axes.Aggregate(1, (a, x) => a * x.Length), d = axes.Length;
        var pts = new double[n, d];
        var values = new double[n, fields.Length];
        predicted = new double[n, fields.Length];
        for (int k = 0; k < n; k++)
        {
            var x = new double[d];
            for (int j = d - 1, rest = k; j >= 0; rest /= axes[j].Length, j--) x[j] = pts[k, j] = axes[j][rest % axes[j].Length];
            for (int m = 0; m < fields.Length; m++)
            {
                values[k, m] = f[m](x);
                predicted[k, m] = values[k, m] + (perturbation?.Invoke(x) ?? 0);
            }
        }
        return new ReferenceSolution(coords, pts, fields, values, axes);
    }

    /// <summary>
    /// Spread of the decoded image: the standard deviation of the pixels' grey levels (0–255) and how many distinct
    /// colours it holds. A blank or one-colour figure has (0, 1); a white page with axes and text only has few colours.
    /// </summary>
    static (double GreyStd, int Colours) PixelSpread(string path)
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(path);
        bitmap.Should().NotBeNull("{0} decodes", path);
        double sum = 0, sum2 = 0;
        var colours = new HashSet<uint>();
        var pixels = bitmap.Pixels;
        foreach (var c in pixels)
        {
            double grey = 0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue;
            sum += grey;
            sum2 += grey * grey;
            colours.Add((uint)c);
        }
        double mean = sum / pixels.Length;
        return (Math.Sqrt(Math.Max(0, sum2 / pixels.Length - mean * mean)), colours.Count);
    }

    /// <summary>
    /// Not blank: heatmaps in the Turbo colour map over a smooth field fill their panels with hundreds of colours
    /// (measured: thousands); a figure of axes and labels alone has antialiased greys, well under 100 distinct colours
    /// would already be suspicious, and a grey spread of 20 levels rules out a uniform page.
    /// </summary>
    static void ShouldShowHeatmaps(string path)
    {
        var (std, colours) = PixelSpread(path);
        std.Should().BeGreaterThan(20, "{0} is not a uniform page", path);
        colours.Should().BeGreaterThan(500, "{0} holds colour-mapped heatmaps", path);
    }

    static readonly Func<double[], double> Vortex = p => Math.Sin(Math.PI * p[0]) * Math.Cos(Math.PI * p[1]) * Math.Exp(-p[2]);

    [Fact]
    public void Space_space_time_run_gets_one_snapshot_figure_per_field_with_a_row_per_time()
    {
        var axes = new[] { Linspace(0, 1, 30), Linspace(-1, 1, 25), Linspace(0, 2, 13) };
        var r = GridN(["x", "y", "t"], axes, ["u", "p"], [Vortex, p => p[0] * p[1] + p[2]], out var pred, p => 0.02 * Math.Sin(5 * p[0] * p[2]));
        var files = RunPlots.Write(_dir, "flow", r, pred, "t", ErrorReport.Compare(pred, r), Log());
        Names(files).Should().BeEquivalentTo(["u_snapshots.png", "p_snapshots.png", "loss.png", "error.png"]);
        files.Should().OnlyContain(f => Path.GetDirectoryName(f) == _dir);
        // 13 times on [0, 2]: 0, 1/3·2 and 2/3·2 fall between grid times, nearest ones are distinct: four rows.
        RunPlots.SnapshotTimes(axes[2]).Should().Equal(0, 4, 8, 12);
        foreach (var f in new[] { "u_snapshots.png", "p_snapshots.png" })
        {
            PngSize(Path.Combine(_dir, f)).Should().Be((RunPlots.RowWidth, 4 * RunPlots.SnapshotRowHeight));
            ShouldShowHeatmaps(Path.Combine(_dir, f));
        }
    }

    [Fact]
    public void Snapshot_times_are_the_nearest_grid_times_each_once()
    {
        RunPlots.SnapshotTimes(Linspace(0, 1, 11)).Should().Equal(0, 3, 7, 10); // 1/3 → 0.3, 2/3 → 0.7
        RunPlots.SnapshotTimes(Linspace(0, 1, 3)).Should().Equal(0, 1, 2);     // 1/3 and 2/3 both nearest 0.5
        RunPlots.SnapshotTimes(Linspace(0, 1, 2)).Should().Equal(0, 1);
    }

    [Fact]
    public void Time_may_stand_anywhere_among_the_three_coordinates()
    {
        // Time first, and a grid with three times: three rows. A NaN in the prediction is left blank, not thrown on.
        var axes = new[] { Linspace(0, 1, 3), Linspace(0, 1, 20), Linspace(0, 1, 20) };
        var r = GridN(["t", "x", "y"], axes, ["u"], [p => Vortex([p[1], p[2], p[0]])], out var pred, p => 0.01 * p[1]);
        pred[7, 0] = double.NaN;
        Names(RunPlots.Write(_dir, "heat2d", r, pred, "t", null, Log(withErrors: false)))
            .Should().BeEquivalentTo(["u_snapshots.png", "loss.png"]);
        PngSize(Path.Combine(_dir, "u_snapshots.png")).Should().Be((RunPlots.RowWidth, 3 * RunPlots.SnapshotRowHeight));
        ShouldShowHeatmaps(Path.Combine(_dir, "u_snapshots.png"));
    }

    [Fact]
    public void Three_space_coordinates_or_four_coordinates_get_only_the_curves()
    {
        var a3 = Enumerable.Repeat(Linspace(0, 1, 3), 3).ToArray();
        var steady = GridN(["x", "y", "z"], a3, ["u"], [p => p[0]], out var v3);
        Names(RunPlots.Write(_dir, "poisson3d", steady, v3, null, null, Log(withErrors: false))).Should().Equal("loss.png");

        var a4 = Enumerable.Repeat(Linspace(0, 1, 3), 4).ToArray();
        var heat3d = GridN(["x", "y", "z", "t"], a4, ["u"], [p => p[0]], out var v4);
        Names(RunPlots.Write(_dir, "heat3d", heat3d, v4, "t", null, Log(withErrors: false))).Should().Equal("loss.png");
    }

    [Fact]
    public void Space_space_time_on_scattered_points_gets_only_the_curves()
    {
        var pts = new double[,] { { 0, 0, 0 }, { 0.5, 0.2, 0.1 }, { 1, 1, 1 } };
        var v = new double[,] { { 1 }, { 2 }, { 3 } };
        var r = new ReferenceSolution(["x", "y", "t"], pts, ["u"], v);
        Names(RunPlots.Write(_dir, "scattered", r, v, "t", null, Log(withErrors: false))).Should().Equal("loss.png");
    }

    [Fact]
    public void A_log_without_finite_values_still_gives_a_loss_plot()
    {
        var x = new double[,] { { 0 }, { 1 } };
        var v = new double[,] { { 0 }, { 1 } };
        var r = new ReferenceSolution(["x"], x, ["u"], v);
        var log = new[] { new LogEntry("adam", 0, 0, 1e-3, double.NaN, new Dictionary<string, double> { ["pde"] = double.PositiveInfinity }, null) };
        Names(RunPlots.Write(_dir, "diverged", r, v, null, null, log)).Should().BeEquivalentTo(["u_profile.png", "loss.png"]);
        PngSize(Path.Combine(_dir, "loss.png")).Should().Be((RunPlots.Width, RunPlots.Height));

        Names(RunPlots.Write(_dir, "empty", r, v, null, null, [])).Should().Contain("loss.png");
    }

    [Fact]
    public void The_log_can_be_read_back_from_log_csv()
    {
        File.WriteAllLines(Path.Combine(_dir, "log.csv"),
        [
            "phase,step,seconds,lr,loss,loss_pde,loss_ic,rel_l2_u,eps",
            "adam,0,0.1,0.001,4.0,3.0,1.0,0.9,1",
            "adam,100,1.0,0.001,0.5,0.4,0.1,,1",
            "adam,200,2.0,0.001,NaN,0.04,0.01,0.1,1",
            "lbfgs,300,3.0,0,0.001,,,,",
        ]);
        var r = Grid(["x", "t"], Linspace(-1, 1, 32), Linspace(0, 1, 10), (x, t) => x * t, out var p);
        Names(RunPlots.Write(_dir, "demo", r, p, "t", null))
            .Should().BeEquivalentTo(["u_heatmaps.png", "u_slices.png", "loss.png", "error.png"]);
    }
}
