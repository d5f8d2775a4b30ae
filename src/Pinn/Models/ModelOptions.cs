namespace Pinn.Models;

/// <summary>Architecture settings; YAML <c>model:</c> maps onto these (defaults here are the only defaults).</summary>
public sealed record ModelOptions
{
    /// <summary>mlp (more kinds plug in through <see cref="ModelFactory"/>).</summary>
    public string Type { get; init; } = "mlp";
    public IReadOnlyList<int> Layers { get; init; } = [64, 64, 64, 64];
    /// <summary>tanh or sin.</summary>
    public string Activation { get; init; } = "tanh";
    /// <summary>Map each input coordinate from its domain range onto [−1, 1] before the first layer.</summary>
    public bool NormalizeInputs { get; init; } = true;
}
