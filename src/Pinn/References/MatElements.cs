using System.Buffers.Binary;

namespace Pinn.References;

/// <summary>
/// Data types of MAT-file data elements (MathWorks, "MAT-File Format", level 5, table 1-1).
/// Values 8, 10 and 11 are reserved.
/// </summary>
enum MatDataType
{
    Int8 = 1, UInt8 = 2, Int16 = 3, UInt16 = 4, Int32 = 5, UInt32 = 6, Single = 7, Double = 9,
    Int64 = 12, UInt64 = 13, Matrix = 14, Compressed = 15, Utf8 = 16, Utf16 = 17, Utf32 = 18,
}

/// <summary>One data element: its type and the bounds of its data (padding excluded) in the buffer.</summary>
readonly record struct MatElement(MatDataType Type, int Start, int Length);

/// <summary>
/// A bounds-checked cursor over level-5 data elements in one byte buffer (the file, or a decompressed
/// miCOMPRESSED element), in the file's byte order. Every overrun becomes a "truncated" error naming the file
/// and the byte offset, never an index exception.
/// </summary>
sealed class MatElementReader(byte[] buffer, int start, int end, bool bigEndian, Func<string, PinnException> error, long? decompressedFrom = null)
{
    int _pos = start;

    public bool AtEnd => _pos >= end;

    /// <summary>A position as reported in messages: a file offset, or an offset into a decompressed element.</summary>
    string Where(int pos) => decompressedFrom is { } c ? $"byte {pos} of the element decompressed from byte {c}" : $"byte {pos}";

    public uint UInt32(int pos) => bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(pos, 4))
        : BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(pos, 4));

    /// <summary>
    /// The next element's tag. A tag whose upper 16 bits are non-zero is a small element: byte count in the
    /// upper half, type in the lower half, up to 4 data bytes inside the tag's 8 bytes. A normal element's data
    /// follows its 8-byte tag and is padded to a multiple of 8 — except miCOMPRESSED, whose byte count is
    /// the exact length of the zlib stream (MATLAB writes the next element right after it).
    /// </summary>
    public MatElement Next()
    {
        int tagPos = _pos;
        if (end - tagPos < 8)
            throw error($"truncated: a data element tag at {Where(tagPos)} needs 8 bytes, only {end - tagPos} left");
        uint word = UInt32(tagPos);
        int type, length, dataPos;
        if (word >> 16 != 0)
        {
            type = (int)(word & 0xFFFF);
            length = (int)(word >> 16);
            if (length > 4) throw error($"corrupt small data element at {Where(tagPos)} (it claims {length} bytes; at most 4 fit)");
            dataPos = tagPos + 4;
            _pos = tagPos + 8;
        }
        else
        {
            type = (int)word;
            uint count = UInt32(tagPos + 4);
            dataPos = tagPos + 8;
            if (count > end - dataPos)
                throw error($"truncated: the data element at {Where(tagPos)} needs {count} bytes, only {end - dataPos} left");
            length = (int)count;
            long next = (MatDataType)type == MatDataType.Compressed ? dataPos + (long)length : dataPos + Pad8(length);
            _pos = (int)Math.Min(next, end); // the last element's padding may be missing
        }
        if (!Enum.IsDefined((MatDataType)type))
            throw error($"not a valid MAT-file data element at {Where(tagPos)} (unknown data type {type}); the file is corrupt");
        return new MatElement((MatDataType)type, dataPos, length);
    }

    /// <summary>The next element, which must have one of the given types (<paramref name="what"/> names it in errors).</summary>
    public MatElement Next(string what, params MatDataType[] types)
    {
        int tagPos = _pos;
        if (AtEnd) throw error($"truncated: {what} missing at {Where(tagPos)}");
        var e = Next();
        if (!types.Contains(e.Type))
            throw error($"corrupt array element: expected {what} ({string.Join(" or ", types.Select(t => "mi" + t.ToString().ToUpperInvariant()))}) at {Where(tagPos)}, found mi{e.Type.ToString().ToUpperInvariant()}");
        return e;
    }

    public ReadOnlySpan<byte> Bytes(MatElement e) => buffer.AsSpan(e.Start, e.Length);

    /// <summary>A reader over the subelements inside <paramref name="e"/> (an miMATRIX).</summary>
    public MatElementReader Inside(MatElement e) => new(buffer, e.Start, e.Start + e.Length, bigEndian, error, decompressedFrom);

    static long Pad8(long n) => (n + 7) / 8 * 8;

    /// <summary>Byte size of one value of a numeric storage type; 0 for the others.</summary>
    public static int SizeOf(MatDataType t) => t switch
    {
        MatDataType.Int8 or MatDataType.UInt8 => 1,
        MatDataType.Int16 or MatDataType.UInt16 => 2,
        MatDataType.Int32 or MatDataType.UInt32 or MatDataType.Single => 4,
        MatDataType.Double or MatDataType.Int64 or MatDataType.UInt64 => 8,
        _ => 0,
    };

    /// <summary>
    /// The element's values as doubles. MATLAB may store an array in a narrower type than its class
    /// (a double array of small integers as miUINT8), so the storage type alone decides the decoding.
    /// </summary>
    public double[] Numbers(MatElement e, string what)
    {
        int size = SizeOf(e.Type);
        if (size == 0) throw error($"{what} is stored as mi{e.Type.ToString().ToUpperInvariant()}, which is not a numeric type");
        if (e.Length % size != 0) throw error($"corrupt {what}: {e.Length} bytes is not a whole number of {size}-byte values");
        var span = Bytes(e);
        var v = new double[e.Length / size];
        bool be = bigEndian;
        for (int i = 0; i < v.Length; i++)
        {
            var b = span.Slice(i * size, size);
            v[i] = e.Type switch
            {
                MatDataType.Int8 => (sbyte)b[0],
                MatDataType.UInt8 => b[0],
                MatDataType.Int16 => be ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
                MatDataType.UInt16 => be ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b),
                MatDataType.Int32 => be ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
                MatDataType.UInt32 => be ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b),
                MatDataType.Single => be ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b),
                MatDataType.Double => be ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b),
                MatDataType.Int64 => be ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b),
                _ => be ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b),
            };
        }
        return v;
    }

    /// <summary>Signed 32-bit integers (the dimensions subelement).</summary>
    public int[] Int32s(MatElement e, string what)
    {
        if (e.Length % 4 != 0) throw error($"corrupt {what}: {e.Length} bytes is not a whole number of 4-byte integers");
        var v = new int[e.Length / 4];
        for (int i = 0; i < v.Length; i++) v[i] = (int)UInt32(e.Start + 4 * i);
        return v;
    }
}
