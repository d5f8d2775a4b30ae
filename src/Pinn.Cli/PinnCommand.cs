using System.CommandLine;
using System.Globalization;
using Pinn.Config;
using Pinn.Problems;
using Pinn.References;
using Pinn.Training;

namespace Pinn.Cli;

/// <summary>
/// The <c>pinn</c> command. Exit codes: 0 success; 1 the run finished but diverged (results are
/// still written); 2 bad input (config, names, files) — one line naming the file, line and symbol;
/// 3 an internal error.
/// </summary>
public static class PinnCommand
{
    public const int Ok = 0, Diverged = 1, BadInput = 2, Internal = 3;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IProblemCatalog? catalog = null)
    {
        catalog ??= ProblemCatalog.Instance;
        var root = new RootCommand("Pinn: physics-informed PDE solvers (PINN) on TorchSharp");
        root.Subcommands.Add(RunCommand(stdout, stderr, catalog));
        root.Subcommands.Add(ListCommand(stdout, catalog));
        root.Subcommands.Add(ShowCommand(stdout, stderr, catalog));
        root.Subcommands.Add(ReferenceCommand(stdout, stderr, catalog));
        var config = new InvocationConfiguration { Output = stdout, Error = stderr };
        return root.Parse(args).Invoke(config);
    }

    /// <summary>Runs a command body, turning errors into one line on stderr and an exit code.</summary>
    static int Guarded(TextWriter stderr, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (PinnException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            var inner = e is TypeInitializationException { InnerException: { } ie } ? ie : e;
            stderr.WriteLine($"internal error: {inner.GetType().Name}: {inner.Message.Split('\n')[0]}");
            if (Environment.GetEnvironmentVariable("PINN_DEBUG") == "1") stderr.WriteLine(inner);
            return Internal;
        }
    }

    static Argument<string> Target() => new("target")
    {
        Description = "a run config (.yaml) or a built-in problem name (see 'pinn list')",
    };

    static Command RunCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var target = Target();
        var steps = new Option<int?>("--steps") { Description = "Adam steps (training.steps)" };
        var seed = new Option<int?>("--seed") { Description = "random seed (training.seed)" };
        var device = new Option<string?>("--device") { Description = "auto | cpu | cuda (training.device)" };
        var dtype = new Option<string?>("--dtype") { Description = "float32 | float64 (training.dtype)" };
        var set = new Option<string[]>("--set") { Description = "override any config value: --set training.lr=5e-4 (repeatable)" };
        var outDir = new Option<string?>("--out") { Description = "results root directory (output.dir, default results)" };
        var name = new Option<string?>("--name") { Description = "run name (output.name; default: timestamp and seed)" };
        var cmd = new Command("run", "train a model on a problem and report its error against the reference")
        {
            target, steps, seed, device, dtype, set, outDir, name,
        };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var overrides = new List<string>(r.GetValue(set) ?? []);
            void Add(string key, object? v)
            {
                if (v is not null) overrides.Add($"{key}={Convert.ToString(v, CultureInfo.InvariantCulture)}");
            }
            Add("training.steps", r.GetValue(steps));
            Add("training.seed", r.GetValue(seed));
            Add("training.device", r.GetValue(device));
            Add("training.dtype", r.GetValue(dtype));
            Add("output.dir", r.GetValue(outDir));
            Add("output.name", r.GetValue(name));
            var cfg = RunConfigLoader.Load(r.GetValue(target)!, catalog, overrides);
            var outcome = Runner.Run(cfg, stdout);
            var res = outcome.Result;
            var err = res.Error is null ? "no reference" : $"relative L2 {res.Error.RelativeL2:0.000e+00} ({res.Error})";
            stdout.WriteLine($"{cfg.Problem.Name}: {err}; {res.AdamSteps} Adam + {res.LbfgsSteps} L-BFGS steps in {res.Seconds:F1} s; results in {outcome.Directory}");
            if (res.Status != "completed")
            {
                stderr.WriteLine($"error: training {res.Status}; results so far are in {outcome.Directory}");
                return Diverged;
            }
            return Ok;
        }));
        return cmd;
    }

    static Command ListCommand(TextWriter stdout, IProblemCatalog catalog)
    {
        var cmd = new Command("list", "list the built-in problems");
        cmd.SetAction(_ =>
        {
            foreach (var (n, d) in catalog.List()) stdout.WriteLine($"{n,-12} {d}");
            return Ok;
        });
        return cmd;
    }

    static Command ShowCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var target = Target();
        var cmd = new Command("show", "print a problem: equations, domain, conditions, reference") { target };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var cfg = RunConfigLoader.Load(r.GetValue(target)!, catalog);
            stdout.WriteLine(cfg.Problem.Describe());
            return Ok;
        }));
        return cmd;
    }

    static Command ReferenceCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var target = Target();
        var nx = new Option<int?>("--nx") { Description = "grid points along each spatial coordinate" };
        var nt = new Option<int?>("--nt") { Description = "grid points along time" };
        var output = new Option<string>("--out") { Description = "output file: .npz (grid axes + field arrays), .npy (n×(d+m) table) or .csv", Required = true };
        var cmd = new Command("reference", "write a problem's reference solution on a grid, with the grid coordinates")
        {
            target, nx, nt, output,
        };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var overrides = new List<string>();
            if (r.GetValue(nx) is { } x) overrides.Add($"evaluation.space_points={x}");
            if (r.GetValue(nt) is { } t) overrides.Add($"evaluation.time_points={t}");
            var cfg = RunConfigLoader.Load(r.GetValue(target)!, catalog, overrides);
            var p = cfg.Problem;
            var reference = p.Reference ?? throw new PinnException($"problem '{p.Name}' has no reference");
            var counts = cfg.Evaluation.CountsFor(p);
            if (r.GetValue(nx) is not null || r.GetValue(nt) is not null)
                counts = p.Domain.Axes.Select(a => a.Name == p.Domain.TimeAxis ? r.GetValue(nt) ?? cfg.Evaluation.TimePoints
                                                                             : r.GetValue(nx) ?? cfg.Evaluation.SpacePoints).ToArray();
            var solution = reference.Solve(p, counts);
            var path = r.GetValue(output)!;
            ReferenceFiles.Write(solution, path);
            stdout.WriteLine($"{p.Name}: {reference.Description}; {solution.Count} points ({string.Join(" × ", counts)}) written to {path}");
            return Ok;
        }));
        return cmd;
    }
}
