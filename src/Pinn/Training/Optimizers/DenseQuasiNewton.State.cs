using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

public sealed partial class DenseQuasiNewton
{
    const string StateMagic = "pinn.dense_quasi_newton";
    const int StateVersion = 1;

    /// <summary>
    /// Everything the next <see cref="Step"/> reads — x, f, g, H, f_{k−1}, the identity flag and the
    /// counters — exactly (TorchSharp's tensor format, raw doubles). With the same objective, options and
    /// thread count, a run resumed by <see cref="LoadState"/> or <see cref="Resume"/> takes the same iterates
    /// bit for bit. Options are not saved (only the method, which is checked): they come from the config.
    /// </summary>
    public void SaveState(BinaryWriter w)
    {
        w.Write(StateMagic);
        w.Write(StateVersion);
        w.Write(Options.Method.ToString());
        w.Write(Size);
        w.Write(_f);
        w.Write(_previousValue.HasValue);
        w.Write(_previousValue ?? 0);
        w.Write(_identity);
        w.Write(_cycleIterations);
        w.Write(_immediateFailures);
        w.Write(InitialValue);
        w.Write(Iterations);
        w.Write(Evaluations);
        w.Write(Updates);
        w.Write(SkippedUpdates);
        w.Write(Resets);
        w.Write(LineSearchFailures);
        foreach (var t in new[] { _x, _g, _h }) t.cpu().Save(w);
    }

    /// <summary>Replaces this optimiser's state by a saved one of the same size and method (no evaluation).</summary>
    public void LoadState(BinaryReader r)
    {
        long size = ReadHeader(r, Options.Method);
        if (size != Size) throw new PinnException($"the saved quasi-Newton state has {size} parameters, this optimiser {Size}");
        ReadBody(r);
    }

    /// <summary>
    /// An optimiser continuing from a saved state, without evaluating the objective: the first
    /// <see cref="Step"/> after it is the one the saved run would have taken next.
    /// </summary>
    /// <param name="device">Where x, g and H live (the objective's device; default CPU).</param>
    public static DenseQuasiNewton Resume(IObjective objective, BinaryReader r, QuasiNewtonOptions? options = null, Device? device = null)
    {
        options ??= new QuasiNewtonOptions();
        long size = ReadHeader(r, options.Method);
        var q = new DenseQuasiNewton(objective, size, options, device);
        q.ReadBody(r);
        return q;
    }

    static long ReadHeader(BinaryReader r, QuasiNewtonMethod expected)
    {
        if (r.ReadString() != StateMagic) throw new PinnException("not a dense quasi-Newton state");
        int version = r.ReadInt32();
        if (version != StateVersion) throw new PinnException($"dense quasi-Newton state version {version}, expected {StateVersion}");
        string method = r.ReadString();
        if (method != expected.ToString()) throw new PinnException($"the saved quasi-Newton state is {method}, the options say {expected}");
        return r.ReadInt64();
    }

    void ReadBody(BinaryReader r)
    {
        _f = r.ReadDouble();
        bool hasPrevious = r.ReadBoolean();
        double previous = r.ReadDouble();
        _previousValue = hasPrevious ? previous : null;
        _identity = r.ReadBoolean();
        _cycleIterations = r.ReadInt32();
        _immediateFailures = r.ReadInt32();
        InitialValue = r.ReadDouble();
        Iterations = r.ReadInt32();
        Evaluations = r.ReadInt32();
        Updates = r.ReadInt32();
        SkippedUpdates = r.ReadInt32();
        Resets = r.ReadInt32();
        LineSearchFailures = r.ReadInt32();
        using var scope = NewDisposeScope();
        foreach (var t in new[] { _x, _g, _h })
        {
            var loaded = zeros(t.shape, dtype: ScalarType.Float64);
            loaded.Load(r);
            t.copy_(loaded.to(t.device));
        }
        GradientNorm = _g.norm().ToDouble();
    }

    DenseQuasiNewton(IObjective objective, long size, QuasiNewtonOptions options, Device? device)
    {
        Options = options;
        Options.Validate();
        using (var probe = zeros(size, dtype: ScalarType.Float64)) CheckSize(probe, options);
        _objective = objective;
        _x = zeros(size, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
        _g = zeros(size, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
        _h = eye(size, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
    }
}
