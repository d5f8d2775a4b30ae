using Pinn.Config;

namespace Pinn.Problems;

/// <summary>The built-in problems. Each ships its default run config as problems/&lt;name&gt;/&lt;name&gt;.yaml.</summary>
public sealed class ProblemCatalog : IProblemCatalog
{
    static readonly Dictionary<string, Func<Problem>> Factories = new Dictionary<string, Func<Problem>>
    {
        ["poisson1d"] = () => new Poisson1D(),
        ["poisson2d"] = () => new Poisson2D(),
        ["heat1d"] = () => new Heat1D(),
        ["burgers"] = () => new Burgers1D(),
        ["allen_cahn"] = () => new AllenCahn(),
        ["ks"] = () => new KuramotoSivashinsky(),
        ["advection"] = () => new Advection(),
        ["wave"] = () => new Wave(),
        ["nonlinear_diffusion"] = () => new NonlinearDiffusion(),
        ["helmholtz2d"] = () => new Helmholtz2D(),
        ["klein_gordon"] = () => new KleinGordon(),
        ["flow_mixing"] = () => new FlowMixing(),
    }.Concat(HighFrequencyBenchmark.All).ToDictionary();

    public static readonly ProblemCatalog Instance = new();

    public IReadOnlyList<(string Name, string Description)> List() =>
        Factories.Select(kv => (kv.Key, kv.Value().Description)).ToList();

    public Problem? Create(string name) => Factories.TryGetValue(name, out var f) ? f() : null;

    /// <summary>The folder holding the problems' run configs: next to the executable (copied at build), else ./problems.</summary>
    public static string ConfigRoot()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "problems");
        return Directory.Exists(beside) ? beside : Path.Combine(Directory.GetCurrentDirectory(), "problems");
    }

    public string? DefaultConfigPath(string name)
    {
        // problems/<name>/<name>.yaml, or a family folder's problems/<family>/<name>.yaml (e.g. gp/).
        var root = ConfigRoot();
        var path = Path.Combine(root, name, name + ".yaml");
        if (File.Exists(path)) return path;
        return Directory.Exists(root) ? Directory.EnumerateFiles(root, name + ".yaml", SearchOption.AllDirectories).FirstOrDefault() : null;
    }
}
