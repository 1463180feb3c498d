using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>Header of a <c>.npy</c> file: element type, layout, shape and where the data starts.</summary>
/// <param name="Descr">numpy type string as stored, e.g. <c>|u1</c>, <c>&lt;i8</c>.</param>
/// <param name="FortranOrder">True when the data is column-major.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
/// <param name="DataOffset">Byte offset of the first element.</param>
public sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape, long DataOffset)
{
    /// <summary>Number of elements (product of the shape).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));
}

/// <summary>
/// Reads and writes numpy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0), the exchange format for codes and
/// search results. Packed binary codes use FAISS's layout: uint8, N x K/8, bit j of a code in byte j/8 at bit j%8
/// (see <see cref="BitPacking"/>). k-NN results are written as int64 ids (FAISS labels, by <c>mlh knn</c>) and int32 distances.
/// Supported element types: uint8, int32, int64, float32, float64 (little-endian); C or Fortran order.
/// Writes are atomic (temporary file, then rename). Bad files raise <see cref="UserInputException"/> naming the file.
/// </summary>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a 2-D uint8 array (e.g. packed codes N x K/8).</summary>
    public static Array2D<byte> ReadUInt8(string path) => Read<byte>(path);

    /// <summary>Reads a 2-D int32 array (e.g. distances Q x k).</summary>
    public static Array2D<int> ReadInt32(string path) => Read<int>(path);

    /// <summary>Reads a 2-D int64 array (e.g. result ids Q x k).</summary>
    public static Array2D<long> ReadInt64(string path) => Read<long>(path);

    /// <summary>Reads a 2-D float32 array (e.g. real-valued codes or descriptors).</summary>
    public static Array2D<float> ReadFloat32(string path) => Read<float>(path);

    /// <summary>Writes a 2-D uint8 array atomically.</summary>
    public static void WriteUInt8(string path, Array2D<byte> array) => Write(path, array);

    /// <summary>Writes a 2-D int32 array atomically.</summary>
    public static void WriteInt32(string path, Array2D<int> array) => Write(path, array);

    /// <summary>Writes a 2-D int64 array atomically.</summary>
    public static void WriteInt64(string path, Array2D<long> array) => Write(path, array);

    /// <summary>Writes a 2-D float32 array atomically.</summary>
    public static void WriteFloat32(string path, Array2D<float> array) => Write(path, array);

    /// <summary>
    /// Reads a 2-D array whose element type must be exactly <typeparamref name="T"/> (no silent conversion).
    /// A 1-D array of length n is read as n x 1.
    /// </summary>
    public static Array2D<T> Read<T>(string path) where T : unmanaged
    {
        using var stream = OpenRead(path);
        var header = ReadHeader(stream, path);
        string expected = DescrOf<T>();
        if (!SameType(header.Descr, expected))
            throw UserInputException.InFile(path, $"element type is '{header.Descr}' ({Describe(header.Descr)}), expected {Describe(expected)}.");
        (int rows, int cols) = header.Shape.Length switch
        {
            2 => (ToInt(header.Shape[0], path), ToInt(header.Shape[1], path)),
            1 => (ToInt(header.Shape[0], path), 1),
            _ => throw UserInputException.InFile(path, $"expected a 2-D array, found shape ({string.Join(", ", header.Shape)})."),
        };
        long count = (long)rows * cols;
        int size = Marshal.SizeOf<T>();
        long needed = count > long.MaxValue / size ? long.MaxValue : count * size;
        long available = stream.Length - header.DataOffset;
        // numpy writes exactly the data; a shorter file is truncated, a longer one has a damaged header or trailing junk.
        if (available < needed)
            throw UserInputException.InFile(path, $"file is truncated: shape ({rows}, {cols}) needs {needed} data bytes, found {available}.");
        if (available > needed)
            throw UserInputException.InFile(path, $"damaged: shape ({rows}, {cols}) needs {needed} data bytes, the file holds {available} (damaged header or trailing bytes).");
        if (count > Array.MaxLength)
            throw UserInputException.InFile(path, $"array of {count} elements is too large to load into memory.");
        var data = new T[count];
        stream.Position = header.DataOffset;
        stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        if (header.FortranOrder && header.Shape.Length == 2 && rows > 1 && cols > 1)
            data = Transpose(data, cols, rows);
        return new Array2D<T>(rows, cols, data);
    }

    /// <summary>Reads only the header (type, order, shape, data offset) of a <c>.npy</c> file.</summary>
    public static NpyHeader ReadHeader(string path)
    {
        using var stream = OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>Writes a 2-D array as <c>.npy</c> version 1.0 (C order), atomically.</summary>
    public static void Write<T>(string path, Array2D<T> array) where T : unmanaged
        => Write<T>(path, array.Data, array.Rows, array.Columns);

    /// <summary>Writes <paramref name="data"/> (row-major, rows x columns) as a 2-D <c>.npy</c> array, atomically.</summary>
    public static void Write<T>(string path, ReadOnlySpan<T> data, int rows, int columns) where T : unmanaged
    {
        if ((long)rows * columns != data.Length)
            throw new ArgumentException($"data has {data.Length} elements, expected {rows} x {columns}.", nameof(data));
        byte[] header = BuildHeader(DescrOf<T>(), rows, columns);
        using var file = AtomicFile.Begin(path);
        file.Stream.Write(header);
        file.Stream.Write(MemoryMarshal.AsBytes(data));
        file.Commit();
    }

    /// <summary>The numpy type string of <typeparamref name="T"/> as numpy writes it on little-endian machines.</summary>
    public static string DescrOf<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) return "|u1";
        if (typeof(T) == typeof(int)) return "<i4";
        if (typeof(T) == typeof(long)) return "<i8";
        if (typeof(T) == typeof(float)) return "<f4";
        if (typeof(T) == typeof(double)) return "<f8";
        throw new NotSupportedException($".npy element type {typeof(T).Name} is not supported.");
    }

    internal static byte[] BuildHeader(string descr, int rows, int columns)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}";
        // numpy pads the header with spaces so that magic + lengths + dict + '\n' is a multiple of 64.
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        string text = dict + new string(' ', padding) + "\n";
        var bytes = new byte[Magic.Length + 4 + text.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1; // major version
        bytes[7] = 0; // minor version
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 2), checked((ushort)text.Length));
        Encoding.ASCII.GetBytes(text, bytes.AsSpan(10));
        return bytes;
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (FileNotFoundException) { throw UserInputException.InFile(path, "file not found."); }
        catch (DirectoryNotFoundException) { throw UserInputException.InFile(path, "directory not found."); }
        catch (UnauthorizedAccessException) { throw UserInputException.InFile(path, "permission denied."); }
    }

    private static NpyHeader ReadHeader(FileStream stream, string path)
    {
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix, 10, throwOnEndOfStream: false);
        if (got < 10 || !prefix[..6].SequenceEqual(Magic))
            throw UserInputException.InFile(path, "not a .npy file (missing \\x93NUMPY magic).");
        byte major = prefix[6];
        long headerLength;
        int lengthBytes;
        if (major == 1) { headerLength = BitConverter.ToUInt16(prefix[8..10]); lengthBytes = 2; }
        else if (major is 2 or 3)
        {
            if (got < 12) throw UserInputException.InFile(path, "truncated .npy header.");
            headerLength = BitConverter.ToUInt32(prefix[8..12]); lengthBytes = 4;
        }
        else throw UserInputException.InFile(path, $"unsupported .npy format version {major}.{prefix[7]}.");
        long dataOffset = 8 + lengthBytes + headerLength;
        if (dataOffset > stream.Length || headerLength > 1 << 20)
            throw UserInputException.InFile(path, "truncated or corrupt .npy header.");
        var text = new byte[headerLength];
        stream.Position = 8 + lengthBytes;
        stream.ReadExactly(text);
        string dict = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(text);
        return ParseDict(dict, dataOffset, path);
    }

    private static NpyHeader ParseDict(string dict, long dataOffset, string path)
    {
        var descr = Regex.Match(dict, @"'descr'\s*:\s*'([^']*)'");
        var order = Regex.Match(dict, @"'fortran_order'\s*:\s*(True|False)");
        var shape = Regex.Match(dict, @"'shape'\s*:\s*\(([^)]*)\)");
        if (!descr.Success || !order.Success || !shape.Success)
            throw UserInputException.InFile(path, $"malformed .npy header: {dict.Trim()}");
        var dims = new List<long>();
        foreach (string part in shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out long d))
                throw UserInputException.InFile(path, $"malformed shape in .npy header: ({shape.Groups[1].Value}).");
            dims.Add(d);
        }
        return new NpyHeader(descr.Groups[1].Value, order.Groups[1].Value == "True", dims.ToArray(), dataOffset);
    }

    private static bool SameType(string actual, string expected)
    {
        if (actual == expected) return true;
        // Single-byte types have no byte order; numpy may write '|u1', '<u1' or '=u1'.
        if (expected == "|u1") return actual is "<u1" or "=u1" or "|u1" or ">u1";
        // '=' means native order, which is little-endian on every platform we run on.
        return BitConverter.IsLittleEndian && actual.Length == expected.Length && actual[0] == '=' && actual[1..] == expected[1..];
    }

    private static string Describe(string descr) => descr.TrimStart('<', '>', '|', '=') switch
    {
        "u1" => "uint8",
        "i1" => "int8",
        "i2" => "int16",
        "u2" => "uint16",
        "i4" => "int32",
        "u4" => "uint32",
        "i8" => "int64",
        "u8" => "uint64",
        "f2" => "float16",
        "f4" => "float32",
        "f8" => "float64",
        "b1" => "bool",
        _ => "unsupported type",
    } + (descr.StartsWith('>') ? ", big-endian" : "");

    private static int ToInt(long value, string path)
        => value is >= 0 and <= int.MaxValue ? (int)value
           : throw UserInputException.InFile(path, $"dimension {value} is out of range.");

    private static T[] Transpose<T>(T[] columnMajor, int rowsOfStored, int colsOfStored)
    {
        // Stored column-major data of a (r, c) array equals row-major data of its (c, r) transpose.
        var result = new T[columnMajor.Length];
        for (int i = 0; i < rowsOfStored; i++)
            for (int j = 0; j < colsOfStored; j++)
                result[j * rowsOfStored + i] = columnMajor[i * colsOfStored + j];
        return result;
    }
}
