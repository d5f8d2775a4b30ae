using System.Globalization;
using System.Text;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Reporting;
using Pinn.Training;

namespace Pinn.Tests.Reporting;

/// <summary>
/// <c>output.tensorboard: true</c>: the run folder gets TensorBoard event files holding every log.csv scalar. The files are
/// read back here by hand — TFRecord framing (length, masked CRC32C of the length, payload, masked CRC32C of the payload) and
/// the Event / Summary protobuf fields TensorBoard reads — so the check does not rest on the code that wrote them.
/// </summary>
[Collection("training")]
public class TensorBoardTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Event_file_holds_every_log_csv_scalar_at_its_step_with_unix_wall_times()
    {
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cfg = RunConfigLoader.Load("heat1d", ProblemCatalog.Instance,
            ["model.layers=[8, 8]", "training.batch={pde: 64, ic: 16, bc: 16}", "training.steps=12", "training.lbfgs_steps=3",
             "training.log_every=4", "training.eval_every=8", "training.threads=1", "training.dtype=float64", "evaluation.grid=[9, 7]",
             "output.tensorboard=true", $"output.dir={_dir}", "output.name=tb"]);
        var run = Runner.Run(cfg);
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        run.Result.Status.Should().Be("completed");
        File.ReadAllText(Path.Combine(run.Directory, "run.yaml")).Should().Contain("tensorboard: true");

        var files = Directory.GetFiles(Path.Combine(run.Directory, RunDirectory.TensorBoardFolder));
        files.Should().ContainSingle().Which.Should().MatchRegex(@"events\.out\.tfevents\.[^/]+$");
        var events = ReadEvents(files[0]);
        events[0].FileVersion.Should().Be("brain.Event:2", "an event file starts with its version record");
        // Unix seconds (TorchSharp writes whole seconds for scalars; our version record carries milliseconds).
        events.Should().OnlyContain(e => e.WallTime >= before - 1 && e.WallTime <= after + 1);

        var scalars = events.Skip(1).ToList();
        scalars.Should().OnlyContain(e => e.Tag != null, "every event after the version record is one scalar");
        var log = File.ReadAllLines(Path.Combine(run.Directory, "log.csv"));
        var header = log[0].Split(',');
        header[..2].Should().Equal("phase", "step");
        var expected = new List<(string Tag, long Step, float Value)>();
        foreach (var row in log.Skip(1).Select(l => l.Split(',')))
            for (int j = 2; j < header.Length; j++)
                if (row[j].Length > 0) // empty cells (no error evaluated at this row) have no event
                    expected.Add((header[j], long.Parse(row[1], CultureInfo.InvariantCulture), (float)double.Parse(row[j], CultureInfo.InvariantCulture)));
        expected.Select(x => x.Tag).Should().Contain(["seconds", "lr", "loss", "loss_pde", "loss_ic", "loss_bc", "rel_l2_u"]);
        expected.Select(e => e.Step).Distinct().Should().HaveCountGreaterThan(3).And.Contain(15, "the L-BFGS rows are numbered on after Adam's (12 + 3)");
        scalars.Select(e => e.Tag!).Distinct().Should().BeEquivalentTo(header[2..], "the tags are the log.csv columns");
        // TensorBoard stores float32: each value is the log.csv value rounded to float, at the row's step, in log order.
        scalars.Select(e => (e.Tag!, e.Step, e.Value)).Should().Equal(expected);
    }

    [Fact]
    public void Tensorboard_is_off_by_default_and_the_default_is_written_into_the_config()
    {
        var cfg = RunConfigLoader.Load("heat1d", ProblemCatalog.Instance);
        cfg.Output.TensorBoard.Should().BeFalse();
        var yaml = new StringWriter();
        cfg.Document.Save(yaml, "test");
        yaml.ToString().Should().Contain("tensorboard: false");
    }

    sealed record Event(double WallTime, long Step, string? FileVersion, string? Tag, float Value);

    /// <summary>Every record of an event file, its framing and both CRCs checked.</summary>
    static List<Event> ReadEvents(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int pos = 0;
        while (pos < bytes.Length)
        {
            (bytes.Length - pos).Should().BeGreaterThanOrEqualTo(12, "a record starts with a length and its CRC");
            var lengthBytes = bytes.AsSpan(pos, 8);
            long length = BitConverter.ToInt64(lengthBytes);
            BitConverter.ToUInt32(bytes, pos + 8).Should().Be(MaskedCrc(lengthBytes), $"the length CRC of the record at byte {pos}");
            pos += 12;
            (bytes.Length - pos).Should().BeGreaterThanOrEqualTo((int)length + 4, "the payload and its CRC follow");
            var payload = bytes.AsSpan(pos, (int)length);
            BitConverter.ToUInt32(bytes, pos + (int)length).Should().Be(MaskedCrc(payload), $"the payload CRC of the record at byte {pos - 12}");
            events.Add(ParseEvent(payload.ToArray()));
            pos += (int)length + 4;
        }
        return events;
    }

    /// <summary>tensorflow/core/util/event.proto: wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5;
    /// summary.proto: Summary.value = 1, Value.tag = 1, Value.simple_value = 2 (float).</summary>
    static Event ParseEvent(byte[] payload)
    {
        double wall = 0;
        long step = 0;
        string? version = null, tag = null;
        float value = float.NaN;
        foreach (var (field, wire, data, number) in Fields(payload))
            switch (field)
            {
                case 1 when wire == 1: wall = BitConverter.ToDouble(data); break;
                case 2 when wire == 0: step = (long)number; break;
                case 3 when wire == 2: version = Encoding.UTF8.GetString(data); break;
                case 5 when wire == 2:
                    var values = Fields(data).Where(f => f.Field == 1).ToList();
                    values.Should().ContainSingle("one scalar per event");
                    foreach (var (f, w, d, _) in Fields(values[0].Data))
                    {
                        if (f == 1 && w == 2) tag = Encoding.UTF8.GetString(d);
                        if (f == 2 && w == 5) value = BitConverter.ToSingle(d);
                    }
                    break;
            }
        return new Event(wall, step, version, tag, value);
    }

    /// <summary>Protobuf wire format: (field number, wire type, bytes of a fixed/length-delimited field, varint value).</summary>
    static List<(int Field, int Wire, byte[] Data, ulong Number)> Fields(byte[] message)
    {
        var result = new List<(int, int, byte[], ulong)>();
        int pos = 0;
        ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = message[pos++];
                v |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0) return v;
            }
        }
        while (pos < message.Length)
        {
            var key = Varint();
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: result.Add((field, wire, [], Varint())); break;
                case 1: result.Add((field, wire, message[pos..(pos + 8)], 0)); pos += 8; break;
                case 5: result.Add((field, wire, message[pos..(pos + 4)], 0)); pos += 4; break;
                case 2:
                    int len = (int)Varint();
                    result.Add((field, wire, message[pos..(pos + len)], 0));
                    pos += len;
                    break;
                default: throw new InvalidDataException($"unexpected wire type {wire}");
            }
        }
        return result;
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), masked as TFRecord does: rotate right 15, add 0xa282ead8.</summary>
    static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xffffffff;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc ^= 0xffffffff;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }
}
