using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// Adam over the model's parameter groups (each group's lr = schedule × its own multiplier × the recovery
/// scale), redrawing the collocation points at its step 0 and every <c>training.resample_every</c> steps;
/// gradient-norm balancing and the models' and terms' after-step hooks run here.
/// </summary>
sealed class AdamPhase : ITrainingPhase
{
    readonly AdamPhaseOptions _options;
    readonly IPhaseHost _host;
    TorchSharp.Modules.Adam? _adam;
    double[] _groupScales = [1.0];

    public AdamPhase(AdamPhaseOptions options, IPhaseHost host)
    {
        _options = options;
        _host = host;
    }

    public PhaseOptions Options => _options;
    public bool LossAfterStep => false;
    public bool CanDiverge => true;
    public int Evaluations { get; private set; }
    public int LineSearches => 0;

    public void Begin(BinaryReader? saved)
    {
        _adam = NewAdam();
        if (saved is not null) _adam.load_state_dict(saved);
    }

    TorchSharp.Modules.Adam NewAdam()
    {
        var model = _host.Model;
        var groups = _host.ParameterGroups;
        int grouped = groups.Sum(g => g.Parameters.Count), all = _host.Parameters.Count;
        if (grouped != all)
            throw new PinnException($"model '{model.Describe()}': its parameter groups hold {grouped} tensors but it trains {all}");
        _groupScales = groups.Select(g => g.LrScale).ToArray();
        if (groups.Count == 1) return optim.Adam(groups[0].Parameters, lr: _options.LearningRate);
        return optim.Adam(groups.Select(g => new TorchSharp.Modules.Adam.ParamGroup(g.Parameters, lr: _options.LearningRate * g.LrScale)),
                          lr: _options.LearningRate);
    }

    /// <summary>Collocation points are redrawn at step 0 and every <c>resample_every</c> steps.</summary>
    public static bool IsDrawStep(int step, int resampleEvery) => step == 0 || (resampleEvery > 0 && step % resampleEvery == 0);

    public PhaseIteration Step(int step, bool log)
    {
        var adam = _adam ?? throw new InvalidOperationException("Begin the phase first");
        var o = _host.Options;
        if (IsDrawStep(step, o.ResampleEvery)) _host.DrawBatch();

        using var scope = NewDisposeScope();
        double lr = _options.LearningRateAt(step) * _host.LearningRateScale;
        foreach (var (g, scale) in adam.ParamGroups.Zip(_groupScales)) g.LearningRate = lr * scale;
        adam.zero_grad();
        bool rebalance = o.Balancing.Kind == "gradnorm" && step % Math.Max(1, o.Balancing.Every) == 0;
        var (total, terms) = _host.Loss(_host.NewContext(), rebalance);
        Evaluations++;
        double loss = total.ToDouble();
        if (!double.IsFinite(loss)) return new PhaseIteration(loss, LearningRate: lr);
        total.backward();
        adam.step();
        foreach (var t in _host.Terms) t.AfterStep();
        _host.Model.AfterStep(step + 1, _host.NewContext, _host.Terms);
        if (!log) return new PhaseIteration(loss, LearningRate: lr);

        var diagnostics = _host.Model.Diagnostics.Concat(_host.Terms.SelectMany(t => t.Diagnostics)).ToDictionary(d => d.Name, d => d.Value);
        if (o.Balancing.Kind == "gradnorm")
            foreach (var t in _host.Terms) diagnostics["weight_" + t.Name] = t.Weight;
        return new PhaseIteration(loss, null, lr, terms.ToDictionary(t => t.Name, t => t.Value.ToDouble()), diagnostics);
    }

    public void SaveState(BinaryWriter w) => (_adam ?? throw new InvalidOperationException("Begin the phase first")).save_state_dict(w);
    public void LoadState(BinaryReader r) => (_adam ?? throw new InvalidOperationException("Begin the phase first")).load_state_dict(r);

    public void Dispose() => _adam?.Dispose();
}
