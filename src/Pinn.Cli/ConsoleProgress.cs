using System.Diagnostics;
using Pinn.Training;
using Spectre.Console;

namespace Pinn.Cli;

/// <summary>
/// A live progress bar for `pinn run` on a terminal: step / total, loss, per-term losses, the last
/// relative L2, steps per second and the time left. Not a terminal (CI, a pipe): PlainProgress lines instead.
/// </summary>
sealed class ConsoleProgress : ITrainingObserver
{
    readonly ProgressTask _task;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    int _firstStep = -1;
    string _terms = "";
    string _error = "";

    ConsoleProgress(ProgressTask task) => _task = task;

    public static bool Interactive(TextWriter stdout) =>
        ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static T Run<T>(Func<ITrainingObserver, T> body)
    {
        T? outcome = default;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new RemainingTimeColumn())
            .Start(ctx => outcome = body(new ConsoleProgress(ctx.AddTask("starting", maxValue: 1))));
        return outcome!;
    }

    public void OnStart(string header) => AnsiConsole.MarkupLine(Markup.Escape(header));

    public void OnStep(int step, int total, double loss)
    {
        if (_firstStep < 0) { _firstStep = step; _clock.Restart(); }
        double rate = (step - _firstStep + 1) / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
        _task.MaxValue = total;
        _task.Value = step + 1;
        var text = $"step {step + 1}/{total}  {rate:F0}/s  loss {loss:0.000e+00}{_error}{_terms}";
        // The bar, percentage and time columns need ~40 characters; a longer description would wrap.
        int room = Math.Max(30, AnsiConsole.Profile.Width - 40);
        _task.Description = Markup.Escape(text.Length > room ? text[..(room - 1)] + "…" : text);
    }

    public void OnLog(LogEntry e)
    {
        if (e.Terms.Count > 0) _terms = "  (" + string.Join(", ", e.Terms.Select(kv => $"{kv.Key} {kv.Value:0.0e+00}")) + ")";
        if (e.Error is not null) _error = $"  rel L2 {e.Error.RelativeL2:0.000e+00}";
        if (e.Diagnostics is { } d && d.TryGetValue("causal_eps", out var eps) && d.TryGetValue("causal_min_w", out var w))
            _terms += $"  ε {eps:G3} min w {w:F3}";
    }

    public void OnMessage(string message) => AnsiConsole.MarkupLine("[yellow]" + Markup.Escape(message) + "[/]");
}
