using System.Diagnostics;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Runtime;
using Xunit.Abstractions;

namespace MultiLevelHashing.Tests.Data;

/// <summary>The large mini-landmarks preset, its extra photos and licences, and the unchanged smoke and full presets.</summary>
public class LargePresetTests(ITestOutputHelper output)
{
    // Checksums (SHA-256 over every generated file but the manifest) of smoke and full as generated before the large
    // preset and its photos existed; adding them must not change a byte of either.
    private const string SmokeChecksum = "cdfa1b7d63f0d074bd8c8146407b3f40cabea824ae56c84d2239e975364f559e";
    private const string FullChecksum = "1493766da55c90bc36c456f876a391d262080ac43950e7a4f98ce4fbba011f43";

    [Fact]
    public void SmokePresetIsByteForByteUnchanged()
    {
        string dir = TestPaths.NewTempDirectory("ml-smoke-fp");
        try
        {
            var summary = MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Smoke, Path.Combine(dir, "smoke"), TestPaths.Photos);
            Assert.Equal(SmokeChecksum, summary.Checksum);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void FullPresetIsByteForByteUnchanged()
    {
        // Into a temporary folder, not the shared cache: a cached copy only carries the checksum it was written with.
        string dir = TestPaths.NewTempDirectory("ml-full-fp");
        try
        {
            var sw = Stopwatch.StartNew();
            var summary = MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Full, Path.Combine(dir, "full"), TestPaths.Photos);
            output.WriteLine($"full generation: {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(FullChecksum, summary.Checksum);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SettingsJsonOfSmokeAndFullDoesNotMentionTheExtraFolder()
    {
        Assert.DoesNotContain(nameof(MiniLandmarksConfig.ExtraPhotoFolder), MiniLandmarksConfig.Smoke.ToJson());
        Assert.DoesNotContain(nameof(MiniLandmarksConfig.ExtraPhotoFolder), MiniLandmarksConfig.Full.ToJson());
        Assert.Contains("\"ExtraPhotoFolder\": \"large\"", MiniLandmarksConfig.Large.ToJson());
        Assert.Same(MiniLandmarksConfig.Large, MiniLandmarksConfig.Preset("LARGE"));
    }

    /// <summary>
    /// The large preset's split, shrunk in everything that does not decide which scenes become landmarks (views,
    /// distractors, size), so that it generates in seconds: the counts are those of the real preset.
    /// </summary>
    private static MiniLandmarksConfig LargeSplit => MiniLandmarksConfig.Large with
    {
        Name = "large-split", ViewsPerLandmark = 2, DistractorCount = 8, ViewSize = 48,
    };

    [Fact]
    public void LargePresetHasAtLeast80TestLandmarksAnd240QueriesAndIsDeterministic()
    {
        string dir = TestPaths.NewTempDirectory("ml-large");
        try
        {
            var sw = Stopwatch.StartNew();
            var a = MiniLandmarksGenerator.Generate(LargeSplit, Path.Combine(dir, "a"), TestPaths.Photos);
            output.WriteLine($"large split: {a.TrainLandmarks.Count} train + {a.TestLandmarks.Count} test landmarks, {a.Queries} queries, {sw.Elapsed.TotalSeconds:F1} s");
            Assert.True(a.TestLandmarks.Count >= 80, $"{a.TestLandmarks.Count} test landmarks");
            Assert.Equal(3 * a.TestLandmarks.Count, a.Queries);
            Assert.True(a.Queries >= 240, $"{a.Queries} queries");
            Assert.Empty(a.TrainLandmarks.Intersect(a.TestLandmarks));
            Assert.Equal(LargeSplit.ViewsPerLandmark * a.TrainLandmarks.Count, a.TrainImages);
            Assert.Equal((LargeSplit.ViewsPerLandmark + 3) * a.TestLandmarks.Count + LargeSplit.DistractorCount, a.DatabaseImages);

            // Landmarks come from both photo sets: the large preset really reads data/photos/large.
            var extraScenes = PhotoCatalog.Read(Path.Combine(TestPaths.Photos, "large")).Select(p => p.Scene).ToHashSet();
            Assert.Contains(a.TestLandmarks, extraScenes.Contains);
            Assert.Contains(a.TestLandmarks, s => !extraScenes.Contains(s));

            var b = MiniLandmarksGenerator.Generate(LargeSplit, Path.Combine(dir, "b"), TestPaths.Photos);
            Assert.Equal(a.Checksum, b.Checksum);
            var c = MiniLandmarksGenerator.Generate(LargeSplit with { Seed = 99 }, Path.Combine(dir, "c"), TestPaths.Photos);
            Assert.NotEqual(a.Checksum, c.Checksum);
            Assert.NotEqual(a.TestLandmarks, c.TestLandmarks);

            var dataset = LandmarkDataset.OpenMiniLandmarks(Path.Combine(dir, "a"));
            Assert.Equal(a.Queries, dataset.Queries.Count);
            Assert.All(dataset.GroundTruth.Queries, q => Assert.NotEmpty(q.Classic!.Good!));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EveryShippedPhotoIsCataloguedWithItsLicenceAndListedInLicensesMd()
    {
        string photos = TestPaths.Photos;
        string licenses = File.ReadAllText(Path.Combine(photos, "LICENSES.md"));
        var main = PhotoCatalog.Read(photos);
        var large = PhotoCatalog.Read(photos, "large");
        Assert.Equal(main.Count + PhotoCatalog.Read(Path.Combine(photos, "large")).Count, large.Count);
        foreach (var p in large)
        {
            Assert.False(string.IsNullOrWhiteSpace(p.Licence) || p.Licence == "-", $"{p.File}: no licence");
            Assert.Matches(@"^\S+ \S+$", p.Package);   // "<package> <version>"
            Assert.StartsWith("/usr/", p.Original);
            Assert.Contains($"| `{p.File}` |", licenses);
        }
        // Every image file on disk is in a catalog: nothing ships without its licence.
        var listed = large.Select(p => p.File).ToHashSet(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(photos, "*.jpg", SearchOption.AllDirectories))
            Assert.Contains(Path.GetRelativePath(photos, f).Replace('\\', '/'), listed);
        Assert.True(PhotoCatalog.Read(Path.Combine(photos, "large")).Count >= 100);
    }

    [Fact]
    public void ExtraCatalogRepeatingASceneIsRefusedNamingTheFile()
    {
        string dir = TestPaths.NewTempDirectory("ml-clash");
        try
        {
            string extra = Path.Combine(dir, "more");
            Directory.CreateDirectory(extra);
            foreach (var f in new[] { "photos.tsv", "aero1.jpg", "aero3.jpg" })
                File.Copy(Path.Combine(TestPaths.Photos, f), Path.Combine(dir, f));
            File.WriteAllLines(Path.Combine(dir, "photos.tsv"), File.ReadAllLines(Path.Combine(TestPaths.Photos, "photos.tsv")).Where(l => l.StartsWith("file\t") || l.StartsWith("aero")));
            File.Copy(Path.Combine(TestPaths.Photos, "apple.jpg"), Path.Combine(extra, "apple.jpg"));
            File.WriteAllText(Path.Combine(extra, "photos.tsv"), "file\tscene\trole\tpackage\toriginal\tlicence\napple.jpg\taero\tlandmark\tp 1\t/usr/x\tCC0\n");
            var e = Assert.Throws<UserInputException>(() => PhotoCatalog.Read(dir, "more"));
            Assert.Contains(Path.Combine(extra, "photos.tsv"), e.Message);
            Assert.Contains("'aero'", e.Message);
            Assert.Throws<UserInputException>(() => PhotoCatalog.Read(dir, "missing"));
            Assert.Throws<UserInputException>(() => (MiniLandmarksConfig.Large with { ExtraPhotoFolder = "../x" }).Validate());
        }
        finally { Directory.Delete(dir, true); }
    }
}
