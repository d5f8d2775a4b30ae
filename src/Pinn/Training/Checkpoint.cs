using System.Text.Json;
using Pinn.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>Where a run stands: enough, with the parameters and optimiser state, to continue it exactly.</summary>
public sealed record TrainerState
{
    /// <summary>The phase to run or continue, by its optimiser's name (adam, lbfgs, bfgs, ssbfgs, ssbroyden), or done.</summary>
    public string Phase { get; init; } = "adam";
    /// <summary>That phase's index in <see cref="TrainingOptions.Plan"/> (null in checkpoints from before phases: see <see cref="Trainer"/>).</summary>
    public int? PhaseIndex { get; init; }
    /// <summary>The next iteration of that phase (0-based within the phase); once done, the Adam steps taken.</summary>
    public int Step { get; init; }
    /// <summary>The phase whose optimiser state the checkpoint holds (null: none — the phase has not begun).</summary>
    public int? OptimizerPhase { get; init; }
    /// <summary>Redraws of the collocation points so far: a resumed run replays them (samplers are not serialised).</summary>
    public int? Draws { get; init; }
    /// <summary>log.csv rows at this step and later are not final: a resumed run drops them and writes them again.</summary>
    public int? LogStep { get; init; }
    /// <summary>Total training seconds when the current phase began.</summary>
    public double PhaseStartSeconds { get; init; }
    /// <summary>The phases finished before <see cref="PhaseIndex"/>.</summary>
    public IReadOnlyList<Phases.PhaseResult>? Completed { get; init; }
    /// <summary>Multiplier on the learning-rate schedule; halved by each divergence recovery.</summary>
    public double LearningRateScale { get; init; } = 1;
    public int Recoveries { get; init; }
    public int LbfgsSteps { get; init; }
    public double Seconds { get; init; }
    public int Seed { get; init; }
    /// <summary>Loss weights at this point (they change under gradient-norm balancing).</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; init; }
    /// <summary>The trainable problem parameters' raw values θ (<see cref="ProblemParameters"/>; JSON doubles round-trip exactly).</summary>
    public IReadOnlyDictionary<string, double>? ProblemParameters { get; init; }
    /// <summary>The learned precisions' log τ per term (<see cref="LearnedPrecisions"/>; training.balancing: {kind: precision}).</summary>
    public IReadOnlyDictionary<string, double>? Precisions { get; init; }
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

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals, // a NaN loss in a phase result
    };

    /// <param name="optimizer">Writes the running phase's optimiser state (<see cref="Phases.ITrainingPhase.SaveState"/>), if any.</param>
    public static Checkpoint Capture(TrainerState state, IFieldModel model, Action<BinaryWriter>? optimizer = null)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var ps = model.TrainableParameters;
            w.Write(ps.Count);
            foreach (var p in ps) p.detach().cpu().Save(w);
            w.Write(optimizer is not null);
            optimizer?.Invoke(w);
        }
        return new Checkpoint(state, ms.ToArray());
    }

    /// <summary>The folder this checkpoint was loaded from (null for an in-memory snapshot).</summary>
    public string? Dir { get; private init; }

    /// <summary>
    /// Puts the parameters back, and hands the optimiser state to <paramref name="optimizer"/> when the checkpoint has
    /// one; returns whether it did. Every tensor's dtype and shape are checked against the model before anything is
    /// copied, so a checkpoint written by another architecture (run.yaml's model edited, or another run's checkpoint
    /// copied in) is an error naming the parameter, not a half-loaded model.
    /// </summary>
    public bool Restore(IFieldModel model, Action<BinaryReader>? optimizer = null)
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
            if (!hasOptimizer || optimizer is null) return false;
            optimizer(r);
            return true;
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
        if (model is ConstrainedField c) model = c.Network;
        if (model is nn.Module m)
            foreach (var (name, q) in m.named_parameters())
                if (ReferenceEquals(q, p) || q.Handle == p.Handle) return $"'{name}'";
        return $"#{index + 1}";
    }

    const string TensorFile = "state.bin", StateFile = "state.json", Writing = ".tmp", Replaced = ".old";

    /// <summary>
    /// Writes the checkpoint to the folder <paramref name="dir"/> so that a crash at any point (kill -9, power
    /// loss) leaves a complete checkpoint that <see cref="Load"/> finds, the new one or the previous one:
    /// <list type="number">
    /// <item>a checkpoint whose swap a crash interrupted (no <paramref name="dir"/>) is first put back in place;</item>
    /// <item>the new one is written into <c>dir.tmp</c>: state.bin, then state.json, each flushed to disk before the
    /// next step, so a state.json that parses means the folder is complete (state.json is the commit mark);</item>
    /// <item><c>dir</c> → <c>dir.old</c>, <c>dir.tmp</c> → <c>dir</c> (renames: atomic), then <c>dir.old</c> is deleted.</item>
    /// </list>
    /// Between the two renames only <c>dir.old</c> (previous) and <c>dir.tmp</c> (new, complete) exist; everywhere
    /// else <c>dir</c> is complete. The renames themselves are not fsynced (no directory fsync in .NET): after a power
    /// loss the folder may show the previous checkpoint, which is still complete.
    /// </summary>
    public void Save(string dir)
    {
        var tmp = dir + Writing;
        var old = dir + Replaced;
        Recover(dir);
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true); // a partial or superseded write
        Directory.CreateDirectory(tmp);
        WriteDurably(Path.Combine(tmp, TensorFile), Tensors, dir, "bin", State.Step);
        WriteDurably(Path.Combine(tmp, StateFile), JsonSerializer.SerializeToUtf8Bytes(State, Json), dir, "json", State.Step);
        TestPause.At(dir, "written", State.Step);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true); // dir is complete here, so .old is stale
        if (Directory.Exists(dir)) Directory.Move(dir, old);
        TestPause.At(dir, "moved", State.Step);
        Directory.Move(tmp, dir);
        TestPause.At(dir, "swapped", State.Step);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>
    /// Reads the checkpoint in <paramref name="dir"/>, or, where a crash left it missing or incomplete, the newest
    /// complete one beside it: <c>dir.tmp</c> (written, swap interrupted), then <c>dir.old</c> (the previous one).
    /// </summary>
    public static Checkpoint Load(string dir)
    {
        foreach (var candidate in new[] { dir, dir + Writing, dir + Replaced })
            if (TryRead(candidate) is { } checkpoint) return checkpoint;
        var json = Path.Combine(dir, StateFile);
        if (File.Exists(json)) ThrowUnreadable(json); // no complete copy anywhere: say what is wrong with this one
        throw new PinnException($"no checkpoint in {dir}");
    }

    /// <summary>The complete checkpoint in <paramref name="dir"/>, or null (missing, partly written or partly deleted).</summary>
    static Checkpoint? TryRead(string dir)
    {
        var bin = Path.Combine(dir, TensorFile);
        var json = Path.Combine(dir, StateFile);
        if (!File.Exists(bin) || !File.Exists(json)) return null;
        try
        {
            var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllBytes(json), Json);
            return state is null ? null : new Checkpoint(state, File.ReadAllBytes(bin)) { Dir = dir };
        }
        catch (JsonException) { return null; } // cut short while being written
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; } // deleted meanwhile by a running Save
    }

    static void ThrowUnreadable(string json)
    {
        try
        {
            _ = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(json), Json)
                ?? throw new PinnException("unreadable checkpoint state (null)", json);
        }
        catch (JsonException e)
        {
            // JsonException's LineNumber is 0-based; its message ends with a path and position we already give.
            var what = e.Message.Split(" Path:")[0].Split(" LineNumber:")[0];
            throw new PinnException($"unreadable checkpoint state at {e.Path ?? "$"}: {what}", json, e.LineNumber is { } l ? (int)l + 1 : null, e);
        }
    }

    /// <summary>After a crash between Save's renames: moves the newest complete checkpoint back to <paramref name="dir"/>.</summary>
    static void Recover(string dir)
    {
        if (Directory.Exists(dir)) return;
        foreach (var candidate in new[] { dir + Writing, dir + Replaced })
            if (TryRead(candidate) is not null)
            {
                Directory.Move(candidate, dir);
                return;
            }
    }

    /// <summary>Writes and fsyncs a file, so that nothing renamed after it can point at unwritten data.</summary>
    static void WriteDurably(string path, byte[] bytes, string dir, string stage, int step)
    {
        using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        if (TestPause.Wanted(stage, step))
        {
            f.Write(bytes, 0, bytes.Length / 2);
            f.Flush(); // the half-written file is what a crash here leaves on disk
            TestPause.At(dir, stage, step);
            f.Write(bytes, bytes.Length / 2, bytes.Length - bytes.Length / 2);
        }
        else f.Write(bytes);
        f.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Test-only fault injection: <c>PINN_TEST_CHECKPOINT_PAUSE=&lt;stage&gt;[@&lt;step&gt;]</c> freezes <see cref="Save"/> at that
    /// stage (of the save of that step's state, or of every save) so that a test can kill -9 the process there: it
    /// writes <c>&lt;dir&gt;.paused</c> (holding the stage name) and sleeps. Stages: <c>bin</c> / <c>json</c> (half of that
    /// file written in <c>dir.tmp</c>), <c>written</c> (dir.tmp complete), <c>moved</c> (dir moved to dir.old, dir.tmp
    /// not yet in place), <c>swapped</c> (dir.tmp is now dir, dir.old not yet deleted). Unset, it costs one string test.
    /// </summary>
    static class TestPause
    {
        static readonly string? Setting = Environment.GetEnvironmentVariable("PINN_TEST_CHECKPOINT_PAUSE");

        public static bool Wanted(string stage, int step)
        {
            if (string.IsNullOrEmpty(Setting)) return false;
            var at = Setting.IndexOf('@');
            if (at < 0) return Setting == stage;
            return Setting[..at] == stage && int.TryParse(Setting[(at + 1)..], out int s) && s == step;
        }

        public static void At(string dir, string stage, int step)
        {
            if (!Wanted(stage, step)) return;
            File.WriteAllText(dir + ".paused", stage);
            Thread.Sleep(TimeSpan.FromMinutes(10)); // bounded: a test that fails to kill it does not leave it forever
        }
    }
}
