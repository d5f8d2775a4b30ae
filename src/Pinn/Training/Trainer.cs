using System.Diagnostics;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Reporting;
using Pinn.Training.Phases;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training;

/// <summary>One line of the training log.</summary>
public sealed record LogEntry(string Phase, int Step, double Seconds, double LearningRate, double Loss,
                              IReadOnlyDictionary<string, double> Terms, ErrorReport? Error,
                              IReadOnlyDictionary<string, double>? Diagnostics = null);

public interface ITrainingObserver
{
    /// <summary>Every <c>log_every</c> steps (and the last): the row written to log.csv.</summary>
    void OnLog(LogEntry entry);
    /// <summary>Every iteration of every phase, numbered as in log.csv (phases counted on): for live progress.</summary>
    void OnStep(int step, int total, double loss) { }
    /// <summary>Something the user should see: a divergence recovery.</summary>
    void OnMessage(string message) { }
    /// <summary>Once, before training: what is being run and where its results go.</summary>
    void OnStart(string header) { }
}

/// <param name="AdamSteps">Adam steps over all Adam phases; <paramref name="LbfgsSteps"/> likewise.</param>
/// <param name="Phases">How each phase ended, in order (null where no single trainer ran: time marching).</param>
/// <param name="Identified">The trainable problem parameters' final values (inverse problems, eigenvalues); null: none.</param>
public sealed record TrainingResult(int AdamSteps, int LbfgsSteps, double Seconds, double FinalLoss,
                                    string Status, ErrorReport? Error, string ModelDescription, long ParameterCount,
                                    int Recoveries = 0, IReadOnlyList<PhaseResult>? Phases = null,
                                    IReadOnlyList<IdentifiedParameter>? Identified = null);

/// <summary>A trainable problem parameter at the end of training, against its starting value and (when given) its truth.</summary>
public sealed record IdentifiedParameter(string Name, double Value, double Initial, double? Truth)
{
    /// <summary>|value − truth| / |truth| (absolute error when the truth is 0); null without a truth.</summary>
    public double? RelativeError => Truth is not { } t ? null : t == 0 ? Math.Abs(Value) : Math.Abs(Value - t) / Math.Abs(t);

    public string Describe() => Truth is { } t
        ? FormattableString.Invariant($"{Name} = {Value:G6} (truth {t:G6}, rel. error {RelativeError:G3})")
        : FormattableString.Invariant($"{Name} = {Value:G6} (from {Initial:G6})");
}

/// <summary>
/// Minimises Σ_k λ_k L_k over the model's parameters by a sequence of optimiser phases
/// (<see cref="TrainingOptions.Plan"/>: Adam, L-BFGS, dense quasi-Newton; <see cref="Phases"/>), each driven
/// by the same loop. Every step runs in its own dispose scope so native memory stays flat (TORCHSHARP.md,
/// pitfall 1). A non-finite loss that recovery cannot undo stops the run with status "diverged" and the last
/// measured error; the caller still writes its results.
/// </summary>
public sealed class Trainer : IDisposable, IPhaseHost
{
    readonly Problem _problem;
    readonly IFieldModel _model;
    readonly TrainingOptions _options;
    readonly ReferenceComparison? _comparison;
    readonly ITrainingObserver? _observer;
    readonly ScalarType _dtype;
    readonly Device _device;
    readonly List<PointSet> _sets = [];
    readonly ProblemParameters _parameters;
    /// <summary>training.balancing: {kind: precision}: one learned precision per term (null otherwise).</summary>
    readonly LearnedPrecisions? _precisions;
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
        _parameters = new ProblemParameters(problem, dtype, device);
        // A model with its own point strategy (the GP's grid) brings its terms; every other model gets the sampled ones.
        var own = model.CreateTerms(problem, options);
        Terms = own ?? BuildTerms();
        if (own is null) CheckKeys("training.batch", options.Batch.Keys); // the model's own terms have no batches
        CheckKeys("training.weights", options.Weights.Keys);
        if (options.Balancing.Kind == "precision") _precisions = new LearnedPrecisions(Terms.Select(t => t.Name), dtype, device);
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
                case IntegralCondition ic:
                    terms.Add(Own(new IntegralTerm(ic, domain, _problem.QuadratureNodes(ic), ic.WeightScale * _options.WeightFor(c.Name, kind), _dtype, _device)));
                    break;
                case ObservationCondition oc:
                    terms.Add(Own(new ObservationTerm(oc, _options.WeightFor(c.Name, kind), _dtype, _device)));
                    break;
                default:
                    throw new PinnException($"problem '{_problem.Name}': condition '{c.Name}' ({c.Kind}) has no loss term for this model");
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
    /// optimiser state). Runs the phases of <see cref="TrainingOptions.Plan"/> in order, each through the
    /// same loop (<see cref="RunPhase"/>). A cancelled token stops at the next iteration with status
    /// "interrupted" and a checkpoint (when a checkpoint folder is set).
    /// </summary>
    public TrainingResult Train(Checkpoint? resume = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var plan = _options.Plan;
        TrainingPhases.Check(plan, _model);
        var offsets = LogOffsets(plan);
        var state = resume is null
            ? new TrainerState { Seed = _options.Seed, Phase = NameAt(plan, 0), PhaseIndex = 0, Draws = 0, LogStep = 0 }
            : FromLegacy(resume.State, plan, offsets);
        if (state.Weights is not null)
            foreach (var t in Terms)
                if (state.Weights.TryGetValue(t.Name, out var w)) t.Weight = w;
        _lrScale = state.LearningRateScale;
        _recoveries = state.Recoveries;
        if (resume is not null)
        {
            Restore(resume);
            ReplayDraws(state.Draws ?? 0);
        }

        var run = new RunState(this, state, clock, cancel, offsets, [.. state.Completed ?? []]);
        ErrorReport? lastError = null;
        string status = "completed";
        double lastLoss = double.NaN;
        var results = new List<PhaseResult>(run.Completed);
        for (int index = state.PhaseIndex ?? 0; index < plan.Count && status == "completed"; index++)
        {
            var spec = plan[index];
            if (spec.Steps == 0)
            {
                run.Completed.Add(new PhaseResult(spec.Name, 0, 0, 0, double.NaN, "no steps", 0));
                results.Add(run.Completed[^1]);
                continue;
            }
            bool here = resume is not null && index == state.PhaseIndex;
            int start = here ? state.Step : 0;
            double began = here ? state.PhaseStartSeconds : run.Elapsed();
            if (here && state.Phase != spec.Name)
                throw new PinnException($"the checkpoint stopped in phase {index} ({state.Phase}), but the config's phase {index} is {spec.Name}: " +
                                        "resume with the training.phases the run was started with");
            using var phase = TrainingPhases.Create(spec, this);
            if (!(here && state.OptimizerPhase == index && Restore(resume!, phase.Begin))) phase.Begin(null);

            var outcome = RunPhase(phase, index, start, began, run);
            (status, lastLoss) = (outcome.Status, outcome.Loss);
            lastError = outcome.Error ?? lastError;
            var result = new PhaseResult(spec.Name, outcome.Steps, phase.Evaluations, phase.LineSearches, outcome.Loss,
                                         outcome.Stop ?? status, run.Elapsed() - began);
            results.Add(result);
            if (status == "interrupted") Save(run.At(index, phase, outcome.Steps, began), phase);
            if (status != "completed") break;
            run.Completed.Add(result);
            if (outcome.Stop == "time limit") break; // the run's budget is spent: later phases are skipped
            if (index + 1 < plan.Count) Save(run.Boundary(index + 1, plan));
        }
        int adamSteps = results.Where(r => r.Name == "adam").Sum(r => r.Steps), lbfgsSteps = results.Where(r => r.Name == "lbfgs").Sum(r => r.Steps);
        // done: Step counts the Adam steps taken, as it did before phases (pinn eval prints it).
        if (status == "completed") Save(run.Boundary(plan.Count, plan) with { Step = adamSteps, LbfgsSteps = lbfgsSteps });

        if (_comparison is not null)
        {
            try { lastError = _comparison.Measure(_model, _dtype, _device); }
            catch (Exception) when (status != "completed") { /* a broken model may not evaluate; keep the last error */ }
        }
        if (double.IsNaN(lastLoss) && status == "completed") lastLoss = CurrentLoss();
        return new TrainingResult(adamSteps, lbfgsSteps, run.Elapsed(), lastLoss, status, lastError, _model.Describe(), _model.ParameterCount, _recoveries, results,
                                  Identified());
    }

    static string NameAt(IReadOnlyList<PhaseOptions> plan, int index) => index < plan.Count ? plan[index].Name : "done";

    /// <summary>
    /// The log.csv step of each phase's first row: phases are numbered on from the previous one's budget, so the
    /// shorthand [adam, lbfgs] logs as before (Adam 0 … S−1, L-BFGS S+1 … S+L) and no two phases share a step.
    /// A phase whose loss is measured after its update (<see cref="ITrainingPhase.LossAfterStep"/>) logs 1 … steps.
    /// </summary>
    static int[] LogOffsets(IReadOnlyList<PhaseOptions> plan)
    {
        var offsets = new int[plan.Count + 1];
        for (int i = 0; i < plan.Count; i++) offsets[i + 1] = offsets[i] + plan[i].Steps + (plan[i] is AdamPhaseOptions ? 0 : 1);
        return offsets;
    }

    /// <summary>A checkpoint written before phases (phase adam | lbfgs | done, no index) in today's terms.</summary>
    TrainerState FromLegacy(TrainerState s, IReadOnlyList<PhaseOptions> plan, int[] offsets)
    {
        if (s.PhaseIndex is not null) return s;
        int adamSteps = plan.Count > 0 ? plan[0].Steps : 0;
        int DrawsFor(int steps) => Enumerable.Range(0, steps).Count(k => AdamPhase.IsDrawStep(k, _options.ResampleEvery));
        var adamDone = new PhaseResult("adam", adamSteps, adamSteps, 0, double.NaN, "iteration limit", 0);
        return s.Phase switch
        {
            "adam" => s with { PhaseIndex = 0, OptimizerPhase = 0, Draws = DrawsFor(s.Step), LogStep = s.Step },
            "lbfgs" => s with { PhaseIndex = 1, Step = 0, Phase = NameAt(plan, 1), Draws = DrawsFor(adamSteps), LogStep = offsets[Math.Min(1, plan.Count)], Completed = [adamDone] },
            _ => s with
            {
                PhaseIndex = plan.Count, Draws = DrawsFor(adamSteps), LogStep = int.MaxValue,
                Completed = plan.Select(p => new PhaseResult(p.Name, p is AdamPhaseOptions ? p.Steps : s.LbfgsSteps, 0, 0, double.NaN, "", 0)).ToList(),
            },
        };
    }

    /// <summary>The run-wide bookkeeping the phase loop reads and the checkpoints record.</summary>
    sealed class RunState(Trainer owner, TrainerState initial, Stopwatch clock, CancellationToken cancel, int[] offsets, List<PhaseResult> completed)
    {
        public CancellationToken Cancel => cancel;
        public int[] Offsets => offsets;
        public List<PhaseResult> Completed => completed;
        public double Elapsed() => initial.Seconds + clock.Elapsed.TotalSeconds;

        /// <summary>Inside phase <paramref name="index"/>, before its iteration <paramref name="step"/>.</summary>
        public TrainerState At(int index, ITrainingPhase phase, int step, double began) => Common() with
        {
            Phase = phase.Options.Name, PhaseIndex = index, Step = step, OptimizerPhase = index, PhaseStartSeconds = began,
            LogStep = offsets[index] + step + (phase.LossAfterStep ? 1 : 0),
        };

        /// <summary>Before phase <paramref name="index"/> begins (or done, past the last).</summary>
        public TrainerState Boundary(int index, IReadOnlyList<PhaseOptions> plan) => Common() with
        {
            Phase = NameAt(plan, index), PhaseIndex = index, Step = 0, OptimizerPhase = null, PhaseStartSeconds = Elapsed(),
            LogStep = index < plan.Count ? offsets[index] : int.MaxValue,
        };

        TrainerState Common() => initial with
        {
            Seconds = Elapsed(), LearningRateScale = owner._lrScale, Recoveries = owner._recoveries, Draws = owner._draws,
            Weights = owner.Terms.ToDictionary(t => t.Name, t => t.Weight), Completed = completed.ToList(), ProblemParameters = owner._parameters.Raw(),
            Precisions = owner._precisions?.Raw(),
        };
    }

    sealed record PhaseOutcome(string Status, int Steps, double Loss, ErrorReport? Error, string? Stop);

    /// <summary>
    /// The one training loop: iterations of <paramref name="phase"/> from <paramref name="start"/> until its budget, a
    /// stop it reports, the time limit or a cancellation; progress and log rows, divergence recovery (phases that
    /// can diverge: back to the last snapshot, half the learning rate), snapshots and checkpoints — the same for every optimiser.
    /// </summary>
    PhaseOutcome RunPhase(ITrainingPhase phase, int index, int start, double began, RunState run)
    {
        var spec = phase.Options;
        int offset = run.Offsets[index], shift = phase.LossAfterStep ? 1 : 0;
        int total = LastPosition(_options.Plan, run.Offsets);
        Action<BinaryWriter> save = phase.SaveState;
        var lastGood = phase.CanDiverge ? Checkpoint.Capture(run.At(index, phase, start, began), _model, save) : null;
        int failures = 0;
        double lastLoss = double.NaN;
        ErrorReport? lastError = null;
        int k = start;
        for (; k < spec.Steps; k++)
        {
            if (run.Cancel.IsCancellationRequested) return new("interrupted", k, lastLoss, lastError, null);
            if (_options.TimeLimit > 0 && run.Elapsed() >= _options.TimeLimit) return new("completed", k, lastLoss, lastError, "time limit");
            int position = k + shift;
            bool final = k == spec.Steps - 1;
            bool log = final || position % Math.Max(1, _options.LogEvery) == 0;
            var it = phase.Step(k, log);
            lastLoss = it.Loss;
            if (!double.IsFinite(it.Loss) && lastGood is not null)
            {
                // Divergence recovery: back to the last good state with half the learning rate.
                if (++failures > _options.MaxRecoveries)
                {
                    Restore(lastGood, phase.LoadState); // leave the model at its last good state for the results
                    return new($"diverged at step {offset + position} (loss {it.Loss}) after {failures - 1} recoveries; try a smaller learning rate",
                               k, it.Loss, lastError, null);
                }
                Restore(lastGood, phase.LoadState);
                _lrScale *= 0.5;
                _recoveries++;
                _observer?.OnMessage($"step {offset + position}: loss {it.Loss}; restored step {offset + lastGood.State.Step} and halved the learning rate (×{_lrScale})");
                k = lastGood.State.Step - 1;
                continue;
            }
            _observer?.OnStep(offset + position, total, it.Loss);
            if (log || it.Stop is not null)
            {
                bool eval = _comparison is not null && _options.EvalEvery > 0 && (position % _options.EvalEvery == 0 || final || it.Stop is not null);
                if (eval) lastError = _comparison!.Measure(_model, _dtype, _device);
                _observer?.OnLog(new LogEntry(spec.Name, offset + position, run.Elapsed(), it.LearningRate, it.Loss,
                                              it.Terms ?? new Dictionary<string, double>(), eval ? lastError : null, WithParameters(it.Diagnostics)));
            }
            if (it.Stop is not null) return new("completed", k + 1, it.Loss, lastError, it.Stop);
            int next = k + 1;
            if (lastGood is not null && _options.SnapshotEvery > 0 && next % _options.SnapshotEvery == 0)
            {
                lastGood = Checkpoint.Capture(run.At(index, phase, next, began), _model, save);
                failures = 0;
            }
            if (_options.CheckpointEvery > 0 && next % _options.CheckpointEvery == 0 && next < spec.Steps)
                Save(run.At(index, phase, next, began), phase);
        }
        return new("completed", k, lastLoss, lastError, "iteration limit");
    }

    /// <summary>The progress bar's total: the log step of the plan's last iteration (+1 when that is an Adam step).</summary>
    static int LastPosition(IReadOnlyList<PhaseOptions> plan, int[] offsets) =>
        plan.Count > 0 && plan[^1] is not AdamPhaseOptions ? offsets[^1] - 1 : offsets[^1];

    double _lrScale = 1;
    int _recoveries;
    int _draws;

    double IPhaseHost.LearningRateScale => _lrScale;
    int IPhaseHost.Draws => _draws;
    IReadOnlyList<PointSet> IPhaseHost.PointSets => _sets;
    IFieldModel IPhaseHost.Model => _model;
    TrainingOptions IPhaseHost.Options => _options;
    (Tensor Total, IReadOnlyList<(string Name, Tensor Value)> Terms) IPhaseHost.Loss(StepContext context, bool rebalance) => Loss(context, rebalance);

    /// <summary>Every point set draws a new batch; counted so that a resumed run replays the same number of draws.</summary>
    public void DrawBatch()
    {
        foreach (var s in _sets) s.Resample(_dtype, _device);
        _draws++;
    }

    /// <summary>Advances every sampler by <paramref name="draws"/> batches, leaving the last one in place (what the interrupted run had).</summary>
    void ReplayDraws(int draws)
    {
        _draws = draws;
        if (draws == 0) return;
        foreach (var s in _sets)
        {
            s.Skip(draws - 1);
            s.Resample(_dtype, _device);
        }
    }

    /// <summary>The trainable problem parameters now (null when there are none).</summary>
    public IReadOnlyList<IdentifiedParameter>? Identified()
    {
        if (_parameters.Trainable.Count == 0) return null;
        var specs = _parameters.TrainableSpecs;
        return _parameters.Current().Select((c, i) => new IdentifiedParameter(c.Name, c.Value, specs[i].Value, specs[i].Truth)).ToList();
    }

    /// <summary>Log diagnostics with the trainable parameters' values and the learned precisions added (log.csv columns param_NAME, precision_NAME).</summary>
    IReadOnlyDictionary<string, double>? WithParameters(IReadOnlyDictionary<string, double>? diagnostics)
    {
        if (_parameters.Trainable.Count == 0 && _precisions is null) return diagnostics;
        var d = diagnostics is null ? new Dictionary<string, double>() : new Dictionary<string, double>(diagnostics);
        foreach (var (name, value) in _parameters.Current()) d[$"param_{name}"] = value;
        foreach (var (name, tau) in PrecisionValues ?? new Dictionary<string, double>()) d[$"precision_{name}"] = tau;
        return d;
    }

    /// <summary>The model's and the trainable problem parameters' values from <paramref name="c"/> (and the optimiser's, as <see cref="Checkpoint.Restore"/>).</summary>
    bool Restore(Checkpoint c, Action<BinaryReader>? optimizer = null)
    {
        if (_parameters.Trainable.Count > 0) _parameters.Load(c.State.ProblemParameters);
        _precisions?.Load(c.State.Precisions);
        return c.Restore(_model, optimizer);
    }

    void Save(TrainerState state, ITrainingPhase? phase = null)
    {
        if (CheckpointDir is null) return;
        Checkpoint.Capture(state, _model, phase is null ? null : phase.SaveState).Save(CheckpointDir);
    }

    /// <summary>A fresh per-step view of the model (one forward pass and derivative cache per batch).</summary>
    public StepContext NewContext() => new(_model, _problem.Domain.CoordinateNames, _problem.Fields, _parameters.Value, JetSet, LinearAt, _parameters.ValueAt);

    /// <summary>The problem's parameters, trainable ones included (<see cref="ProblemParameters"/>).</summary>
    public ProblemParameters ProblemParameters => _parameters;

    /// <summary>Everything the optimisers train: the model's parameters, the problem's trainable ones, the learned precisions.</summary>
    public IReadOnlyList<TorchParameter> Parameters => [.. _model.TrainableParameters, .. _parameters.Trainable, .. PrecisionParameters];

    /// <summary>The model's parameter groups, then one (lr scale 1) for the problem's trainable parameters and one for the learned precisions.</summary>
    public IReadOnlyList<(IReadOnlyList<TorchParameter> Parameters, double LrScale)> ParameterGroups =>
        [.. _model.ParameterGroups,
         .. _parameters.Trainable.Count == 0 ? [] : new[] { (_parameters.Trainable, 1.0) },
         .. _precisions is null ? [] : new[] { (PrecisionParameters, 1.0) }];

    /// <summary>The learned precisions' parameters (empty unless training.balancing: {kind: precision}).</summary>
    IReadOnlyList<TorchParameter> PrecisionParameters => _precisions?.Parameters ?? [];

    /// <summary>τ_k of each term under training.balancing: {kind: precision} (null otherwise): log.csv columns precision_NAME.</summary>
    public IReadOnlyDictionary<string, double>? PrecisionValues => _precisions?.Names.ToDictionary(n => n, _precisions.Precision);

    /// <summary>The derivatives a jet pass must carry (null: use autograd), chosen once from training.derivatives.</summary>
    public IReadOnlyList<Autodiff.MultiIndex>? JetSet => _jetSet ??= DerivativeEngine.JetSet(_options.Derivatives, _model, _problem, _device,
                                                             preferJets: _options.Plan.Any(p => p is Phases.ResidualPhaseOptions { Steps: > 0 }));
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
        if (_draws == 0) DrawBatch(); // nothing trained (no steps at all): a batch to measure on
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
        var values = new List<(string, Tensor)>();
        // The model's prior first (so the GP's sum runs in the order it did when its prior was the first term).
        if (_model.PriorLoss(ctx) is { } prior)
        {
            values.Add(("prior", prior));
            total = prior;
        }
        var losses = Terms.Select(t => (t, t.Loss(ctx))).ToList();
        if (rebalance) GradNormBalancing.Update(losses, _model.TrainableParameters, _options.Balancing.Alpha);
        foreach (var (t, l) in losses)
        {
            values.Add((t.Name, l));
            var wl = _precisions is not null ? t.Weight * _precisions.Weigh(t.Name, l) : t.Weight == 1 ? l : t.Weight * l;
            total = total is null ? wl : total + wl;
        }
        return (total!, values);
    }

    /// <summary>Terms holding tensors of their own (quadrature nodes, observations), disposed with the trainer.</summary>
    readonly List<IDisposable> _owned = [];
    T Own<T>(T term) where T : LossTerm, IDisposable
    {
        _owned.Add(term);
        return term;
    }

    public void Dispose()
    {
        foreach (var s in _sets) s.Dispose();
        foreach (var o in _owned) o.Dispose();
        _parameters.Dispose();
        _precisions?.Dispose();
    }
}
