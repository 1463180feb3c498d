using MultiLevelHashing.Experiments;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Experiments;

public class SettingsSelectionTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    private static readonly TrainingConfig Tiny = TrainingConfig.Smoke with
    {
        ImageSize = 32, SmallCnnChannels = 16, GlobalBits = 16, LocalBits = 16, Epochs = 1, PairsPerEpoch = 32, BatchPairs = 16,
    };

    [Fact]
    public void ScoresEveryCandidateOnEveryFoldAndSeedAndPicksTheBestMean()
    {
        var candidates = new[] { ("whitened", Tiny), ("centred", Tiny with { HeadInit = GlobalHeadInit.Centered }) };
        var result = SettingsSelection.CrossValidate(fixture.Dataset, candidates, seeds: [0, 1], folds: 3);
        Assert.Equal(["whitened", "centred"], result.Candidates.Select(c => c.Name));
        foreach (var c in result.Candidates)
        {
            Assert.Equal(6, c.Trained.Count);
            Assert.Equal(6, c.Start.Count);
            Assert.All(c.Trained, m => Assert.InRange(m, 0.0, 1.0));
        }
        Assert.Equal(6, result.Lsh.Count);
        Assert.Equal(result.Candidates.Max(c => c.TrainedMap.Mean), result.Best.TrainedMap.Mean);
        // Both candidates start from the same backbone and seeds; only the head's start differs, and it shows.
        Assert.NotEqual(result.Candidates[0].Start, result.Candidates[1].Start);
    }

    [Fact]
    public void BestPrefersTheFirstOnTies()
    {
        var a = new CandidateScore("a", Tiny, [0.5, 0.7], [0.4]);
        var b = new CandidateScore("b", Tiny, [0.7, 0.5], [0.4]);
        var c = new CandidateScore("c", Tiny, [0.2, 0.3], [0.4]);
        Assert.Equal("a", new SettingsSelectionResult([a, b, c], [0.1], 2, [0]).Best.Name);
        Assert.Equal("b", new SettingsSelectionResult([c, b, a], [0.1], 2, [0]).Best.Name);
        // Paired differences run by run: b - a = (0.2, -0.2), c - a = (-0.3, -0.4).
        var result = new SettingsSelectionResult([a, b, c], [0.1], 2, [0]);
        Assert.Equal(0, result.PairedDifference(1).Mean, 12);
        Assert.Equal(Math.Sqrt(0.08), result.PairedDifference(1).StdDev, 12);
        Assert.Equal(-0.35, result.PairedDifference(2).Mean, 12);
        Assert.Equal(0.35, result.PairedDifference(0, reference: 2).Mean, 12);
    }
}
