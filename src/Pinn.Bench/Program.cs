using System.CommandLine;
using System.Globalization;
using Pinn.Bench;
using Spectre.Console;
using static TorchSharp.torch;

Pinn.Training.NativeRuntime.BeforeTorchLoads(); // before anything touches TorchSharp: libgomp reads its settings when it loads

// Every suite, by name; a new benchmark is one class added here.
IBenchmarkSuite[] suites = [new PinnStepBenchmark(), new PyTorchPeerBenchmark(), new DerivativeEngineBenchmark(), new MemoryStabilityBenchmark(), new GpStepBenchmark(), new GpCgBenchmark(), new OptimBenchmark(), new LmBenchmark()];

var only = new Option<string?>("--only") { Description = "run one suite: " + string.Join(", ", suites.Select(s => s.Name)) };
var quick = new Option<bool>("--quick") { Description = "fewer repeats; skip sizes whose step takes > 20 s" };
var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads", DefaultValueFactory = _ => 2 };
var outDir = new Option<string>("--out") { Description = "folder for bench.md and bench.json", DefaultValueFactory = _ => "results" };
var root = new RootCommand("Pinn benchmarks: writes results/bench.md and results/bench.json") { only, quick, threads, outDir };
root.SetAction(r =>
{
    string? name = r.GetValue(only);
    var selected = suites.Where(s => name is null || s.Name == name).ToList();
    if (selected.Count == 0)
    {
        Console.Error.WriteLine($"--only: no suite '{name}' (suites: {string.Join(", ", suites.Select(s => s.Name))})");
        return 2;
    }
    var options = new BenchOptions(r.GetValue(quick), r.GetValue(threads));
    set_num_threads(options.Threads);
    string command = "Pinn.Bench " + string.Join(' ', args);
    var results = new List<SuiteResult>();
    foreach (var suite in selected)
    {
        AnsiConsole.MarkupLine($"[bold]{suite.Name}[/]: {Markup.Escape(suite.Description)}");
        string load = MachineInfo.LoadAverage();
        var rows = suite.Run(options);
        var result = new SuiteResult(suite.Name, suite.Description, DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
                                     command, options.Quick, MachineInfo.Now(get_num_threads(), load), rows, suite.Findings);
        results.Add(result);
        Print(result);
    }
    var (md, json) = BenchReport.Write(r.GetValue(outDir)!, results);
    AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(md)}[/] and [bold]{Markup.Escape(json)}[/]");
    return 0;
});
return root.Parse(args).Invoke();

static void Print(SuiteResult s)
{
    var table = new Table().AddColumns("case", "parameters", "median ms", "min ms", "repeats", "peak RSS MB", "notes");
    foreach (var r in s.Rows)
        table.AddRow(Markup.Escape(r.Case), Markup.Escape(r.Parameters), r.MedianMs is { } m ? BenchTimer.Ms(m) : "—", r.MinMs is { } n ? BenchTimer.Ms(n) : "—",
                     r.Repeats.ToString(CultureInfo.InvariantCulture), r.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture), Markup.Escape(r.Notes));
    AnsiConsole.Write(table);
    foreach (var f in s.Findings) AnsiConsole.WriteLine("  " + f);
}
