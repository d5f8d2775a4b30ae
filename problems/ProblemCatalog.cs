using Pinn.Config;

namespace Pinn.Problems;

/// <summary>The built-in problems. Each ships its default run config as problems/&lt;name&gt;/&lt;name&gt;.yaml.</summary>
public sealed class ProblemCatalog : IProblemCatalog
{
    static readonly Dictionary<string, Func<Problem>> Factories = new()
    {
        ["poisson1d"] = () => new Poisson1D(),
        ["poisson2d"] = () => new Poisson2D(),
        ["heat1d"] = () => new Heat1D(),
        ["burgers"] = () => new Burgers1D(),
        ["allen_cahn"] = () => new AllenCahn(),
        ["ks"] = () => new KuramotoSivashinsky(),
        ["advection"] = () => new Advection(),
        ["wave"] = () => new Wave(),
    };

    public static readonly ProblemCatalog Instance = new();

    public IReadOnlyList<(string Name, string Description)> List() =>
        Factories.Select(kv => (kv.Key, kv.Value().Description)).ToList();

    public Problem? Create(string name) => Factories.TryGetValue(name, out var f) ? f() : null;

    /// <summary>Next to the executable (copied at build), else under ./problems of the working directory.</summary>
    public string? DefaultConfigPath(string name)
    {
        foreach (var root in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            var path = Path.Combine(root, "problems", name, name + ".yaml");
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
