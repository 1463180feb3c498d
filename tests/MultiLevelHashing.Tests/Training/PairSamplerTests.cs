using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Training;

public class PairSamplerTests
{
    private static readonly int[] Labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, -1, -1];

    [Fact]
    public void PositivesShareALandmarkNegativesDoNot()
    {
        var sampler = new PairSampler(Labels, seed: 7, positiveFraction: 0.25);
        var pairs = sampler.Sample(epoch: 0, count: 400);
        Assert.Equal(100, pairs.Count(p => p.Similar));
        foreach (var p in pairs)
        {
            if (p.Similar)
            {
                Assert.NotEqual(p.First, p.Second);
                Assert.Equal(Labels[p.First], Labels[p.Second]);
                Assert.True(Labels[p.First] >= 0);
                Assert.NotEqual(3, Labels[p.First]); // a landmark with one image has no positive
            }
            else
            {
                Assert.NotEqual(Labels[p.First], Labels[p.Second]);
                Assert.True(Labels[p.First] >= 0 || Labels[p.Second] >= 0);
            }
        }
        Assert.Contains(pairs, p => !p.Similar && (Labels[p.First] < 0 || Labels[p.Second] < 0));
    }

    [Fact]
    public void SeededAndEpochDependent()
    {
        var a = new PairSampler(Labels, seed: 3).Sample(2, 50);
        var b = new PairSampler(Labels, seed: 3).Sample(2, 50);
        var c = new PairSampler(Labels, seed: 3).Sample(3, 50);
        var d = new PairSampler(Labels, seed: 4).Sample(2, 50);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
    }

    [Fact]
    public void HardNegativeMiningPicksTheClosestCandidate()
    {
        // Distance = |index difference|: with many candidates, mined negatives are much closer than random ones.
        float Dist(int x, int y) => Math.Abs(x - y);
        var random = new PairSampler(Labels, seed: 1, positiveFraction: 0, negativeCandidates: 1).Sample(0, 500, Dist);
        var mined = new PairSampler(Labels, seed: 1, positiveFraction: 0, negativeCandidates: 8).Sample(0, 500, Dist);
        Assert.All(mined, p => Assert.NotEqual(Labels[p.First], Labels[p.Second]));
        Assert.True(mined.Average(p => Dist(p.First, p.Second)) < 0.7 * random.Average(p => Dist(p.First, p.Second)));
    }

    [Fact]
    public void RejectsLabelsWithoutPositives()
    {
        Assert.Throws<ArgumentException>(() => new PairSampler([0, 1, 2], seed: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PairSampler(Labels, seed: 0, positiveFraction: 1.5));
    }
}
