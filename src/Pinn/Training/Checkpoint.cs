using System.Text.Json;
using Pinn.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>Where a run stands: enough, with the parameters and optimiser state, to continue it exactly.</summary>
public sealed record TrainerState
{
    /// <summary>adam (Adam steps remain from <see cref="Step"/>), lbfgs (Adam done, polishing remains) or done.</summary>
    public string Phase { get; init; } = "adam";
    /// <summary>The next Adam step to run.</summary>
    public int Step { get; init; }
    /// <summary>Multiplier on the learning-rate schedule; halved by each divergence recovery.</summary>
    public double LearningRateScale { get; init; } = 1;
    public int Recoveries { get; init; }
    public int LbfgsSteps { get; init; }
    public double Seconds { get; init; }
    public int Seed { get; init; }
    /// <summary>Loss weights at this point (they change under gradient-norm balancing).</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; init; }
}

/// <summary>
/// Model parameters and optimiser moments as bytes (TorchSharp's own tensor serialisation, exact),
/// in memory for divergence recovery or on disk as a checkpoint. On disk a checkpoint is a folder
/// (<c>state.bin</c> + <c>state.json</c>) written next to the old one and swapped in by renames, so a
/// crash mid-write leaves the previous checkpoint intact.
/// </summary>
public sealed class Checkpoint
{
    public Checkpoint(TrainerState state, byte[] tensors)
    {
        State = state;
        Tensors = tensors;
    }

    public TrainerState State { get; }
    public byte[] Tensors { get; }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Checkpoint Capture(TrainerState state, IFieldModel model, TorchSharp.Modules.OptimizerHelper? optimizer)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var ps = model.TrainableParameters;
            w.Write(ps.Count);
            foreach (var p in ps) p.detach().cpu().Save(w);
            w.Write(optimizer is not null);
            optimizer?.save_state_dict(w);
        }
        return new Checkpoint(state, ms.ToArray());
    }

    /// <summary>The folder this checkpoint was loaded from (null for an in-memory snapshot).</summary>
    public string? Dir { get; private init; }

    /// <summary>
    /// Puts the parameters (and optimiser moments) back. Every tensor's dtype and shape are checked against
    /// the model before anything is copied, so a checkpoint written by another architecture (run.yaml's
    /// model edited, or another run's checkpoint copied in) is an error naming the parameter, not a half-loaded model.
    /// </summary>
    public void Restore(IFieldModel model, TorchSharp.Modules.OptimizerHelper? optimizer)
    {
        var ps = model.TrainableParameters;
        Check(model, ps);
        using var ms = new MemoryStream(Tensors);
        using var r = new BinaryReader(ms);
        r.ReadInt32();
        try
        {
            using (no_grad())
            {
                foreach (var p in ps)
                {
                    using var scope = NewDisposeScope();
                    var t = zeros(p.shape, dtype: p.dtype);
                    t.Load(r);
                    p.copy_(t.to(p.device));
                }
            }
            bool hasOptimizer = r.ReadBoolean();
            if (hasOptimizer && optimizer is not null) optimizer.load_state_dict(r);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidOperationException)
        {
            throw Error($"the optimiser state does not fit this model or is corrupt ({e.Message})", inner: e);
        }
    }

    /// <summary>Walks the tensor headers (TorchSharp's format: LEB128 dtype, rank, dims, then the raw values) against the model's parameters.</summary>
    void Check(IFieldModel model, IReadOnlyList<TorchSharp.Modules.Parameter> ps)
    {
        using var ms = new MemoryStream(Tensors);
        using var r = new BinaryReader(ms);
        try
        {
            int n = r.ReadInt32();
            if (n != ps.Count)
                throw Error($"it holds {n} parameter tensors, the model has {ps.Count}: it was written by a different model " +
                            "(was the model section of run.yaml changed, or another run's checkpoint copied in?)");
            for (int i = 0; i < ps.Count; i++)
            {
                var p = ps[i];
                var dtype = (ScalarType)Leb128(r);
                var shape = new long[Leb128(r)];
                for (int k = 0; k < shape.Length; k++) shape[k] = Leb128(r);
                if (dtype != p.dtype)
                    throw Error($"parameter {Name(model, p, i)} is {dtype} in the checkpoint but {p.dtype} in the model (was training.dtype changed?)");
                if (!shape.SequenceEqual(p.shape))
                    throw Error($"parameter {Name(model, p, i)} has shape [{string.Join(", ", shape)}] in the checkpoint but " +
                                $"[{string.Join(", ", p.shape)}] in the model: it was written by a different model " +
                                "(was the model section of run.yaml changed, or another run's checkpoint copied in?)");
                long bytes = p.numel() * p.ElementSize;
                if (ms.Length - ms.Position < bytes) throw new EndOfStreamException();
                ms.Position += bytes;
            }
        }
        catch (EndOfStreamException)
        {
            throw Error("truncated or corrupt: it ends before the parameters it lists");
        }
    }

    PinnException Error(string message, Exception? inner = null) =>
        new(message, Dir is null ? "checkpoint" : Path.Combine(Dir, "state.bin"), inner: inner);

    static long Leb128(BinaryReader r)
    {
        long v = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 63) throw new EndOfStreamException();
            byte b = r.ReadByte();
            v |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return v;
        }
    }

    /// <summary>The parameter's registered name (e.g. 'hidden.0.weight') where the model is a module, else its position.</summary>
    static string Name(IFieldModel model, TorchSharp.Modules.Parameter p, int index)
    {
        if (model is nn.Module m)
            foreach (var (name, q) in m.named_parameters())
                if (ReferenceEquals(q, p) || q.Handle == p.Handle) return $"'{name}'";
        return $"#{index + 1}";
    }

    public void Save(string dir)
    {
        var tmp = dir + ".tmp";
        var old = dir + ".old";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        File.WriteAllBytes(Path.Combine(tmp, "state.bin"), Tensors);
        File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(State, Json));
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(dir)) Directory.Move(dir, old);
        Directory.Move(tmp, dir);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    public static Checkpoint Load(string dir)
    {
        // A crash between the two renames of Save leaves only the ".old" copy: it is still complete.
        if (!Directory.Exists(dir) && Directory.Exists(dir + ".old")) dir += ".old";
        var bin = Path.Combine(dir, "state.bin");
        var json = Path.Combine(dir, "state.json");
        if (!File.Exists(bin) || !File.Exists(json)) throw new PinnException($"no checkpoint in {dir}");
        TrainerState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(json), Json)
                    ?? throw new PinnException("unreadable checkpoint state (null)", json);
        }
        catch (JsonException e)
        {
            // JsonException's LineNumber is 0-based; its message ends with a path and position we already give.
            var what = e.Message.Split(" Path:")[0].Split(" LineNumber:")[0];
            throw new PinnException($"unreadable checkpoint state at {e.Path ?? "$"}: {what}", json, e.LineNumber is { } l ? (int)l + 1 : null, e);
        }
        return new Checkpoint(state, File.ReadAllBytes(bin)) { Dir = dir };
    }
}
