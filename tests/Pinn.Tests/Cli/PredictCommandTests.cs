using System.Globalization;
using Pinn.Cli;
using Pinn.Config;
using Pinn.Problems;
using Pinn.References;
using Pinn.Reporting;
using Pinn.Training;

namespace Pinn.Tests.Cli;

/// <summary>A tiny float64 heat1d run (x ∈ [0, 1], t ∈ [0, 1]) trained once for the predict tests of one class.</summary>
public sealed class TrainedHeatRun : IDisposable
{
    public TrainedHeatRun()
    {
        Root = TestPaths.TempDir();
        Directory = PredictCommandTests.Train(Root, "mlp", "heat");
    }

    public string Root { get; }
    public string Directory { get; }

    public void Dispose() => System.IO.Directory.Delete(Root, recursive: true);
}

/// <summary>
/// <c>pinn predict</c>: a trained run's checkpoint evaluated at the user's points reproduces the run's own prediction.npz,
/// derivative columns agree with finite differences of the predicted field, and bad input is one line with exit code 2.
/// </summary>
[Collection("training")]
public class PredictCommandTests(TrainedHeatRun heat) : IClassFixture<TrainedHeatRun>, IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int code, string stdout, string stderr) Pinn(params string[] args) => TestInputs.Pinn(args);

    /// <summary>Tiny float64 budgets per model kind, as in the run-directory round trip (a second or two each).</summary>
    static readonly Dictionary<string, (string Target, string[] Overrides, string Grid)> Kinds = new()
    {
        ["mlp"] = ("heat1d", ["model.layers=[12, 12]", "training.batch={pde: 64, ic: 16, bc: 16}"], "[9, 7]"),
        ["modified_mlp"] = ("heat1d", ["model.type=modified_mlp", "model.layers=[12, 12]", "training.batch={pde: 64, ic: 16, bc: 16}"], "[9, 7]"),
        ["mlp_hard"] = ("heat1d", ["model.layers=[12, 12]", "model.hard_constraints={initial: true, dirichlet: true}", "training.batch={pde: 64}"], "[9, 7]"),
        ["pig"] = ("helmholtz2d/helmholtz2d.yaml", ["model.gaussians.count=24", "model.gaussians.channels=2", "training.batch={pde: 64, bc: 32}"], "[9, 8]"),
        ["gp"] = ("gp/poisson1d_sin20.yaml", ["model.grid={x: 40}", "model.max_frequency=3", "model.components=4", "model.solve_every=0"], "[33]"),
    };

    /// <summary>Trains a few steps of <paramref name="kind"/> in float64 on one thread; returns the run directory.</summary>
    internal static string Train(string root, string kind, string name)
    {
        var (target, overrides, grid) = Kinds[kind];
        var path = target.EndsWith(".yaml") ? TestPaths.Problem(target) : target;
        var cfg = RunConfigLoader.Load(path, ProblemCatalog.Instance,
            overrides.Concat([$"output.dir={root}", $"output.name={name}", "training.threads=1", "training.dtype=float64",
                              "training.steps=12", "training.lbfgs_steps=0", "training.log_every=6", "evaluation.grid=" + grid]));
        var run = Runner.Run(cfg);
        run.Result.Status.Should().Be("completed");
        return run.Directory;
    }

    /// <summary>The evaluation grid of a run's prediction.npz as n × d points (last axis fastest, as the field arrays are stored).</summary>
    static (double[,] Points, IReadOnlyDictionary<string, NdArray> Arrays) GridOf(string run, IReadOnlyList<string> coordinates)
    {
        var arrays = Npz.Read(Path.Combine(run, "prediction.npz"));
        var axes = coordinates.Select(c => arrays[c].Data).ToArray();
        int n = axes.Aggregate(1, (acc, a) => acc * a.Length), d = axes.Length;
        var points = new double[n, d];
        for (int i = 0; i < n; i++)
        {
            int rest = i;
            for (int j = d - 1; j >= 0; j--)
            {
                points[i, j] = axes[j][rest % axes[j].Length];
                rest /= axes[j].Length;
            }
        }
        return (points, arrays);
    }

    static string WriteNpy(string path, double[,] points)
    {
        int n = points.GetLength(0), d = points.GetLength(1);
        Npy.Write(path, new NdArray([n, d], points.Cast<double>().ToArray()));
        return path;
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("modified_mlp")]
    [InlineData("mlp_hard")]
    [InlineData("pig")]
    [InlineData("gp")]
    public void Predicting_at_the_evaluation_grid_reproduces_the_runs_prediction_file(string kind)
    {
        var run = kind == "mlp" ? heat.Directory : Train(_dir, kind, kind);
        var problem = RunConfigLoader.Load(Path.Combine(run, "run.yaml"), ProblemCatalog.Instance).Problem;
        var (points, arrays) = GridOf(run, problem.Domain.CoordinateNames);
        var input = WriteNpy(Path.Combine(_dir, "grid.npy"), points);
        var output = Path.Combine(_dir, "out", "pred.npz"); // a folder that does not exist yet
        var (code, stdout, stderr) = Pinn("predict", run, input, "--out", output, "--batch", "20"); // batches cut the grid unevenly
        code.Should().Be(0, stderr);
        stderr.Should().BeEmpty("the grid lies inside the domain");
        stdout.Should().Contain($"{points.GetLength(0)} points written to {output}")
              .And.Contain("arrays: " + string.Join(", ", problem.Domain.CoordinateNames.Concat(problem.Fields)));

        var predicted = Npz.Read(output);
        foreach (var c in problem.Domain.CoordinateNames)
            predicted[c].Data.Should().Equal(Enumerable.Range(0, points.GetLength(0)).Select(i => points[i, problem.Domain.IndexOf(c)]));
        foreach (var f in problem.Fields)
        {
            var expected = arrays[f + "_pred"].Data;
            var got = predicted[f].Data;
            got.Should().HaveCount(expected.Length);
            // Same model, same checkpoint, float64: only the batching differs, which may move the last bits of a sum.
            for (int i = 0; i < got.Length; i++) got[i].Should().BeApproximately(expected[i], 1e-12, $"{f} at point {i}");
        }

        if (kind == "gp")
        {
            (code, _, stderr) = Pinn("predict", run, input, "--out", output, "--derivatives", "u_x");
            code.Should().Be(PinnCommand.BadInput);
            stderr.Trim().Should().Be("error: --derivatives: the gp model has no derivatives at arbitrary points " +
                                      "(the grid GP differentiates on its grid only); predict its values without --derivatives");
        }
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("mlp_hard")]
    [InlineData("pig")]
    public void Derivative_columns_match_central_differences_of_the_predicted_field(string kind)
    {
        var run = kind == "mlp" ? heat.Directory : Train(_dir, kind, kind);
        var problem = RunConfigLoader.Load(Path.Combine(run, "run.yaml"), ProblemCatalog.Instance).Problem;
        var coords = problem.Domain.CoordinateNames; // heat1d: x, t; helmholtz2d: x, y
        string a = coords[0], b = coords[1];
        var derivatives = new[] { $"u_{a}", $"u_{b}", $"u_{a}{a}", $"u_{b}{a}" }; // u_ba: the mixed derivative, typed out of order
        var rng = new Random(3);
        var centres = Enumerable.Range(0, 7).Select(_ => (rng.NextDouble(), rng.NextDouble())).ToArray();
        var box = problem.Domain.Axes;
        (double, double) At((double, double) unit) => (box[0].Min + (0.1 + 0.8 * unit.Item1) * box[0].Length, box[1].Min + (0.1 + 0.8 * unit.Item2) * box[1].Length);

        // Each centre with its stencil: ±h along each axis (first derivatives, h = 1e-5), ±H and the four corners (second, H = 1e-3).
        const double h = 1e-5, H = 1e-3;
        var offsets = new (double, double)[] { (0, 0), (h, 0), (-h, 0), (0, h), (0, -h), (H, 0), (-H, 0), (H, H), (H, -H), (-H, H), (-H, -H) };
        var lines = new List<string> { $"{b},{a}" }; // columns in the other order: the header decides
        foreach (var c in centres.Select(At))
            foreach (var (da, db) in offsets)
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Item2 + db:R},{c.Item1 + da:R}"));
        var input = Path.Combine(_dir, "stencil.csv");
        File.WriteAllLines(input, lines);
        var output = Path.Combine(_dir, "stencil.csv.out.csv");
        var (code, stdout, stderr) = Pinn("predict", run, input, "--out", output, "--derivatives", string.Join(",", derivatives));
        code.Should().Be(0, stderr);
        stdout.Should().Contain($"columns: {a}, {b}, u, {string.Join(", ", derivatives)}");

        var table = CsvTable.Read(output);
        table.Header.Should().Equal([a, b, "u", .. derivatives]);
        var u = table.Column("u");
        int k = offsets.Length;
        for (int p = 0; p < centres.Length; p++)
        {
            int o = p * k;
            double Col(string name, int i) => table.Column(name)[o + i];
            // Central differences in float64: truncation h²/6·|u'''| plus round-off ε|u|/h ≈ 1e-11 for first derivatives,
            // H²/12·|u''''| plus ε|u|/H² ≈ 1e-10 for second. Measured here, relative to max(1, |derivative|): first ≤ 1.5e-9
            // (PIG's narrow Gaussians; MLPs ≤ 2.5e-10), second ≤ 2.4e-5 (PIG; MLPs ≤ 2.6e-6): the bounds leave a factor ≥ 40.
            double Tol(double exact, double rel) => rel * Math.Max(1, Math.Abs(exact));
            double ua = (u[o + 1] - u[o + 2]) / (2 * h), ub = (u[o + 3] - u[o + 4]) / (2 * h);
            double uaa = (u[o + 5] - 2 * u[o] + u[o + 6]) / (H * H);
            double uab = (u[o + 7] - u[o + 8] - u[o + 9] + u[o + 10]) / (4 * H * H);
            Col($"u_{a}", 0).Should().BeApproximately(ua, Tol(ua, 1e-7), $"u_{a} at centre {p}");
            Col($"u_{b}", 0).Should().BeApproximately(ub, Tol(ub, 1e-7), $"u_{b} at centre {p}");
            Col($"u_{a}{a}", 0).Should().BeApproximately(uaa, Tol(uaa, 1e-3), $"u_{a}{a} at centre {p}");
            Col($"u_{b}{a}", 0).Should().BeApproximately(uab, Tol(uab, 1e-3), $"u_{b}{a} at centre {p}");
        }
    }

    [Fact]
    public void Values_with_derivatives_equal_values_without_and_npy_output_lists_its_columns()
    {
        var input = Path.Combine(_dir, "p.csv");
        File.WriteAllLines(input, ["0.1,0.2", "0.5,0.5", "0.9,0.75"]); // no header: domain order x, t
        var plain = Path.Combine(_dir, "plain.npy");
        var (code, stdout, stderr) = Pinn("predict", heat.Directory, input, "--out", plain);
        code.Should().Be(0, stderr);
        stdout.Should().Contain("columns: x, t, u");
        var withDerivatives = Path.Combine(_dir, "d.npy");
        (code, stdout, stderr) = Pinn("predict", heat.Directory, input, "--out", withDerivatives, "--derivatives", "u_t, u_xx");
        code.Should().Be(0, stderr);
        stdout.Should().Contain("columns: x, t, u, u_t, u_xx");

        var a = Npy.Read(plain);
        var b = Npy.Read(withDerivatives);
        a.Shape.Should().Equal(3, 3);
        b.Shape.Should().Equal(3, 5);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) b[i, j].Should().Be(a[i, j], "the forward pass under autograd computes the same values");
        b[1, 0].Should().Be(0.5);
        b[2, 1].Should().Be(0.75);
    }

    [Fact]
    public void Points_outside_the_domain_are_predicted_with_one_warning_line()
    {
        var input = Path.Combine(_dir, "p.csv");
        File.WriteAllLines(input, ["t,x", "0.5,0.5", "1.5,0.5", "0.5,-0.25"]);
        var (code, _, stderr) = Pinn("predict", heat.Directory, input, "--out", Path.Combine(_dir, "o.csv"));
        code.Should().Be(0, stderr);
        stderr.Trim().Should().Be($"warning: {input}: 2 of 3 points lie outside the domain (x ∈ [0, 1], t ∈ [0, 1]); the model extrapolates there");
        CsvTable.Read(Path.Combine(_dir, "o.csv")).Rows.Should().Be(3);
    }

    public static TheoryData<string, string, string, string> BadInputs => new()
    {
        // case, points file contents ("" = no file), extra argument, expected message (after "error: "; {points} = the points path)
        { "unknown derivative", "x,t\n0.5,0.5\n", "--derivatives=u_x,uxx", "--derivatives: unknown derivative 'uxx' (did you mean 'u_xx'?); a derivative is a field (u), '_' and coordinates (x, t), e.g. u_xx" },
        { "unknown coordinate", "x,t\n0.5,0.5\n", "--derivatives=u_y", "--derivatives: unknown derivative 'u_y' (did you mean 'u_x'?); a derivative is a field (u), '_' and coordinates (x, t), e.g. u_xx" },
        { "a field", "x,t\n0.5,0.5\n", "--derivatives=u", "--derivatives: 'u' is a field, always in the output; a derivative is written like u_x" },
        { "twice", "x,t\n0.5,0.5\n", "--derivatives=u_x,u_x", "--derivatives: 'u_x' is given twice" },
        { "extra column", "x,t,u\n0.5,0.5,1\n", "", "{points}: unknown column 'u' (the columns must be the coordinates x, t)" },
        { "extra columns", "x,t,u,v\n0.5,0.5,1,2\n", "", "{points}: unknown columns 'u', 'v' (the columns must be the coordinates x, t)" },
        { "typo column", "x,tt\n0.5,0.5\n", "", "{points}: unknown column 'tt' (the columns must be the coordinates x, t; did you mean 't'?)" },
        { "missing column", "x\n0.5\n", "", "{points}: no column for coordinate 't' (header: x; the coordinates are x, t)" },
        { "headerless, 3 columns", "0.5,0.5,0.5\n", "", "{points}:1: expected 2 values (x, t), found 3 (no header line: the columns are taken as x, t, in that order)" },
        { "ragged row", "x,t\n0.5,0.5\n0.5\n", "", "{points}:3: expected 2 values (x, t), found 1" },
        { "non-finite", "x,t\n0.5,0.5\n0.5,nan\n", "", "{points}: point 2: t = NaN is not a finite number" },
        { "not a number", "x,t\n0.5,abc\n", "", "{points}:2: column 't': cannot parse 'abc' as a number" },
        { "empty", "x,t\n", "", "{points}: no points in the file" },
        { "missing file", "", "", "{points}: points file not found" },
        { "output type", "x,t\n0.5,0.5\n", "--out=o.txt", "o.txt: unsupported output type (use .csv, .npy or .npz)" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_one_line_with_exit_code_2(string name, string contents, string extra, string message)
    {
        var points = Path.Combine(_dir, name.Replace(' ', '_').Replace(",", "") + ".csv");
        if (contents.Length > 0) File.WriteAllText(points, contents);
        var output = Path.Combine(_dir, "o.csv");
        var args = new List<string> { "predict", heat.Directory, points, "--out", output };
        if (extra.StartsWith("--out=")) args[^1] = extra[6..];
        else if (extra.Length > 0) args.AddRange(extra.Split('=', 2));
        var (code, _, stderr) = Pinn([.. args]);
        code.Should().Be(PinnCommand.BadInput, name);
        stderr.Trim().Split('\n').Should().ContainSingle(name);
        stderr.Trim().Should().Be("error: " + message.Replace("{points}", points), name);
        File.Exists(output).Should().BeFalse("nothing is written on bad input");
    }

    [Fact]
    public void Npy_points_of_the_wrong_shape_and_a_missing_run_are_clear_errors()
    {
        var points = WriteNpy(Path.Combine(_dir, "p3.npy"), new double[,] { { 0.5, 0.5, 0.5 } });
        var (code, _, stderr) = Pinn("predict", heat.Directory, points, "--out", Path.Combine(_dir, "o.npz"));
        code.Should().Be(PinnCommand.BadInput);
        stderr.Trim().Should().Be($"error: {points}: expected an n×2 array (columns x, t, in that order), got shape [1, 3]");

        (code, _, stderr) = Pinn("predict", Path.Combine(_dir, "nothing"), points, "--out", Path.Combine(_dir, "o.npz"));
        code.Should().Be(PinnCommand.BadInput);
        stderr.Trim().Should().Be($"error: {Path.Combine(_dir, "nothing")} is not a run directory (no run.yaml)");
    }

    [Fact]
    public void Derivative_names_parse_against_the_problems_fields_and_coordinates()
    {
        var columns = Prediction.ParseDerivatives(["u_x", "v_xy", "u_yx", "v_yyy"], ["x", "y"], ["u", "v"]);
        columns.Select(c => c.Name).Should().Equal("u_x", "v_xy", "u_yx", "v_yyy");
        columns.Select(c => (c.Derivative.Field, string.Join("", c.Derivative.Wrt))).Should()
               .Equal(("u", "x"), ("v", "xy"), ("u", "xy"), ("v", "yyy"));
        FluentActions.Invoking(() => Prediction.ParseDerivatives(["w_x"], ["x", "y"], ["u", "v"]))
                     .Should().Throw<PinnException>().WithMessage("--derivatives: unknown derivative 'w_x' (did you mean 'u_x'?)*");
        FluentActions.Invoking(() => Prediction.ParseDerivatives(["u_x+1"], ["x", "y"], ["u", "v"]))
                     .Should().Throw<PinnException>().WithMessage("--derivatives: unknown derivative 'u_x+1'*");
    }
}
