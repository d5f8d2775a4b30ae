using System.Buffers.Binary;
using Pinn.Geometry;
using Pinn.References;
using Pinn.Reporting;

namespace Pinn.Tests.Reporting;

public class RunPlotsTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Width and height from the PNG signature and IHDR chunk (bytes 16–23, big-endian).</summary>
    static (int w, int h) PngSize(string path)
    {
        var b = File.ReadAllBytes(path);
        b.Take(8).Should().Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        b.Length.Should().BeGreaterThan(5000, "a rendered figure, not an empty image");
        return (BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)));
    }

    void WriteLog() => File.WriteAllLines(Path.Combine(_dir, "log.csv"),
    [
        "phase,step,seconds,lr,loss,loss_pde,loss_ic,rel_l2_u",
        "adam,0,0.1,0.001,4.0,3.0,1.0,0.9",
        "adam,100,1.0,0.001,0.5,0.4,0.1,",
        "adam,200,2.0,0.001,0.05,0.04,0.01,0.1",
        "lbfgs,300,3.0,0,0.001,,,",
    ]);

    static ReferenceSolution Grid(string[] coords, double[][] axes, Func<double, double, double> f, out double[,] predicted)
    {
        var pts = Box.Cartesian(axes);
        int n = pts.GetLength(0);
        var values = new double[n, 1];
        predicted = new double[n, 1];
        for (int i = 0; i < n; i++)
        {
            values[i, 0] = f(pts[i, 0], pts[i, 1]);
            predicted[i, 0] = values[i, 0] + 0.01 * Math.Sin(7 * pts[i, 0]);
        }
        return new ReferenceSolution(coords, pts, ["u"], values, axes);
    }

    [Fact]
    public void Space_time_run_gets_heatmaps_slices_loss_and_error()
    {
        WriteLog();
        var r = Grid(["x", "t"], [Box.Linspace(-1, 1, 64), Box.Linspace(0, 1, 20)], (x, t) => -Math.Sin(Math.PI * x) * Math.Exp(-t), out var p);
        var files = RunPlots.Write(_dir, "demo", r, p, "t", null).Select(Path.GetFileName).ToArray();
        files.Should().BeEquivalentTo(["u_heatmaps.png", "u_slices.png", "loss.png", "error.png"]);
        PngSize(Path.Combine(_dir, "u_heatmaps.png")).Should().Be((3 * RunPlots.PanelWidth, RunPlots.PanelHeight));
        PngSize(Path.Combine(_dir, "u_slices.png")).Should().Be((4 * RunPlots.PanelWidth, RunPlots.PanelHeight));
        PngSize(Path.Combine(_dir, "loss.png")).Should().Be((900, 600));
        PngSize(Path.Combine(_dir, "error.png")).Should().Be((900, 600));
    }

    [Fact]
    public void Steady_2d_run_gets_heatmaps_but_no_slices()
    {
        var r = Grid(["x", "y"], [Box.Linspace(0, 1, 30), Box.Linspace(0, 1, 30)], (x, y) => x * y, out var p);
        RunPlots.Write(_dir, "demo", r, p, null, null).Select(Path.GetFileName).Should().Equal("u_heatmaps.png");
    }

    [Fact]
    public void One_dimensional_run_gets_a_profile()
    {
        var x = Box.Linspace(-1, 1, 50);
        var pts = new double[50, 1];
        var v = new double[50, 1];
        for (int i = 0; i < 50; i++) { pts[i, 0] = x[i]; v[i, 0] = Math.Sin(Math.PI * x[i]); }
        var r = new ReferenceSolution(["x"], pts, ["u"], v);
        RunPlots.Write(_dir, "demo", r, v, null, null).Select(Path.GetFileName).Should().Equal("u_profile.png");
        PngSize(Path.Combine(_dir, "u_profile.png")).Should().Be((2 * RunPlots.PanelWidth, RunPlots.PanelHeight));
    }

    [Fact]
    public void Scattered_points_skip_the_heatmaps_without_error()
    {
        var pts = new double[,] { { 0, 0 }, { 0.5, 0.2 }, { 1, 1 } };
        var v = new double[,] { { 1 }, { 2 }, { 3 } };
        var r = new ReferenceSolution(["x", "t"], pts, ["u"], v);
        RunPlots.Write(_dir, "demo", r, v, "t", null).Should().BeEmpty();
    }
}
