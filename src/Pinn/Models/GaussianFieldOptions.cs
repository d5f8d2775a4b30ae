namespace Pinn.Models;

/// <summary>
/// Settings of the PIG model (Kang, Oh, Hong &amp; Park, ICLR 2025; PAPERS.md §2); YAML
/// <c>model: {type: pig, gaussians: {…}}</c> maps onto these (snake_case there). The defaults are the
/// reference code's: k = 4 channels, a 16-unit tanh head, σ₀ = 0.1 of the normalised box, weights N(0, 0.01²).
/// </summary>
public sealed record GaussianFieldOptions
{
    /// <summary>Feature channels k: each has its own Gaussians and its own scalar weight per Gaussian.</summary>
    public int Channels { get; init; } = 4;
    /// <summary>Gaussians per channel N.</summary>
    public int Count { get; init; } = 100;
    /// <summary>Initial standard deviation of every Gaussian, as a fraction of the normalised box (inputs map onto [0, 1]^d).</summary>
    public double InitScale { get; init; } = 0.1;
    /// <summary>Standard deviation of the initial Gaussian weights (weights ~ N(0, std²)).</summary>
    public double WeightInitStd { get; init; } = 0.01;
    /// <summary>diagonal (σ per axis, kept positive through log σ) | full (a Cholesky-like shear on top of the diagonal).</summary>
    public string Covariance { get; init; } = "diagonal";
    /// <summary>Hidden widths of the head MLP k → … → outputs.</summary>
    public IReadOnlyList<int> Head { get; init; } = [16];
    /// <summary>tanh or sin.</summary>
    public string HeadActivation { get; init; } = "tanh";
    /// <summary>Sum only Gaussians whose mean lies within this many σ of the point (binned means); null: the exact sum over all.</summary>
    public double? Cutoff { get; init; }
    /// <summary>
    /// The bin side is cutoff × this quantile of σ per axis; Gaussians wider than that are summed for
    /// every point, so a few wide Gaussians do not make every bin large.
    /// </summary>
    public double CutoffQuantile { get; init; } = 0.99;
    /// <summary>Points evaluated at once: bounds the points × (k·N) temporaries.</summary>
    public int ChunkSize { get; init; } = 4096;
    /// <summary>Learning-rate multiplier of the Gaussian parameters (μ, σ, weights) relative to the head's.</summary>
    public double GaussianLrScale { get; init; } = 1.0;
    /// <summary>Train the means (the paper's ablation with fixed means loses 10× on Klein–Gordon).</summary>
    public bool TrainMeans { get; init; } = true;
    /// <summary>Full covariance only: a diagonal run's checkpoint folder to start from (its μ, σ, weights and head).</summary>
    public string? InitFrom { get; init; }
}
