using System.Diagnostics;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>One line of the training log.</summary>
public sealed record LogEntry(string Phase, int Step, double Seconds, double LearningRate, double Loss,
                              IReadOnlyDictionary<string, double> Terms, ErrorReport? Error,
                              IReadOnlyDictionary<string, double>? Diagnostics = null);

public interface ITrainingObserver
{
    /// <summary>Every <c>log_every</c> steps (and the last): the row written to log.csv.</summary>
    void OnLog(LogEntry entry);
    /// <summary>Every step (Adam, then L-BFGS iterations counted on): for live progress.</summary>
    void OnStep(int step, int total, double loss) { }
    /// <summary>Something the user should see: a divergence recovery.</summary>
    void OnMessage(string message) { }
    /// <summary>Once, before training: what is being run and where its results go.</summary>
    void OnStart(string header) { }
}

public sealed record TrainingResult(int AdamSteps, int LbfgsSteps, double Seconds, double FinalLoss,
                                    string Status, ErrorReport? Error, string ModelDescription, long ParameterCount,
                                    int Recoveries = 0);

/// <summary>
/// Minimises Σ_k λ_k L_k over the model's parameters: Adam with warm-up and exponential decay,
/// then optional L-BFGS polishing on a fixed batch. Every step runs in its own dispose scope so
/// native memory stays flat (TORCHSHARP.md, pitfall 1). A non-finite loss stops the run with
/// status "diverged" and the last measured error; the caller still writes its results.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly Problem _problem;
    readonly IFieldModel _model;
    readonly TrainingOptions _options;
    readonly ReferenceComparison? _comparison;
    readonly ITrainingObserver? _observer;
    readonly ScalarType _dtype;
    readonly Device _device;
    readonly List<PointSet> _sets = [];
    readonly Dictionary<string, Tensor> _parameters = [];
    readonly Func<Tensor, Tensor>? _initialData;

    public Trainer(Problem problem, IFieldModel model, TrainingOptions options, ScalarType dtype, Device device,
                   ReferenceComparison? comparison = null, ITrainingObserver? observer = null, string? checkpointDir = null,
                   Func<Tensor, Tensor>? initialData = null)
    {
        NativeRuntime.Tune();
        CheckpointDir = checkpointDir;
        _initialData = initialData;
        _problem = problem;
        _model = model;
        _options = options;
        _dtype = dtype;
        _device = device;
        _comparison = comparison;
        _observer = observer;
        foreach (var (k, n) in options.Batch.Where(kv => kv.Value <= 0))
            throw new PinnException($"training.batch.{k}: a batch needs at least 1 point, got {n}") { Key = $"training.batch.{k}" };
        foreach (var (name, value) in problem.ParameterValues)
            _parameters[name] = tensor(value, dtype: dtype, device: device);
        Terms = model is IModelLoss own ? own.CreateTerms(problem, options) : BuildTerms();
        if (model is not IModelLoss) CheckKeys("training.batch", options.Batch.Keys); // a GP has its grid, not batches
        CheckKeys("training.weights", options.Weights.Keys);
        if (Terms.OfType<CausalResidualTerm>().FirstOrDefault() is { } causal && causal.Points.Count < options.Causal.Chunks)
            throw new PinnException($"training.causal.chunks: {options.Causal.Chunks} time chunks need at least as many interior points, " +
                                    $"the batch has {causal.Points.Count} (raise training.batch.pde or lower chunks)") { Key = "training.causal.chunks" };
    }

    /// <summary>Where checkpoints are written (none when null); settable so a run can build its trainer before its folder exists.</summary>
    public string? CheckpointDir { get; set; }

    /// <summary>A batch size or weight for a term that does not exist is a typo, not a no-op.</summary>
    void CheckKeys(string what, IEnumerable<string> keys)
    {
        var valid = Terms.Select(t => t.Name).Concat(["pde", "ic", "bc"]).ToHashSet();
        foreach (var k in keys.Where(k => !valid.Contains(k)))
        {
            if (_model.EnforcedConditions.Contains(k))
                throw new PinnException($"{what}.{k}: condition '{k}' holds exactly by construction (model.hard_constraints), so it has no loss term; " +
                                        "remove this key") { Key = $"{what}.{k}" };
            var hint = Symbolic.ExprParser.Suggest(k, valid);
            throw new PinnException($"{what}: '{k}' is not a loss term of problem '{_problem.Name}'" +
                                    (hint is null ? "" : $" (did you mean '{hint}'?)") +
                                    $"; terms: {string.Join(", ", Terms.Select(t => t.Name))}; kinds: pde, ic, bc") { Key = $"{what}.{k}" };
        }
    }

    public IReadOnlyList<LossTerm> Terms { get; }

    /// <summary>
    /// One loss term per residual equation (sharing the interior batch) and per condition, except the conditions
    /// the model enforces exactly (<see cref="IFieldModel.EnforcedConditions"/>).
    /// </summary>
    List<LossTerm> BuildTerms()
    {
        var domain = _problem.Domain;
        int seed = _options.Seed;
        var setsByRegion = new Dictionary<Region, PointSet>();
        PointSet SetFor(Region region, string name, string kind)
        {
            if (setsByRegion.TryGetValue(region, out var s)) return s;
            int n = _options.BatchFor(name, kind);
            s = new PointSet(domain, region, n, SamplerFactory.Create(_options.Sampler, seed + 1 + _sets.Count));
            setsByRegion[region] = s;
            _sets.Add(s);
            return s;
        }

        var terms = new List<LossTerm>();
        var pdeTerms = _problem.Equations.Select(eq => new ResidualTerm(eq.Name, "pde", _options.WeightFor(eq.Name, "pde"),
                                                                        eq.Equation.Residual, SetFor(Region.Interior, eq.Name, "pde"))).ToList();
        if (!_options.Causal.Enabled) terms.AddRange(pdeTerms);
        var exact = _model.EnforcedConditions;
        foreach (var c in _problem.Conditions.Where(c => !exact.Contains(c.Name)))
        {
            string kind = c.Kind == ConditionKind.Initial ? "ic" : "bc";
            switch (c)
            {
                case PointwiseCondition pc:
                    terms.Add(new ResidualTerm(c.Name, kind, _options.WeightFor(c.Name, kind), pc.Equation.Residual,
                                               SetFor(pc.Region, c.Name, kind)));
                    break;
                case PeriodicCondition per:
                    int n = _options.BatchFor(c.Name, kind);
                    var ps = new PeriodicPointSet(domain, per.Axis, n, SamplerFactory.Create(_options.Sampler, seed + 1 + _sets.Count));
                    _sets.Add(ps);
                    terms.Add(new PeriodicTerm(c.Name, _options.WeightFor(c.Name, kind), per.Matched, ps));
                    break;
            }
        }
        if (_initialData is not null)
            terms.Add(new DataTerm("ic", "ic", _options.WeightFor("ic", "ic"), SetFor(Region.Initial, "ic", "ic"), _initialData));
        if (_options.Causal.Enabled)
        {
            if (domain.TimeAxis is null)
                throw new PinnException($"training.causal: problem '{_problem.Name}' has no time coordinate to order the residuals by") { Key = "training.causal" };
            var initial = terms.OfType<ResidualTerm>().Where(t => t.Points.Region.Kind == RegionKind.Initial).ToList();
            terms.Insert(0, new CausalResidualTerm(pdeTerms.Select(t => t.Residual).ToList(), pdeTerms[0].Points,
                                                   domain.IndexOf(domain.TimeAxis), new CausalWeighting(_options.Causal),
                                                   initial, _options.WeightFor("pde", "pde")));
        }
        return terms;
    }

    /// <summary>
    /// Trains from scratch, or continues <paramref name="resume"/> exactly (same batches, same
    /// optimiser moments). A cancelled token stops at the next step with status "interrupted" and a
    /// checkpoint (when a checkpoint folder is set).
    /// </summary>
    public TrainingResult Train(Checkpoint? resume = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        using var adam = NewAdam();
        _currentOptimizer = adam;
        var state = resume?.State ?? new TrainerState { Seed = _options.Seed };
        if (resume is not null)
        {
            resume.Restore(_model, adam);
            ReplayDraws(state.Phase == "adam" ? state.Step : _options.Steps);
        }
        double Elapsed() => state.Seconds + clock.Elapsed.TotalSeconds;
        TrainerState Now(string phase, int step) => state with
        {
            Phase = phase, Step = step, Seconds = Elapsed(), LearningRateScale = _lrScale, Recoveries = _recoveries,
            Weights = Terms.ToDictionary(t => t.Name, t => t.Weight),
        };
        if (state.Weights is not null)
            foreach (var t in Terms)
                if (state.Weights.TryGetValue(t.Name, out var w)) t.Weight = w;
        _lrScale = state.LearningRateScale;
        _recoveries = state.Recoveries;

        ErrorReport? lastError = null;
        string status = "completed";
        double lastLoss = double.NaN;
        int step = state.Step;
        if (state.Phase == "adam")
        {
            (status, step, lastLoss, lastError) = RunAdam(adam, state.Step, cancel, Now, Elapsed);
            if (status == "interrupted") Save(Now("adam", step));
            else if (status == "completed") Save(Now("lbfgs", _options.Steps));
        }

        int lbfgsSteps = state.LbfgsSteps;
        if (status == "completed" && state.Phase != "done" && _options.LbfgsSteps > 0)
        {
            if (cancel.IsCancellationRequested) status = "interrupted";
            else
            {
                (lbfgsSteps, lastLoss) = Polish(Elapsed, cancel);
                if (cancel.IsCancellationRequested) status = "interrupted"; // partial polish: resume redoes it
            }
        }
        if (status == "completed") Save(Now("done", _options.Steps) with { LbfgsSteps = lbfgsSteps });

        if (_comparison is not null)
        {
            try { lastError = _comparison.Measure(_model, _dtype, _device); }
            catch (Exception) when (status != "completed") { /* a broken model may not evaluate; keep the last error */ }
        }
        if (double.IsNaN(lastLoss) && status == "completed") lastLoss = CurrentLoss();
        return new TrainingResult(Math.Min(step, _options.Steps), lbfgsSteps, Elapsed(), lastLoss, status, lastError,
                                  _model.Describe(), _model.ParameterCount, _recoveries);
    }

    double _lrScale = 1;
    int _recoveries;
    double[] _groupScales = [1.0];

    /// <summary>Adam over the model's parameter groups; each group's lr is the schedule × its own multiplier.</summary>
    TorchSharp.Modules.Adam NewAdam()
    {
        var groups = _model.ParameterGroups;
        int grouped = groups.Sum(g => g.Parameters.Count), all = _model.TrainableParameters.Count;
        if (grouped != all)
            throw new PinnException($"model '{_model.Describe()}': its parameter groups hold {grouped} tensors but it trains {all}");
        _groupScales = groups.Select(g => g.LrScale).ToArray();
        if (groups.Count == 1) return optim.Adam(groups[0].Parameters, lr: _options.LearningRate);
        return optim.Adam(groups.Select(g => new TorchSharp.Modules.Adam.ParamGroup(g.Parameters, lr: _options.LearningRate * g.LrScale)),
                          lr: _options.LearningRate);
    }

    (string status, int step, double loss, ErrorReport? error) RunAdam(
        TorchSharp.Modules.OptimizerHelper adam, int start, CancellationToken cancel, Func<string, int, TrainerState> now, Func<double> elapsed)
    {
        var lastGood = Checkpoint.Capture(now("adam", start), _model, adam);
        int failures = 0;
        double lastLoss = double.NaN;
        ErrorReport? lastError = null;
        int step = start;
        for (; step < _options.Steps; step++)
        {
            if (cancel.IsCancellationRequested) return ("interrupted", step, lastLoss, lastError);
            if (_options.TimeLimit > 0 && elapsed() >= _options.TimeLimit) return ("completed", step, lastLoss, lastError);
            if (IsDrawStep(step))
                foreach (var s in _sets) s.Resample(_dtype, _device);

            using var scope = NewDisposeScope();
            double lr = _options.LearningRateAt(step) * _lrScale;
            foreach (var (g, scale) in adam.ParamGroups.Zip(_groupScales)) g.LearningRate = lr * scale;
            adam.zero_grad();
            bool rebalance = _options.Balancing.Kind == "gradnorm" && step % Math.Max(1, _options.Balancing.Every) == 0;
            var (total, terms) = Loss(NewContext(), rebalance);
            lastLoss = total.ToDouble();
            if (!double.IsFinite(lastLoss))
            {
                // Divergence recovery: back to the last good state with half the learning rate.
                if (++failures > _options.MaxRecoveries)
                {
                    lastGood.Restore(_model, adam); // leave the model at its last good state for the results
                    return ($"diverged at step {step} (loss {lastLoss}) after {failures - 1} recoveries; try a smaller learning rate",
                            step, lastLoss, lastError);
                }
                lastGood.Restore(_model, adam);
                _lrScale *= 0.5;
                _recoveries++;
                _observer?.OnMessage($"step {step}: loss {lastLoss}; restored step {lastGood.State.Step} and halved the learning rate (×{_lrScale})");
                step = lastGood.State.Step - 1;
                continue;
            }
            total.backward();
            adam.step();
            foreach (var t in Terms) t.AfterStep();
            if (_model is IModelLoss own) own.AfterStep(step + 1, NewContext, Terms);
            _observer?.OnStep(step, _options.Steps, lastLoss);

            bool last = step == _options.Steps - 1;
            if (last || step % Math.Max(1, _options.LogEvery) == 0)
            {
                bool eval = _comparison is not null && _options.EvalEvery > 0 && step % _options.EvalEvery == 0;
                if (eval) lastError = _comparison!.Measure(_model, _dtype, _device);
                var diagnostics = Terms.SelectMany(t => t.Diagnostics).ToDictionary(d => d.Name, d => d.Value);
                if (_options.Balancing.Kind == "gradnorm")
                    foreach (var t in Terms) diagnostics["weight_" + t.Name] = t.Weight;
                var termValues = terms.ToDictionary(t => t.Name, t => t.Value.ToDouble());
                _observer?.OnLog(new LogEntry("adam", step, elapsed(), lr, lastLoss, termValues, eval ? lastError : null, diagnostics));
            }
            int next = step + 1;
            if (_options.SnapshotEvery > 0 && next % _options.SnapshotEvery == 0)
            {
                lastGood = Checkpoint.Capture(now("adam", next), _model, adam);
                failures = 0;
            }
            if (_options.CheckpointEvery > 0 && next % _options.CheckpointEvery == 0 && next < _options.Steps)
                Save(now("adam", next), adam);
        }
        return ("completed", step, lastLoss, lastError);
    }

    /// <summary>Collocation points are redrawn at step 0 and every <c>resample_every</c> steps.</summary>
    bool IsDrawStep(int step) => step == 0 || (_options.ResampleEvery > 0 && step % _options.ResampleEvery == 0);

    /// <summary>Advances every sampler as the first <paramref name="steps"/> Adam steps did, leaving their last batch in place.</summary>
    void ReplayDraws(int steps)
    {
        int draws = Enumerable.Range(0, steps).Count(IsDrawStep);
        if (draws == 0) return;
        foreach (var s in _sets)
        {
            s.Skip(draws - 1);
            s.Resample(_dtype, _device);
        }
    }

    TorchSharp.Modules.OptimizerHelper? _currentOptimizer;

    void Save(TrainerState state, TorchSharp.Modules.OptimizerHelper? optimizer = null)
    {
        if (CheckpointDir is null) return;
        Checkpoint.Capture(state, _model, optimizer ?? _currentOptimizer).Save(CheckpointDir);
    }

    /// <summary>A fresh per-step view of the model (one forward pass and derivative cache per batch).</summary>
    public StepContext NewContext() => new(_model, _problem.Domain.CoordinateNames, _problem.Fields, name => _parameters[name], JetSet, LinearAt);

    /// <summary>The derivatives a jet pass must carry (null: use autograd), chosen once from training.derivatives.</summary>
    public IReadOnlyList<Autodiff.MultiIndex>? JetSet => _jetSet ??= DerivativeEngine.JetSet(_options.Derivatives, _model, _problem, _device);
    IReadOnlyList<Autodiff.MultiIndex>? _jetSet;

    /// <summary>The linear operator a jet carries as one block at each batch (<see cref="DerivativeEngine.LinearOperators"/>).</summary>
    Symbolic.LinearOperator? LinearAt(Tensor points)
    {
        // A model that cannot carry operator blocks (hard constraints: L(W·N) ≠ W·L N) gets none.
        _linear ??= JetSet is null || _model is not IJetModel { CanCarryOperators: true } ? [] : DerivativeEngine.LinearOperators(Terms, _problem);
        foreach (var (set, op) in _linear)
            if (ReferenceEquals(set.Points, points)) return op;
        return null;
    }
    IReadOnlyList<(PointSet Set, Symbolic.LinearOperator Operator)>? _linear;

    double CurrentLoss()
    {
        using var scope = NewDisposeScope();
        return Loss(NewContext()).total.ToDouble();
    }

    /// <summary>
    /// The weighted total and each unweighted term. Terms stay tensors: reading them back
    /// (a device sync per term) is left to the steps that log.
    /// </summary>
    (Tensor total, IReadOnlyList<(string Name, Tensor Value)> terms) Loss(StepContext ctx, bool rebalance = false)
    {
        Tensor? total = null;
        var losses = Terms.Select(t => (t, t.Loss(ctx))).ToList();
        if (rebalance) GradNormBalancing.Update(losses, _model.TrainableParameters, _options.Balancing.Alpha);
        var values = new List<(string, Tensor)>();
        foreach (var (t, l) in losses)
        {
            values.Add((t.Name, l));
            var wl = t.Weight == 1 ? l : t.Weight * l;
            total = total is null ? wl : total + wl;
        }
        if (_model.PriorLoss() is { } prior)
        {
            values.Add(("prior", prior));
            total = total is null ? prior : total + prior;
        }
        return (total!, values);
    }

    (int steps, double loss) Polish(Func<double> elapsed, CancellationToken cancel)
    {
        // One fixed batch: L-BFGS assumes a deterministic objective.
        foreach (var s in _sets) s.Resample(_dtype, _device);
        var lbfgs = new Lbfgs(_model.TrainableParameters, _options.LbfgsHistory);
        var result = lbfgs.Minimize(() => Loss(NewContext()).total,
                                    _options.LbfgsSteps, (k, f) =>
        {
            _observer?.OnStep(_options.Steps + k, _options.Steps + _options.LbfgsSteps, f);
            if (k % Math.Max(1, _options.LogEvery) != 0) return;
            bool eval = _comparison is not null && _options.EvalEvery > 0 && k % _options.EvalEvery == 0;
            var err = eval ? _comparison!.Measure(_model, _dtype, _device) : null;
            _observer?.OnLog(new LogEntry("lbfgs", _options.Steps + k, elapsed(), 0, f,
                                          new Dictionary<string, double>(), err));
        }, stop: () => cancel.IsCancellationRequested);
        return (result.Iterations, result.FinalLoss);
    }

    public void Dispose()
    {
        foreach (var s in _sets) s.Dispose();
        foreach (var t in _parameters.Values) t.Dispose();
    }
}
