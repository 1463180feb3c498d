using System.Runtime.CompilerServices;

namespace MultiLevelHashing.Search;

/// <summary>
/// One multi-index hash table: database rows grouped by the value of one substring (compressed rows, rows in
/// increasing order within a bucket). Short substrings (2^b not much larger than N) use a direct offset table of
/// 2^b + 1 entries; longer ones use open addressing over the distinct values present, so memory stays O(N).
/// </summary>
internal sealed class SubstringTable
{
    private readonly int[] _offsets;   // direct: indexed by value; hashed: indexed by bucket number
    private readonly int[] _ids;
    private readonly uint[]? _slotKeys; // hashed only: value per slot
    private readonly int[]? _slotBucket; // hashed only: bucket number per slot, -1 when empty
    private readonly int _slotMask;

    private SubstringTable(int[] offsets, int[] ids, uint[]? slotKeys, int[]? slotBucket)
    {
        _offsets = offsets;
        _ids = ids;
        _slotKeys = slotKeys;
        _slotBucket = slotBucket;
        _slotMask = slotKeys is null ? 0 : slotKeys.Length - 1;
    }

    public int[] Ids => _ids;

    public long Bytes => (long)_offsets.Length * 4 + (long)_ids.Length * 4 + (_slotKeys?.LongLength ?? 0) * 8;

    public bool IsDirect => _slotKeys is null;

    /// <summary>Rows whose substring equals <paramref name="key"/> are Ids[from..to).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Lookup(uint key, out int from, out int to)
    {
        if (_slotKeys is null)
        {
            from = _offsets[key];
            to = _offsets[key + 1];
            return;
        }
        int slot = (int)(Mix(key) & (uint)_slotMask);
        while (true)
        {
            int b = _slotBucket![slot];
            if (b < 0) { from = to = 0; return; }
            if (_slotKeys[slot] == key) { from = _offsets[b]; to = _offsets[b + 1]; return; }
            slot = (slot + 1) & _slotMask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mix(uint x)
    {
        x ^= x >> 16;
        x *= 0x7feb352d;
        x ^= x >> 15;
        x *= 0x846ca68b;
        x ^= x >> 16;
        return x;
    }

    public static SubstringTable Build(uint[] keys, int length)
    {
        int n = keys.Length;
        if (length <= 20 || (1L << length) <= 2L * n + 1024)
        {
            var offsets = new int[(1 << length) + 1];
            foreach (uint k in keys) offsets[k + 1]++;
            for (int v = 1; v < offsets.Length; v++) offsets[v] += offsets[v - 1];
            var next = offsets[..^1];
            var ids = new int[n];
            for (int r = 0; r < n; r++) ids[next[keys[r]]++] = r;
            return new SubstringTable(offsets, ids, null, null);
        }
        // Sparse: sort row ids by key (stable, so rows stay increasing within a bucket), then hash the distinct keys.
        var order = new int[n];
        for (int r = 0; r < n; r++) order[r] = r;
        var sortKeys = (uint[])keys.Clone();
        Array.Sort(sortKeys, order);
        // Array.Sort is not stable: restore increasing rows inside each run of equal keys.
        int distinct = 0;
        for (int i = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && sortKeys[j] == sortKeys[i]) j++;
            if (j - i > 1) Array.Sort(order, i, j - i);
            distinct++;
            i = j;
        }
        int cap = 1;
        while (cap < 2 * distinct + 2) cap <<= 1;
        var slotKeys = new uint[cap];
        var slotBucket = new int[cap];
        Array.Fill(slotBucket, -1);
        var bucketOffsets = new int[distinct + 1];
        int bucket = 0;
        for (int i = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && sortKeys[j] == sortKeys[i]) j++;
            bucketOffsets[bucket] = i;
            int slot = (int)(Mix(sortKeys[i]) & (uint)(cap - 1));
            while (slotBucket[slot] >= 0) slot = (slot + 1) & (cap - 1);
            slotKeys[slot] = sortKeys[i];
            slotBucket[slot] = bucket;
            bucket++;
            i = j;
        }
        bucketOffsets[distinct] = n;
        return new SubstringTable(bucketOffsets, order, slotKeys, slotBucket);
    }
}
