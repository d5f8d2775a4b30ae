using Pinn.Models;
using Pinn.Problems;
using Pinn.References;
using Pinn.Training;
using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// One PINN optimisation step on a fixed batch, through the real code path: the loss terms are the ones
/// <see cref="Trainer"/> builds for the problem (so the same residual expressions, point sets and
/// weights), evaluated through a fresh <see cref="StepContext"/> per step inside its own dispose scope,
/// then backward and Adam — what <c>Trainer.RunAdam</c> does with <c>resample_every: 0</c>, minus the
/// logging, checkpoint and learning-rate bookkeeping. Points are drawn once (seeded) so that a peer
/// implementation can be given exactly the same batch (<see cref="Export"/>).
/// </summary>
public sealed class FixedBatchPinnStep : IDisposable
{
    readonly Problem _problem;
    readonly Trainer _trainer;
    readonly TorchSharp.Modules.OptimizerHelper _adam;

    public FixedBatchPinnStep(Problem problem, IReadOnlyList<int> layers, ScalarType dtype, int interior, int initial, int boundary,
                              double learningRate = 1e-3, int seed = 0, string derivatives = "autograd",
                              HardConstraintOptions? hardConstraints = null)
    {
        _problem = problem;
        DType = dtype;
        Model = ModelFactory.Create(new ModelOptions { Layers = layers, HardConstraints = hardConstraints ?? new() }, problem, dtype, CPU, seed);
        var options = new TrainingOptions
        {
            Batch = new Dictionary<string, int> { ["pde"] = interior, ["ic"] = initial, ["bc"] = boundary },
            ResampleEvery = 0, LearningRate = learningRate, Seed = seed, DType = dtype == ScalarType.Float64 ? "float64" : "float32",
            Derivatives = derivatives,
        };
        _trainer = new Trainer(problem, Model, options, dtype, CPU);
        // The trainer draws at its first step; we draw once here and keep the batch (resample_every: 0).
        foreach (var set in PointSets.Values.Distinct()) set.Resample(dtype, CPU);
        _adam = optim.Adam(Model.TrainableParameters, lr: learningRate);
        Engine = _trainer.JetSet is null ? "autograd" : "jet";
    }

    /// <summary>The derivative engine the step uses (autograd or jet).</summary>
    public string Engine { get; }

    public IFieldModel Model { get; }
    public ScalarType DType { get; }
    public IReadOnlyList<LossTerm> Terms => _trainer.Terms;

    /// <summary>
    /// The step's loss as a function of the flat parameter vector — what the dense quasi-Newton phase minimises
    /// (<c>QuasiNewtonPhase</c> builds the same <see cref="ParameterObjective"/> over the trainer's loss). float64 only.
    /// </summary>
    public ParameterObjective Objective() => new(Model.TrainableParameters, Loss);

    /// <summary>
    /// The step's loss terms as one stacked scaled residual vector r̃ over the flat parameters (‖r̃‖² is the step's loss), with
    /// the exact Jacobian — the objective <c>LmPhase</c> builds from the trainer's terms (every term's
    /// <see cref="LossTerm.ScaledResidualBlocks"/> on one step context, the model given for the per-sample route). float64 only.
    /// </summary>
    public ResidualObjective Residuals() => new(Model.TrainableParameters, ResidualBlocks, Model);

    IReadOnlyList<Tensor> ResidualBlocks()
    {
        var ctx = _trainer.NewContext();
        return Terms.SelectMany(t => t.ScaledResidualBlocks(ctx)
                                     ?? throw new PinnException($"benchmark: loss term '{t.Name}' has no residual vector ({t.NoResidualsReason})")).ToList();
    }

    /// <summary>The batch each term is evaluated on, by term name (terms on one region share one set).</summary>
    public IReadOnlyDictionary<string, PointSet> PointSets => Terms.ToDictionary(t => t.Name, t => t switch
    {
        ResidualTerm r => r.Points,
        PeriodicTerm p => (PointSet)p.Points,
        _ => throw new PinnException($"benchmark: loss term '{t.Name}' ({t.GetType().Name}) has no fixed point set"),
    });

    /// <summary>Forward, residuals with their derivatives, loss, backward, Adam. Returns the loss before the update.</summary>
    public double Step()
    {
        using var scope = NewDisposeScope();
        _adam.zero_grad();
        var total = Loss();
        double value = total.ToDouble(); // the trainer reads it every step (divergence check): so do we
        total.backward();
        _adam.step();
        return value;
    }

    /// <summary>The weighted total loss at the current parameters, without an update.</summary>
    public double CurrentLoss()
    {
        using var scope = NewDisposeScope();
        return Loss().ToDouble();
    }

    /// <summary>The weighted total loss graph at the current parameters (in the caller's dispose scope), without backward.</summary>
    public Tensor Loss()
    {
        var ctx = _trainer.NewContext(); // the trainer's own: same parameters, derivative engine and operator blocks
        return Terms.Select(t => t.Weight == 1 ? t.Loss(ctx) : t.Weight * t.Loss(ctx)).Aggregate((a, b) => a + b);
    }

    /// <summary>
    /// Writes what a peer needs to build the identical step: every trainable parameter in module order
    /// (<c>p000</c>, <c>p001</c>, … — for a plain MLP, weight then bias per layer), each term's points
    /// (<c>points_&lt;term&gt;</c>, columns in coordinate order), and the affine input map NeuralField
    /// applies first (<c>center</c>, <c>half_width</c> per coordinate: x ↦ (x − c)/h).
    /// </summary>
    public void Export(string path)
    {
        var arrays = new Dictionary<string, NdArray>();
        var parameters = Model.TrainableParameters;
        for (int i = 0; i < parameters.Count; i++) arrays[$"p{i:D3}"] = ToArray(parameters[i]);
        foreach (var (name, set) in PointSets) arrays["points_" + name] = ToArray(set.Points);
        var axes = _problem.Domain.Axes;
        arrays["center"] = new NdArray([axes.Count], axes.Select(a => (a.Min + a.Max) / 2).ToArray());
        arrays["half_width"] = new NdArray([axes.Count], axes.Select(a => (a.Max - a.Min) / 2).ToArray());
        Npz.Write(path, arrays);
    }

    /// <summary>Exact for float32 too: every float32 is a float64, and the reader casts back.</summary>
    static NdArray ToArray(Tensor t)
    {
        using var scope = NewDisposeScope();
        var d = t.detach().to(ScalarType.Float64).contiguous();
        return new NdArray(d.shape.Select(s => (int)s).ToArray(), d.data<double>().ToArray());
    }

    public void Dispose()
    {
        _adam.Dispose();
        _trainer.Dispose();
        Model.Dispose();
    }
}
