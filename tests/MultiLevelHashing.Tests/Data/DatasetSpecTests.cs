using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Tests.Data;

/// <summary>The --dataset specification: parsing, and opening the official layouts (Oxford, Paris subfolders, distractors, gnd pickles).</summary>
public class DatasetSpecTests
{
    [Fact]
    public void ParsesPresetsAndBenchmarkSpecifications()
    {
        var smoke = DatasetSpec.Parse("mini-landmarks/smoke");
        Assert.Equal(DatasetSpecKind.MiniLandmarksPreset, smoke.Kind);
        Assert.Equal("smoke", smoke.Preset);
        Assert.Equal("full", DatasetSpec.Parse("mini-landmarks:Full/").Preset);
        // Every preset the syntax names and mlh prepare generates.
        var large = DatasetSpec.Parse("mini-landmarks/large");
        Assert.Equal(("large", "mini-landmarks-large"), (large.Preset, large.Name));

        var r = DatasetSpec.Parse("ROxford5k: images=/data/oxbuild_images , gnd=/data/gnd_roxford5k.pkl");
        Assert.Equal(DatasetSpecKind.Benchmark, r.Kind);
        Assert.Equal("roxford5k", r.Name);
        Assert.Equal("/data/oxbuild_images", r.Images);
        Assert.Equal("/data/gnd_roxford5k.pkl", r.GroundTruth);
        Assert.Empty(r.Distractors);
        Assert.True(r.Known!.Revisited);

        var big = DatasetSpec.Parse("oxford105k:images=a,gt=b.tgz,distractors=c,distractors=d");
        Assert.Equal(["c", "d"], big.Distractors);
        Assert.Equal("b.tgz", big.GroundTruth);

        var custom = DatasetSpec.Parse("holidays:images=x,gt=y");
        Assert.Null(custom.Known);
        Assert.Equal("holidays", custom.Name);

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, "data", "paris"), DatasetSpec.Parse("paris6k:images=~/data/paris,gt=~/gnd_paris6k.pkl").Images);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("mini-landmarks/huge", "unknown mini-landmarks preset 'huge'")]
    [InlineData("oxford5k:images=a", "gt=FILE is missing")]
    [InlineData("oxford5k:gt=a", "images=DIR is missing")]
    [InlineData("oxford5k:images=a,gt=b,colour=red", "unknown key 'colour'")]
    [InlineData("oxford5k:images=a,gt=b,images=c", "images= is given twice")]
    [InlineData("oxford5k:images=a,gt", "'gt' is not KEY=VALUE")]
    [InlineData("oxford105k:images=a,gt=b", "give distractors=DIR")]
    [InlineData("oxford5k:images=a,gt=b,distractors=c", "with distractors it is oxford105k")]
    [InlineData("roxford5k:images=a,gnd=b,distractors=c", "with distractors it is roxford5k+1m")]
    [InlineData("ox ford:images=a,gt=b", "is not a dataset name")]
    [InlineData("/no/such/folder", "dataset folder not found")]
    public void RejectsMalformedSpecificationsWithTheReason(string text, string reason)
    {
        var e = Assert.Throws<DatasetSpecException>(() => DatasetSpec.Parse(text));
        Assert.Contains(reason, e.Message);
        Assert.Contains("Syntax: mini-landmarks/smoke", e.Message);
        Assert.DoesNotContain("--", e.Message.Split("Syntax:")[0]); // the library names no command-line option; mlh adds "--dataset"
    }

    [Fact]
    public void OpensOxfordParisRevisitedAndDistractorLayouts()
    {
        string dir = TestPaths.NewTempDirectory("spec");
        try
        {
            var f = LandmarkFixture.Create(dir, distractors: 5);
            int oxfordImages = LandmarkFixture.OxfordLandmarks.Length * LandmarkFixture.ImagesPerLandmark + LandmarkFixture.OxfordOthers.Length;

            // Oxford text lists: every image of the folder, sorted; the oxc1_ prefix of the query files is removed.
            var ox = DatasetSpec.Open($"oxford5k:images={f.OxfordImages},gt={f.OxfordGt}");
            Assert.Equal("oxford5k", ox.Name);
            Assert.Equal(oxfordImages, ox.Database.Count);
            Assert.Equal(ox.Database.Select(i => i.Name).Order(StringComparer.Ordinal), ox.Database.Select(i => i.Name));
            Assert.Equal([EvaluationProtocol.Classic], ox.GroundTruth.Protocols);
            Assert.Equal(["all_souls_1", "ashmolean_1", "balliol_1"], ox.Queries.Select(q => q.Id));
            Assert.Equal(LandmarkFixture.OxfordName(0, 0), ox.Queries[0].ImageName);
            Assert.Equal(LandmarkFixture.QueryBox, ox.Queries[0].Box);
            // Query 0: good = images 0..2 and ok = image 3 of all_souls; junk = image 4.
            var rel = ox.GroundTruth.Relevance(0, EvaluationProtocol.Classic);
            Assert.Equal(Enumerable.Range(0, 4).Select(k => ox.GroundTruth.IndexOf(LandmarkFixture.OxfordName(0, k))).Order(), rel.Positives);
            Assert.Equal([ox.GroundTruth.IndexOf(LandmarkFixture.OxfordName(0, 4))], rel.Ignored);

            // Revisited pickle: easy/medium/hard; the database is the pickle's imlist.
            var rox = DatasetSpec.Open($"roxford5k:images={f.OxfordImages},gnd={f.RevisitedPickle}");
            Assert.Equal([EvaluationProtocol.Easy, EvaluationProtocol.Medium, EvaluationProtocol.Hard], rox.GroundTruth.Protocols);
            Assert.Equal(oxfordImages, rox.Database.Count);
            Assert.All(rox.Queries, q => Assert.True(File.Exists(q.Path)));

            // Oxford105k: distractors found recursively, appended after the benchmark's images in name order.
            var big = DatasetSpec.Open($"oxford105k:images={f.OxfordImages},gt={f.OxfordGt},distractors={f.Distractors}");
            Assert.Equal(oxfordImages + 5, big.Database.Count);
            Assert.Equal(ox.Database.Select(i => i.Name), big.Database.Take(oxfordImages).Select(i => i.Name));
            var distractorNames = big.Database.Skip(oxfordImages).Select(i => i.Name).ToList();
            Assert.Equal(distractorNames.Order(StringComparer.Ordinal), distractorNames);
            Assert.All(big.Database.Skip(oxfordImages), i => Assert.Equal(-1, i.Label));
            Assert.Equal(ox.GroundTruth.Relevance(1, EvaluationProtocol.Classic).Positives, big.GroundTruth.Relevance(1, EvaluationProtocol.Classic).Positives);

            // Paris: one subfolder per landmark, read as downloaded; query names carry no prefix.
            var paris = DatasetSpec.Open($"paris6k:images={f.ParisImages},gt={f.ParisGt}");
            Assert.Equal(LandmarkFixture.ParisLandmarks.Length * LandmarkFixture.ImagesPerLandmark, paris.Database.Count);
            Assert.Equal(Path.Combine(f.ParisImages, "eiffel", LandmarkFixture.ParisName(1, 0) + ".jpg"), paris.Queries[1].Path);
            Assert.Equal(["defense", "eiffel", "louvre"], paris.Landmarks);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ReportsMismatchedOrMissingInputsNamingTheFile()
    {
        string dir = TestPaths.NewTempDirectory("spec-bad");
        try
        {
            var f = LandmarkFixture.Create(dir, distractors: 2);
            // roxford5k with classic text lists, and oxford5k with a revisited pickle, are refused with the fitting name.
            var e1 = Assert.Throws<UserInputException>(() => DatasetSpec.Open($"roxford5k:images={f.OxfordImages},gt={f.OxfordGt}"));
            Assert.Contains("revisited labels", e1.Message);
            Assert.StartsWith(f.OxfordGt, e1.Message);
            var e2 = Assert.Throws<UserInputException>(() => DatasetSpec.Open($"oxford5k:images={f.OxfordImages},gt={f.RevisitedPickle}"));
            Assert.Contains("name it roxford5k", e2.Message);
            // An image the pickle lists but the folder lacks.
            File.Delete(Path.Combine(f.OxfordImages, LandmarkFixture.OxfordName(2, 5) + ".jpg"));
            var e3 = Assert.Throws<UserInputException>(() => DatasetSpec.Open($"roxford5k:images={f.OxfordImages},gnd={f.RevisitedPickle}"));
            Assert.Contains(LandmarkFixture.OxfordName(2, 5), e3.Message);
            var e4 = Assert.Throws<UserInputException>(() => DatasetSpec.Open($"oxford5k:images={Path.Combine(dir, "nothing")},gt={f.OxfordGt}"));
            Assert.Contains("image folder not found", e4.Message);
            var e5 = Assert.Throws<UserInputException>(() => DatasetSpec.Open($"oxford105k:images={f.OxfordImages},gt={f.OxfordGt},distractors={Path.Combine(dir, "none")}"));
            Assert.Contains("distractor folder not found", e5.Message);
            // A distractor whose name clashes with a benchmark image.
            LandmarkFixture.WriteImage(Path.Combine(f.Distractors, LandmarkFixture.OxfordName(0, 1) + ".jpg"), 1, 1);
            var e6 = Assert.Throws<UserInputException>(() => DatasetSpec.Open($"oxford105k:images={f.OxfordImages},gt={f.OxfordGt},distractors={f.Distractors}"));
            Assert.Contains("clashes", e6.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The real official ground truth against folders of empty stand-in files (opening never decodes an image).</summary>
    [SkippableTheory]
    [InlineData("roxford5k", "gnd_roxford5k.pkl", 4993, 70)]
    [InlineData("rparis6k", "gnd_rparis6k.pkl", 6322, 70)]
    [InlineData("oxford5k", "gnd_oxford5k.pkl", 5063, 55)]
    [InlineData("paris6k", "gnd_paris6k.pkl", 6392, 55)]
    public void OpensTheRealGroundTruthFiles(string name, string pickle, int images, int queries)
    {
        var gtDir = TestPaths.GroundTruthDirectory;
        Skip.If(gtDir is null, TestPaths.MissingGroundTruth);
        string dir = TestPaths.NewTempDirectory("spec-real");
        try
        {
            string gnd = Path.Combine(gtDir!, pickle);
            var truth = PickleGroundTruth.Read(gnd);
            string folder = Path.Combine(dir, "images");
            // The download holds every image; the revisited image lists leave the 70 query images out of the database.
            // Paris as downloaded: one subfolder per landmark (paris_<landmark>_NNNNNN).
            foreach (string image in truth.DatabaseImages.Concat(truth.Queries.Select(q => q.ImageName)).Distinct())
            {
                string sub = name.Contains("paris") ? Path.Combine(folder, image.Split('_')[1]) : folder;
                Directory.CreateDirectory(sub);
                File.WriteAllBytes(Path.Combine(sub, image + ".jpg"), []);
            }
            var ds = DatasetSpec.Open($"{name}:images={folder},gnd={gnd}");
            Assert.Equal(images, ds.Database.Count);
            Assert.Equal(queries, ds.Queries.Count);
            Assert.All(ds.Queries, q => Assert.True(File.Exists(q.Path)));
            // Revisited: no query image is a database image; classic: every one is.
            Assert.All(ds.Queries, q => Assert.Equal(!name.StartsWith('r'), ds.GroundTruth.IndexOf(q.ImageName) >= 0));
            if (name == "oxford5k")
            {
                // The official text lists over the same folder give the same database and queries.
                var text = DatasetSpec.Open($"oxford5k:images={folder},gt={Path.Combine(gtDir!, "oxford5k-gt_files_170407")}");
                Assert.Equal(ds.Database.Select(i => i.Name).Order(StringComparer.Ordinal), text.Database.Select(i => i.Name));
                Assert.Equal(ds.Queries.Select(q => q.ImageName), text.Queries.Select(q => q.ImageName));
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
