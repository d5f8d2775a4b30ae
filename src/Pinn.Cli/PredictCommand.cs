using System.CommandLine;
using Pinn.Config;
using Pinn.Reporting;

namespace Pinn.Cli;

/// <summary>
/// <c>pinn predict RUN POINTS --out FILE [--derivatives u_x,u_t]</c>: a trained run's fields (and derivatives) at the
/// user's points, from its checkpoint. The work is <see cref="Prediction"/>'s; this only parses and prints.
/// </summary>
public static class PredictCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var run = new Argument<string>("run") { Description = "a run directory (results/<problem>/<run>)" };
        var points = new Argument<string>("points")
        {
            Description = "the points: a .csv whose header names the coordinates (any order), a headerless .csv, or an n×d .npy (columns in the domain's coordinate order)",
        };
        var output = new Option<string>("--out") { Description = "output file: .csv (header: coordinates, fields, derivatives), .npy (n×(d+m+k) table) or .npz (one array per column)", Required = true };
        var derivatives = new Option<string?>("--derivatives") { Description = "derivative columns, comma-separated: a field, '_' and coordinates (u_x, u_xx, u_t, v_xy)" };
        var batch = new Option<int>("--batch") { Description = "points per forward pass", DefaultValueFactory = _ => Prediction.DefaultBatch };
        var cmd = new Command("predict", "evaluate a trained run's model (and derivatives) at the given points") { run, points, output, derivatives, batch };
        cmd.SetAction(r => PinnCommand.Guarded(stderr, () =>
        {
            var outPath = r.GetValue(output)!;
            Prediction.CheckOutput(outPath); // before the model is loaded and evaluated
            if (r.GetValue(batch) < 1) throw new PinnException($"--batch: expected a positive number of points, got {r.GetValue(batch)}");
            var names = (r.GetValue(derivatives) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var result = Prediction.Predict(r.GetValue(run)!, r.GetValue(points)!, names, catalog, stderr, r.GetValue(batch));
            Prediction.Write(result.Table, outPath);
            var order = outPath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? "arrays" : "columns";
            stdout.WriteLine($"{result.Config.Problem.Name} (checkpoint at {result.State.Phase} step {result.State.Step}): {result.Table.Rows} points written to {outPath}; " +
                             $"{order}: {string.Join(", ", result.Table.Columns)}");
            return PinnCommand.Ok;
        }));
        return cmd;
    }
}
