using System.Formats.Tar;
using System.IO.Compression;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Tests.Evaluation;

namespace MultiLevelHashing.Tests.Data;

/// <summary>Parses the official ground-truth files from ../shared (never copied into the repository).</summary>
public class RealGroundTruthTests
{
    private static string Dir()
    {
        var d = TestPaths.GroundTruthDirectory;
        Skip.If(d is null, TestPaths.MissingGroundTruth);
        return d!;
    }

    private static readonly string[] OxfordLandmarks =
        ["all_souls", "ashmolean", "balliol", "bodleian", "christ_church", "cornmarket", "hertford", "keble", "magdalen", "pitt_rivers", "radcliffe_camera"];

    [SkippableFact]
    public void OxfordTextListsHave55QueriesInOfficialOrder()
    {
        var gt = GroundTruthReader.Read(Path.Combine(Dir(), "oxford5k-gt_files_170407"));
        Assert.Equal(55, gt.Queries.Count);
        Assert.False(gt.DatabaseIsComplete);
        Assert.Equal(OxfordLandmarks, gt.Queries.Select(q => q.Landmark).Distinct());
        Assert.All(gt.Queries.GroupBy(q => q.Landmark), g => Assert.Equal(["1", "2", "3", "4", "5"], g.Select(q => q.Id[(q.Id.LastIndexOf('_') + 1)..])));
        var first = gt.Queries[0];
        Assert.Equal("all_souls_1", first.Id);
        Assert.Equal("all_souls_000013", first.ImageName); // the oxc1_ prefix is removed
        Assert.Equal(new BoundingBox(136.5, 34.1, 648.5, 955.7), first.Box);
        Assert.Equal([EvaluationProtocol.Classic], gt.Protocols);
        // Every query image is one of its own positives.
        Assert.All(gt.Queries, q => Assert.Contains(gt.IndexOf(q.ImageName), q.Classic!.Positives));
    }

    [SkippableFact]
    public void TextListsAndClassicPickleAgree()
    {
        var text = GroundTruthReader.Read(Path.Combine(Dir(), "oxford5k-gt_files_170407"));
        var pkl = GroundTruthReader.Read(Path.Combine(Dir(), "gnd_oxford5k.pkl"));
        Assert.Equal(5063, pkl.DatabaseImages.Count);
        Assert.True(pkl.DatabaseIsComplete);
        Assert.Equal(text.Queries.Count, pkl.Queries.Count);
        // Joined with the pickle's image list, the text lists index the same images.
        var joined = text.WithDatabase(pkl.DatabaseImages);
        for (int q = 0; q < pkl.Queries.Count; q++)
        {
            Assert.Equal(pkl.Queries[q].ImageName, joined.Queries[q].ImageName);
            Assert.Equal(pkl.Queries[q].Box, joined.Queries[q].Box);
            Assert.Equal(pkl.Queries[q].Classic!.Positives, joined.Queries[q].Classic!.Positives);
            Assert.Equal(pkl.Queries[q].Classic!.Junk, joined.Queries[q].Classic!.Junk);
        }
    }

    [SkippableFact]
    public void TgzOfTheFolderReadsTheSame()
    {
        string folder = Path.Combine(Dir(), "oxford5k-gt_files_170407");
        string temp = TestPaths.NewTempDirectory("tgz");
        try
        {
            string tgz = Path.Combine(temp, "gt_files_170407.tgz");
            using (var fs = File.Create(tgz))
            using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
                TarFile.CreateFromDirectory(folder, gz, includeBaseDirectory: true);
            var a = GroundTruthReader.Read(folder);
            var b = GroundTruthReader.Read(tgz);
            Assert.Equal(a.DatabaseImages, b.DatabaseImages);
            Assert.Equal(a.Queries.Select(q => (q.Id, q.ImageName, q.Box)), b.Queries.Select(q => (q.Id, q.ImageName, q.Box)));
            Assert.Equal(a.Queries.Select(q => q.Classic!.Good), b.Queries.Select(q => q.Classic!.Good));
            Assert.Equal(a.Queries.Select(q => q.Classic!.Junk), b.Queries.Select(q => q.Classic!.Junk));
        }
        finally { Directory.Delete(temp, true); }
    }

    [SkippableTheory]
    [InlineData("gnd_oxford5k.pkl", 5063, 55, false)]
    [InlineData("gnd_paris6k.pkl", 6392, 55, false)]
    [InlineData("gnd_roxford5k.pkl", 4993, 70, true)]
    [InlineData("gnd_rparis6k.pkl", 6322, 70, true)]
    public void PicklesHaveTheirPublishedSizes(string file, int images, int queries, bool revisited)
    {
        var gt = GroundTruthReader.Read(Path.Combine(Dir(), file));
        Assert.Equal(images, gt.DatabaseImages.Count);
        Assert.Equal(queries, gt.Queries.Count);
        Assert.Equal(revisited ? [EvaluationProtocol.Easy, EvaluationProtocol.Medium, EvaluationProtocol.Hard] : [EvaluationProtocol.Classic], gt.Protocols);
        Assert.All(gt.Queries, q => Assert.True(q.Box.IsValid));
        if (revisited)
        {
            // Revisited query images are not in the database; easy, hard and junk are disjoint.
            Assert.All(gt.Queries, q => Assert.Equal(-1, gt.IndexOf(q.ImageName)));
            Assert.All(gt.Queries, q => Assert.Empty(q.Revisited!.Easy.Intersect(q.Revisited.Hard).Concat(q.Revisited.Easy.Intersect(q.Revisited.Junk))));
        }
    }

    [SkippableFact]
    public void PerfectRankingsScoreOneUnderEveryProtocol()
    {
        foreach (var file in new[] { "gnd_oxford5k.pkl", "gnd_roxford5k.pkl" })
        {
            var gt = GroundTruthReader.Read(Path.Combine(Dir(), file));
            foreach (var protocol in gt.Protocols)
            {
                var rankings = Enumerable.Range(0, gt.Queries.Count).Select(q =>
                {
                    var rel = gt.Relevance(q, protocol);
                    var pos = new HashSet<int>(rel.Positives);
                    return (IReadOnlyList<int>)[.. rel.Positives, .. Enumerable.Range(0, gt.DatabaseImages.Count).Where(i => !pos.Contains(i))];
                }).ToList();
                var r = MeanAveragePrecision.Evaluate(gt, rankings, protocol);
                Assert.Equal(1.0, r.MeanAveragePrecision, 12);
                Assert.All(r.MeanPrecisionAtK, p => Assert.Equal(1.0, p, 12));
            }
        }
    }

    [SkippableFact]
    public void RandomRankingsOfRevisitedOxfordMatchTheOfficialFormula()
    {
        var gt = GroundTruthReader.Read(Path.Combine(Dir(), "gnd_roxford5k.pkl"));
        var rng = new Random(5);
        var rankings = gt.Queries.Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, gt.DatabaseImages.Count).OrderBy(_ => rng.Next()).ToArray()).ToList();
        foreach (var protocol in gt.Protocols)
        {
            var r = MeanAveragePrecision.Evaluate(gt, rankings, protocol);
            double sum = 0;
            int n = 0;
            for (int q = 0; q < gt.Queries.Count; q++)
            {
                var rel = gt.Relevance(q, protocol);
                if (rel.Positives.Length == 0) { Assert.True(r.Queries[q].Skipped); continue; }
                var labels = AveragePrecision.Label(rankings[q], rel.Positives, rel.Ignored, gt.DatabaseImages.Count);
                double expected = AveragePrecisionTests.OxfordComputeAp(labels, rel.Positives.Length);
                Assert.Equal(expected, r.Queries[q].AveragePrecision, 12);
                sum += expected; n++;
            }
            Assert.Equal(sum / n, r.MeanAveragePrecision, 12);
        }
    }
}
