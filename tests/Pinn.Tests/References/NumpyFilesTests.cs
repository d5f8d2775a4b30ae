using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Pinn.References;

namespace Pinn.Tests.References;

public sealed class NumpyFilesTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "pinn-npy-tests-" + Guid.NewGuid().ToString("N"));

    public NumpyFilesTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>
    /// A .npy file byte for byte as numpy writes it: magic, version, little-endian header length
    /// (2 bytes for 1.0, 4 bytes for 2.0/3.0), the header dict padded with spaces and ended by '\n' so the data
    /// starts at a multiple of 64, then the raw data.
    /// </summary>
    static byte[] NpyBytes(string dict, byte[] data, int major = 1)
    {
        int lenBytes = major == 1 ? 2 : 4;
        int prefix = 6 + 2 + lenBytes;
        int total = prefix + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        var len = new byte[lenBytes];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
        ms.Write(len);
        ms.Write((major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(header));
        ms.Write(data);
        return ms.ToArray();
    }

    static byte[] F8(params double[] v)
    {
        var b = new byte[v.Length * 8];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(8 * i), v[i]);
        return b;
    }

    string WriteBytes(string name, byte[] bytes)
    {
        var p = PathOf(name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    // ---------- round trips ----------

    public static TheoryData<int[]> Shapes => new()
    {
        new int[] { },
        new[] { 5 },
        new[] { 3, 4 },
        new[] { 2, 3, 4 },
        new[] { 0, 3 },
        new[] { 1, 1, 1, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Npy_write_then_read_round_trips_shape_and_values(int[] shape)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var data = Enumerable.Range(0, count).Select(i => Math.Sin(i + 1) * Math.Pow(10, i % 7 - 3)).ToArray();
        var path = PathOf("a.npy");

        Npy.Write(path, new NdArray(shape, data));
        var back = Npy.Read(path);

        back.Shape.Should().Equal(shape);
        back.Rank.Should().Be(shape.Length);
        back.Data.Should().Equal(data);
    }

    [Fact]
    public void Npy_round_trip_is_bit_exact_for_special_values()
    {
        double[] data = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue, 0.1];
        var path = PathOf("special.npy");
        Npy.Write(path, new NdArray([data.Length], data));

        var back = Npy.Read(path).Data;

        back.Select(BitConverter.DoubleToInt64Bits).Should().Equal(data.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Npy_written_header_matches_numpy_layout()
    {
        var path = PathOf("layout.npy");
        Npy.Write(path, new NdArray([3, 4], new double[12]));
        var bytes = File.ReadAllBytes(path);

        bytes.AsSpan(0, 8).ToArray().Should().Equal(0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0);
        int headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        int dataStart = 10 + headerLen;
        (dataStart % 64).Should().Be(0);
        bytes.Length.Should().Be(dataStart + 12 * 8);
        var header = Encoding.Latin1.GetString(bytes, 10, headerLen);
        header.Should().StartWith("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }");
        header.Should().EndWith("\n");
        header.TrimEnd('\n').TrimEnd(' ').Should().EndWith("}");
    }

    [Fact]
    public void Npy_written_header_uses_python_tuple_syntax_for_1d_and_0d()
    {
        var p1 = PathOf("one.npy");
        var p0 = PathOf("zero.npy");
        Npy.Write(p1, new NdArray([7], new double[7]));
        Npy.Write(p0, new NdArray([], [3.5]));

        Encoding.Latin1.GetString(File.ReadAllBytes(p1)).Should().Contain("'shape': (7,), }");
        Encoding.Latin1.GetString(File.ReadAllBytes(p0)).Should().Contain("'shape': (), }");
        var scalar = Npy.Read(p0);
        scalar.Rank.Should().Be(0);
        scalar[Array.Empty<int>()].Should().Be(3.5);
    }

    [Fact]
    public void Npy_stream_overloads_round_trip()
    {
        var ms = new MemoryStream();
        Npy.Write(ms, new NdArray([2, 2], [1, 2, 3, 4]));
        ms.Position = 0;

        var a = Npy.Read(ms, "mem.npy");

        a.Shape.Should().Equal(2, 2);
        a[1, 0].Should().Be(3);
    }

    // ---------- hand-made files as numpy writes them ----------

    [Fact]
    public void Reads_float32_c_order()
    {
        var data = new byte[4 * 4];
        float[] values = [1.5f, -2.25f, 3.0e-3f, 1e20f];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), values[i]);
        var path = WriteBytes("f4.npy", NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data));

        var a = Npy.Read(path);

        a.Shape.Should().Equal(2, 2);
        a.Data.Should().Equal(values.Select(v => (double)v));
        a[0, 1].Should().Be(-2.25);
    }

    [Fact]
    public void Reads_int64_and_int32_and_int16()
    {
        var i8 = new byte[3 * 8];
        long[] l = [-5, long.MaxValue, 42];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteInt64LittleEndian(i8.AsSpan(8 * i), l[i]);
        var i4 = new byte[3 * 4];
        int[] n = [-7, int.MinValue, 9];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteInt32LittleEndian(i4.AsSpan(4 * i), n[i]);
        var i2 = new byte[3 * 2];
        short[] s = [-300, 0, 12345];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteInt16LittleEndian(i2.AsSpan(2 * i), s[i]);

        Npy.Read(WriteBytes("i8.npy", NpyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", i8)))
            .Data.Should().Equal(-5.0, (double)long.MaxValue, 42.0);
        Npy.Read(WriteBytes("i4.npy", NpyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", i4)))
            .Data.Should().Equal(-7.0, int.MinValue, 9.0);
        Npy.Read(WriteBytes("i2.npy", NpyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", i2)))
            .Data.Should().Equal(-300.0, 0.0, 12345.0);
    }

    [Fact]
    public void Reads_uint8_and_bool()
    {
        Npy.Read(WriteBytes("u1.npy", NpyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", [0, 200, 255])))
            .Data.Should().Equal(0.0, 200.0, 255.0);
        Npy.Read(WriteBytes("b1.npy", NpyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", [1, 0, 0, 1])))
            .Data.Should().Equal(1.0, 0.0, 0.0, 1.0);
    }

    [Fact]
    public void Reads_fortran_order_2d_as_row_major()
    {
        // np.asfortranarray([[1, 2, 3], [4, 5, 6]]) stores its columns one after another: 1 4 2 5 3 6.
        var path = WriteBytes("f.npy", NpyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", F8(1, 4, 2, 5, 3, 6)));

        var a = Npy.Read(path);

        a.Shape.Should().Equal(2, 3);
        a.Data.Should().Equal(1, 2, 3, 4, 5, 6);
    }

    [Fact]
    public void Reads_fortran_order_3d_int32()
    {
        int[] shape = [2, 3, 4];
        // value(i,j,k) = 100 i + 10 j + k, stored in Fortran order (i fastest).
        var bytes = new byte[24 * 4];
        int f = 0;
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 3; j++)
                for (int i = 0; i < 2; i++)
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * f++), 100 * i + 10 * j + k);
        var path = WriteBytes("f3.npy", NpyBytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }", bytes));

        var a = Npy.Read(path);

        a.Shape.Should().Equal(shape);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                    a[i, j, k].Should().Be(100 * i + 10 * j + k);
        a.Data.Take(5).Should().Equal(0, 1, 2, 3, 10);
    }

    [Fact]
    public void Reads_format_version_2_and_3_headers()
    {
        var v2 = WriteBytes("v2.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", F8(1, 2, 3), major: 2));
        var v3 = WriteBytes("v3.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", F8(-1, 0.5), major: 3));

        Npy.Read(v2).Data.Should().Equal(1, 2, 3);
        Npy.Read(v3).Data.Should().Equal(-1, 0.5);
    }

    [Fact]
    public void Reads_handmade_0d_scalar()
    {
        var path = WriteBytes("s.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", F8(2.75)));

        var a = Npy.Read(path);

        a.Shape.Should().BeEmpty();
        a.Data.Should().Equal(2.75);
    }

    [Fact]
    public void Reads_big_endian_float64()
    {
        var data = new byte[16];
        BinaryPrimitives.WriteDoubleBigEndian(data, 1.25);
        BinaryPrimitives.WriteDoubleBigEndian(data.AsSpan(8), -3.5);
        var path = WriteBytes("be.npy", NpyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", data));

        Npy.Read(path).Data.Should().Equal(1.25, -3.5);
    }

    [Fact]
    public void Header_keys_in_another_order_are_accepted()
    {
        var path = WriteBytes("order.npy", NpyBytes("{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}", F8(7, 8)));

        Npy.Read(path).Data.Should().Equal(7, 8);
    }

    // ---------- malformed files ----------

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "dtype.npy", NpyBytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new byte[16]), "unsupported dtype '<c16'" },
        { "object.npy", NpyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new byte[8]), "unsupported dtype '|O'" },
        { "struct.npy", NpyBytes("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", new byte[8]), "unsupported dtype" },
        { "magic.npy", Encoding.ASCII.GetBytes("hello, world; this is not numpy data at all"), "not a .npy file" },
        { "empty.npy", [], "empty" },
        { "version.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", F8(1), major: 4), "unsupported .npy format version 4.0" },
        { "trunc.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", F8(1, 2)), "truncated data" },
        { "header.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", F8(1, 2, 3))[..20], "truncated .npy header" },
        { "nokey.npy", NpyBytes("{'descr': '<f8', 'shape': (1,), }", F8(1)), "missing key 'fortran_order'" },
        { "notdict.npy", NpyBytes("['<f8', False, (1,)]", F8(1)), "not a dict" },
        { "syntax.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,) ", F8(1)), "malformed .npy header" },
        { "negative.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", F8(1)), "negative dimension" },
        { "zip.npy", [(byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0, 0, 0], "zip archive" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_npy_files_raise_PinnException_naming_the_file(string name, byte[] bytes, string expected)
    {
        var path = WriteBytes(name, bytes);

        var act = () => Npy.Read(path);

        var ex = act.Should().Throw<PinnException>().Which;
        ex.Message.Should().Contain(name).And.Contain(expected);
        ex.File.Should().Be(path);
    }

    [Fact]
    public void Missing_npy_file_raises_PinnException()
    {
        var path = PathOf("nothere.npy");

        var act = () => Npy.Read(path);

        act.Should().Throw<PinnException>().WithMessage("*nothere.npy*not found*");
    }

    [Fact]
    public void NdArray_validates_shape_against_data_and_indices()
    {
        var bad = () => new NdArray([2, 3], new double[5]);
        bad.Should().Throw<PinnException>().WithMessage("*6*5*");

        var a = new NdArray([2, 3], [0, 1, 2, 3, 4, 5]);
        a[1, 2].Should().Be(5);
        ((Func<double>)(() => a[2, 0])).Should().Throw<IndexOutOfRangeException>();
        ((Func<double>)(() => a[1])).Should().Throw<ArgumentException>();
    }

    // ---------- npz ----------

    [Fact]
    public void Npz_write_then_read_round_trips_all_arrays()
    {
        var arrays = new Dictionary<string, NdArray>
        {
            ["x"] = new([4], [0, 0.25, 0.5, 0.75]),
            ["t"] = new([2], [0, 1]),
            ["usol"] = new([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]),
            ["scalar"] = new([], [9.5]),
        };
        var path = PathOf("data.npz");

        Npz.Write(path, arrays);
        var back = Npz.Read(path);

        back.Keys.Should().BeEquivalentTo(arrays.Keys);
        foreach (var (k, a) in arrays)
        {
            back[k].Shape.Should().Equal(a.Shape);
            back[k].Data.Should().Equal(a.Data);
        }
        using var zip = ZipFile.OpenRead(path);
        zip.Entries.Select(e => e.FullName).Should().BeEquivalentTo("x.npy", "t.npy", "usol.npy", "scalar.npy");
    }

    string MakeZip(string name, CompressionLevel level, params (string Entry, byte[] Bytes)[] entries)
    {
        var path = PathOf(name);
        using (var fs = File.Create(path))
        using (var zip = new ZipArchive(fs, ZipArchiveMode.Create))
        {
            foreach (var (entry, bytes) in entries)
            {
                using var s = zip.CreateEntry(entry, level).Open();
                s.Write(bytes);
            }
        }
        return path;
    }

    /// <summary>The compression method of the first entry: bytes 8–9 of the first local file header (0 stored, 8 deflate).</summary>
    static int FirstEntryMethod(string path) => BinaryPrimitives.ReadUInt16LittleEndian(File.ReadAllBytes(path).AsSpan(8, 2));

    [Theory]
    [InlineData(CompressionLevel.NoCompression, 0)]   // np.savez
    [InlineData(CompressionLevel.Optimal, 8)]         // np.savez_compressed
    public void Npz_reads_stored_and_deflated_entries(CompressionLevel level, int method)
    {
        var big = Enumerable.Range(0, 300).Select(i => (double)(i % 10)).ToArray(); // compressible
        var path = MakeZip($"z{method}.npz", level,
            ("a.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (300,), }", F8(big))),
            ("b.npy", NpyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])));
        FirstEntryMethod(path).Should().Be(method);

        var arrays = Npz.Read(path);

        arrays.Keys.Should().BeEquivalentTo("a", "b");
        arrays["a"].Data.Should().Equal(big);
        arrays["b"].Data.Should().Equal(1.0, 2.0);
    }

    [Fact]
    public void Npz_that_is_not_a_zip_raises_PinnException()
    {
        var path = WriteBytes("x.npz", Encoding.ASCII.GetBytes("definitely not a zip archive, just text"));

        var act = () => Npz.Read(path);

        act.Should().Throw<PinnException>().WithMessage("*x.npz*not a zip archive*");
    }

    [Fact]
    public void Npz_with_a_bad_entry_names_the_archive_and_the_entry()
    {
        var path = MakeZip("bad.npz", CompressionLevel.Optimal,
            ("good.npy", NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", F8(1))),
            ("bad.npy", NpyBytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new byte[16])));

        var act = () => Npz.Read(path);

        act.Should().Throw<PinnException>().WithMessage("*bad.npz*'bad.npy'*unsupported dtype '<c16'*");
    }

    [Fact]
    public void Missing_npz_file_raises_PinnException()
    {
        var act = () => Npz.Read(PathOf("gone.npz"));

        act.Should().Throw<PinnException>().WithMessage("*gone.npz*not found*");
    }
}
