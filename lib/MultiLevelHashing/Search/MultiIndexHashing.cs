using System.Numerics;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// Exact multi-index hashing (Norouzi, Punjani, Fleet, "Fast Exact Search in Hamming Space with Multi-Index
/// Hashing", TPAMI 2014), our extension of the paper's stage-1 Hamming ranking to databases of millions of codes.
/// The K bits are split into m disjoint contiguous substrings; one table per substring maps each substring value
/// to the database rows holding it (compressed rows: a direct offset table of 2^b + 1 entries and the row ids).
/// By the pigeonhole principle, a code within distance m*s + j of the query has at least one of substrings 0..j
/// within distance s, or one of the others within s - 1. The search therefore probes substring radii
/// s = 0, 1, 2, ... in order, verifies every new candidate with its full distance, and stops as soon as k
/// candidates lie within the radius already proven complete; the top-k by (distance, index) is then exact and
/// identical to the linear scan's.
/// Each query carries a work budget in the units of the scan's cost; a query that exceeds it (codes whose near
/// neighbours are far, such as uniform random codes) is answered by the scan instead (see <see cref="HammingIndex"/>).
/// </summary>
public sealed class MultiIndexHashing
{
    private readonly PackedCodes _codes;
    private readonly int[] _start;   // first bit of each substring
    private readonly int[] _length;  // bits of each substring (<= 31)
    private readonly SubstringTable[] _tables;

    private MultiIndexHashing(PackedCodes codes, int count, int[] start, int[] length, SubstringTable[] tables)
    {
        _codes = codes;
        IndexedCount = count;
        _start = start;
        _length = length;
        _tables = tables;
    }

    /// <summary>Number of substrings (hash tables) m.</summary>
    public int Substrings => _start.Length;

    /// <summary>Bit length of each substring.</summary>
    public IReadOnlyList<int> SubstringBits => _length;

    /// <summary>Codes indexed: rows [0, IndexedCount) of the database at build time.</summary>
    public int IndexedCount { get; }

    /// <summary>The database the index was built over.</summary>
    public PackedCodes Codes => _codes;

    /// <summary>Bytes held by the tables (offsets and row ids), excluding the codes themselves.</summary>
    public long TableBytes => _tables.Sum(t => t.Bytes);

    /// <summary>
    /// Norouzi et al.'s choice m = K / log2(N), rounded up so that every substring has at most log2(N) bits
    /// (tables of at most N entries, so the index stays within about twice the size of codes plus ids); at most 31 bits.
    /// </summary>
    public static int ChooseSubstringCount(long n, int bits)
    {
        BitPacking.ValidateBits(bits);
        double log2 = Math.Log2(Math.Max(2, n));
        int m = (int)Math.Ceiling(bits / Math.Min(31.0, Math.Max(1.0, Math.Floor(log2))));
        return Math.Clamp(m, 1, bits);
    }

    /// <summary>Builds the tables over all codes of <paramref name="codes"/> (m chosen by <see cref="ChooseSubstringCount"/> unless given).</summary>
    public static MultiIndexHashing Build(PackedCodes codes, int? substrings = null, SearchOptions? options = null,
                                          IProgress<ProgressReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        int n = codes.Count, bits = codes.Bits;
        int m = substrings ?? ChooseSubstringCount(n, bits);
        if (m < 1 || m > bits) throw new ArgumentOutOfRangeException(nameof(substrings), m, $"substring count must be in [1, {bits}].");
        var start = new int[m];
        var length = new int[m];
        for (int i = 0, s = 0; i < m; i++)
        {
            // Sizes differ by at most one bit; longer substrings first.
            length[i] = bits / m + (i < bits % m ? 1 : 0);
            start[i] = s;
            s += length[i];
        }
        if (length.Max() > 31)
            throw new ArgumentOutOfRangeException(nameof(substrings), m, $"{m} substrings of a {bits}-bit code exceed 31 bits each; use at least {(bits + 30) / 31}.");
        var tables = new SubstringTable[m];
        int threads = (options ?? SearchOptions.Default).EffectiveThreads;
        int done = 0;
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            int words = codes.WordsPerCode;
            var all = codes.Words(0, n);
            var keys = new uint[n];
            for (int r = 0; r < n; r++) keys[r] = Extract(all.Slice(r * words, words), start[i], length[i]);
            tables[i] = SubstringTable.Build(keys, length[i]);
            progress.Report("build multi-index tables", Interlocked.Increment(ref done), m, "tables");
        });
        return new MultiIndexHashing(codes, n, start, length, tables);
    }

    internal static uint Extract(ReadOnlySpan<ulong> code, int start, int length)
    {
        int w = start >> 6, off = start & 63;
        ulong v = code[w] >> off;
        if (off + length > 64) v |= code[w + 1] << (64 - off);
        return (uint)(v & ((1UL << length) - 1));
    }

    /// <summary>Per-thread scratch: visited marks and candidate buffers, reused across queries.</summary>
    internal sealed class Scratch
    {
        public readonly ulong[] Visited;
        public readonly List<int> Touched = new();
        public readonly int[] Histogram;
        public readonly uint[] QuerySub;
        public long[] Buffer = new long[256];
        public int Count;

        public Scratch(int n, int bits, int m)
        {
            Visited = new ulong[(n + 63) / 64];
            Histogram = new int[bits + 1];
            QuerySub = new uint[m];
        }

        public void Clear()
        {
            foreach (int id in Touched) Visited[id >> 6] = 0;
            Touched.Clear();
            Array.Clear(Histogram);
            Count = 0;
        }
    }

    internal Scratch NewScratch() => new(IndexedCount, _codes.Bits, Substrings);

    /// <summary>Cost model of one query, in nanoseconds measured on the reference machine (see the benchmarks).</summary>
    internal readonly record struct Budget(double Limit)
    {
        public static Budget Unlimited => new(double.PositiveInfinity);
    }

    // Measured costs (ns) used by the budget; see tests/MultiLevelHashing.Benchmarks/results/search.md.
    internal const double LookupNs = 6.0;
    internal const double CandidateNsBase = 8.0;
    internal const double CandidateNsPerWord = 1.0;

    internal static double ScanNsPerCode(int words) => words switch { 1 => 0.6, 2 => 1.0, 4 => 1.7, _ => 0.45 * words };

    /// <summary>
    /// Exact k-NN of one query. Returns false (and leaves the output untouched) when the estimated work exceeds
    /// <paramref name="budget"/>; the caller then answers the query by scanning.
    /// </summary>
    internal bool TryKnn(ReadOnlySpan<ulong> query, int k, Scratch scratch, Budget budget, Span<long> outIds, Span<int> outDist, out int found)
    {
        int m = Substrings, words = _codes.WordsPerCode, bits = _codes.Bits;
        found = 0;
        scratch.Clear();
        for (int i = 0; i < m; i++) scratch.QuerySub[i] = Extract(query, _start[i], _length[i]);
        double candidateNs = CandidateNsBase + CandidateNsPerWord * words;
        double spent = 0;
        int threshold = bits; // every kept candidate has distance <= threshold
        int maxLength = _length.Max();
        var all = _codes.Words(0, IndexedCount);
        bool complete = false;
        for (int s = 0; s <= maxLength && !complete; s++)
        {
            for (int i = 0; i < m; i++)
            {
                if (s <= _length[i] && Binomial(_length[i], s) > IndexedCount - scratch.Touched.Count)
                {
                    // Probing would cost more lookups than there are unseen codes: verify those directly instead.
                    spent += (IndexedCount - scratch.Touched.Count) * candidateNs;
                    if (spent > budget.Limit) return false;
                    VisitRemaining(query, scratch, (d, id) =>
                    {
                        scratch.Histogram[d]++;
                        if (d <= threshold) Keep(scratch, d, id, k, ref threshold);
                    });
                    complete = true;
                    break;
                }
                if (s <= _length[i])
                {
                    long lookups = 0;
                    int len = _length[i];
                    uint qs = scratch.QuerySub[i];
                    var table = _tables[i];
                    var ids = table.Ids;
                    // Enumerate substring values at distance exactly s (Gosper's hack over masks of s set bits).
                    uint mask = s == 0 ? 0u : (1u << s) - 1;
                    uint limit = len == 32 ? uint.MaxValue : (1u << len);
                    int newCandidates = 0;
                    while (true)
                    {
                        uint key = qs ^ mask;
                        table.Lookup(key, out int from, out int to);
                        lookups++;
                        for (int p = from; p < to; p++)
                        {
                            int id = ids[p];
                            ref ulong vw = ref scratch.Visited[id >> 6];
                            ulong bit = 1UL << (id & 63);
                            if ((vw & bit) != 0) continue;
                            vw |= bit;
                            scratch.Touched.Add(id);
                            newCandidates++;
                            int d = BitPacking.Hamming(query, all.Slice(id * words, words));
                            scratch.Histogram[d]++;
                            if (d <= threshold) Keep(scratch, d, id, k, ref threshold);
                        }
                        if (s == 0) break;
                        // Next mask with the same popcount; stop after the last one below 2^len.
                        uint c = mask & (uint)-(int)mask;
                        uint r = mask + c;
                        if (r == 0 || r >= limit && len < 32) break;
                        mask = (((r ^ mask) >> 2) / c) | r;
                        if (mask >= limit) break;
                        if ((lookups & 255) == 0 && spent + lookups * LookupNs > budget.Limit) return false;
                    }
                    spent += lookups * LookupNs + newCandidates * candidateNs;
                    if (spent > budget.Limit) return false;
                    if (s == len && scratch.Touched.Count == IndexedCount) { complete = true; break; }
                }
                // All codes within m*s + i are now known; stop once k of the found ones lie within it.
                long proven = (long)m * s + i;
                int within = 0;
                for (int d = 0; d <= Math.Min(proven, bits) && within < k; d++) within += scratch.Histogram[d];
                if (within >= k || scratch.Touched.Count == IndexedCount) { complete = true; break; }
            }
        }
        found = Finish(scratch, k, outIds, outDist);
        return true;
    }

    private delegate void Visit(int distance, int id);

    private void VisitRemaining(ReadOnlySpan<ulong> query, Scratch scratch, Visit visit)
    {
        int words = _codes.WordsPerCode;
        var all = _codes.Words(0, IndexedCount);
        for (int id = 0; id < IndexedCount; id++)
        {
            if ((scratch.Visited[id >> 6] & (1UL << (id & 63))) != 0) continue;
            scratch.Visited[id >> 6] |= 1UL << (id & 63);
            scratch.Touched.Add(id);
            visit(BitPacking.Hamming(query, all.Slice(id * words, words)), id);
        }
    }

    /// <summary>C(n, r), saturating at long.MaxValue.</summary>
    internal static long Binomial(int n, int r)
    {
        if (r < 0 || r > n) return 0;
        r = Math.Min(r, n - r);
        double c = 1;
        for (int i = 1; i <= r; i++) c = c * (n - r + i) / i;
        return c >= long.MaxValue ? long.MaxValue : (long)Math.Round(c);
    }

    private static void Keep(Scratch scratch, int d, int id, int k, ref int threshold)
    {
        if (scratch.Count == scratch.Buffer.Length)
        {
            Compact(scratch, k, ref threshold);
            if (d > threshold) return;
            if (scratch.Count == scratch.Buffer.Length) Array.Resize(ref scratch.Buffer, scratch.Buffer.Length * 2);
        }
        scratch.Buffer[scratch.Count++] = ((long)d << 32) | (uint)id;
    }

    private static void Compact(Scratch scratch, int k, ref int threshold)
    {
        // Sort by (distance, index) and keep the best k; the k-th distance bounds all later useful candidates.
        var span = scratch.Buffer.AsSpan(0, scratch.Count);
        span.Sort();
        if (scratch.Count >= k)
        {
            scratch.Count = k;
            threshold = (int)(span[k - 1] >> 32);
        }
        // Grow the buffer when k itself is large.
        if (scratch.Buffer.Length < 2 * k + 64) Array.Resize(ref scratch.Buffer, 2 * k + 64);
    }

    private static int Finish(Scratch scratch, int k, Span<long> outIds, Span<int> outDist)
    {
        var span = scratch.Buffer.AsSpan(0, scratch.Count);
        span.Sort();
        int n = Math.Min(k, span.Length);
        for (int j = 0; j < n; j++)
        {
            outIds[j] = (int)(uint)span[j];
            outDist[j] = (int)(span[j] >> 32);
        }
        return n;
    }

    /// <summary>
    /// All codes within <paramref name="radius"/> of one query: substrings 0..j at radius a and the rest at a - 1,
    /// where radius = m*a + j. Returns false when the work exceeds <paramref name="budget"/>.
    /// </summary>
    internal bool TryRange(ReadOnlySpan<ulong> query, int radius, Scratch scratch, Budget budget, List<long> found)
    {
        int m = Substrings, words = _codes.WordsPerCode;
        scratch.Clear();
        found.Clear();
        int a = radius / m, j = radius % m;
        double candidateNs = CandidateNsBase + CandidateNsPerWord * words;
        double spent = 0;
        var all = _codes.Words(0, IndexedCount);
        for (int i = 0; i < m; i++)
        {
            int subRadius = Math.Min(i <= j ? a : a - 1, _length[i]);
            uint qs = Extract(query, _start[i], _length[i]);
            int len = _length[i];
            for (int s = 0; s <= subRadius; s++)
            {
                if (Binomial(len, s) > IndexedCount - scratch.Touched.Count)
                {
                    // Cheaper to verify every unseen code than to probe: done after that.
                    spent += (IndexedCount - scratch.Touched.Count) * candidateNs;
                    if (spent > budget.Limit) return false;
                    VisitRemaining(query, scratch, (d, id) => { if (d <= radius) found.Add(((long)d << 32) | (uint)id); });
                    found.Sort();
                    return true;
                }
                uint mask = s == 0 ? 0u : (1u << s) - 1;
                uint limit = 1u << len;
                long lookups = 0;
                int newCandidates = 0;
                while (true)
                {
                    uint key = qs ^ mask;
                    lookups++;
                    _tables[i].Lookup(key, out int from, out int to);
                    for (int p = from; p < to; p++)
                    {
                        int id = _tables[i].Ids[p];
                        ref ulong vw = ref scratch.Visited[id >> 6];
                        ulong bit = 1UL << (id & 63);
                        if ((vw & bit) != 0) continue;
                        vw |= bit;
                        scratch.Touched.Add(id);
                        newCandidates++;
                        int d = BitPacking.Hamming(query, all.Slice(id * words, words));
                        if (d <= radius) found.Add(((long)d << 32) | (uint)id);
                    }
                    if (s == 0) break;
                    uint c = mask & (uint)-(int)mask;
                    uint r = mask + c;
                    if (r >= limit) break;
                    mask = (((r ^ mask) >> 2) / c) | r;
                    if (mask >= limit) break;
                    if ((lookups & 255) == 0 && spent + lookups * LookupNs > budget.Limit) return false;
                }
                spent += lookups * LookupNs + newCandidates * candidateNs;
                if (spent > budget.Limit) return false;
            }
        }
        found.Sort();
        return true;
    }
}
