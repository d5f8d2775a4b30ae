namespace Pinn.Gp;

/// <summary>
/// The Kronecker GP solver's settings; YAML <c>model: {type: gp, …}</c> maps onto these (snake_case).
/// Defaults follow the GP-HM paper (Fang et al., ICLR 2024; PAPERS.md §3).
/// </summary>
public sealed record GpOptions
{
    /// <summary>gm (Gaussian envelope) or stm (Matérn-5/2 envelope) spectral mixture per axis.</summary>
    public string Kernel { get; init; } = "gm";
    /// <summary>Mixture components Q per axis.</summary>
    public int Components { get; init; } = 30;
    /// <summary>
    /// Highest initial frequency F (cycles per unit length) per axis name, or for every axis under "*":
    /// frequencies start evenly on [0, F]. F must exceed the solution's highest frequency.
    /// </summary>
    public IReadOnlyDictionary<string, double> MaxFrequency { get; init; } = new Dictionary<string, double>();
    /// <summary>Collocation grid points per axis name (boundary included); "*" for every axis.</summary>
    public IReadOnlyDictionary<string, int> Grid { get; init; } = new Dictionary<string, int>();
    /// <summary>Diagonal jitter relative to the mean diagonal of each per-axis kernel matrix.</summary>
    public double Jitter { get; init; } = 1e-6;
    /// <summary>λ_b: weight of the boundary/initial log-likelihood terms (paper: 200; 500 for advection).</summary>
    public double BoundaryWeight { get; init; } = 200;

    /// <summary>
    /// Every this many Adam steps, minimise the objective over the grid values with the kernel and the precisions fixed
    /// (<see cref="GridValueSolve"/>: Gauss–Newton, each step by preconditioned conjugate gradients; exact for linear PDEs);
    /// 0: off. Matrix-free, so any grid size.
    /// </summary>
    public int SolveEvery { get; init; }
    /// <summary>Outer Gauss–Newton iterations per solve (at most; it stops early when the objective stops decreasing). 1 suffices for a linear PDE.</summary>
    public int SolveIterations { get; init; } = 1;
    /// <summary>
    /// μ added to the whitened Gauss–Newton matrix I + (J_r L)ᵀ(J_r L), in units of the prior's curvature (which is 1 there);
    /// 0: plain Gauss–Newton — the prior already makes the matrix positive definite, and a line search guards nonlinear steps.
    /// </summary>
    public double SolveDamping { get; init; }
    /// <summary>CG stops when ‖b − A h‖ ≤ tolerance · ‖b‖.</summary>
    public double SolveTolerance { get; init; } = 1e-10;
    /// <summary>CG iterations per Gauss–Newton step, at most.</summary>
    public int SolveMaxCg { get; init; } = 2000;
    /// <summary>
    /// spectral (whitened + the Kronecker-eigenbasis diagonal, <see cref="SpectralPreconditioner"/>), whitened (U = L V, no
    /// preconditioner) or none (CG on U itself, for comparison). spectral needed 4–30× fewer iterations (DESIGN.md).
    /// </summary>
    public string SolvePreconditioner { get; init; } = "spectral";
    public static readonly IReadOnlyList<string> Preconditioners = ["spectral", "whitened", "none"];
    /// <summary>
    /// With <see cref="SolveEvery"/>: the grid values come from the solve alone (after the first Adam step, then every
    /// <see cref="SolveEvery"/> steps) and Adam trains only the kernel hyper-parameters and the noise precisions — the
    /// alternation of issue 15. False (default): Adam moves the values too between solves. Which is better depends on the
    /// problem (DESIGN.md "Grid-value solve"): one high-frequency band (Poisson 1-D sin(100x), 400 nodes) gains 300–500×
    /// with it, multi-scale solutions (sin x + 0.1 sin 20x + 0.05 cos 100x) lose up to 70×.
    /// </summary>
    public bool ValuesFromSolve { get; init; }
    /// <summary>
    /// s ≥ 1: the grid-value solve weighs every likelihood by s·τ instead of the learned τ — the posterior mean under s times
    /// less noise, towards the noise-free kernel collocation (s → ∞) — while Adam still trains the kernel and τ on the
    /// objective itself. The learned τ settles where the prior's pull on the values balances the residual (about 1/mse), which
    /// leaves a bias floor: Poisson 1-D sin(100x), 400 nodes, STM, 1500 steps: 8.8e-6 at s = 1, 1.1e-6 at 1e3, 1.9e-6 at 1e4,
    /// 1.6e-5 at 1e6 (CG needs more iterations and the kernel's steps move the values more). Only with
    /// <see cref="ValuesFromSolve"/> is the solve the values' only optimiser; otherwise Adam pulls them back towards τ.
    /// </summary>
    public double SolvePrecisionScale { get; init; } = 1;
    /// <summary>Step halvings the Armijo backtracking line search may try before a Gauss–Newton step counts as failed.</summary>
    public int SolveBacktracks { get; init; } = 10;

    /// <summary>
    /// Why F cannot work on this axis's grid, or null: F must be positive and at most the grid's
    /// Nyquist frequency (n − 1)/(2L) — above it the grid cannot tell the frequency from an alias.
    /// </summary>
    public string? FrequencyProblem(Geometry.Axis axis)
    {
        double f = MaxFrequencyFor(axis.Name);
        int n = GridFor(axis.Name);
        double nyquist = (n - 1) / (2 * axis.Length);
        if (!(f > 0)) return $"model.max_frequency: F = {f} on axis {axis.Name} must be positive (frequencies start evenly on [0, F])";
        if (f > nyquist)
            return $"model.max_frequency: F = {f:G4} cycles per unit on axis {axis.Name} is above the grid's Nyquist frequency {nyquist:G4} " +
                   $"({n} points over a length of {axis.Length:G4}); the grid cannot represent it: give model.grid.{axis.Name} ≥ " +
                   $"{(int)Math.Ceiling(2 * f * axis.Length) + 1} points or lower F";
        return null;
    }

    public int GridFor(string axis) =>
        Grid.TryGetValue(axis, out var n) ? n : Grid.TryGetValue("*", out n) ? n
        : throw new PinnException($"model.grid: no point count for axis '{axis}' (give grid: {{{axis}: 200}} or a list)");

    public double MaxFrequencyFor(string axis) =>
        MaxFrequency.TryGetValue(axis, out var f) ? f : MaxFrequency.TryGetValue("*", out f) ? f
        : throw new PinnException($"model.max_frequency: no value for axis '{axis}' (give max_frequency: 20, or {{{axis}: 20}}; " +
                                  "it must exceed the solution's frequency in cycles per unit length)");
}
