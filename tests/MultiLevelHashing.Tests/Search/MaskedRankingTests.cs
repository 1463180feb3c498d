using FsCheck;
using FsCheck.Xunit;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

/// <summary>The rankings over selected bits and over concatenated codes against bit-by-bit brute force.</summary>
[Properties(Arbitrary = [typeof(ScenarioArbitrary)], MaxTest = 100)]
public class MaskedRankingTests
{
    private static int MaskedDistance(byte[] a, byte[] b, IReadOnlyCollection<int> bits) =>
        bits.Count(j => BitPacking.GetBit(a, j) != BitPacking.GetBit(b, j));

    [Property]
    public void MaskedRankingEqualsBruteForce(Scenario s, bool perQuery)
    {
        var (db, qs) = s.Generate();
        using var dbc = Scenario.Pack(db, s.Bits);
        using var qc = Scenario.Pack(qs, s.Bits);
        var rng = new Random(s.Seed);
        var selections = Enumerable.Range(0, perQuery ? qs.Length : 1)
            .Select(_ => Enumerable.Range(0, s.Bits).Where(_ => rng.Next(3) == 0).ToHashSet()).ToList();
        var masks = selections.Select(b => BitMask.FromIndices(s.Bits, b)).ToList();
        var rankings = RetrievalScoring.MaskedHammingRankings(dbc, qc, masks);
        for (int q = 0; q < qs.Length; q++)
        {
            var bits = selections[perQuery ? q : 0];
            var expected = Enumerable.Range(0, db.Length).OrderBy(i => MaskedDistance(db[i], qs[q], bits)).ThenBy(i => i);
            Assert.Equal(expected, rankings[q]);
        }
    }

    [Property]
    public void ConcatenatedDistanceIsTheSumOfBothCodes(Scenario s)
    {
        var (db, qs) = s.Generate();
        var other = new Scenario(64, s.Kind, s.N, s.Q, s.K, s.Radius, s.Seed + 1).Generate();
        using var first = Scenario.Pack(db, s.Bits);
        using var second = Scenario.Pack(other.Db, 64);
        using var joined = PackedCodes.Concatenate(first, second);
        Assert.Equal(s.Bits + 64, joined.Bits);
        Assert.Equal(db.Length, joined.Count);
        for (int i = 0; i + 1 < db.Length && i < 20; i++)
            Assert.Equal(BruteForce.Distance(db[i], db[i + 1]) + BruteForce.Distance(other.Db[i], other.Db[i + 1]),
                BruteForce.Distance(joined.CodeBytes(i), joined.CodeBytes(i + 1)));
    }

    [Fact]
    public void RefusesMismatchedMasksAndCounts()
    {
        using var two = PackedCodes.FromBytes(new byte[16], 64);
        using var one = PackedCodes.FromBytes(new byte[8], 64);
        using var wide = PackedCodes.FromBytes(new byte[32], 128);
        Assert.Throws<ArgumentException>(() => RetrievalScoring.MaskedHammingRankings(two, two, [BitMask.All(128)]));
        Assert.Throws<ArgumentException>(() => RetrievalScoring.MaskedHammingRankings(two, wide, [BitMask.All(64)]));
        Assert.Throws<ArgumentException>(() => RetrievalScoring.MaskedHammingRankings(two, two, [BitMask.All(64), BitMask.All(64), BitMask.All(64)]));
        Assert.Throws<ArgumentException>(() => PackedCodes.Concatenate(two, one));
    }
}
