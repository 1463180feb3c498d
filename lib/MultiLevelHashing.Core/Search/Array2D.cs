namespace MultiLevelHashing.Search;

/// <summary>
/// A dense row-major matrix of <typeparamref name="T"/>: the in-memory form of a 2-D <c>.npy</c> array
/// (packed codes N x K/8 as bytes, result ids and distances Q x k as int32 with ids widened to int64 in the
/// <c>mlh knn</c> file, real-valued codes as float32).
/// </summary>
/// <typeparam name="T">byte, int, long, float or double.</typeparam>
public sealed class Array2D<T> where T : unmanaged
{
    /// <summary>Wraps <paramref name="data"/> (row-major, length rows*columns) without copying.</summary>
    public Array2D(int rows, int columns, T[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentNullException.ThrowIfNull(data);
        if ((long)rows * columns != data.LongLength)
            throw new ArgumentException($"data has {data.LongLength} elements, expected {rows} x {columns}.", nameof(data));
        Rows = rows;
        Columns = columns;
        Data = data;
    }

    /// <summary>A zero-filled rows x columns matrix.</summary>
    public Array2D(int rows, int columns) : this(rows, columns, new T[checked((long)rows * columns)]) { }

    /// <summary>Number of rows (first dimension).</summary>
    public int Rows { get; }

    /// <summary>Number of columns (second dimension).</summary>
    public int Columns { get; }

    /// <summary>The elements, row after row.</summary>
    public T[] Data { get; }

    /// <summary>Row <paramref name="row"/> as a span over <see cref="Data"/>.</summary>
    public Span<T> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {Rows}).");
        return Data.AsSpan(row * Columns, Columns);
    }

    /// <summary>Element at (<paramref name="row"/>, <paramref name="column"/>).</summary>
    public ref T this[int row, int column]
    {
        get
        {
            if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column));
            return ref Row(row)[column];
        }
    }
}
