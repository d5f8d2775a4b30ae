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

    /// <summary>Puts the parameters (and optimiser moments) back.</summary>
    public void Restore(IFieldModel model, TorchSharp.Modules.OptimizerHelper? optimizer)
    {
        using var ms = new MemoryStream(Tensors);
        using var r = new BinaryReader(ms);
        var ps = model.TrainableParameters;
        int n = r.ReadInt32();
        if (n != ps.Count) throw new PinnException($"checkpoint has {n} parameter tensors, the model has {ps.Count} (was the model changed?)");
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
        var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(json), Json)
                    ?? throw new PinnException($"{json}: unreadable checkpoint state");
        return new Checkpoint(state, File.ReadAllBytes(bin));
    }
}
