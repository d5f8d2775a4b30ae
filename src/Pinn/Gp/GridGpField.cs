using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Gp;

/// <summary>
/// The GP-HM representation (Fang et al. 2024): each field's values U on a tensor grid
/// x^(1) × … × x^(d) (boundary included) are free parameters with a GP prior whose covariance is a
/// product of 1-D spectral-mixture kernels, one per axis. Derivatives at the grid nodes are those of
/// the GP's conditional mean: along axis j, ∂^a u = U ×_j (K_j^(a) K_j⁻¹). Off the grid the field is
/// the conditional mean κ(x*, X) K⁻¹ vec(U). Its training objective (the negative log joint: prior,
/// boundary and residual likelihoods with learned precisions) is supplied by <see cref="CreateTerms"/>,
/// so the ordinary <see cref="Trainer"/> (Adam, L-BFGS, checkpoints, recovery, logging) trains it.
/// </summary>
public sealed class GridGpField : IFieldModel
{
    readonly Box _domain;
    readonly ScalarType _dtype;
    readonly Device _device;
    readonly TorchParameter[] _values;

    public GridGpField(GpOptions options, Problem problem, ScalarType dtype, Device device)
    {
        Options = options;
        _domain = problem.Domain;
        _dtype = dtype;
        _device = device;
        if (dtype != ScalarType.Float64)
            throw new PinnException("training.dtype: the GP solver needs float64 (its kernel matrices are too ill-conditioned for float32); " +
                                    "remove the dtype setting or set dtype: float64") { Key = "training.dtype" };
        Axes = _domain.Axes.Select(a => new GridAxis(a, options.GridFor(a.Name), device)).ToArray();
        Kernels = Axes.Select(a =>
        {
            if (options.FrequencyProblem(a.Axis) is { } problem) throw new PinnException(problem) { Key = "model.max_frequency" };
            return new SpectralMixtureKernel(options.Kernel, options.Components, options.MaxFrequencyFor(a.Axis.Name), dtype, device);
        }).ToArray();
        long[] shape = Axes.Select(a => (long)a.Count).ToArray();
        _values = problem.Fields.Select(_ => new TorchParameter(zeros(shape, dtype: dtype, device: device))).ToArray();
        Precisions = new LearnedPrecisions(problem.Equations.Select(e => e.Name).Concat(problem.Conditions.Select(c => c.Name)), dtype, device);
        NodeCount = shape.Aggregate(1L, (acc, n) => acc * n);
        Coordinates = Axes.Select((a, j) => GridCoordinate(j)).ToArray();
    }

    public GpOptions Options { get; }
    public IReadOnlyList<GridAxis> Axes { get; }
    public IReadOnlyList<SpectralMixtureKernel> Kernels { get; }
    public long NodeCount { get; }
    /// <summary>Each coordinate at every node, flattened in row-major order (outside any dispose scope).</summary>
    public IReadOnlyList<Tensor> Coordinates { get; }
    public int InputDim => _domain.Dim;
    public int OutputDim => _values.Length;
    public ScalarType DType => _dtype;
    public Device Device => _device;

    /// <summary>The grid values of field <paramref name="field"/> (shape n_1 × … × n_d).</summary>
    public TorchParameter Values(int field) => _values[field];

    /// <summary>
    /// The noise precision of each likelihood term: the GP's weighting, always (the paper's), so <c>training.balancing</c> is
    /// refused with a GP. Model parameters (in <see cref="TrainableParameters"/>, hence in the checkpoint's tensors), not the
    /// trainer's, which holds them only for <c>balancing: {kind: precision}</c> on sampled terms.
    /// </summary>
    public LearnedPrecisions Precisions { get; }

    public TorchParameter LogPrecision(string term) => Precisions.LogPrecision(term);

    public IReadOnlyList<TorchParameter> TrainableParameters =>
        [.. _values, .. Kernels.SelectMany(k => k.Parameters), .. Precisions.Parameters];

    /// <summary>Factorises the per-axis kernel matrices for one optimisation step (inside its dispose scope).</summary>
    public GridStep Factorize() => new(this);

    public Tensor Forward(Tensor points) => Factorize().Predict(points);

    public bool DifferentiableInPoints => false;

    /// <summary>The GP's terms on its grid (<see cref="IFieldModel.CreateTerms"/>): the trainer builds no sampled ones.</summary>
    public IReadOnlyList<LossTerm> CreateTerms(Problem problem, TrainingOptions options) => GpLoss.Terms(this, problem, options);

    /// <summary>−log N(vec U_f | 0, ⊗K_j) summed over the fields, on the step's shared factorisation (<see cref="GpLoss.At"/>).</summary>
    public Tensor? PriorLoss(StepContext ctx)
    {
        var (step, _) = GpLoss.At(this, ctx);
        return Enumerable.Range(0, OutputDim).Select(step.NegativeLogPrior).Aggregate((a, b) => a + b);
    }

    public string PriorDescription =>
        "the GP's prior −log N(U | 0, K), which holds log-determinants of the kernel, not squares; train a GP with adam, " +
        "lbfgs or a dense quasi-Newton phase (ssbroyden)";

    /// <summary>
    /// With <c>model.solve_every</c>: the last grid-value solve's CG iterations (summed over its Gauss–Newton steps) and CG's
    /// final relative residual, as log.csv columns <c>solve_cg</c>, <c>solve_residual</c> (empty before the first solve).
    /// </summary>
    public IEnumerable<(string Name, double Value)> Diagnostics =>
        Options.SolveEvery <= 0 ? []
        : [("solve_cg", LastSolve?.CgIterations.Sum() ?? double.NaN), ("solve_residual", LastSolve?.RelativeResidual ?? double.NaN)];

    /// <summary>Each step's factorisation, keyed by that step's context (weakly: it goes with the context).</summary>
    internal System.Runtime.CompilerServices.ConditionalWeakTable<StepContext, GridStepView> StepCache { get; } = new();

    /// <summary>What the last grid-value solve did (null before the first).</summary>
    public GridSolveReport? LastSolve { get; private set; }

    public void AfterStep(int stepsDone, Func<StepContext> newContext, IReadOnlyList<LossTerm> terms)
    {
        bool due = Options.SolveEvery > 0 && (stepsDone % Options.SolveEvery == 0 || (Options.ValuesFromSolve && stepsDone == 1));
        if (due) LastSolve = GridValueSolve.Run(this, newContext(), terms);
    }

    /// <summary>With <see cref="GpOptions.ValuesFromSolve"/>, the grid values are a group of learning-rate scale 0: Adam leaves them to the solve.</summary>
    public IReadOnlyList<(IReadOnlyList<TorchParameter> Parameters, double LrScale)> ParameterGroups =>
        Options.ValuesFromSolve
            ? [([.. Kernels.SelectMany(k => k.Parameters), .. Precisions.Parameters], 1.0), (_values, 0.0)]
            : [(TrainableParameters, 1.0)];

    public string Describe()
    {
        var grid = string.Join("×", Axes.Select(a => a.Count));
        var f = string.Join(", ", Axes.Select(a => $"{a.Axis.Name}: {Options.MaxFrequencyFor(a.Axis.Name):G4}"));
        return $"Kronecker GP ({Options.Kernel}, Q = {Options.Components}, F = {{{f}}}) on a {grid} grid";
    }

    Tensor GridCoordinate(int j)
    {
        using var scope = NewDisposeScope();
        var shape = Enumerable.Repeat(1L, Axes.Count).ToArray();
        shape[j] = Axes[j].Count;
        var full = tensor(Axes[j].Values, dtype: _dtype, device: _device).reshape(shape)
                   .expand(Axes.Select(a => (long)a.Count).ToArray()).reshape(-1).clone();
        return full.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var p in TrainableParameters) p.Dispose();
        foreach (var c in Coordinates) c.Dispose();
        foreach (var a in Axes) a.Dispose();
    }
}

/// <summary>
/// One axis of the collocation grid: n evenly spaced nodes including both ends. On a uniform grid every
/// kernel matrix is Toeplitz, K_ik = k((i − k)h), so the kernel is evaluated at the 2n − 1 lags only and
/// gathered into n × n (PAPERS.md §3: 6–70× faster than evaluating all n² pairs, same numbers).
/// </summary>
public sealed class GridAxis : IDisposable
{
    public GridAxis(Axis axis, int count, Device device)
    {
        if (count < 3) throw new PinnException($"model.grid.{axis.Name}: a GP grid axis needs at least 3 points, got {count}") { Key = $"model.grid.{axis.Name}" };
        Axis = axis;
        Count = count;
        Values = Box.Linspace(axis.Min, axis.Max, count);
        Spacing = axis.Length / (count - 1);
        using var scope = NewDisposeScope();
        var i = arange(count, dtype: ScalarType.Int64, device: device);
        LagIndex = (i.unsqueeze(1) - i.unsqueeze(0) + (count - 1)).MoveToOuterDisposeScope();
    }

    public Axis Axis { get; }
    public int Count { get; }
    public double[] Values { get; }
    public double Spacing { get; }
    /// <summary>[i, k] ↦ (i − k) + n − 1: where K_ik sits among the 2n − 1 lags.</summary>
    public Tensor LagIndex { get; }

    /// <summary>The lags (i − k)h for i − k = −(n−1) … n−1.</summary>
    public Tensor Lags(ScalarType dtype, Device device) =>
        arange(-(Count - 1), Count, dtype: dtype, device: device) * Spacing;

    public void Dispose() => LagIndex.Dispose();
}
