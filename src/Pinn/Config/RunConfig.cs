using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;

namespace Pinn.Config;

/// <summary>Where and how errors are measured.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Grid points per coordinate name; coordinates not listed get the defaults below.</summary>
    public IReadOnlyDictionary<string, int> Grid { get; init; } = new Dictionary<string, int>();
    public int SpacePoints { get; init; } = 256;
    public int TimePoints { get; init; } = 101;

    public int[] CountsFor(Problem problem)
    {
        var counts = problem.Domain.Axes.Select(a => Grid.TryGetValue(a.Name, out var n) ? n
                                                     : a.Name == problem.Domain.TimeAxis ? TimePoints : SpacePoints).ToArray();
        for (int j = 0; j < counts.Length; j++)
        {
            if (counts[j] >= 1) continue;
            var axis = problem.Domain.Axes[j].Name;
            var key = Grid.ContainsKey(axis) ? $"evaluation.grid.{axis}" : axis == problem.Domain.TimeAxis ? "evaluation.time_points" : "evaluation.space_points";
            throw new PinnException($"{key}: the evaluation grid needs at least 1 point along '{axis}', got {counts[j]}") { Key = key };
        }
        return counts;
    }
}

public sealed record OutputOptions
{
    /// <summary>Runs are written to <c>&lt;dir&gt;/&lt;problem&gt;/&lt;name&gt;/</c>.</summary>
    public string Dir { get; init; } = "results";
    /// <summary>Run name; default: a timestamp and the seed.</summary>
    public string? Name { get; init; }
    /// <summary>Also write every log.csv scalar as TensorBoard events under <c>&lt;run&gt;/tensorboard/</c>.</summary>
    public bool TensorBoard { get; init; }
}

/// <summary>
/// A resolved run: the problem (with parameter overrides applied) and every option, and the document
/// they were read from — after reading it holds every value used, and it is what run.yaml records.
/// </summary>
public sealed record RunConfig(
    string Source,
    Problem Problem,
    ModelOptions Model,
    TrainingOptions Training,
    EvaluationOptions Evaluation,
    OutputOptions Output,
    YamlDoc Document);

/// <summary>The built-in problems, by name (implemented by the problems project).</summary>
public interface IProblemCatalog
{
    IReadOnlyList<(string Name, string Description)> List();
    /// <summary>A fresh instance, or null if no built-in problem has that name.</summary>
    Problem? Create(string name);
    /// <summary>The problem's default run config file, if it ships one.</summary>
    string? DefaultConfigPath(string name);
}
