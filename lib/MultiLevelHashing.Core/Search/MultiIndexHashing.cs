using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics.X86;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// Exact multi-index hashing (Norouzi, Punjani, Fleet, "Fast Exact Search in Hamming Space with Multi-Index
/// Hashing", TPAMI 2014), our extension of the paper's stage-1 Hamming ranking to databases of millions of codes.
/// The K bits are split into m disjoint contiguous substrings; one table per substring maps each substring value
/// to the database rows holding it (<see cref="SubstringTable"/>: compressed rows behind a direct offset table, or a
/// hash of the values present when substrings are long).
/// By the pigeonhole principle, a code within distance m*s + j of the query has at least one of substrings 0..j
/// within distance s, or one of the others within s - 1. The search therefore probes substring radii
/// s = 0, 1, 2, ... in order, verifies every new candidate with its full distance, and stops as soon as k
/// candidates lie within the radius already proven complete; the top-k by (distance, index) is then exact and
/// identical to the linear scan's.
/// Duplicates across tables are recognised from the candidate's own substrings (it was met before if some table
/// already probed it within its radius), which saves a visited bitmap and its cache misses. Each query carries a
/// work budget from a measured cost model (a lookup or a candidate costs a cache miss, a scanned code a fraction of
/// a nanosecond); a query that exceeds it, or is predicted to from the codes it has met (codes whose near neighbours
/// are far, such as uniform random codes, or the 100th neighbour in another cluster), is answered by the scan instead
/// (see <see cref="HammingIndex"/> and lib/MultiLevelHashing/README.md section 4.4).
/// </summary>
public sealed unsafe class MultiIndexHashing
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

    /// <summary>Per-thread scratch reused across queries.</summary>
    internal sealed class Scratch
    {
        public readonly int[] Histogram;
        public readonly uint[] QuerySub;
        /// <summary>Largest substring radius probed so far in each table (-1: none).</summary>
        public readonly int[] Probed;
        public long[] Buffer = new long[256];
        public int Count;
        public int Threshold;
        public int Seen;
        public long Lookups;
        public long Candidates;
        public double Spent;

        public Scratch(int bits, int m)
        {
            Histogram = new int[bits + 1];
            QuerySub = new uint[m];
            Probed = new int[m];
        }

        public void Reset(int bits)
        {
            Array.Clear(Histogram);
            Array.Fill(Probed, -1);
            Count = 0;
            Threshold = bits;
            Seen = 0;
            Lookups = 0;
            Candidates = 0;
            Spent = 0;
        }
    }

    internal Scratch NewScratch() => new(_codes.Bits, Substrings);

    /// <summary>Work limit of one query, in nanoseconds of the cost model below.</summary>
    internal readonly record struct Budget(double Limit)
    {
        public static Budget Unlimited => new(double.PositiveInfinity);
    }

    // Cost model (ns), measured with `dotnet run -c Release --project tests/MultiLevelHashing.Benchmarks -- calibrate`:
    // a table lookup and a candidate each cost about one or two cache misses, a scanned code a fraction of a nanosecond.
    internal const double LookupNs = 100.0;
    internal const double CandidateNs = 150.0;

    /// <summary>What <see cref="Probe"/> charges for verifying every code when that is cheaper than its lookups: a scan, plus the unseen codes' candidate work.</summary>
    private double VerifyAllCost(long unseen) => IndexedCount * ScanNsPerCode(_codes.WordsPerCode) + unseen * CandidateNs * 0.1;

    internal static double ScanNsPerCode(int words) => words switch { 1 => 0.5, 2 => 0.9, 4 => 1.6, _ => 0.45 * words };

    private interface IVisitor
    {
        void Visit(int distance, int id, Scratch scratch);
    }

    private struct KnnVisitor(int k) : IVisitor
    {
        public void Visit(int d, int id, Scratch scratch)
        {
            scratch.Histogram[d]++;
            if (d <= scratch.Threshold) Keep(scratch, d, id, k);
        }
    }

    private struct RangeVisitor(int radius, List<long> found) : IVisitor
    {
        public void Visit(int d, int id, Scratch scratch)
        {
            if (d <= radius) found.Add(Key(d, id));
        }
    }

    /// <summary>
    /// Whether a code was already met: some table j holds it within the radius already probed there.
    /// Recomputing this from the code (which verification loads anyway) replaces a visited bitmap and its misses.
    /// </summary>
    private bool SeenBefore(ReadOnlySpan<ulong> code, Scratch scratch)
    {
        var probed = scratch.Probed;
        for (int j = 0; j < probed.Length; j++)
            if (probed[j] >= 0 && BitOperations.PopCount(Extract(code, _start[j], _length[j]) ^ scratch.QuerySub[j]) <= probed[j])
                return true;
        return false;
    }

    /// <summary>
    /// Probes table <paramref name="i"/> at substring distance exactly <paramref name="s"/>, or, when that would take
    /// more lookups than there are unseen codes, verifies every unseen code instead (returns complete = true).
    /// Returns false when the budget is exceeded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Probe<TV>(ReadOnlySpan<ulong> query, int i, int s, Scratch scratch, ref TV visitor, double limit, out bool complete)
        where TV : struct, IVisitor
    {
        int words = _codes.WordsPerCode, len = _length[i];
        var all = _codes.Words(0, IndexedCount);
        complete = false;
        long unseen = IndexedCount - scratch.Seen;
        if (Binomial(len, s) > unseen)
        {
            scratch.Spent += VerifyAllCost(unseen);
            if (scratch.Spent > limit) return false;
            for (int id = 0; id < IndexedCount; id++)
            {
                var code = all.Slice(id * words, words);
                if (SeenBefore(code, scratch)) continue;
                scratch.Candidates++;
                visitor.Visit(BitPacking.Hamming(query, code), id, scratch);
            }
            scratch.Seen = IndexedCount;
            complete = true;
            return true;
        }
        var table = _tables[i];
        var ids = table.Ids;
        uint qs = scratch.QuerySub[i];
        // Substring values at distance exactly s: masks with s set bits below 2^len, in Gosper's order.
        uint mask = s == 0 ? 0u : (1u << s) - 1;
        uint limitMask = 1u << len;
        long lookups = 0, candidates = 0;
        while (true)
        {
            table.Lookup(qs ^ mask, out int from, out int to);
            lookups++;
            // The codes of a bucket are scattered over the database: request them all before using any, so
            // that their cache misses overlap instead of following one another.
            if (Sse.IsSupported && to - from > 1)
                fixed (ulong* basePtr = all)
                    for (int p = from; p < to; p++) Sse.Prefetch0(basePtr + (long)ids[p] * words);
            for (int p = from; p < to; p++)
            {
                int id = ids[p];
                var code = all.Slice(id * words, words);
                if (SeenBefore(code, scratch)) continue;
                candidates++;
                visitor.Visit(BitPacking.Hamming(query, code), id, scratch);
            }
            if (s == 0) break;
            uint c = mask & (uint)-(int)mask;
            uint r = mask + c;
            if (r >= limitMask) break;
            mask = (((r ^ mask) >> 2) / c) | r;
            if ((lookups & 1023) == 0 && scratch.Spent + lookups * LookupNs + candidates * CandidateNs > limit)
            {
                scratch.Spent += lookups * LookupNs + candidates * CandidateNs; // what the batch rule counts as spent
                return false;
            }
        }
        scratch.Probed[i] = s;
        scratch.Seen += (int)candidates;
        scratch.Lookups += lookups;
        scratch.Candidates += candidates;
        scratch.Spent += lookups * LookupNs + candidates * CandidateNs;
        if (s == len) complete = true; // the whole table was enumerated: every code has been met
        return scratch.Spent <= limit;
    }

    /// <summary>
    /// Exact k-NN of one query. Returns false when the work exceeds <paramref name="budget"/>; the caller then
    /// answers the query by scanning.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryKnn(ReadOnlySpan<ulong> query, int k, Scratch scratch, Budget budget, Span<int> outIds, Span<int> outDist, out int found)
    {
        int m = Substrings, bits = _codes.Bits;
        found = 0;
        scratch.Reset(bits);
        for (int i = 0; i < m; i++) scratch.QuerySub[i] = Extract(query, _start[i], _length[i]);
        var visitor = new KnnVisitor(k);
        int maxLength = _length.Max();
        bool complete = IndexedCount == 0;
        for (int s = 0; s <= maxLength && !complete; s++)
        {
            for (int i = 0; i < m && !complete; i++)
            {
                if (s > _length[i]) continue;
                if (i == 0 && s > 0 && PredictedOutOfBudget(s, k, scratch, budget.Limit)) return false;
                if (NextProbeOutOfBudget(i, s, scratch, budget.Limit)) return false;
                if (!Probe(query, i, s, scratch, ref visitor, budget.Limit, out complete)) return false;
                if (complete) break;
                // Every code within m*s + i is now known; stop once k of those met lie within it.
                long proven = Math.Min((long)m * s + i, bits);
                int within = 0;
                for (int d = 0; d <= proven && within < k; d++) within += scratch.Histogram[d];
                complete = within >= k || scratch.Seen == IndexedCount;
            }
        }
        found = Finish(scratch, k, outIds, outDist);
        return true;
    }

    // Overridable for tests and benchmarks: giving up on the predicted cost (PredictedOutOfBudget).
    internal static bool PredictGiveUp = true;

    // Computed on first use; threads that race compute the same table, and either copy serves.
    private double[,]? _missProbability;

    /// <summary>
    /// At the start of round <paramref name="s"/> (every table probed to substring distance s - 1), whether finishing
    /// the query is predicted to exceed <paramref name="limit"/>. Every code within m*s - 1 of the query has been met;
    /// beyond that, a code at distance D has been met only if some substring holds at most s - 1 of its D differing
    /// bits, with probability 1 - <see cref="MissProbability"/>(s - 1, D) when the bits fall at random. Dividing the
    /// codes met at each D by that probability estimates how many lie there, and so the distance of the k-th nearest;
    /// the lookups of the probes up to the round that proves it are the predicted cost. A query whose k nearest lie
    /// far away is then handed to the scan after its first cheap rounds instead of after spending its whole budget.
    /// A wrong prediction costs time, never the answer: a query given up is scanned.
    /// </summary>
    private bool PredictedOutOfBudget(int s, int k, Scratch scratch, double limit)
    {
        int bits = _codes.Bits;
        if (!PredictGiveUp || double.IsPositiveInfinity(limit) || bits > MaxPredictedBits) return false;
        var miss = _missProbability ??= MissProbability(_length, bits);
        int m = Substrings, proven = m * s - 1;
        var histogram = scratch.Histogram;
        double expected = 0;
        int predicted = -1;
        for (int d = 0; d <= bits && predicted < 0; d++)
        {
            if (d <= proven) expected += histogram[d];
            else
            {
                double found = 1 - miss[s - 1, d];
                if (found < MinFound) break; // too little of what lies there could have been met: no evidence
                expected += histogram[d] / found;
            }
            if (expected >= k) predicted = d;
        }
        if (predicted < 0) return false;
        double cost = scratch.Spent, verifyAll = IndexedCount * ScanNsPerCode(_codes.WordsPerCode);
        int longest = _length[0]; // substrings are longest first
        for (int r = s; r <= longest; r++)
            for (int j = 0; j < m; j++)
            {
                if (r > _length[j]) continue;
                cost += Math.Min(Binomial(_length[j], r) * LookupNs, verifyAll);
                if (cost > limit) return true;
                if ((long)m * r + j >= predicted) return false;
            }
        return false;
    }

    // Below this chance of having been met, the codes met at a distance say too little of how many lie there (one code
    // met would stand for more than ten). At 10M clustered 64-bit codes, k = 100: 0.5 and 0.25 predicted nothing useful
    // (9 of 1000 queries answered), 0.02-0.1 answered 492-506 and kept all 1000 at k = 10 (section 4.4).
    private const double MinFound = 0.1;

    // C(bits, D) must stay finite in a double.
    private const int MaxPredictedBits = 1000;

    /// <summary>
    /// [s, D]: the probability that every substring (of the given lengths) differs from the query's in more than s bits
    /// when D of the code's <paramref name="bits"/> bits differ, the D positions drawn at random: the number of ways to
    /// place D bits with more than s in each substring over C(bits, D).
    /// </summary>
    internal static double[,] MissProbability(int[] length, int bits)
    {
        int maxLength = length.Max();
        var p = new double[maxLength + 1, bits + 1];
        for (int s = 0; s <= maxLength; s++)
        {
            var ways = new double[bits + 1];
            ways[0] = 1;
            int reach = 0;
            foreach (int len in length)
            {
                var next = new double[bits + 1];
                for (int t = 0; t <= reach; t++)
                    if (ways[t] != 0)
                        for (int c = s + 1; c <= len; c++) next[t + c] += ways[t] * BinomialDouble(len, c);
                ways = next;
                reach += len;
            }
            for (int d = 0; d <= bits; d++) p[s, d] = ways[d] / BinomialDouble(bits, d);
        }
        return p;
    }

    private static double BinomialDouble(int n, int r)
    {
        if (r < 0 || r > n) return 0;
        r = Math.Min(r, n - r);
        double c = 1;
        for (int i = 1; i <= r; i++) c = c * (n - r + i) / i;
        return c;
    }

    // Overridable for tests: the check before each probe changes not which queries are answered, only the work.
    internal static bool CheckNextProbe = true;

    /// <summary>
    /// Whether the next probe (table <paramref name="i"/> at substring distance <paramref name="s"/>) would by itself
    /// take the query past <paramref name="limit"/>: its lookups alone, C(length, s), are known before it starts, and a
    /// probe that exceeds the budget gives up anyway. Checking first hands the query to the scan without spending the
    /// rest of its budget on a probe that cannot finish (at s = 4 or 5 a 21-bit substring takes 6-20 thousand lookups).
    /// </summary>
    private bool NextProbeOutOfBudget(int i, int s, Scratch scratch, double limit)
    {
        if (!CheckNextProbe || double.IsPositiveInfinity(limit)) return false;
        long lookups = Binomial(_length[i], s), unseen = IndexedCount - scratch.Seen;
        double cost = lookups > unseen ? VerifyAllCost(unseen) : lookups * LookupNs; // Probe verifies every unseen code instead
        return scratch.Spent + cost > limit;
    }

    /// <summary>
    /// All codes within <paramref name="radius"/> of one query: with radius = m*a + j, substrings 0..j are probed
    /// to distance a and the others to a - 1. Returns false when the work exceeds <paramref name="budget"/>.
    /// </summary>
    internal bool TryRange(ReadOnlySpan<ulong> query, int radius, Scratch scratch, Budget budget, List<long> found)
    {
        int m = Substrings;
        scratch.Reset(_codes.Bits);
        found.Clear();
        for (int i = 0; i < m; i++) scratch.QuerySub[i] = Extract(query, _start[i], _length[i]);
        var visitor = new RangeVisitor(radius, found);
        int a = radius / m, j = radius % m;
        bool complete = IndexedCount == 0;
        for (int s = 0; s <= a && !complete; s++)
            for (int i = 0; i < m && !complete; i++)
            {
                int sub = Math.Min(i <= j ? a : a - 1, _length[i]);
                if (s > sub) continue;
                if (!Probe(query, i, s, scratch, ref visitor, budget.Limit, out complete)) return false;
            }
        found.Sort();
        return true;
    }

    /// <summary>
    /// A candidate as one sortable key: distance in the high half, row index in the low half, so that an integer sort
    /// orders by (distance, index) as the results require.
    /// </summary>
    internal static long Key(int distance, int id) => ((long)distance << 32) | (uint)id;

    internal static int IdOf(long key) => (int)(uint)key;

    internal static int DistanceOf(long key) => (int)(key >> 32);

    /// <summary>C(n, r), saturating at long.MaxValue.</summary>
    internal static long Binomial(int n, int r)
    {
        double c = BinomialDouble(n, r);
        return c >= long.MaxValue ? long.MaxValue : (long)Math.Round(c);
    }

    private static void Keep(Scratch scratch, int d, int id, int k)
    {
        if (scratch.Count == scratch.Buffer.Length)
        {
            Compact(scratch, k);
            if (d > scratch.Threshold) return;
            if (scratch.Count == scratch.Buffer.Length) Array.Resize(ref scratch.Buffer, scratch.Buffer.Length * 2);
        }
        scratch.Buffer[scratch.Count++] = Key(d, id);
    }

    private static void Compact(Scratch scratch, int k)
    {
        // Sort by (distance, index) and keep the best k; the k-th distance bounds all later useful candidates.
        var span = scratch.Buffer.AsSpan(0, scratch.Count);
        span.Sort();
        if (scratch.Count >= k)
        {
            scratch.Count = k;
            scratch.Threshold = DistanceOf(span[k - 1]);
        }
        if (scratch.Buffer.Length < 2 * k + 64) Array.Resize(ref scratch.Buffer, 2 * k + 64);
    }

    private static int Finish(Scratch scratch, int k, Span<int> outIds, Span<int> outDist)
    {
        var span = scratch.Buffer.AsSpan(0, scratch.Count);
        span.Sort();
        int n = Math.Min(k, span.Length);
        for (int j = 0; j < n; j++)
        {
            outIds[j] = IdOf(span[j]);
            outDist[j] = DistanceOf(span[j]);
        }
        return n;
    }
}
