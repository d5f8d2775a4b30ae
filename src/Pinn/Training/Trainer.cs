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
                              IReadOnlyDictionary<string, double> Terms, ErrorReport? Error);

public interface ITrainingObserver
{
    void OnLog(LogEntry entry);
}

public sealed record TrainingResult(int AdamSteps, int LbfgsSteps, double Seconds, double FinalLoss,
                                    string Status, ErrorReport? Error, string ModelDescription, long ParameterCount);

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

    public Trainer(Problem problem, IFieldModel model, TrainingOptions options, ScalarType dtype, Device device,
                   ReferenceComparison? comparison = null, ITrainingObserver? observer = null)
    {
        _problem = problem;
        _model = model;
        _options = options;
        _dtype = dtype;
        _device = device;
        _comparison = comparison;
        _observer = observer;
        foreach (var (name, value) in problem.ParameterValues)
            _parameters[name] = tensor(value, dtype: dtype, device: device);
        Terms = BuildTerms();
        CheckKeys("training.batch", options.Batch.Keys);
        CheckKeys("training.weights", options.Weights.Keys);
    }

    /// <summary>A batch size or weight for a term that does not exist is a typo, not a no-op.</summary>
    void CheckKeys(string what, IEnumerable<string> keys)
    {
        var valid = Terms.Select(t => t.Name).Concat(["pde", "ic", "bc"]).ToHashSet();
        foreach (var k in keys.Where(k => !valid.Contains(k)))
        {
            var hint = Symbolic.ExprParser.Suggest(k, valid);
            throw new PinnException($"{what}: '{k}' is not a loss term of problem '{_problem.Name}'" +
                                    (hint is null ? "" : $" (did you mean '{hint}'?)") +
                                    $"; terms: {string.Join(", ", Terms.Select(t => t.Name))}; kinds: pde, ic, bc");
        }
    }

    public IReadOnlyList<LossTerm> Terms { get; }

    /// <summary>One loss term per residual equation (sharing the interior batch) and per condition.</summary>
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
        foreach (var eq in _problem.Equations)
            terms.Add(new ResidualTerm(eq.Name, "pde", _options.WeightFor(eq.Name, "pde"), eq.Equation.Residual,
                                       SetFor(Region.Interior, eq.Name, "pde")));
        foreach (var c in _problem.Conditions)
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
        return terms;
    }

    public TrainingResult Train()
    {
        var clock = Stopwatch.StartNew();
        var parameters = _model.TrainableParameters;
        using var adam = optim.Adam(parameters, lr: _options.LearningRate);
        var coords = _problem.Domain.CoordinateNames;
        StepContext NewContext() => new(_model, coords, _problem.Fields, name => _parameters[name]);

        ErrorReport? lastError = null;
        string status = "completed";
        double lastLoss = double.NaN;
        int step = 0;
        for (; step < _options.Steps; step++)
        {
            if (step == 0 || (_options.ResampleEvery > 0 && step % _options.ResampleEvery == 0))
                foreach (var s in _sets) s.Resample(_dtype, _device);

            using var scope = NewDisposeScope();
            double lr = _options.LearningRateAt(step);
            foreach (var g in adam.ParamGroups) g.LearningRate = lr;
            adam.zero_grad();
            var (total, terms) = Loss(NewContext());
            lastLoss = total.ToDouble();
            if (!double.IsFinite(lastLoss))
            {
                status = $"diverged at step {step} (loss {lastLoss}); try a smaller learning rate";
                break;
            }
            total.backward();
            adam.step();

            bool last = step == _options.Steps - 1;
            if (last || step % Math.Max(1, _options.LogEvery) == 0)
            {
                bool eval = _comparison is not null && _options.EvalEvery > 0 && step % _options.EvalEvery == 0;
                if (eval) lastError = _comparison!.Measure(_model, _dtype, _device);
                _observer?.OnLog(new LogEntry("adam", step, clock.Elapsed.TotalSeconds, lr, lastLoss, terms, eval ? lastError : null));
            }
        }
        int adamSteps = step;

        int lbfgsSteps = 0;
        if (status == "completed" && _options.LbfgsSteps > 0)
            (lbfgsSteps, lastLoss) = Polish(NewContext, clock);

        if (_comparison is not null && (status == "completed" || lastError is null))
        {
            try { lastError = _comparison.Measure(_model, _dtype, _device); }
            catch (Exception) when (status != "completed") { /* a diverged model may not evaluate; keep the last error */ }
        }
        return new TrainingResult(adamSteps, lbfgsSteps, clock.Elapsed.TotalSeconds, lastLoss, status, lastError,
                                  _model.Describe(), _model.ParameterCount);
    }

    (Tensor total, IReadOnlyDictionary<string, double> terms) Loss(StepContext ctx)
    {
        Tensor? total = null;
        var values = new Dictionary<string, double>();
        foreach (var t in Terms)
        {
            var l = t.Loss(ctx);
            values[t.Name] = l.ToDouble();
            var wl = t.Weight == 1 ? l : t.Weight * l;
            total = total is null ? wl : total + wl;
        }
        if (_model.PriorLoss() is { } prior)
        {
            values["prior"] = prior.ToDouble();
            total = total is null ? prior : total + prior;
        }
        return (total!, values);
    }

    (int steps, double loss) Polish(Func<StepContext> newContext, Stopwatch clock)
    {
        // One fixed batch: L-BFGS assumes a deterministic objective.
        foreach (var s in _sets) s.Resample(_dtype, _device);
        var lbfgs = new Lbfgs(_model.TrainableParameters, _options.LbfgsHistory);
        var result = lbfgs.Minimize(() => Loss(newContext()).total, _options.LbfgsSteps, (k, f) =>
        {
            if (k % Math.Max(1, _options.LogEvery) != 0) return;
            bool eval = _comparison is not null && _options.EvalEvery > 0 && k % _options.EvalEvery == 0;
            var err = eval ? _comparison!.Measure(_model, _dtype, _device) : null;
            _observer?.OnLog(new LogEntry("lbfgs", _options.Steps + k, clock.Elapsed.TotalSeconds, 0, f,
                                          new Dictionary<string, double>(), err));
        });
        return (result.Iterations, result.FinalLoss);
    }

    public void Dispose()
    {
        foreach (var s in _sets) s.Dispose();
        foreach (var t in _parameters.Values) t.Dispose();
    }
}
