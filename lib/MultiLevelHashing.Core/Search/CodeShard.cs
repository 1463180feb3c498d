using System.Globalization;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// One of <see cref="Count"/> parts of a chunked encoding (<see cref="ChunkedCodeCache"/>), numbered from 0 like a Slurm
/// array task or a Kubernetes Indexed Job completion: shard i owns every chunk c with c mod n = i. The split depends only
/// on the number of images and the chunk size, so every machine computes the same one; taking every n-th chunk (rather
/// than a block) spreads a list whose images differ in size along its length (the distractors come last) evenly.
/// </summary>
public readonly record struct CodeShard(int Index, int Count)
{
    /// <summary>The whole list: one shard.</summary>
    public static CodeShard All => new(0, 1);

    /// <summary>True when chunk <paramref name="chunk"/> belongs to this shard.</summary>
    public bool Owns(int chunk) => chunk % Count == Index;

    /// <summary>"i/n" (0 &lt;= i &lt; n); a <see cref="UserInputException"/> naming <paramref name="option"/> otherwise.</summary>
    public static CodeShard Parse(string text, string option = "--shard")
    {
        ArgumentNullException.ThrowIfNull(text);
        int slash = text.IndexOf('/');
        if (slash <= 0 || slash == text.Length - 1
            || !int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            throw new UserInputException($"{option} {text}: expected i/n, e.g. 0/4 (shards are numbered 0 to n-1)");
        if (count < 1 || index >= count)
            throw new UserInputException($"{option} {text}: the shard number must be in 0..n-1 and n at least 1");
        return new CodeShard(index, count);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}
