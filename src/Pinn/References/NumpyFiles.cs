using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Pinn.References;

/// <summary>A row-major (C order) n-dimensional array of doubles, as read from or written to .npy/.npz files.</summary>
public sealed class NdArray
{
    public NdArray(int[] shape, double[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long count = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new PinnException($"array shape [{string.Join(", ", shape)}] has a negative dimension");
            count *= s;
            if (count > int.MaxValue) throw new PinnException($"array shape [{string.Join(", ", shape)}] is too large");
        }
        if (count != data.Length)
            throw new PinnException($"array shape [{string.Join(", ", shape)}] needs {count} values, got {data.Length}");
        Shape = (int[])shape.Clone();
        Data = data;
    }

    public int[] Shape { get; }
    public double[] Data { get; }
    public int Rank => Shape.Length;

    /// <summary>The element at a full multi-index (one index per axis; none for a 0-d array).</summary>
    public double this[params int[] index]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(index);
            if (index.Length != Rank)
                throw new ArgumentException($"expected {Rank} indices, got {index.Length}", nameof(index));
            int flat = 0;
            for (int k = 0; k < Rank; k++)
            {
                if ((uint)index[k] >= (uint)Shape[k])
                    throw new IndexOutOfRangeException($"index {index[k]} is out of range for axis {k} of length {Shape[k]}");
                flat = flat * Shape[k] + index[k];
            }
            return Data[flat];
        }
    }

    public override string ToString() => $"NdArray[{string.Join(", ", Shape)}]";
}

/// <summary>
/// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
/// Reads float, integer and boolean dtypes (converted to double), C or Fortran order, format versions 1–3;
/// writes little-endian float64 in C order, format 1.0.
/// </summary>
public static class Npy
{
    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    const int Align = 64;

    public static NdArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return ReadCore(fs, path, "");
        }
        catch (FileNotFoundException) { throw new PinnException("file not found", path); }
        catch (DirectoryNotFoundException) { throw new PinnException("file not found", path); }
        catch (UnauthorizedAccessException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }
        catch (IOException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }
    }

    public static NdArray Read(Stream stream, string nameForErrors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            return ReadCore(stream, nameForErrors, "");
        }
        catch (IOException e) { throw new PinnException($"cannot read: {e.Message}", nameForErrors, inner: e); }
    }

    /// <summary>Reads one array; errors name <paramref name="file"/> and start with <paramref name="prefix"/> (e.g. an npz entry).</summary>
    internal static NdArray ReadCore(Stream stream, string file, string prefix)
    {
        PinnException Err(string message) => new(prefix + message, file);

        var pre = new byte[8];
        int got = ReadFully(stream, pre, 0, 8);
        if (got < Magic.Length || !pre.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            if (got >= 4 && pre[0] == (byte)'P' && pre[1] == (byte)'K' && pre[2] == 3 && pre[3] == 4)
                throw Err("not a .npy file (it is a zip archive; use a .npz file name)");
            throw Err(got == 0 ? "not a .npy file (the file is empty)" : "not a .npy file (bad magic string)");
        }
        if (got < 8) throw Err("truncated .npy header");
        int major = pre[6], minor = pre[7];
        if (major is < 1 or > 3 || minor != 0)
            throw Err($"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");

        int lenBytes = major == 1 ? 2 : 4;
        var lenBuf = new byte[4];
        if (ReadFully(stream, lenBuf, 0, lenBytes) < lenBytes) throw Err("truncated .npy header");
        long headerLen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lenBuf) : BinaryPrimitives.ReadUInt32LittleEndian(lenBuf);
        if (headerLen > 1 << 24) throw Err($"implausible .npy header length {headerLen}");
        var headerBytes = new byte[headerLen];
        if (ReadFully(stream, headerBytes, 0, (int)headerLen) < headerLen) throw Err("truncated .npy header");
        string header;
        try
        {
            header = major == 3
                ? new UTF8Encoding(false, true).GetString(headerBytes)
                : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException) { throw Err("the .npy header is not valid UTF-8"); }

        Dictionary<string, object> dict;
        try { dict = HeaderParser.ParseDict(header); }
        catch (FormatException e) { throw Err($"malformed .npy header: {e.Message}"); }

        object Need(string key) =>
            dict.TryGetValue(key, out var v) ? v : throw Err($"malformed .npy header: missing key '{key}'");
        var descrObj = Need("descr");
        var fortranObj = Need("fortran_order");
        var shapeObj = Need("shape");
        if (descrObj is not string descr)
            throw Err("unsupported dtype (structured arrays are not supported; store a plain numeric array)");
        if (fortranObj is not bool fortran) throw Err("malformed .npy header: 'fortran_order' must be True or False");
        if (shapeObj is not List<object> shapeItems) throw Err("malformed .npy header: 'shape' must be a tuple");

        var shape = new int[shapeItems.Count];
        long count = 1;
        for (int k = 0; k < shape.Length; k++)
        {
            if (shapeItems[k] is not long s) throw Err("malformed .npy header: 'shape' must be a tuple of integers");
            if (s < 0) throw Err($"malformed .npy header: negative dimension {s} in shape");
            if (s > int.MaxValue) throw Err($"array dimension {s} is too large");
            shape[k] = (int)s;
            count *= s;
            if (count > Array.MaxLength) throw Err($"array with shape ({string.Join(", ", shape.Take(k + 1))}...) is too large");
        }

        var dtype = DType.Parse(descr) ?? throw Err($"unsupported dtype '{descr}' (supported: float16/32/64, signed and unsigned integers, bool)");

        var data = new double[count];
        ReadData(stream, dtype, data, count, Err);
        if (fortran && shape.Length > 1) data = FortranToC(data, shape);
        return new NdArray(shape, data);
    }

    static void ReadData(Stream stream, DType dt, double[] data, long count, Func<string, PinnException> err)
    {
        int size = dt.Size;
        const int chunkElems = 1 << 16;
        var buf = new byte[(long)chunkElems * size];
        long done = 0;
        while (done < count)
        {
            int n = (int)Math.Min(chunkElems, count - done);
            int bytes = n * size;
            int got = ReadFully(stream, buf, 0, bytes);
            if (got < bytes)
                throw err($"truncated data: expected {count * size} bytes for {count} values of dtype '{dt.Descr}', found {done * size + got}");
            var span = buf.AsSpan(0, bytes);
            for (int i = 0; i < n; i++)
                data[done + i] = dt.Convert(span.Slice(i * size, size));
            done += n;
        }
    }

    /// <summary>Column-major (Fortran, MATLAB) order to row-major (C) order for the same shape.</summary>
    internal static double[] FortranToC(double[] f, int[] shape)
    {
        int rank = shape.Length;
        var c = new double[f.Length];
        if (f.Length == 0) return c;
        // Fortran strides (in elements): stride[0] = 1, stride[k] = stride[k-1] * shape[k-1].
        var stride = new long[rank];
        stride[0] = 1;
        for (int k = 1; k < rank; k++) stride[k] = stride[k - 1] * shape[k - 1];
        var idx = new int[rank];
        long off = 0;
        for (long i = 0; i < c.Length; i++)
        {
            c[i] = f[off];
            // Advance the C-order odometer (last axis fastest), keeping the Fortran offset in step.
            for (int k = rank - 1; k >= 0; k--)
            {
                idx[k]++;
                off += stride[k];
                if (idx[k] < shape[k]) break;
                off -= stride[k] * shape[k];
                idx[k] = 0;
            }
        }
        return c;
    }

    static int ReadFully(Stream s, byte[] buf, int offset, int count)
    {
        int total = 0;
        while (total < count)
        {
            int n = s.Read(buf, offset + total, count - total);
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    public static void Write(string path, NdArray a)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(a);
        try
        {
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            Write(fs, a);
        }
        catch (DirectoryNotFoundException) { throw new PinnException("cannot write file: directory not found", path); }
        catch (UnauthorizedAccessException e) { throw new PinnException($"cannot write file: {e.Message}", path, inner: e); }
        catch (IOException e) { throw new PinnException($"cannot write file: {e.Message}", path, inner: e); }
    }

    public static void Write(Stream stream, NdArray a)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(a);
        stream.Write(Header(a.Shape));
        const int chunk = 1 << 13;
        var buf = new byte[chunk * 8];
        var data = a.Data;
        for (int start = 0; start < data.Length; start += chunk)
        {
            int n = Math.Min(chunk, data.Length - start);
            for (int i = 0; i < n; i++) BinaryPrimitives.WriteDoubleLittleEndian(buf.AsSpan(i * 8, 8), data[start + i]);
            stream.Write(buf, 0, n * 8);
        }
    }

    /// <summary>Magic, version and header dict exactly as numpy writes them for a '&lt;f8' C-order array.</summary>
    internal static byte[] Header(int[] shape)
    {
        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
            _ => "(" + string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shapeText}, }}";
        int major = 1;
        int prefix = Magic.Length + 2 + 2;
        int total = prefix + dict.Length + 1;
        int padded = (total + Align - 1) / Align * Align;
        if (padded - prefix > ushort.MaxValue)
        {
            major = 2;
            prefix = Magic.Length + 2 + 4;
            total = prefix + dict.Length + 1;
            padded = (total + Align - 1) / Align * Align;
        }
        var headerText = dict + new string(' ', padded - total) + "\n";
        var bytes = new byte[padded];
        Magic.CopyTo(bytes, 0);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerText.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerText.Length);
        Encoding.Latin1.GetBytes(headerText, bytes.AsSpan(prefix));
        return bytes;
    }

    sealed class DType
    {
        public required string Descr { get; init; }
        public required int Size { get; init; }
        public required Func<ReadOnlySpan<byte>, double> Convert { get; init; }

        public static DType? Parse(string descr)
        {
            if (descr.Length < 3) return null;
            char order = descr[0];
            char kind = descr[1];
            if (!int.TryParse(descr.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int size)) return null;
            bool big;
            switch (order)
            {
                case '<': big = false; break;
                case '>': big = true; break;
                case '=': big = !BitConverter.IsLittleEndian; break;
                case '|': if (size != 1) return null; big = false; break;
                default: return null;
            }
            Func<ReadOnlySpan<byte>, double>? conv = (kind, size, big) switch
            {
                ('f', 8, false) => b => BinaryPrimitives.ReadDoubleLittleEndian(b),
                ('f', 8, true) => b => BinaryPrimitives.ReadDoubleBigEndian(b),
                ('f', 4, false) => b => BinaryPrimitives.ReadSingleLittleEndian(b),
                ('f', 4, true) => b => BinaryPrimitives.ReadSingleBigEndian(b),
                ('f', 2, false) => b => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
                ('f', 2, true) => b => (double)BinaryPrimitives.ReadHalfBigEndian(b),
                ('i', 8, false) => b => BinaryPrimitives.ReadInt64LittleEndian(b),
                ('i', 8, true) => b => BinaryPrimitives.ReadInt64BigEndian(b),
                ('i', 4, false) => b => BinaryPrimitives.ReadInt32LittleEndian(b),
                ('i', 4, true) => b => BinaryPrimitives.ReadInt32BigEndian(b),
                ('i', 2, false) => b => BinaryPrimitives.ReadInt16LittleEndian(b),
                ('i', 2, true) => b => BinaryPrimitives.ReadInt16BigEndian(b),
                ('i', 1, _) => b => (sbyte)b[0],
                ('u', 8, false) => b => BinaryPrimitives.ReadUInt64LittleEndian(b),
                ('u', 8, true) => b => BinaryPrimitives.ReadUInt64BigEndian(b),
                ('u', 4, false) => b => BinaryPrimitives.ReadUInt32LittleEndian(b),
                ('u', 4, true) => b => BinaryPrimitives.ReadUInt32BigEndian(b),
                ('u', 2, false) => b => BinaryPrimitives.ReadUInt16LittleEndian(b),
                ('u', 2, true) => b => BinaryPrimitives.ReadUInt16BigEndian(b),
                ('u', 1, _) => b => b[0],
                ('b', 1, _) => b => b[0] != 0 ? 1.0 : 0.0,
                _ => null,
            };
            return conv is null ? null : new DType { Descr = descr, Size = size, Convert = conv };
        }
    }

    /// <summary>
    /// The subset of Python literal syntax used by .npy headers: a dict with string keys whose values are
    /// strings, True/False/None, integers, or tuples/lists of those.
    /// </summary>
    static class HeaderParser
    {
        public static Dictionary<string, object> ParseDict(string text)
        {
            int pos = 0;
            SkipWs(text, ref pos);
            var value = ParseValue(text, ref pos);
            SkipWs(text, ref pos);
            if (pos != text.Length) throw new FormatException($"unexpected '{text[pos]}' after the header dict");
            return value as Dictionary<string, object> ?? throw new FormatException("the header is not a dict");
        }

        static void SkipWs(string t, ref int p)
        {
            while (p < t.Length && char.IsWhiteSpace(t[p])) p++;
        }

        static object ParseValue(string t, ref int p)
        {
            SkipWs(t, ref p);
            if (p >= t.Length) throw new FormatException("unexpected end of header");
            char c = t[p];
            switch (c)
            {
                case '{':
                {
                    p++;
                    var d = new Dictionary<string, object>(StringComparer.Ordinal);
                    while (true)
                    {
                        SkipWs(t, ref p);
                        if (p >= t.Length) throw new FormatException("unterminated dict");
                        if (t[p] == '}') { p++; return d; }
                        if (ParseValue(t, ref p) is not string key) throw new FormatException("dict keys must be strings");
                        SkipWs(t, ref p);
                        if (p >= t.Length || t[p] != ':') throw new FormatException($"expected ':' after key '{key}'");
                        p++;
                        d[key] = ParseValue(t, ref p);
                        SkipWs(t, ref p);
                        if (p < t.Length && t[p] == ',') { p++; continue; }
                        if (p < t.Length && t[p] == '}') { p++; return d; }
                        throw new FormatException("expected ',' or '}' in dict");
                    }
                }
                case '(':
                case '[':
                {
                    char close = c == '(' ? ')' : ']';
                    p++;
                    var items = new List<object>();
                    while (true)
                    {
                        SkipWs(t, ref p);
                        if (p >= t.Length) throw new FormatException("unterminated tuple");
                        if (t[p] == close) { p++; return items; }
                        items.Add(ParseValue(t, ref p));
                        SkipWs(t, ref p);
                        if (p < t.Length && t[p] == ',') { p++; continue; }
                        if (p < t.Length && t[p] == close) { p++; return items; }
                        throw new FormatException($"expected ',' or '{close}' in tuple");
                    }
                }
                case '\'':
                case '"':
                {
                    int start = ++p;
                    while (p < t.Length && t[p] != c)
                    {
                        if (t[p] == '\\') throw new FormatException("escape sequences in header strings are not supported");
                        p++;
                    }
                    if (p >= t.Length) throw new FormatException("unterminated string");
                    return t[start..p++];
                }
                default:
                {
                    int start = p;
                    while (p < t.Length && (char.IsLetterOrDigit(t[p]) || t[p] is '-' or '+' or '_')) p++;
                    var word = t[start..p];
                    if (word.Length == 0) throw new FormatException($"unexpected '{c}'");
                    if (word == "True") return true;
                    if (word == "False") return false;
                    if (word == "None") return NoneValue.Instance;
                    var digits = word.EndsWith('L') ? word[..^1] : word; // Python 2 long literals
                    if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)) return v;
                    throw new FormatException($"unexpected '{word}'");
                }
            }
        }

        sealed class NoneValue
        {
            public static readonly NoneValue Instance = new();
        }
    }
}

/// <summary>NumPy's .npz archives (np.savez / np.savez_compressed): a zip of .npy files, one per array.</summary>
public static class Npz
{
    /// <summary>All arrays in the archive, keyed by entry name without ".npy". Entries that are not .npy files are ignored.</summary>
    public static IReadOnlyDictionary<string, NdArray> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (FileNotFoundException) { throw new PinnException("file not found", path); }
        catch (DirectoryNotFoundException) { throw new PinnException("file not found", path); }
        catch (UnauthorizedAccessException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }
        catch (IOException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }

        using (fs)
        {
            ZipArchive zip;
            try
            {
                zip = new ZipArchive(fs, ZipArchiveMode.Read, leaveOpen: false);
            }
            catch (InvalidDataException) { throw new PinnException("not a zip archive (an .npz file is a zip of .npy files)", path); }
            catch (IOException e) { throw new PinnException($"not a zip archive ({e.Message})", path, inner: e); }

            using (zip)
            {
                var result = new Dictionary<string, NdArray>(StringComparer.Ordinal);
                IReadOnlyList<ZipArchiveEntry> entries;
                try { entries = zip.Entries; }
                catch (InvalidDataException e) { throw new PinnException($"corrupt zip archive ({e.Message})", path, inner: e); }
                foreach (var entry in entries)
                {
                    if (entry.FullName.EndsWith('/')) continue; // directory
                    if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                    var key = entry.FullName[..^4];
                    var prefix = $"entry '{entry.FullName}': ";
                    try
                    {
                        using var s = entry.Open();
                        result[key] = Npy.ReadCore(s, path, prefix);
                    }
                    catch (InvalidDataException e) { throw new PinnException($"{prefix}corrupt or unsupported zip entry ({e.Message})", path, inner: e); }
                    catch (NotSupportedException e) { throw new PinnException($"{prefix}unsupported zip entry ({e.Message})", path, inner: e); }
                    catch (IOException e) { throw new PinnException($"{prefix}cannot read ({e.Message})", path, inner: e); }
                }
                return result;
            }
        }
    }

    /// <summary>Writes the arrays as an uncompressed .npz (like np.savez), one "key.npy" entry per array.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, NdArray> arrays)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(arrays);
        foreach (var key in arrays.Keys)
            if (string.IsNullOrEmpty(key)) throw new PinnException("array names in an .npz file must not be empty", path);
        try
        {
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var zip = new ZipArchive(fs, ZipArchiveMode.Create, leaveOpen: false);
            foreach (var (key, array) in arrays)
            {
                var entry = zip.CreateEntry(key + ".npy", CompressionLevel.NoCompression);
                using var s = entry.Open();
                Npy.Write(s, array);
            }
        }
        catch (DirectoryNotFoundException) { throw new PinnException("cannot write file: directory not found", path); }
        catch (UnauthorizedAccessException e) { throw new PinnException($"cannot write file: {e.Message}", path, inner: e); }
        catch (IOException e) { throw new PinnException($"cannot write file: {e.Message}", path, inner: e); }
    }
}
