using Pinn.Models;
using Pinn.Problems;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training;

/// <summary>
/// The problem's parameters as the trainer holds them: a fixed one is a constant tensor; a trainable one
/// (<see cref="ProblemParameter.Trainable"/>; inverse problems, eigenvalues) is a raw scalar θ that every optimiser phase
/// trains with the model's parameters, its value v = map(θ) keeping the bounds by reparametrisation:
/// <list type="bullet">
/// <item>no bounds: v = θ;</item>
/// <item>[a, ∞): v = a + exp(θ) (positivity, and steps relative to the value: ν = 0.01/π and λ = 1 train alike);</item>
/// <item>(−∞, b]: v = b − exp(θ);</item>
/// <item>[a, b]: v = a + (b − a)·sigmoid(θ).</item>
/// </list>
/// While a per-sample Jacobian is captured (<see cref="Capture"/>), a trainable value read at n points is map(θ expanded to
/// n) — a per-sample view (<see cref="SampledParameter"/>) whose gradient is θ's Jacobian column, from the same backward as
/// the model's columns.
/// </summary>
public sealed class ProblemParameters : IDisposable
{
    sealed record Entry(ProblemParameter Spec, Tensor? Constant, TorchParameter? Raw);

    readonly Dictionary<string, Entry> _entries = [];
    readonly List<string> _order = [];
    LayerCapture? _capture;

    public ProblemParameters(Problem problem, ScalarType dtype, Device device)
    {
        foreach (var p in problem.Parameters)
        {
            _order.Add(p.Name);
            _entries[p.Name] = p.Trainable
                ? new Entry(p, null, new TorchParameter(tensor(Inverse(p, p.Value), dtype: dtype, device: device)))
                : new Entry(p, tensor(p.Value, dtype: dtype, device: device), null);
        }
    }

    /// <summary>The raw θ of the trainable parameters, in declaration order (what the optimisers see).</summary>
    public IReadOnlyList<TorchParameter> Trainable => _order.Select(n => _entries[n].Raw).OfType<TorchParameter>().ToList();

    /// <summary>The trainable parameters' specs, in the order of <see cref="Trainable"/>.</summary>
    public IReadOnlyList<ProblemParameter> TrainableSpecs => _order.Select(n => _entries[n]).Where(e => e.Raw is not null).Select(e => e.Spec).ToList();

    /// <summary>The value of <paramref name="name"/>: a constant, or map(θ) with its graph.</summary>
    public Tensor Value(string name)
    {
        var e = _entries[name];
        return e.Raw is null ? e.Constant! : Map(e.Spec, e.Raw);
    }

    /// <summary>The value as read at <paramref name="rows"/> points: <see cref="Value"/>, or during a capture a per-sample view.</summary>
    public Tensor ValueAt(string name, long rows)
    {
        var e = _entries[name];
        if (e.Raw is null || _capture is null) return Value(name);
        var view = e.Raw.expand(rows);
        _capture.Passes.Add(new CapturedPass([], []) { Sampled = [new SampledParameter(e.Raw, view, 0)], Samples = rows });
        return Map(e.Spec, view);
    }

    /// <summary>Current values of the trainable parameters (as doubles), in declaration order.</summary>
    public IReadOnlyList<(string Name, double Value)> Current()
    {
        using var _ = no_grad();
        return TrainableSpecs.Select(p => (p.Name, Value(p.Name).ToDouble())).ToList();
    }

    /// <summary>The trainable parameters' raw θ by name (for checkpoints).</summary>
    public IReadOnlyDictionary<string, double>? Raw()
    {
        if (Trainable.Count == 0) return null;
        using var _ = no_grad();
        return _order.Where(n => _entries[n].Raw is not null).ToDictionary(n => n, n => _entries[n].Raw!.ToDouble());
    }

    /// <summary>Puts back raw θ values (<see cref="Raw"/>); a trainable parameter missing from them is an error naming it.</summary>
    public void Load(IReadOnlyDictionary<string, double>? raw)
    {
        using var _ = no_grad();
        foreach (var n in _order.Where(n => _entries[n].Raw is not null))
        {
            if (raw is null || !raw.TryGetValue(n, out var v))
                throw new PinnException($"the checkpoint has no value for trainable parameter '{n}' (was it written before the parameter was made trainable?)");
            _entries[n].Raw!.fill_(v);
        }
    }

    /// <summary>Records trainable parameters' per-sample views into <paramref name="capture"/> until disposed.</summary>
    public IDisposable Capture(LayerCapture capture)
    {
        _capture = capture;
        return new End(this);
    }

    sealed class End(ProblemParameters owner) : IDisposable
    {
        public void Dispose() => owner._capture = null;
    }

    static Tensor Map(ProblemParameter p, Tensor theta) => (p.Lower, p.Upper) switch
    {
        (null, null) => theta,
        ({ } a, null) => a + theta.exp(),
        (null, { } b) => b - theta.exp(),
        ({ } a, { } b) => a + (b - a) * theta.sigmoid(),
    };

    /// <summary>θ with map(θ) = <paramref name="v"/> (inside the bounds: checked when the problem was built).</summary>
    static double Inverse(ProblemParameter p, double v) => (p.Lower, p.Upper) switch
    {
        (null, null) => v,
        ({ } a, null) => Math.Log(v - a),
        (null, { } b) => Math.Log(b - v),
        ({ } a, { } b) => Math.Log((v - a) / (b - v)),
    };

    public void Dispose()
    {
        foreach (var e in _entries.Values)
        {
            e.Constant?.Dispose();
            e.Raw?.Dispose();
        }
    }
}
