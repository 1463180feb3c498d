using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MultiLevelHashing.Search;

/// <summary>
/// Exact top-k over small integer distances by counting selection, for candidates offered in increasing
/// database index. Keeps a buffer of candidates and a bound t: a new candidate (whose index is larger than every
/// earlier one) belongs to the top-k iff its distance is &lt; t, where t is the smallest distance with at least k
/// earlier candidates at distance &lt;= t. When the buffer fills, a histogram over [0, K] finds t exactly and
/// compacts the buffer to k entries (ties at t keep the lowest indices). The bound is stale between compactions,
/// which only admits extra candidates, never loses one.
/// </summary>
internal sealed class TopKCollector
{
    private readonly int _k;
    private readonly int[] _dist;
    private readonly int[] _ids;
    private readonly int[] _hist;
    private int _n;
    private int _bound;

    public TopKCollector(int k, int maxDistance)
    {
        _k = k;
        int cap = Math.Max(2 * k, k + 64);
        _dist = new int[cap];
        _ids = new int[cap];
        _hist = new int[maxDistance + 2];
        _bound = maxDistance + 1;
    }

    /// <summary>How many nearest are kept.</summary>
    public int K => _k;

    /// <summary>Candidates must have distance strictly below this to enter.</summary>
    public int Bound => _bound;

    public void Reset()
    {
        _n = 0;
        _bound = _hist.Length - 1;
    }

    /// <summary>Whether nothing has been offered since construction or <see cref="Reset"/>.</summary>
    public bool IsEmpty => _n == 0 && _bound == _hist.Length - 1;

    /// <summary>
    /// Starts an empty collector from the distances d[0..count) of rows firstId onwards in one pass: a histogram finds
    /// the k-th smallest distance t and the rows below t, then the first rows at t, are kept in index order; the
    /// result is the state that offering them one by one reaches, without the many admissions and compactions that
    /// the loose bound of an empty collector lets through.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Seed(int* d, int count, int firstId)
    {
        if (!IsEmpty) throw new InvalidOperationException("Seed needs an empty collector.");
        if (count < _k)
        {
            Offer(d, count, firstId);
            return;
        }
        KeepNearest(d, null, count, firstId);
    }

    /// <summary>Offers distances d[0..count) of database rows firstId, firstId+1, ...</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Offer(int* d, int count, int firstId)
    {
        int i = 0;
        if (Avx2.IsSupported)
        {
            var bound = Vector256.Create(_bound);
            for (; i + 8 <= count; i += 8)
            {
                var v = Avx.LoadVector256(d + i);
                int mask = Avx.MoveMask(Avx2.CompareGreaterThan(bound, v).AsSingle());
                if (mask == 0) continue;
                while (mask != 0)
                {
                    int j = System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    Add(d[i + j], firstId + i + j);
                }
                bound = Vector256.Create(_bound);
            }
        }
        for (; i < count; i++)
            if (d[i] < _bound) Add(d[i], firstId + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int distance, int id)
    {
        // Re-check: the bound may have tightened since the caller's vector compare.
        if (distance >= _bound) return;
        _dist[_n] = distance;
        _ids[_n] = id;
        if (++_n == _dist.Length) Compact();
    }

    private unsafe void Compact()
    {
        if (_n < _k) return;
        fixed (int* d = _dist) fixed (int* ids = _ids) KeepNearest(d, ids, _n, 0);
    }

    /// <summary>
    /// Keeps the k nearest of candidates d[0..count) (ids from <paramref name="ids"/>, or firstId + i when null) in
    /// the buffer: a histogram over [0, K] finds the k-th distance t; everything below t and the first (k - below) at t
    /// are kept in candidate (= index) order, and t becomes the bound. The buffer may be the source (it is written at
    /// or before the position read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void KeepNearest(int* d, int* ids, int count, int firstId)
    {
        var hist = _hist;
        Array.Clear(hist);
        for (int i = 0; i < count; i++) hist[d[i]]++;
        int t = 0, below = 0;
        while (below + hist[t] < _k) below += hist[t++];
        int tiesLeft = _k - below, m = 0;
        for (int i = 0; i < count; i++)
        {
            int x = d[i];
            if (x < t || (x == t && tiesLeft-- > 0))
            {
                _ids[m] = ids is null ? firstId + i : ids[i];
                _dist[m] = x;
                m++;
            }
        }
        _n = m;
        _bound = t;
    }

    /// <summary>The top-k so far sorted by (distance, index); returns how many (at most k).</summary>
    public int Finish(Span<int> ids, Span<int> distances)
    {
        if (_n > _k) Compact();
        int n = Math.Min(_n, _k);
        // Stable counting sort by distance: equal distances stay in index order.
        var hist = _hist;
        Array.Clear(hist);
        for (int i = 0; i < n; i++) hist[_dist[i] + 1]++;
        for (int d = 1; d < hist.Length; d++) hist[d] += hist[d - 1];
        for (int i = 0; i < n; i++)
        {
            int pos = hist[_dist[i]]++;
            ids[pos] = _ids[i];
            distances[pos] = _dist[i];
        }
        return n;
    }
}
