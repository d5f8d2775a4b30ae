using Pinn.Training;

namespace Pinn.Tests.Training;

/// <summary>
/// The folders a crash can leave around a checkpoint, built by hand (the partly deleted ones cannot be frozen
/// by the test hook that <c>Cli/SignalTests</c> uses): <see cref="Checkpoint.Load"/> finds a complete checkpoint
/// in each, and the next <see cref="Checkpoint.Save"/> tidies up.
/// </summary>
public class CheckpointCrashTests : IDisposable
{
    readonly string _root = TestPaths.TempDir();
    string Dir => Path.Combine(_root, "checkpoint");
    string Tmp => Dir + ".tmp";
    string Old => Dir + ".old";

    public void Dispose() => Directory.Delete(_root, recursive: true);

    static Checkpoint At(int step) => new(new TrainerState { Step = step }, Enumerable.Range(0, 1000).Select(i => (byte)(i * step)).ToArray());

    static void Check(Checkpoint loaded, int step)
    {
        loaded.State.Step.Should().Be(step);
        loaded.Tensors.Should().Equal(At(step).Tensors);
    }

    /// <summary>Leaves the folder as a crash inside Directory.Delete might: one of the two files gone.</summary>
    static void DeleteOne(string dir, string file) => File.Delete(Path.Combine(dir, file));

    [Fact]
    public void A_save_replaces_the_previous_checkpoint_and_leaves_no_side_folders()
    {
        At(10).Save(Dir);
        At(20).Save(Dir);
        Check(Checkpoint.Load(Dir), 20);
        Directory.Exists(Tmp).Should().BeFalse();
        Directory.Exists(Old).Should().BeFalse();
    }

    [Fact]
    public void A_partial_tmp_beside_the_checkpoint_is_ignored()
    {
        At(10).Save(Dir);
        Directory.CreateDirectory(Tmp);
        File.WriteAllBytes(Path.Combine(Tmp, "state.bin"), new byte[10]);
        File.WriteAllText(Path.Combine(Tmp, "state.json"), "{\n  \"phase\": \"adam\",\n  \"st"); // cut short
        Check(Checkpoint.Load(Dir), 10);
    }

    [Fact]
    public void Between_the_renames_the_complete_new_checkpoint_is_found_and_the_next_save_puts_it_back()
    {
        At(10).Save(Dir);
        At(20).Save(Dir + ".staging"); // a complete new checkpoint, to stand as checkpoint.tmp
        Directory.Move(Dir, Old);
        Directory.Move(Dir + ".staging", Tmp);
        Check(Checkpoint.Load(Dir), 20);

        At(30).Save(Dir);
        Check(Checkpoint.Load(Dir), 30);
        Directory.Exists(Tmp).Should().BeFalse();
        Directory.Exists(Old).Should().BeFalse();
    }

    [Fact]
    public void A_half_deleted_tmp_after_a_crash_between_renames_falls_back_to_the_old_checkpoint()
    {
        At(10).Save(Dir);
        At(20).Save(Dir + ".staging");
        Directory.Move(Dir, Old);
        Directory.Move(Dir + ".staging", Tmp);
        DeleteOne(Tmp, "state.json");
        Check(Checkpoint.Load(Dir), 10);

        At(30).Save(Dir); // restores the old one first, so there is always a complete checkpoint on disk
        Check(Checkpoint.Load(Dir), 30);
    }

    [Fact]
    public void A_half_deleted_old_folder_is_never_chosen_over_a_complete_checkpoint()
    {
        At(10).Save(Dir);
        At(20).Save(Old);
        DeleteOne(Old, "state.bin");
        Check(Checkpoint.Load(Dir), 10);
        Directory.Delete(Dir, recursive: true);
        FluentActions.Invoking(() => Checkpoint.Load(Dir)).Should().Throw<PinnException>().WithMessage("no checkpoint in *");
    }
}
