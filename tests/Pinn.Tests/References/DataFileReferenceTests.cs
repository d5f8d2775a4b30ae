using Pinn.Config;
using Pinn.Problems;
using Pinn.References;

namespace Pinn.Tests.References;

/// <summary>A reference written by <c>pinn reference</c> reads back as the same values, in every format.</summary>
public class DataFileReferenceTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static ReferenceSolution Exact(Problem p) => p.Reference!.Solve(p, [9, 5]);

    [Theory]
    [InlineData(".npz")]
    [InlineData(".npy")]
    [InlineData(".csv")]
    public void Written_reference_reads_back_identically(string ext)
    {
        var heat = new Heat1D();
        var exact = Exact(heat);
        var path = Path.Combine(_dir, "heat" + ext);
        ReferenceFiles.Write(exact, path);
        var back = new DataFileReference(path).Solve(heat, []);
        back.Count.Should().Be(exact.Count);
        for (int i = 0; i < exact.Count; i++)
        {
            back.Points[i, 0].Should().Be(exact.Points[i, 0]);
            back.Points[i, 1].Should().Be(exact.Points[i, 1]);
            back.Values[i, 0].Should().Be(exact.Values[i, 0], "float64 round-trip formatting is exact");
        }
        if (ext == ".npz") back.GridAxes.Should().NotBeNull("an npz with per-axis arrays is read as a grid");
    }

    [Fact]
    public void Npz_field_stored_transposed_and_renamed_is_understood()
    {
        // DeepXDE-style: x (nx), t (nt), and the field under another name, here stored as [nt, nx].
        var heat = new Heat1D();
        var exact = Exact(heat);
        var x = exact.GridAxes![0];
        var t = exact.GridAxes![1];
        var transposed = new double[t.Length * x.Length];
        for (int i = 0; i < x.Length; i++)
            for (int j = 0; j < t.Length; j++)
                transposed[j * x.Length + i] = exact.Values[i * t.Length + j, 0];
        var path = Path.Combine(_dir, "heat.npz");
        Npz.Write(path, new Dictionary<string, NdArray>
        {
            ["x"] = new([x.Length, 1], x),
            ["t"] = new([t.Length], t),
            ["usol"] = new([t.Length, x.Length], transposed),
        });
        var back = new DataFileReference(path, new Dictionary<string, string> { ["u"] = "usol" }).Solve(heat, []);
        for (int i = 0; i < exact.Count; i++) back.Values[i, 0].Should().Be(exact.Values[i, 0]);
    }

    [Fact]
    public void Missing_array_names_what_the_file_has()
    {
        var path = Path.Combine(_dir, "other.npz");
        Npz.Write(path, new Dictionary<string, NdArray> { ["x"] = new([2], [0, 1]), ["t"] = new([2], [0, 1]) });
        var act = () => new DataFileReference(path).Solve(new Heat1D(), []);
        act.Should().Throw<PinnException>().WithMessage("*no array 'u'*arrays: x, t*");
    }

    [Fact]
    public void Yaml_problem_can_measure_against_a_data_file()
    {
        ReferenceFiles.Write(Exact(new Heat1D()), Path.Combine(_dir, "ref.csv"));
        var yaml = File.ReadAllText(TestPaths.Problem("heat1d/heat1d_inline.yaml"))
            .Replace("  exact:\n    u: \"exp(-alpha*pi^2*t)*sin(pi*x)\"", "  reference: {file: ref.csv}");
        var cfgPath = Path.Combine(_dir, "heat.yaml");
        File.WriteAllText(cfgPath, yaml);
        var cfg = RunConfigLoader.Load(cfgPath, ProblemCatalog.Instance, [$"output.dir={_dir}", "training.steps=5", "training.threads=1"]);
        cfg.Problem.Reference.Should().BeOfType<DataFileReference>();
        var result = Pinn.Training.Runner.Run(cfg).Result;
        result.Error!.Fields["u"].RelativeL2.Should().BeGreaterThan(0).And.BeLessThan(10);
    }
}
