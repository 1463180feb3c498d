using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Tests.Data;

/// <summary>One smoke benchmark generated into a temporary folder for the tests of this class.</summary>
public sealed class SmokeBenchmarkFixture : IDisposable
{
    public SmokeBenchmarkFixture()
    {
        Root = TestPaths.NewTempDirectory("smoke");
        Summary = MiniLandmarksGenerator.Ensure(MiniLandmarksConfig.Smoke, Root, TestPaths.Photos);
        Dataset = LandmarkDataset.OpenMiniLandmarks(Summary.Directory);
    }

    public string Root { get; }
    public MiniLandmarksSummary Summary { get; }
    public LandmarkDataset Dataset { get; }

    public void Dispose() => Directory.Delete(Root, true);
}

public class MiniLandmarksDatasetTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    private LandmarkDataset D => fixture.Dataset;

    [Fact]
    public void SplitsAreDisjointAndSized()
    {
        var cfg = MiniLandmarksConfig.Smoke;
        Assert.Empty(D.TrainLandmarks.Intersect(D.TestLandmarks));
        Assert.Equal(cfg.LandmarkCount, D.TrainLandmarks.Count + D.TestLandmarks.Count);
        Assert.Equal(D.TrainLandmarks.Count * cfg.ViewsPerLandmark, D.Train.Count);
        Assert.Equal(D.TestLandmarks.Count * (cfg.ViewsPerLandmark + cfg.QueriesPerLandmark) + cfg.DistractorCount, D.Database.Count);
        Assert.Equal(D.TestLandmarks.Count * cfg.QueriesPerLandmark, D.Queries.Count);
        Assert.Equal(cfg.DistractorCount, D.Database.Count(i => i.Label < 0));
        Assert.All(D.Train, t => Assert.Contains(t.Label, D.TrainLandmarks));
        Assert.All(D.Train.Concat(D.Database), i => Assert.True(File.Exists(i.Path), i.Path));
    }

    [Fact]
    public void LabelsFollowVisibilityAndQueriesAreClearPositives()
    {
        var cfg = MiniLandmarksConfig.Smoke;
        var gt = D.GroundTruth;
        Assert.Equal([EvaluationProtocol.Classic, EvaluationProtocol.Easy, EvaluationProtocol.Medium, EvaluationProtocol.Hard], gt.Protocols);
        for (int q = 0; q < gt.Queries.Count; q++)
        {
            var query = gt.Queries[q];
            int label = D.Queries[q].Label;
            Assert.Equal(D.Landmarks[label], query.Landmark);
            Assert.Contains(gt.IndexOf(query.ImageName), query.Classic!.Good!);
            // Positives and junk are exactly the landmark's database views, split by visible fraction.
            var views = Enumerable.Range(0, D.Database.Count).Where(i => D.Database[i].Label == label).ToArray();
            Assert.Equal(views, query.Classic.Positives.Concat(query.Classic.Junk).Order());
            foreach (int i in query.Classic.Good!) Assert.True(D.Database[i].VisibleFraction >= cfg.GoodVisibility);
            foreach (int i in query.Classic.Ok!) Assert.InRange(D.Database[i].VisibleFraction!.Value, cfg.OkVisibility, 1);
            foreach (int i in query.Classic.Junk) Assert.True(D.Database[i].VisibleFraction < cfg.OkVisibility);
            Assert.Equal(query.Classic.Good!, query.Revisited!.Easy);
            Assert.Equal(query.Classic.Ok!, query.Revisited.Hard);
            // The query box is the visible landmark's box, inside the image.
            var img = D.Database[gt.IndexOf(query.ImageName)];
            Assert.True(query.Box.IsValid);
            Assert.Equal(img.Box!.Value.X1, query.Box.X1, 1);
        }
    }

    [Fact]
    public void TheGenericReadersSeeTheSameGroundTruth()
    {
        var layout = new MiniLandmarksLayout(fixture.Summary.Directory);
        // gt_files + the image folder, exactly as for real Oxford.
        var asOxford = LandmarkDataset.Open(layout.DatabaseDirectory, layout.GroundTruthDirectory);
        Assert.Equal(D.GroundTruth.DatabaseImages, asOxford.GroundTruth.DatabaseImages);
        Assert.Equal(D.GroundTruth.Queries.Select(q => q.Classic!.Positives), asOxford.GroundTruth.Queries.Select(q => q.Classic!.Positives));
        Assert.Equal(D.Queries.Select(q => q.Path), asOxford.Queries.Select(q => q.Path));
        // The pickle alone.
        var pkl = GroundTruthReader.Read(layout.PickleFile);
        Assert.Equal(D.GroundTruth.Queries.Select(q => q.Revisited!.Hard), pkl.Queries.Select(q => q.Revisited!.Hard));
    }

    [Fact]
    public void DistractorFoldersExtendTheDatabaseLikeOxford105k()
    {
        var layout = new MiniLandmarksLayout(fixture.Summary.Directory);
        // The training views stand in for a distractor folder (Flickr100k in the real benchmark).
        var withDistractors = LandmarkDataset.Open(layout.DatabaseDirectory, layout.PickleFile, [layout.TrainDirectory]);
        Assert.Equal(D.Database.Count + D.Train.Count, withDistractors.Database.Count);
        Assert.Equal(D.GroundTruth.DatabaseImages, withDistractors.GroundTruth.DatabaseImages.Take(D.Database.Count));
        Assert.All(withDistractors.Database.Skip(D.Database.Count), i => Assert.Equal(-1, i.Label));
        Assert.Equal(D.GroundTruth.Queries.Select(q => q.Revisited!.Easy), withDistractors.GroundTruth.Queries.Select(q => q.Revisited!.Easy));
        // A distractor whose name clashes with a database image is refused.
        string clash = TestPaths.NewTempDirectory("clash");
        try
        {
            File.Copy(D.Database[0].Path, Path.Combine(clash, Path.GetFileName(D.Database[0].Path)));
            var e = Assert.Throws<UserInputException>(() => LandmarkDataset.Open(layout.DatabaseDirectory, layout.PickleFile, [clash]));
            Assert.Contains("clashes", e.Message);
        }
        finally { Directory.Delete(clash, true); }
    }

    [Fact]
    public void AMissingImageListedByAPickleIsNamed()
    {
        var layout = new MiniLandmarksLayout(fixture.Summary.Directory);
        string partial = TestPaths.NewTempDirectory("partial");
        try
        {
            foreach (var f in Directory.GetFiles(layout.DatabaseDirectory).Order().Skip(1)) File.Copy(f, Path.Combine(partial, Path.GetFileName(f)));
            var e = Assert.Throws<UserInputException>(() => LandmarkDataset.Open(partial, layout.PickleFile));
            Assert.Contains("missing", e.Message);
            Assert.Contains(Path.GetFileNameWithoutExtension(Directory.GetFiles(layout.DatabaseDirectory).Order().First()), e.Message);
        }
        finally { Directory.Delete(partial, true); }
    }

    [Fact]
    public void AnOracleRankingScoresOneAndAReversedOneScoresLess()
    {
        var gt = D.GroundTruth;
        var oracle = Enumerable.Range(0, gt.Queries.Count).Select(q =>
        {
            var pos = gt.Queries[q].Classic!.Positives;
            return (IReadOnlyList<int>)[.. pos, .. Enumerable.Range(0, gt.DatabaseImages.Count).Except(pos)];
        }).ToList();
        Assert.Equal(1.0, MeanAveragePrecision.Evaluate(gt, oracle, EvaluationProtocol.Classic).MeanAveragePrecision, 12);
        var reversed = oracle.Select(r => (IReadOnlyList<int>)r.Reverse().ToArray()).ToList();
        Assert.True(MeanAveragePrecision.Evaluate(gt, reversed, EvaluationProtocol.Classic).MeanAveragePrecision < 0.5);
    }

    [Fact]
    public void QueriesLoadCroppedToTheirBox()
    {
        var chw = D.LoadQuery(0);
        var box = D.Queries[0].Box;
        Assert.Equal((int)Math.Ceiling(box.X2) - (int)Math.Floor(box.X1), chw.Width);
        Assert.Equal((int)Math.Ceiling(box.Y2) - (int)Math.Floor(box.Y1), chw.Height);
    }

    [Fact]
    public void EnsureReusesAnUpToDateCopy()
    {
        var again = MiniLandmarksGenerator.Ensure(MiniLandmarksConfig.Smoke, fixture.Root, TestPaths.Photos);
        Assert.True(again.Reused);
        Assert.Equal(fixture.Summary.Checksum, again.Checksum);
    }

    [Fact]
    public void BadSettingsAreUserErrors()
    {
        Assert.Throws<UserInputException>(() => MiniLandmarksConfig.Preset("huge"));
        Assert.Throws<UserInputException>(() => (MiniLandmarksConfig.Smoke with { TrainFraction = 1 }).Validate());
        string temp = TestPaths.NewTempDirectory("toomany");
        try
        {
            var e = Assert.Throws<UserInputException>(() => MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Smoke with { LandmarkCount = 500 }, temp, TestPaths.Photos));
            Assert.Contains("LandmarkCount 500", e.Message);
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void ShippedPhotosAreFewSmallAndLicensed()
    {
        var catalog = PhotoCatalog.Read(TestPaths.Photos);
        Assert.InRange(catalog.Count, 40, 80);
        long total = Directory.GetFiles(TestPaths.Photos).Sum(f => new FileInfo(f).Length);
        Assert.True(total < 8L << 20, $"data/photos holds {total} bytes");
        string licences = File.ReadAllText(Path.Combine(TestPaths.Photos, "LICENSES.md"));
        foreach (var p in catalog)
        {
            Assert.Contains($"`{p.File}`", licences);
            using var img = ImageLoader.LoadRgb(Path.Combine(TestPaths.Photos, p.File));
            Assert.True(Math.Max(img.Width, img.Height) <= 640, p.File);
        }
    }
}
