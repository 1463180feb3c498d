using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

/// <summary>Independent reference: bit-by-bit Hamming distances on the byte layout and a full sort by (distance, index).</summary>
internal static class BruteForce
{
    public static int Distance(byte[] a, byte[] b)
    {
        int d = 0;
        for (int j = 0; j < a.Length * 8; j++)
            if (BitPacking.GetBit(a, j) != BitPacking.GetBit(b, j)) d++;
        return d;
    }

    public static (int[] Ids, int[] Distances) Knn(byte[][] db, byte[] q, int k)
    {
        var ranked = db.Select((c, i) => (Id: i, D: Distance(c, q))).OrderBy(x => x.D).ThenBy(x => x.Id).Take(k).ToList();
        var ids = Enumerable.Repeat(-1, k).ToArray();
        var d = Enumerable.Repeat(-1, k).ToArray();
        for (int j = 0; j < ranked.Count; j++) { ids[j] = ranked[j].Id; d[j] = ranked[j].D; }
        return (ids, d);
    }

    public static (int[] Ids, int[] Distances) Range(byte[][] db, byte[] q, int radius)
    {
        var hits = db.Select((c, i) => (Id: i, D: Distance(c, q))).Where(x => x.D <= radius).OrderBy(x => x.D).ThenBy(x => x.Id).ToList();
        return (hits.Select(x => x.Id).ToArray(), hits.Select(x => x.D).ToArray());
    }
}

/// <summary>Kinds of code sets that stress different paths: random, many duplicates, all equal, clustered.</summary>
public enum CodeKind { Random, Duplicates, AllEqual, Clustered }

/// <summary>A random search problem; the data is generated from <see cref="Seed"/> so FsCheck can shrink the parameters.</summary>
public sealed record Scenario(int Bits, CodeKind Kind, int N, int Q, int K, int Radius, int Seed)
{
    public (byte[][] Db, byte[][] Queries) Generate()
    {
        var rng = new Random(Seed);
        int bytes = Bits / 8;
        byte[] Rand() { var b = new byte[bytes]; rng.NextBytes(b); return b; }
        var pool = Enumerable.Range(0, Math.Max(1, 1 + N / 8)).Select(_ => Rand()).ToArray();
        byte[] Flip(byte[] c, int flips)
        {
            var r = (byte[])c.Clone();
            for (int f = 0; f < flips; f++) { int j = rng.Next(Bits); r[j >> 3] ^= (byte)(1 << (j & 7)); }
            return r;
        }
        byte[] Draw() => Kind switch
        {
            CodeKind.Random => Rand(),
            CodeKind.Duplicates => (byte[])pool[rng.Next(pool.Length)].Clone(),
            CodeKind.AllEqual => (byte[])pool[0].Clone(),
            _ => Flip(pool[rng.Next(pool.Length)], rng.Next(4)),
        };
        var db = Enumerable.Range(0, N).Select(_ => Draw()).ToArray();
        // Queries: fresh draws plus, sometimes, exact database members.
        var qs = Enumerable.Range(0, Q).Select(i => N > 0 && i % 3 == 2 ? (byte[])db[rng.Next(N)].Clone() : Draw()).ToArray();
        return (db, qs);
    }

    public static PackedCodes Pack(byte[][] rows, int bits)
    {
        var codes = new PackedCodes(bits);
        foreach (var r in rows) codes.Append(r);
        return codes;
    }
}
