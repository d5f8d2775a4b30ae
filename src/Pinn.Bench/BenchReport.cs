using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pinn.Bench;

/// <summary>Where and how one suite was measured: timings mean little without the machine and its load.</summary>
public sealed record MachineInfo(string Cpu, int Cores, string Os, string Runtime, int TorchThreads, string LoadBefore, string LoadAfter)
{
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    public static MachineInfo Now(int threads, string loadBefore)
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown"
            : RuntimeInformation.ProcessArchitecture.ToString();
        return new MachineInfo(cpu, Environment.ProcessorCount, RuntimeInformation.OSDescription,
                               RuntimeInformation.FrameworkDescription, threads, loadBefore, LoadAverage());
    }
}

public sealed record SuiteResult(string Name, string Description, string Date, string Command, bool Quick,
                                 MachineInfo Machine, IReadOnlyList<BenchRow> Rows, IReadOnlyList<string> Findings);

/// <summary>
/// results/bench.json holds the latest result of every suite per thread count; running one suite (<c>--only</c>)
/// replaces its entry and keeps the others (so 1- and 2-thread runs sit side by side), and results/bench.md is regenerated from the whole file.
/// </summary>
public static class BenchReport
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static (string Markdown, string Json) Write(string dir, IReadOnlyList<SuiteResult> fresh)
    {
        Directory.CreateDirectory(dir);
        string jsonPath = Path.Combine(dir, "bench.json"), mdPath = Path.Combine(dir, "bench.md");
        var all = File.Exists(jsonPath) ? JsonSerializer.Deserialize<List<SuiteResult>>(File.ReadAllText(jsonPath), Json) ?? [] : [];
        foreach (var s in fresh)
        {
            int i = all.FindIndex(a => a.Name == s.Name && a.Machine.TorchThreads == s.Machine.TorchThreads);
            if (i >= 0) all[i] = s; else all.Add(s);
        }
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(all, Json) + "\n");
        File.WriteAllText(mdPath, Markdown(all));
        return (mdPath, jsonPath);
    }

    static string Markdown(IReadOnlyList<SuiteResult> suites)
    {
        var sb = new StringBuilder("# Benchmarks\n\nWritten by `make bench` (src/Pinn.Bench); raw numbers and samples in `bench.json`. " +
                                   "Medians of the timed repeats after warm-up; peak RSS is the process's high-water mark during the case.\n");
        foreach (var s in suites)
        {
            var m = s.Machine;
            sb.Append(CultureInfo.InvariantCulture,
                $"\n## {s.Name}, {m.TorchThreads} thread{(m.TorchThreads == 1 ? "" : "s")}\n\n{s.Description}.\n\nMeasured {s.Date} with `{s.Command}`{(s.Quick ? " (quick)" : "")} on {m.Cpu}, " +
                $"{m.Cores} cores, {m.TorchThreads} libtorch threads, {m.Runtime}, {m.Os}; load average {m.LoadBefore} before, {m.LoadAfter} after.\n\n");
            if (Busy(m))
                sb.Append(
                    $"**Busy machine**: other work held the cores (load {m.LoadBefore} on {m.Cores} cores) while {m.TorchThreads} libtorch threads ran; " +
                    "OpenMP threads then wait for descheduled partners, so these timings measure the contention, not the code (TORCHSHARP.md pitfall 6).\n\n");
            sb.Append("| case | parameters | median ms | min ms | repeats | peak RSS MB | notes |\n|---|---|---:|---:|---:|---:|---|\n");
            foreach (var r in s.Rows)
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {r.Case} | {r.Parameters} | {Fmt(r.MedianMs)} | {Fmt(r.MinMs)} | {r.Repeats} | {r.PeakRssMb:F0} | {r.Notes} |\n");
            if (s.Findings.Count > 0) sb.Append('\n');
            foreach (var f in s.Findings) sb.Append("- ").Append(f).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>More runnable work than cores besides our own threads: multi-threaded timings are unreliable.</summary>
    static bool Busy(MachineInfo m) =>
        m.TorchThreads > 1 && new[] { m.LoadBefore, m.LoadAfter }.Select(l => double.TryParse(l.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0)
                                                               .Max() > m.Cores;

    static string Fmt(double? ms) => ms is { } v ? BenchTimer.Ms(v) : "—";
}
