using System.Numerics;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// A set of selected bits of a K-bit code: the paper's bit selection, which keeps the L local bits most pertinent
/// to the object (dataset-level: one mask for all queries; query-adaptive: one mask per query).
/// </summary>
public sealed class BitMask
{
    private BitMask(int bits, ulong[] words)
    {
        Bits = bits;
        Words = words;
        Count = words.Sum(w => BitOperations.PopCount(w));
    }

    /// <summary>Code length K the mask applies to.</summary>
    public int Bits { get; }

    /// <summary>The mask as 64-bit words (bit j of the code = bit j%64 of word j/64).</summary>
    public ulong[] Words { get; }

    /// <summary>Number of selected bits L.</summary>
    public int Count { get; }

    /// <summary>A mask selecting the given bit positions of a <paramref name="bits"/>-bit code.</summary>
    public static BitMask FromIndices(int bits, IEnumerable<int> selected)
    {
        BitPacking.ValidateBits(bits);
        var words = new ulong[BitPacking.WordsPerCode(bits)];
        foreach (int j in selected)
        {
            if ((uint)j >= (uint)bits) throw new ArgumentOutOfRangeException(nameof(selected), j, $"bit index must be in [0, {bits}).");
            words[j >> 6] |= 1UL << (j & 63);
        }
        return new BitMask(bits, words);
    }

    /// <summary>All <paramref name="bits"/> bits selected.</summary>
    public static BitMask All(int bits) => FromIndices(bits, Enumerable.Range(0, bits));

    /// <summary>Selected bit positions in increasing order.</summary>
    public IEnumerable<int> Indices()
    {
        for (int j = 0; j < Bits; j++)
            if (((Words[j >> 6] >> (j & 63)) & 1) != 0) yield return j;
    }
}

/// <summary>How the paper's multi-level search runs (lib/MultiLevelHashing/README.md section 2.8).</summary>
public sealed record MultiLevelOptions
{
    /// <summary>N and lambda (<see cref="MultiLevelSetting.Default"/> unless given); the masks passed to the search are the selected bits.</summary>
    public MultiLevelSetting Setting { get; init; } = MultiLevelSetting.Default;

    /// <summary>Length of the returned ranking; 0 ranks the whole database.</summary>
    public int ResultCount { get; init; }

    /// <summary>Linear scan or multi-index hashing for stage 1 (identical results).</summary>
    public SearchMethod Stage1 { get; init; } = SearchMethod.Scan;

    /// <summary>Threads for stage 1; 0 = all cores.</summary>
    public int Threads { get; init; }
}

/// <summary>
/// One query's ranking. The first <see cref="Reranked"/> entries are ordered by <see cref="Scores"/> (ties by lower
/// database index); the rest keep stage-1 order (global Hamming distance, then index), with score NaN and
/// selected distance -1. Ids are int32 database row indices, as in <see cref="KnnResult"/>.
/// </summary>
public sealed record MultiLevelRanking(int[] Ids, int[] GlobalDistances, int[] SelectedDistances, double[] Scores, int Reranked);

/// <summary>
/// The paper's multi-level search (a reconstruction: only the abstract is public). Stage 1 ranks the whole
/// database by Hamming distance on the global code (linear scan or multi-index hashing); stage 2 re-ranks the
/// best N by d = d_g / Kg + lambda * d_sel / L, where d_sel is the Hamming distance over the L selected local bits
/// (a dataset-level or per-query <see cref="BitMask"/>). The rest of the ranking keeps stage-1 order; ties are
/// broken by database index throughout.
/// </summary>
public sealed class MultiLevelSearch
{
    private readonly HammingIndex _stage1;

    /// <summary>A search over global codes and local codes of the same N images (row i of both = image i).</summary>
    public MultiLevelSearch(PackedCodes global, PackedCodes local, SearchMethod stage1 = SearchMethod.Scan)
    {
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(local);
        if (global.Count != local.Count)
            throw new ArgumentException($"{global.Count} global codes but {local.Count} local codes; both levels must describe the same images.");
        Global = global;
        Local = local;
        _stage1 = new HammingIndex(global, stage1);
    }

    /// <summary>Global codes (Kg bits).</summary>
    public PackedCodes Global { get; }

    /// <summary>Local codes (Kl bits).</summary>
    public PackedCodes Local { get; }

    /// <summary>
    /// Ranks the database for every query. <paramref name="masks"/> holds one mask (dataset-level selection) or
    /// one per query (query-adaptive selection), each over the local code length.
    /// </summary>
    public MultiLevelRanking[] Search(PackedCodes globalQueries, PackedCodes localQueries, IReadOnlyList<BitMask> masks,
                                      MultiLevelOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        options ??= new MultiLevelOptions();
        int q = globalQueries.Count;
        if (localQueries.Count != q) throw new ArgumentException($"{q} global query codes but {localQueries.Count} local ones.");
        if (localQueries.Bits != Local.Bits) throw new ArgumentException($"local queries have {localQueries.Bits} bits, the database {Local.Bits}.");
        if (masks.Count != 1 && masks.Count != q) throw new ArgumentException($"give one mask (dataset-level) or one per query ({q}); got {masks.Count}.");
        foreach (var mask in masks)
            if (mask.Bits != Local.Bits) throw new ArgumentException($"a mask is over {mask.Bits} bits but local codes have {Local.Bits}.");
        if (options.Setting.Candidates < 0) throw new ArgumentOutOfRangeException(nameof(options), "Candidates must be >= 0.");
        if (!double.IsFinite(options.Setting.Lambda)) throw new ArgumentOutOfRangeException(nameof(options), "Lambda must be finite.");
        int n = Global.Count;
        var result = new MultiLevelRanking[q];
        if (n == 0)
        {
            for (int i = 0; i < q; i++) result[i] = new MultiLevelRanking([], [], [], [], 0);
            return result;
        }
        int length = options.ResultCount <= 0 ? n : Math.Min(options.ResultCount, n);
        int k = Math.Max(length, Math.Min(options.Setting.Candidates, n));
        var stage1 = _stage1.Search(globalQueries, k, new SearchOptions(options.Threads), progress);
        int words = Local.WordsPerCode, kg = Global.Bits;
        for (int i = 0; i < q; i++)
        {
            var mask = masks.Count == 1 ? masks[0] : masks[i];
            int l = mask.Count;
            var ids = stage1.Ids.Row(i);
            var dg = stage1.Distances.Row(i);
            int rerank = Math.Min(options.Setting.Candidates, k);
            var lq = localQueries.Code(i);
            var entries = new (double Score, int Id, int Dg, int Dsel)[rerank];
            for (int j = 0; j < rerank; j++)
            {
                int id = ids[j];
                var code = Local.Code(id);
                int dsel = 0;
                for (int w = 0; w < words; w++) dsel += BitOperations.PopCount((lq[w] ^ code[w]) & mask.Words[w]);
                // With no selected bits the local term is absent (d_sel / L undefined).
                double score = dg[j] / (double)kg + (l > 0 ? options.Setting.Lambda * dsel / l : 0.0);
                entries[j] = (score, id, dg[j], dsel);
            }
            Array.Sort(entries, (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : a.Id.CompareTo(b.Id));
            var outIds = new int[length];
            var outDg = new int[length];
            var outDsel = new int[length];
            var outScore = new double[length];
            for (int j = 0; j < length; j++)
            {
                if (j < rerank)
                {
                    (outScore[j], outIds[j], outDg[j], outDsel[j]) = entries[j];
                }
                else
                {
                    outIds[j] = ids[j];
                    outDg[j] = dg[j];
                    outDsel[j] = -1;
                    outScore[j] = double.NaN;
                }
            }
            result[i] = new MultiLevelRanking(outIds, outDg, outDsel, outScore, Math.Min(rerank, length));
        }
        return result;
    }
}
