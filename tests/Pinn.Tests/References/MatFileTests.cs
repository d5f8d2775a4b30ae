using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Pinn.Config;
using Pinn.Problems;
using Pinn.References;

namespace Pinn.Tests.References;

/// <summary>
/// The MAT-file reader on two published data sets (burgers_shock.mat written by SciPy, AC.mat by MATLAB),
/// on small SciPy-written files (tests/Pinn.Tests/data/mat/make_mat_files.py) covering every numeric class,
/// and on hand-made files for what SciPy does not write (big-endian, narrow storage types, v7.3, v4, damage).
/// </summary>
public sealed class MatFileTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Data(string name) => TestPaths.Data(Path.Combine("mat", name));

    // ---------- published files ----------

    [Fact]
    public void Burgers_shock_written_by_scipy_has_the_published_grid()
    {
        var mat = MatFile.Read(Data("burgers_shock.mat"));
        mat.IsBigEndian.Should().BeFalse();
        mat.HeaderText.Should().StartWith("MATLAB 5.0 MAT-file Platform: posix");
        mat.Variables.Select(v => v.Name).Should().Equal("x", "t", "usol");
        mat.Variable("x").Dimensions.Should().Equal(256, 1);
        mat.Variable("t").Dimensions.Should().Equal(100, 1);
        mat.Variable("usol").Dimensions.Should().Equal(256, 100);
        mat.Variable("usol").Description.Should().Be("256×100 double");

        var x = mat.RealArray("x");
        var t = mat.RealArray("t");
        var u = mat.RealArray("usol");
        // x = linspace(−1, 1, 256), t = linspace(0, 0.99, 100): the endpoints and steps are exact in the file.
        x[0, 0].Should().Be(-1.0);
        x[255, 0].Should().Be(1.0);
        x[1, 0].Should().BeApproximately(-1.0 + 2.0 / 255, 1e-15);
        t[0, 0].Should().Be(0.0);
        t[99, 0].Should().BeApproximately(0.99, 1e-15);
        // u(x, 0) = −sin(πx); u[i, j] is u(x_i, t_j), so the first column is the initial condition.
        for (int i = 0; i < 256; i += 17) u[i, 0].Should().BeApproximately(-Math.Sin(Math.PI * x[i, 0]), 1e-15);
        u[100, 37].Should().Be(0.9649909875913906, "value read independently with scipy.io.loadmat");
        u[129, 99].Should().Be(-0.640678987688625);
    }

    [Fact]
    public void Allen_cahn_written_by_matlab_compressed_is_read()
    {
        var mat = MatFile.Read(Data("AC.mat"));
        mat.HeaderText.Should().Contain("Platform: GLNXA64");
        mat.Variables.Select(v => v.Name).Should().BeEquivalentTo(["tt", "uu", "x"]);
        mat.Variable("x").Dimensions.Should().Equal(1, 512);
        mat.Variable("tt").Dimensions.Should().Equal(1, 201);
        mat.Variable("uu").Dimensions.Should().Equal(512, 201);

        var x = mat.RealArray("x");
        var tt = mat.RealArray("tt");
        var uu = mat.RealArray("uu");
        // x = −1 + 2k/512, k = 0…511 (periodic, without the end point); tt = linspace(0, 1, 201).
        x[0, 0].Should().Be(-1.0);
        x[0, 511].Should().Be(0.99609375);
        tt[0, 0].Should().Be(0.0);
        tt[0, 200].Should().Be(1.0);
        // u(x, 0) = x² cos(πx).
        for (int i = 0; i < 512; i += 31)
            uu[i, 0].Should().BeApproximately(x[0, i] * x[0, i] * Math.Cos(Math.PI * x[0, i]), 1e-15);
        uu[100, 150].Should().Be(-0.9826930010473203, "value read independently with scipy.io.loadmat");
    }

    [Fact]
    public void Burgers_shock_as_a_reference_agrees_with_the_cole_hopf_solution()
    {
        var reference = new DataFileReference(Data("burgers_shock.mat"), new Dictionary<string, string> { ["u"] = "usol" });
        var r = reference.Solve(new Burgers1D(), []);
        r.Shape.Should().Equal(256, 100);
        var x = Enumerable.Range(0, r.Count).Select(i => r.Points[i, 0]).ToArray();
        var t = Enumerable.Range(0, r.Count).Select(i => r.Points[i, 1]).ToArray();
        var exact = new BurgersColeHopf().Evaluate(x, t);
        double maxError = Enumerable.Range(0, r.Count).Max(i => Math.Abs(r.Values[i, 0] - exact[i]));
        // Measured 2.9e-12 (the published data came from a less exact solver); 1e-9 still catches any
        // transposition or misplaced column, which errs by O(1) near the shock.
        maxError.Should().BeLessThan(1e-9);
    }

    [Fact]
    public void Allen_cahn_as_a_reference_puts_uu_on_the_x_tt_grid()
    {
        var reference = new DataFileReference(Data("AC.mat"), new Dictionary<string, string> { ["t"] = "tt", ["u"] = "uu" });
        var r = reference.Solve(new AllenCahn(), []);
        r.Shape.Should().Equal(512, 201);
        r.GridAxes![0][511].Should().Be(0.99609375);
        r.GridAxes![1][200].Should().Be(1.0);
        // Row-major grid: point i·201 + j is (x_i, t_j).
        r.Points[100 * 201 + 150, 0].Should().Be(-1.0 + 200.0 / 512);
        r.Values[100 * 201 + 150, 0].Should().Be(-0.9826930010473203);
    }

    // ---------- every class, SciPy-written, compressed and not ----------

    [Theory]
    [InlineData("numeric.mat")]
    [InlineData("numeric_compressed.mat")]
    public void Every_numeric_class_reads_as_doubles_in_row_major_order(string file)
    {
        var mat = MatFile.Read(Data(file));
        mat.RealArray("d").Shape.Should().Equal(2, 3);
        mat.RealArray("d").Data.Should().Equal(1.5, 2.0, 3.0, 4.0, 5.0, -6.25);
        var a3 = mat.RealArray("a3");
        a3.Shape.Should().Equal(2, 3, 4);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                    a3[i, j, k].Should().Be(12 * i + 4 * j + k);
        mat.RealArray("k").Shape.Should().Equal(1, 1);
        mat.RealArray("k").Data.Should().Equal(7.0);
        mat.RealArray("s").Data.Should().Equal(0.5, -1.25, (double)0.1f);
        mat.RealArray("i8").Data.Should().Equal(-128, -1, 127);
        mat.RealArray("i16").Shape.Should().Equal(2, 1);
        mat.RealArray("i16").Data.Should().Equal(-32768, 32767);
        mat.RealArray("i32").Data.Should().Equal(int.MinValue, int.MaxValue, 7);
        mat.RealArray("i64").Data.Should().Equal(-9007199254740992.0, 9007199254740992.0);
        mat.RealArray("u8").Data.Should().Equal(0, 200, 255);
        mat.RealArray("u16").Data.Should().Equal(65535);
        mat.RealArray("u32").Data.Should().Equal(uint.MaxValue, 1);
        mat.RealArray("u64").Data.Should().Equal(18446744073709549568.0);
        mat.RealArray("empty").Shape.Should().Equal(0, 3);

        var classes = mat.Variables.ToDictionary(v => v.Name, v => v.ClassName);
        classes.Should().Contain(new Dictionary<string, string>
        {
            ["d"] = "double", ["s"] = "single", ["i8"] = "int8", ["i16"] = "int16", ["i32"] = "int32", ["i64"] = "int64",
            ["u8"] = "uint8", ["u16"] = "uint16", ["u32"] = "uint32", ["u64"] = "uint64", ["flag"] = "logical",
            ["label"] = "char", ["st"] = "struct", ["cel"] = "cell", ["sp"] = "sparse",
        });
    }

    [Theory]
    [InlineData("numeric.mat")]
    [InlineData("numeric_compressed.mat")]
    public void Complex_arrays_keep_both_parts_and_logical_arrays_are_flagged(string file)
    {
        var mat = MatFile.Read(Data(file));
        var z = mat.Variable("z");
        z.IsComplex.Should().BeTrue();
        z.Description.Should().Be("2×2 complex double");
        z.Real.Data.Should().Equal(1.0, 0.0, 4.0, 0.25);
        z.Imaginary.Data.Should().Equal(2.0, -3.5, 0.0, -1.0);
        var flag = mat.Variable("flag");
        flag.IsLogical.Should().BeTrue();
        flag.RealValues().Data.Should().Equal(1.0, 0.0, 1.0);
        mat.Variable("d").Invoking(d => d.Imaginary).Should().Throw<PinnException>().WithMessage("*'d'*no imaginary part*");
    }

    [Fact]
    public void Compressed_and_uncompressed_files_hold_the_same_variables()
    {
        var plain = MatFile.Read(Data("numeric.mat"));
        var packed = MatFile.Read(Data("numeric_compressed.mat"));
        packed.Variables.Select(v => v.ToString()).Should().Equal(plain.Variables.Select(v => v.ToString()));
        foreach (var name in plain.NumericNames)
            packed.Variable(name).Real.Data.Should().Equal(plain.Variable(name).Real.Data, name);
        packed.Variable("z").Imaginary.Data.Should().Equal(plain.Variable("z").Imaginary.Data);
    }

    [Theory]
    [InlineData("label", "1×5 char")]
    [InlineData("st", "1×1 struct")]
    [InlineData("cel", "1×2 cell")]
    [InlineData("sp", "3×3 sparse")]
    public void Non_numeric_variables_are_listed_apart_and_refused_by_name_and_class(string name, string description)
    {
        var path = Data("numeric.mat");
        var mat = MatFile.Read(path);
        mat.NumericNames.Should().NotContain(name);
        mat.Listing().Should().Contain($"not numeric: ").And.Contain($"{name} ({description})");
        var act = () => mat.RealArray(name);
        act.Should().Throw<PinnException>()
            .WithMessage($"{path}: variable '{name}' is a {description}, not a numeric array*")
            .Which.File.Should().Be(path);
    }

    [Fact]
    public void Complex_array_requested_as_real_is_refused_naming_file_and_variable()
    {
        var path = Data("numeric.mat");
        var act = () => MatFile.Read(path).RealArray("z");
        act.Should().Throw<PinnException>().WithMessage($"{path}: variable 'z' is complex (2×2 complex double)*real(z)*imag(z)*");
    }

    [Fact]
    public void Missing_variable_lists_the_numeric_and_the_other_variables()
    {
        var act = () => MatFile.Read(Data("numeric.mat")).Variable("usol");
        act.Should().Throw<PinnException>().WithMessage("*numeric.mat: no variable 'usol' (arrays: d, a3, k, s, *; not numeric: label (1×5 char), st (1×1 struct), *");
    }

    // ---------- hand-made files: byte orders, storage types, small elements ----------

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Both_byte_orders_compressed_or_not_read_the_same_values(bool bigEndian, bool compressed)
    {
        var w = new MatBytes(bigEndian);
        byte[] Wrap(byte[] element) => compressed ? w.Compressed(element) : element;
        var bytes = Concat(
            w.Header(),
            // 2×3 double, column-major [1 4 2 5 3 6] = row-major [1 2 3 4 5 6].
            Wrap(w.Matrix("m", [2, 3], MatClass.Double, MatBytes.Double, w.Encode(MatBytes.Double, 1, 4, 2, 5, 3, 6))),
            // A double array stored as miUINT8 in a small element (MATLAB narrows integer-valued doubles).
            Wrap(w.Matrix("w", [1, 3], MatClass.Double, MatBytes.UInt8, [1, 2, 250])),
            Wrap(w.Matrix("n", [1, 2], MatClass.Int16, MatBytes.Int16, w.Encode(MatBytes.Int16, -300, 300))),
            // A double stored as miINT32 in a normal element, with a name longer than 4 bytes (a normal name element).
            Wrap(w.Matrix("longname", [2, 1], MatClass.Double, MatBytes.Int32, w.Encode(MatBytes.Int32, -70000, 70000))),
            Wrap(w.Matrix("c", [1, 1], MatClass.Single, MatBytes.Single, w.Encode(MatBytes.Single, 1.5),
                          imag: w.Encode(MatBytes.Single, -2), flags: 0x800)));
        var mat = MatFile.Parse(bytes, "hand.mat");
        mat.IsBigEndian.Should().Be(bigEndian);
        mat.RealArray("m").Data.Should().Equal(1, 2, 3, 4, 5, 6);
        mat.RealArray("w").Data.Should().Equal(1, 2, 250);
        mat.Variable("w").ClassName.Should().Be("double", "the class, not the storage type, is what MATLAB reports");
        mat.RealArray("n").Data.Should().Equal(-300, 300);
        mat.RealArray("longname").Data.Should().Equal(-70000, 70000);
        mat.Variable("c").Real.Data.Should().Equal(1.5);
        mat.Variable("c").Imaginary.Data.Should().Equal(-2);
    }

    [Fact]
    public void Real_part_with_the_wrong_number_of_values_is_refused()
    {
        var w = new MatBytes(false);
        var bytes = Concat(w.Header(), w.Matrix("m", [2, 2], MatClass.Double, MatBytes.Double, w.Encode(MatBytes.Double, 1, 2, 3)));
        var act = () => MatFile.Parse(bytes, "short.mat");
        act.Should().Throw<PinnException>().WithMessage("short.mat: variable 'm': the real part has 3 values, but 2×2 needs 4");
    }

    // ---------- files that are not level-5 MAT-files ----------

    [Theory]
    [InlineData(true, false)]   // the header MATLAB writes: v7.3 text, version 0x0200, then HDF5 at byte 512
    [InlineData(false, true)]   // only the HDF5 signature at 512 gives it away
    [InlineData(false, false)]  // a bare HDF5 file renamed .mat
    public void Matlab_v73_hdf5_files_are_refused_with_how_to_resave(bool v73Header, bool userBlock)
    {
        var bytes = new byte[1024];
        byte[] hdf5 = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];
        if (v73Header || userBlock)
        {
            var text = v73Header
                ? "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
                : "MATLAB 5.0 MAT-file, Platform: GLNXA64";
            Encoding.ASCII.GetBytes(text.PadRight(116)).CopyTo(bytes, 0);
            bytes[124] = 0; bytes[125] = v73Header ? (byte)2 : (byte)1; // 0x0200 / 0x0100, little-endian
            bytes[126] = (byte)'I'; bytes[127] = (byte)'M';
            hdf5.CopyTo(bytes, 512);
        }
        else hdf5.CopyTo(bytes, 0);
        var path = Path.Combine(_dir, "v73.mat");
        File.WriteAllBytes(path, bytes);
        var act = () => MatFile.Read(path);
        act.Should().Throw<PinnException>()
            .WithMessage($"{path}: this is a MATLAB v7.3 MAT-file (HDF5), which is not supported; re-save it with save(file, ..., '-v7') in MATLAB or scipy.io.savemat");
    }

    [Fact]
    public void Matlab_v4_file_is_recognised_and_refused()
    {
        // v4: type 0 (little-endian full double), 1 row, 2 columns, real, name "a" (length 2 with its NUL), data.
        var ms = new MemoryStream();
        foreach (int v in new[] { 0, 1, 2, 0, 2 }) ms.Write(BitConverter.GetBytes(v));
        ms.Write("a\0"u8);
        ms.Write(BitConverter.GetBytes(1.0));
        ms.Write(BitConverter.GetBytes(2.0));
        var act = () => MatFile.Parse(ms.ToArray(), "old.mat");
        act.Should().Throw<PinnException>().WithMessage("old.mat: this looks like a MATLAB v4 MAT-file, which is not supported; re-save it with save(file, ..., '-v7')*");
    }

    [Theory]
    [InlineData("")]
    [InlineData("x,t,u\n0,0,1\n")]
    [InlineData("MATLAB 5.0 MAT-file, but cut short")]
    public void Text_empty_or_short_files_are_refused_naming_the_file(string content)
    {
        var path = Path.Combine(_dir, "bad.mat");
        File.WriteAllText(path, content);
        var act = () => MatFile.Read(path);
        act.Should().Throw<PinnException>().WithMessage($"{path}: *")
            .Which.Message.Should().MatchRegex("empty|not a MATLAB level-5 MAT-file|truncated MAT-file");
    }

    [Fact]
    public void Npz_renamed_mat_is_not_a_level5_file()
    {
        var act = () => MatFile.Parse(File.ReadAllBytes(Data("grid.npz")), "grid.mat");
        act.Should().Throw<PinnException>().WithMessage("grid.mat: not a MATLAB level-5 MAT-file (no 'IM' endian indicator at byte 126; the header text does not start with 'MATLAB')");
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        var path = Path.Combine(_dir, "nope.mat");
        var act = () => MatFile.Read(path);
        act.Should().Throw<PinnException>().WithMessage($"{path}: file not found");
    }

    // ---------- damaged files ----------

    [Theory]
    [InlineData("numeric.mat")]
    [InlineData("numeric_compressed.mat")]
    [InlineData("grid.mat")]
    public void Every_truncation_gives_a_pinn_exception_or_a_prefix_of_the_variables(string file)
    {
        var bytes = File.ReadAllBytes(Data(file));
        var all = MatFile.Parse(bytes, file).Variables.Select(v => v.Name).ToArray();
        int refused = 0;
        for (int n = 0; n < bytes.Length; n++)
        {
            try
            {
                // A cut that falls exactly between two elements leaves a valid, shorter file.
                var names = MatFile.Parse(bytes[..n], "cut.mat").Variables.Select(v => v.Name);
                all.Should().StartWith(names);
            }
            catch (PinnException e)
            {
                e.Message.Should().StartWith("cut.mat: ");
                refused++;
            }
        }
        refused.Should().BeGreaterThan(bytes.Length * 9 / 10);
    }

    [Fact]
    public void Cut_inside_a_large_array_says_truncated()
    {
        var bytes = File.ReadAllBytes(Data("burgers_shock.mat"));
        var act = () => MatFile.Parse(bytes[..100_000], "burgers_shock.mat");
        act.Should().Throw<PinnException>()
            .WithMessage("burgers_shock.mat: truncated: the data element at byte * needs * bytes, only * left");
        var ac = File.ReadAllBytes(Data("AC.mat"));
        var cutCompressed = () => MatFile.Parse(ac[..300_000], "AC.mat");
        cutCompressed.Should().Throw<PinnException>().WithMessage("AC.mat: truncated*");
    }

    [Theory]
    [InlineData("numeric.mat")]
    [InlineData("numeric_compressed.mat")]
    public void Damaged_bytes_never_escape_as_another_exception(string file)
    {
        // Every byte past the header replaced by four values in turn: bad tags, sizes, dimensions, classes,
        // and (in the compressed file) zlib streams that fail in several ways (an earlier version let
        // ZLibException through).
        var original = File.ReadAllBytes(Data(file));
        for (int at = 128; at < original.Length; at++)
            foreach (var value in new[] { (byte)0, (byte)0xFF, (byte)(original[at] ^ 0x55), (byte)(original[at] + 1) })
            {
                var bytes = (byte[])original.Clone();
                bytes[at] = value;
                try
                {
                    foreach (var v in MatFile.Parse(bytes, "damaged.mat").Variables)
                        if (v.IsNumeric) _ = v.Real;
                }
                catch (PinnException e) { e.Message.Should().StartWith("damaged.mat: "); }
            }
    }

    [Fact]
    public void Zlib_stream_asking_for_a_preset_dictionary_is_refused()
    {
        // FLG = 0x20 sets FDICT (RFC 1950 §2.2; 0x7820 is a multiple of 31, so the header checks out):
        // zlib then fails with an error code that .NET throws as ZLibException, not InvalidDataException.
        var bytes = File.ReadAllBytes(Data("numeric_compressed.mat"));
        bytes[128 + 8].Should().Be(0x78, "the first element is miCOMPRESSED, its data a zlib stream");
        bytes[128 + 9] = 0x20;
        var act = () => MatFile.Parse(bytes, "dict.mat");
        act.Should().Throw<PinnException>().WithMessage("dict.mat: corrupt compressed data element at byte 128 (*");
    }

    // ---------- as a reference data file ----------

    static ReferenceSolution Solve(string file, Dictionary<string, string>? arrays = null) =>
        new DataFileReference(Data(file), arrays).Solve(new Heat1D(), []);

    [Theory]
    [InlineData("u", "u", true)]      // u[x, t] with x 5×1 and t 1×4
    [InlineData("u", "ut", true)]     // the same field stored as u[t, x]
    [InlineData("xs", "us", false)]   // scattered points, one column each
    public void Mat_reference_equals_the_npz_reference_with_the_same_arrays(string xName, string uName, bool grid)
    {
        var arrays = new Dictionary<string, string> { ["u"] = uName };
        if (!grid) { arrays["x"] = xName; arrays["t"] = "ts"; }
        var fromMat = Solve("grid.mat", arrays);
        var fromNpz = Solve("grid.npz", arrays);
        fromMat.Coordinates.Should().Equal(fromNpz.Coordinates);
        fromMat.Points.Should().BeEquivalentTo(fromNpz.Points, o => o.WithStrictOrdering());
        fromMat.Values.Should().BeEquivalentTo(fromNpz.Values, o => o.WithStrictOrdering());
        (fromMat.GridAxes is null).Should().Be(!grid);
        if (grid)
        {
            fromMat.Shape.Should().Equal(5, 4);
            // Point (x_i, t_j) is row 4i + j; u = sin(πx) e^(−t).
            fromMat.Points[4 * 2 + 3, 0].Should().Be(0.5);
            fromMat.Values[4 * 2 + 3, 0].Should().BeApproximately(Math.Exp(-0.5), 1e-15);
        }
        else fromMat.Count.Should().Be(7);
    }

    [Fact]
    public void Yaml_reference_file_can_be_a_mat_file()
    {
        File.Copy(Data("grid.mat"), Path.Combine(_dir, "data.mat"));
        var yaml = File.ReadAllText(TestPaths.Problem("heat1d/heat1d_inline.yaml"))
            .Replace("  exact:\n    u: \"exp(-alpha*pi^2*t)*sin(pi*x)\"", "  reference: {file: data.mat, arrays: {u: ut}}");
        var cfgPath = Path.Combine(_dir, "heat.yaml");
        File.WriteAllText(cfgPath, yaml);
        var cfg = RunConfigLoader.Load(cfgPath, ProblemCatalog.Instance, [$"output.dir={_dir}", "training.threads=1"]);
        var r = cfg.Problem.Reference!.Solve(cfg.Problem, []);
        r.Values.Should().BeEquivalentTo(Solve("grid.npz", new() { ["u"] = "u" }).Values, o => o.WithStrictOrdering());
    }

    [Theory]
    [InlineData("z", "variable 'z' is complex (2×2 complex double)*")]
    [InlineData("label", "variable 'label' is a 1×5 char, not a numeric array*")]
    [InlineData("st", "variable 'st' is a 1×1 struct, not a numeric array*")]
    [InlineData("nothing", "no array 'nothing' for 'u' (arrays: d, *; not numeric: label (1×5 char)*")]
    public void Unusable_reference_field_is_refused_naming_file_and_variable(string variable, string message)
    {
        var arrays = new Dictionary<string, string> { ["x"] = "s", ["t"] = "u8", ["u"] = variable };
        var act = () => Solve("numeric.mat", arrays);
        act.Should().Throw<PinnException>().WithMessage($"reference file {Data("numeric.mat")}: {message}")
            .Which.Key.Should().Be("problem.reference.file");
    }

    // ---------- helpers ----------

    static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>
    /// Writes level-5 MAT-file pieces byte by byte in either byte order (MathWorks, "MAT-File Format"):
    /// the 128-byte header, data elements (small when the data fit in 4 bytes), miMATRIX and miCOMPRESSED.
    /// </summary>
    sealed class MatBytes(bool bigEndian)
    {
        public const int Int8 = 1, UInt8 = 2, Int16 = 3, Int32 = 5, UInt32 = 6, Single = 7, Double = 9, MiMatrix = 14, MiCompressed = 15;

        byte[] U32(uint v)
        {
            var b = new byte[4];
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            return b;
        }

        public byte[] Header()
        {
            var h = new byte[128];
            Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by MatFileTests".PadRight(116)).CopyTo(h, 0);
            // Version 0x0100 and 'IM' as 16-bit values in the file's byte order.
            (h[124], h[125], h[126], h[127]) = bigEndian ? ((byte)1, (byte)0, (byte)'M', (byte)'I') : ((byte)0, (byte)1, (byte)'I', (byte)'M');
            return h;
        }

        public byte[] Element(int type, byte[] data, bool allowSmall = true)
        {
            if (allowSmall && data.Length <= 4)
                return Concat(U32((uint)data.Length << 16 | (uint)type), data, new byte[4 - data.Length]);
            return Concat(U32((uint)type), U32((uint)data.Length), data, new byte[(8 - data.Length % 8) % 8]);
        }

        public byte[] Matrix(string name, int[] dims, MatClass cls, int storage, byte[] real, byte[]? imag = null, uint flags = 0)
        {
            var body = Concat(
                Element(UInt32, Concat(U32(flags | (uint)cls), U32(0)), allowSmall: false),
                Element(Int32, dims.SelectMany(d => U32((uint)d)).ToArray(), allowSmall: false),
                Element(Int8, Encoding.ASCII.GetBytes(name)),
                Element(storage, real),
                imag is null ? [] : Element(storage, imag));
            return Element(MiMatrix, body, allowSmall: false);
        }

        public byte[] Compressed(byte[] element)
        {
            var ms = new MemoryStream();
            using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(element);
            var zipped = ms.ToArray();
            return Concat(U32(MiCompressed), U32((uint)zipped.Length), zipped); // no padding after miCOMPRESSED
        }

        public byte[] Encode(int storage, params double[] values)
        {
            int size = storage switch { Int16 => 2, Int32 or Single => 4, Double => 8, _ => 1 };
            var b = new byte[values.Length * size];
            for (int i = 0; i < values.Length; i++)
            {
                var s = b.AsSpan(i * size, size);
                switch (storage)
                {
                    case Int16: if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(s, (short)values[i]); else BinaryPrimitives.WriteInt16LittleEndian(s, (short)values[i]); break;
                    case Int32: if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(s, (int)values[i]); else BinaryPrimitives.WriteInt32LittleEndian(s, (int)values[i]); break;
                    case Single: if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(s, (float)values[i]); else BinaryPrimitives.WriteSingleLittleEndian(s, (float)values[i]); break;
                    case Double: if (bigEndian) BinaryPrimitives.WriteDoubleBigEndian(s, values[i]); else BinaryPrimitives.WriteDoubleLittleEndian(s, values[i]); break;
                    default: s[0] = (byte)values[i]; break;
                }
            }
            return b;
        }
    }
}
