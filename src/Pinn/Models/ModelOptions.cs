namespace Pinn.Models;

/// <summary>Exact periodic embedding of one coordinate: [cos(kωx), sin(kωx)], k = 1..Harmonics, ω = 2π/Period.</summary>
public sealed record PeriodicAxisOptions(double? Period = null, int Harmonics = 10);

/// <summary>Architecture settings; YAML <c>model:</c> maps onto these (defaults here are the only defaults).</summary>
public sealed record ModelOptions
{
    /// <summary>mlp | modified_mlp (gated U/V encoders; Wang, Teng &amp; Perdikaris 2021) | pig (Gaussian features, see <see cref="Gaussians"/>).</summary>
    public string Type { get; init; } = "mlp";
    /// <summary>Hidden widths (modified_mlp: all equal).</summary>
    public IReadOnlyList<int> Layers { get; init; } = [64, 64, 64, 64];
    /// <summary>tanh or sin.</summary>
    public string Activation { get; init; } = "tanh";
    /// <summary>Map each (non-periodic) input coordinate from its domain range onto [−1, 1] before the first layer.</summary>
    public bool NormalizeInputs { get; init; } = true;
    /// <summary>Coordinates embedded exactly periodically, so periodic boundary conditions hold by construction.</summary>
    public IReadOnlyDictionary<string, PeriodicAxisOptions> Periodic { get; init; } = new Dictionary<string, PeriodicAxisOptions>();
    /// <summary>Random Fourier features [cos(XB), sin(XB)], B ~ N(0, scale²): number of frequencies (0: off).</summary>
    public int FourierFeatures { get; init; }
    public double FourierScale { get; init; } = 1.0;
    /// <summary>Random weight factorisation W = diag(exp(s))·V, s ~ N(mean, std) (Wang et al. 2022); off when null.</summary>
    public (double Mean, double Std)? WeightFactorization { get; init; }
    /// <summary>The Kronecker GP solver's settings (model type gp).</summary>
    public Gp.GpOptions Gp { get; init; } = new();
    /// <summary>PIG (type: pig): Gaussian feature embedding and head.</summary>
    public GaussianFieldOptions Gaussians { get; init; } = new();
    /// <summary>Conditions satisfied by construction instead of as loss terms (mlp, modified_mlp, pig): see <see cref="ConstrainedField"/>.</summary>
    public HardConstraintOptions HardConstraints { get; init; } = new();
}

/// <summary>YAML <c>model.hard_constraints: {initial: true, dirichlet: true}</c> (both off by default).</summary>
public sealed record HardConstraintOptions(bool Initial = false, bool Dirichlet = false)
{
    public bool Any => Initial || Dirichlet;
}
