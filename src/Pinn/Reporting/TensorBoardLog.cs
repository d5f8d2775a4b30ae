using Google.Protobuf;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pinn.Reporting;

/// <summary>
/// A run's log rows as TensorBoard scalars (<c>output.tensorboard</c>), written by TorchSharp's own SummaryWriter: one event
/// per scalar, tagged with its log.csv column, at the row's log step, wall time in Unix seconds.
/// TorchSharp 0.107 stamps each file's first event (file_version) with <c>DateTime.Now.Ticks</c> (≈ 6e17) instead of Unix
/// seconds, and readers take that event's time as the run's start; the file it has just created is rewritten with that
/// one event stamped in Unix seconds (same TFRecord framing and masked CRC32C as the writer's).
/// </summary>
public sealed class TensorBoardLog
{
    readonly SummaryWriter _writer;

    public TensorBoardLog(string folder)
    {
        var before = Directory.Exists(folder) ? Directory.GetFiles(folder).ToHashSet() : [];
        _writer = utils.tensorboard.SummaryWriter(folder);
        foreach (var file in Directory.GetFiles(folder).Where(f => !before.Contains(f))) StampFileVersion(file);
    }

    public string Folder => _writer.LogDir;

    /// <summary>One event per scalar; TensorBoard stores float32 values and this writer whole seconds.</summary>
    public void Write(int step, IEnumerable<(string Tag, double Value)> scalars)
    {
        long wallTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var (tag, value) in scalars) _writer.add_scalar(tag, (float)value, step, wallTime);
    }

    static void StampFileVersion(string file)
    {
        var payload = new Tensorboard.Event { FileVersion = "brain.Event:2", WallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 }.ToByteArray();
        using var w = new BinaryWriter(File.Create(file));
        w.Write((long)payload.Length);
        w.Write(Masked(TorchSharp.Utils.CRC32C.process((long)payload.Length)));
        w.Write(payload);
        w.Write(Masked(TorchSharp.Utils.CRC32C.process(payload)));
    }

    /// <summary>TFRecord's masked CRC: rotate right by 15 bits and add a constant.</summary>
    static uint Masked(uint crc) => ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
