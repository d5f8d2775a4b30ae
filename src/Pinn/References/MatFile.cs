using System.IO.Compression;
using System.Text;

namespace Pinn.References;

/// <summary>MATLAB array classes (the class byte of an miMATRIX's array flags).</summary>
public enum MatClass
{
    Cell = 1, Struct = 2, Object = 3, Char = 4, Sparse = 5, Double = 6, Single = 7,
    Int8 = 8, UInt8 = 9, Int16 = 10, UInt16 = 11, Int32 = 12, UInt32 = 13, Int64 = 14, UInt64 = 15,
    Function = 16, Opaque = 17,
}

/// <summary>
/// One top-level variable of a MAT-file. Numeric and logical arrays carry their values; the others (char,
/// cell, struct, sparse, objects) only their name, class and dimensions.
/// </summary>
public sealed class MatVariable
{
    readonly string _file;
    readonly double[]? _real, _imag; // column-major, as stored

    internal MatVariable(string file, string name, MatClass cls, int[] dims, bool complex, bool logical, bool global,
                         double[]? real, double[]? imag)
    {
        _file = file;
        Name = name;
        Class = cls;
        Dimensions = dims;
        IsComplex = complex;
        IsLogical = logical;
        IsGlobal = global;
        _real = real;
        _imag = imag;
    }

    public string Name { get; }
    public MatClass Class { get; }

    /// <summary>MATLAB's dimensions (at least two: a vector is 1×n or n×1).</summary>
    public int[] Dimensions { get; }

    public bool IsComplex { get; }
    public bool IsLogical { get; }
    public bool IsGlobal { get; }

    /// <summary>A full (not sparse) numeric or logical array, whose values can be read.</summary>
    public bool IsNumeric => _real is not null;

    /// <summary>The class as MATLAB's <c>class()</c> names it ("double", "logical", "char", "struct", …).</summary>
    public string ClassName => Class switch
    {
        MatClass.Sparse => IsLogical ? "sparse logical" : "sparse",
        _ when IsLogical => "logical",
        MatClass.Function => "function_handle",
        MatClass.Opaque => "opaque object",
        _ when Enum.IsDefined(Class) => Class.ToString().ToLowerInvariant(),
        _ => $"unknown class {(int)Class}",
    };

    /// <summary>"256×100 double", "1×1 complex single", "1×3 struct": how MATLAB's <c>whos</c> describes it.</summary>
    public string Description => $"{string.Join("×", Dimensions)} {(IsComplex ? "complex " : "")}{ClassName}";

    /// <summary>The real part with shape <see cref="Dimensions"/>, in row-major (C) order like <see cref="Npy"/> arrays.</summary>
    public NdArray Real => new(Dimensions, Npy.FortranToC(_real ?? throw NotNumeric(), Dimensions));

    /// <summary>The imaginary part (zeros are not invented: a real array has none).</summary>
    public NdArray Imaginary => IsComplex
        ? new(Dimensions, Npy.FortranToC(_imag!, Dimensions))
        : throw new PinnException($"variable '{Name}' ({Description}) has no imaginary part", _file);

    /// <summary>The values of a real numeric or logical array; a clear error for anything else.</summary>
    public NdArray RealValues()
    {
        if (!IsNumeric) throw NotNumeric();
        if (IsComplex)
            throw new PinnException($"variable '{Name}' is complex ({Description}); only real arrays can be used here " +
                                    $"(save real({Name}) and imag({Name}) as separate variables)", _file);
        return Real;
    }

    PinnException NotNumeric() => new(
        $"variable '{Name}' is a {Description}, not a numeric array; only full numeric and logical arrays can be read" +
        (Class == MatClass.Sparse ? $" (save full({Name}) instead)" : ""), _file);

    public override string ToString() => $"{Name}: {Description}";
}

/// <summary>
/// MATLAB level-5 MAT-files (MathWorks, "MAT-File Format", chapter 1), as written by <c>save</c> with
/// <c>-v6</c> or <c>-v7</c> (MATLAB's default up to R2006b and for <c>-v7</c>) and by <c>scipy.io.savemat</c>:
/// the 128-byte header, either byte order, normal and small data elements, miCOMPRESSED (zlib) elements,
/// and miMATRIX arrays of every numeric class (complex and logical included). Char, cell, struct, sparse
/// and object variables are listed with their class but not read. v7.3 files (HDF5) and v4 files are
/// recognised and refused with how to re-save them.
/// </summary>
public sealed class MatFile
{
    const int HeaderLength = 128;
    const int TextLength = 116;
    static readonly byte[] Hdf5Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];
    static readonly MatDataType[] NumericStorage = Enum.GetValues<MatDataType>().Where(t => MatElementReader.SizeOf(t) > 0).ToArray();
    const string Resave = "re-save it with save(file, ..., '-v7') in MATLAB or scipy.io.savemat";

    readonly List<MatVariable> _variables;

    MatFile(string path, string headerText, bool bigEndian, List<MatVariable> variables)
    {
        Path = path;
        HeaderText = headerText;
        IsBigEndian = bigEndian;
        _variables = variables;
    }

    public string Path { get; }

    /// <summary>The descriptive text of the header ("MATLAB 5.0 MAT-file, Platform: …, Created on: …").</summary>
    public string HeaderText { get; }

    public bool IsBigEndian { get; }

    /// <summary>Every named top-level variable, in file order.</summary>
    public IReadOnlyList<MatVariable> Variables => _variables;

    /// <summary>The variables whose values can be read (full numeric and logical arrays).</summary>
    public IEnumerable<string> NumericNames => _variables.Where(v => v.IsNumeric).Select(v => v.Name);

    public bool Contains(string name) => _variables.Any(v => v.Name == name);

    /// <summary>The variable called <paramref name="name"/>; the error lists what the file holds.</summary>
    public MatVariable Variable(string name) =>
        _variables.FirstOrDefault(v => v.Name == name)
        ?? throw new PinnException($"no variable '{name}' ({Listing()})", Path);

    /// <summary>A real numeric array by name, in row-major order with MATLAB's dimensions.</summary>
    public NdArray RealArray(string name) => Variable(name).RealValues();

    /// <summary>"arrays: x, t, usol; not numeric: label (1×5 char)".</summary>
    public string Listing()
    {
        var numeric = string.Join(", ", NumericNames);
        var others = string.Join(", ", _variables.Where(v => !v.IsNumeric).Select(v => $"{v.Name} ({v.Description})"));
        return (numeric.Length > 0 ? $"arrays: {numeric}" : "no numeric arrays") + (others.Length > 0 ? $"; not numeric: {others}" : "");
    }

    public static MatFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException) { throw new PinnException("file not found", path); }
        catch (DirectoryNotFoundException) { throw new PinnException("file not found", path); }
        catch (UnauthorizedAccessException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }
        catch (IOException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }
        return Parse(bytes, path);
    }

    /// <summary>Parses a whole MAT-file held in memory; errors name <paramref name="path"/>.</summary>
    public static MatFile Parse(byte[] bytes, string path)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(path);
        PinnException Err(string message) => new(message, path);

        var (text, bigEndian) = ReadHeader(bytes, Err);
        var variables = new List<MatVariable>();
        var top = new MatElementReader(bytes, HeaderLength, bytes.Length, bigEndian, Err);
        while (!top.AtEnd)
        {
            var e = top.Next();
            switch (e.Type)
            {
                case MatDataType.Matrix:
                    AddVariable(variables, top, e, path, Err);
                    break;
                case MatDataType.Compressed:
                    var inflated = Inflate(bytes, e, Err);
                    var inner = new MatElementReader(inflated, 0, inflated.Length, bigEndian, Err, decompressedFrom: e.Start - 8);
                    while (!inner.AtEnd)
                    {
                        var m = inner.Next();
                        if (m.Type == MatDataType.Matrix) AddVariable(variables, inner, m, path, Err);
                    }
                    break;
                default:
                    break; // only arrays are variables; anything else at the top level is not ours to read
            }
        }
        return new MatFile(path, text, bigEndian, variables);
    }

    /// <summary>
    /// The header: 116 bytes of text, 8 bytes of subsystem-data offset, the version (0x0100) and the endian
    /// indicator 'IM' written as a 16-bit value — so it reads "IM" in a little-endian file and "MI" in a
    /// big-endian one. v7.3 files are HDF5 files with a 512-byte user block holding the same header.
    /// </summary>
    static (string text, bool bigEndian) ReadHeader(byte[] b, Func<string, PinnException> err)
    {
        if (b.Length == 0) throw err("not a MAT-file (the file is empty)");
        var text = Encoding.ASCII.GetString(b, 0, Math.Min(TextLength, b.Length)).TrimEnd('\0', ' ');
        bool hdf5 = StartsWith(b, 0, Hdf5Signature) || StartsWith(b, 512, Hdf5Signature);
        if (hdf5 || text.StartsWith("MATLAB 7.3", StringComparison.Ordinal))
            throw err($"this is a MATLAB v7.3 MAT-file (HDF5), which is not supported; {Resave}");
        if (LooksLikeV4(b)) throw err($"this looks like a MATLAB v4 MAT-file, which is not supported; {Resave}");
        bool matlabText = text.StartsWith("MATLAB", StringComparison.Ordinal);
        if (b.Length < HeaderLength)
            throw err(matlabText
                ? $"truncated MAT-file: the header needs {HeaderLength} bytes, the file has {b.Length}"
                : "not a MATLAB level-5 MAT-file (too short for the 128-byte header)");

        bool bigEndian = (b[126], b[127]) switch
        {
            ((byte)'I', (byte)'M') => false,
            ((byte)'M', (byte)'I') => true,
            _ => throw err("not a MATLAB level-5 MAT-file (no 'IM' endian indicator at byte 126" +
                           (matlabText ? "" : "; the header text does not start with 'MATLAB'") + ")"),
        };
        int version = bigEndian ? b[124] << 8 | b[125] : b[125] << 8 | b[124];
        if (version == 0x0200) throw err($"this is a MATLAB v7.3 MAT-file (HDF5), which is not supported; {Resave}");
        if (version != 0x0100) throw err($"unsupported MAT-file version 0x{version:X4} (expected 0x0100, level 5)");
        return (text, bigEndian);
    }

    static bool StartsWith(byte[] b, int at, byte[] prefix) =>
        b.Length >= at + prefix.Length && b.AsSpan(at, prefix.Length).SequenceEqual(prefix);

    /// <summary>
    /// A v4 file starts with a 20-byte matrix header: type MOPT (M: byte order 0–4, O: 0, P: precision 0–5,
    /// T: 0 full, 1 text, 2 sparse), rows, columns, imagf (0/1), name length including its NUL.
    /// </summary>
    static bool LooksLikeV4(byte[] b)
    {
        if (b.Length < 20) return false;
        foreach (bool be in new[] { false, true })
        {
            int I(int k) => be ? b[k] << 24 | b[k + 1] << 16 | b[k + 2] << 8 | b[k + 3] : b[k] | b[k + 1] << 8 | b[k + 2] << 16 | b[k + 3] << 24;
            int type = I(0), rows = I(4), cols = I(8), imagf = I(12), nameLen = I(16);
            bool mopt = type is >= 0 and < 5000 && type / 100 % 10 == 0 && type / 10 % 10 <= 5 && type % 10 <= 2;
            if (mopt && rows >= 0 && cols >= 0 && imagf is 0 or 1 && nameLen is > 0 and < 256
                && 20 + nameLen <= b.Length && b[20 + nameLen - 1] == 0)
                return true;
        }
        return false;
    }

    static byte[] Inflate(byte[] bytes, MatElement e, Func<string, PinnException> err)
    {
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(bytes, e.Start, e.Length, writable: false), CompressionMode.Decompress);
            using var output = new MemoryStream();
            zlib.CopyTo(output);
            return output.ToArray();
        }
        catch (Exception x) when (x is InvalidDataException or IOException) // ZLibException is an IOException
        {
            throw err($"corrupt compressed data element at byte {e.Start - 8} ({x.Message})");
        }
    }

    /// <summary>
    /// An miMATRIX: array flags (miUINT32 ×2: class in the low byte; 0x800 complex, 0x400 global, 0x200
    /// logical), dimensions (miINT32), name (miINT8), then for numeric classes the real part and, if complex,
    /// the imaginary part, each in any numeric storage type. Unnamed arrays (MATLAB's subsystem data) are skipped.
    /// </summary>
    static void AddVariable(List<MatVariable> variables, MatElementReader outer, MatElement matrix, string path,
                            Func<string, PinnException> err)
    {
        if (matrix.Length == 0) return; // an empty element: nothing stored
        var r = outer.Inside(matrix);
        var flagsElem = r.Next("array flags", MatDataType.UInt32);
        if (flagsElem.Length != 8) throw err($"corrupt array flags ({flagsElem.Length} bytes, expected 8)");
        uint flags = r.UInt32(flagsElem.Start);
        var cls = (MatClass)(flags & 0xFF);
        bool complex = (flags & 0x800) != 0, global = (flags & 0x400) != 0, logical = (flags & 0x200) != 0;

        var dims = r.Int32s(r.Next("dimensions", MatDataType.Int32), "dimensions");
        string name = Encoding.UTF8.GetString(r.Bytes(r.Next("array name", MatDataType.Int8, MatDataType.UInt8)));
        if (name.Length == 0) return;
        if (dims.Length < 2 || dims.Any(d => d < 0))
            throw err($"variable '{name}': corrupt dimensions [{string.Join(", ", dims)}]");
        long count = dims.Aggregate(1L, (acc, d) => Math.Min(acc * d, long.MaxValue / int.MaxValue)); // saturates: no overflow for many dims

        bool numeric = cls is >= MatClass.Double and <= MatClass.UInt64;
        double[]? real = null, imag = null;
        if (numeric)
        {
            if (count > Array.MaxLength) throw err($"variable '{name}': {string.Join("×", dims)} is too large");
            double[] Part(string what)
            {
                var values = r.Numbers(r.Next($"the {what} of '{name}'", NumericStorage), $"the {what} of '{name}'");
                if (values.Length != count)
                    throw err($"variable '{name}': the {what} has {values.Length} values, but {string.Join("×", dims)} needs {count}");
                return values;
            }
            real = Part("real part");
            if (complex) imag = Part("imaginary part");
        }
        variables.RemoveAll(v => v.Name == name); // MATLAB cannot write a name twice; if a file does, the last wins (as in scipy)
        variables.Add(new MatVariable(path, name, cls, dims, complex, logical, global, real, imag));
    }
}
