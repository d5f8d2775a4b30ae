using System.Globalization;
using System.Text;
using Pinn.Config;
using Pinn.Training;

namespace Pinn.Problems;

/// <summary>What every paper reproduction shares: one run with its best logged error, number format, file names, the table file.</summary>
public static class Reproduction
{
    public sealed record Trained(TrainingResult Result, double Final, double Best);

    /// <summary>
    /// Runs <paramref name="cfg"/>, keeping the lowest error logged on the way (the papers report that
    /// kind of number; ours is the final iterate). With <paramref name="seconds"/>, training is cancelled
    /// that long after it starts (after the reference is solved).
    /// </summary>
    public static Trained Train(RunConfig cfg, double? seconds = null)
    {
        using var cancel = new CancellationTokenSource();
        var best = new BestError(cancel, seconds);
        var r = Runner.Run(cfg, best, cancel.Token).Result;
        double final = r.Error?.RelativeL2 ?? double.NaN;
        return new Trained(r, final, Math.Min(best.Value, double.IsNaN(final) ? double.PositiveInfinity : final));
    }

    sealed class BestError(CancellationTokenSource cancel, double? seconds) : ITrainingObserver
    {
        public double Value { get; private set; } = double.PositiveInfinity;

        public void OnStart(string header)
        {
            if (seconds is { } s) cancel.CancelAfter(TimeSpan.FromSeconds(s));
        }

        public void OnLog(LogEntry entry)
        {
            if (entry.Error is { } e && double.IsFinite(e.RelativeL2)) Value = Math.Min(Value, e.RelativeL2);
        }
    }

    public static string Sci(double v) => double.IsFinite(v) ? v.ToString("0.00e+00", CultureInfo.InvariantCulture) : "—";

    public static string Slug(string s) => new(s.Select(ch => char.IsLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : '-').ToArray());

    /// <summary>Writes <c>&lt;outDir&gt;/&lt;name&gt;</c> and returns its path.</summary>
    public static string Write(string outDir, string name, StringBuilder markdown)
    {
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, name);
        File.WriteAllText(path, markdown.ToString());
        return path;
    }
}
