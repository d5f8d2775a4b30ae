using System.Diagnostics;
using System.Globalization;

namespace Pinn.Bench;

/// <summary>Medians of repeated runs of one step; the samples are kept for the JSON report.</summary>
public sealed record Timing(double MedianMs, double MinMs, IReadOnlyList<double> SamplesMs, double FirstMs, bool Skipped);

/// <summary>Times a step: warm-up runs (the first one timed, to decide whether a size is affordable), then repeats.</summary>
public static class BenchTimer
{
    public static Timing Measure(Action step, BenchOptions options)
    {
        double first = Once(step);
        if (options.MaxStepMs is { } max && first > max) return new Timing(double.NaN, double.NaN, [], first, true);
        for (int i = 1; i < options.Warmup; i++) step();
        var samples = Enumerable.Range(0, options.Repeats).Select(_ => Once(step)).ToArray();
        return new Timing(Median(samples), samples.Min(), samples, first, false);
    }

    public static double Once(Action step)
    {
        var clock = Stopwatch.StartNew();
        step();
        return clock.Elapsed.TotalMilliseconds;
    }

    public static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>Least-squares slope of log y against log x: the growth exponent p in y ∝ x^p.</summary>
    public static double LogLogSlope(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var lx = x.Select(v => Math.Log(v)).ToArray();
        var ly = y.Select(v => Math.Log(v)).ToArray();
        double mx = lx.Average(), my = ly.Average();
        double sxy = lx.Zip(ly, (a, b) => (a - mx) * (b - my)).Sum();
        double sxx = lx.Sum(a => (a - mx) * (a - mx));
        return sxy / sxx;
    }

    public static string Ms(double ms) => ms.ToString(ms >= 100 ? "F0" : ms >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);
}

/// <summary>
/// Peak resident memory per case. Linux keeps the process's high-water mark (VmHWM); writing 5 to
/// /proc/self/clear_refs resets it to the current RSS, so each case reports its own peak. glibc keeps
/// freed memory, so the number includes what earlier cases left resident (TORCHSHARP.md pitfall 7).
/// </summary>
public static class PeakMemory
{
    public static void Reset()
    {
        // The heap keeps freed pages on purpose (NativeRuntime): hand them back first, or every case would
        // start at the previous cases' high-water mark.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Pinn.Training.NativeRuntime.ReleaseFreeMemory();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static double Megabytes()
    {
        return StatusMegabytes("VmHWM") ?? Environment.WorkingSet / (1024.0 * 1024.0); // not Linux: the current working set
    }

    /// <summary>A /proc/self/status size (VmHWM, VmRSS) in MiB, or null off Linux.</summary>
    public static double? StatusMegabytes(string key)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key + ":"));
            // "VmHWM:\t    2260 kB": a tab, then padding that vanishes at 8 digits ("VmHWM:\t12345678 kB", from 9.5 GiB on)
            if (line is not null)
                return long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return null;
    }
}
