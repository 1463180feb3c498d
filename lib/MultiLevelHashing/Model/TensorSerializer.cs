using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>
/// The one binary layout of a tensor in the toolkit's files (checkpoints, feature caches): a type code, the rank,
/// the shape as int64, then the elements in row-major order, little-endian. Float32 and int64 only: what model
/// weights, optimizer state and backbone maps are.
/// </summary>
internal static class TensorSerializer
{
    private const byte Float32 = 1, Int64 = 2;
    private const int MaxRank = 8;

    /// <summary>Writes <paramref name="t"/> (copied to the CPU, contiguous).</summary>
    public static void Write(BinaryWriter w, Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        byte kind = c.dtype switch
        {
            ScalarType.Float32 => Float32,
            ScalarType.Int64 => Int64,
            _ => throw new NotSupportedException($"tensors of type {c.dtype} are not stored"),
        };
        w.Write(kind);
        w.Write((byte)c.ndim);
        foreach (long d in c.shape) w.Write(d);
        if (kind == Float32) w.Write(MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        else w.Write(MemoryMarshal.AsBytes(c.data<long>().ToArray().AsSpan()));
    }

    /// <summary>
    /// Reads one tensor. The shape is checked against the bytes left in the stream before anything is allocated,
    /// so a damaged length field cannot ask for terabytes; problems raise <see cref="InvalidDataException"/>.
    /// </summary>
    public static Tensor Read(BinaryReader r)
    {
        byte kind = r.ReadByte();
        int elementSize = kind switch
        {
            Float32 => 4,
            Int64 => 8,
            _ => throw new InvalidDataException($"unknown tensor type code {kind}"),
        };
        int rank = r.ReadByte();
        if (rank > MaxRank) throw new InvalidDataException($"tensor rank {rank} (at most {MaxRank})");
        var shape = new long[rank];
        long count = 1;
        long left = r.BaseStream.Length - r.BaseStream.Position - 8L * rank;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = r.ReadInt64();
            if (shape[d] < 0) throw new InvalidDataException($"negative tensor dimension {shape[d]}");
            count = shape[d] == 0 ? 0 : count > left / shape[d] ? long.MaxValue : count * shape[d];
        }
        if (count > left / elementSize)
            throw new InvalidDataException($"tensor of shape [{string.Join(", ", shape)}] needs more bytes than the file holds");
        byte[] bytes = r.ReadBytes(checked((int)(count * elementSize)));
        return kind == Float32
            ? tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape)
            : tensor(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape);
    }
}
