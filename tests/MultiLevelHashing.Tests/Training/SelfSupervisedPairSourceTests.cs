using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Training;

public class SelfSupervisedPairSourceTests
{
    internal static readonly string[] TinyPhotos = ["aero1.jpg", "apple.jpg", "baboon.jpg", "board.jpg", "box.jpg", "building.jpg", "butterfly.jpg"];

    /// <summary>A folder of a few shipped photos, one in a subfolder (the folder is searched recursively), plus a non-image file.</summary>
    internal static string TinyFolder(string dir)
    {
        string folder = Path.Combine(dir, "my photos");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        for (int i = 0; i < TinyPhotos.Length; i++)
            File.Copy(Path.Combine(TestPaths.Photos, TinyPhotos[i]), Path.Combine(folder, i == 0 ? "sub" : "", TinyPhotos[i]));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not an image");
        return folder;
    }

    private static readonly SelfSupervisedViewSettings Tiny = new() { ViewsPerPhoto = 4, ViewSize = 64, ValidationFraction = 0.3 };

    [Fact]
    public void PositivesAreViewsOfOnePhotoAndNegativesOfTwoPhotosDeterministically()
    {
        string dir = TestPaths.NewTempDirectory("ssl-pairs");
        try
        {
            string folder = TinyFolder(dir);
            var source = SelfSupervisedPairSource.FromFolder(folder, Tiny, Path.Combine(dir, "views"));

            // 7 photos: one for backgrounds, the other 6 split 4 train / 2 validation (round(6 * 0.7) = 4).
            Assert.Single(source.BackgroundPhotos);
            Assert.Equal(4, source.TrainingPhotos.Count);
            Assert.Equal(2, source.ValidationPhotos.Count);
            var all = source.TrainingPhotos.Concat(source.ValidationPhotos).Concat(source.BackgroundPhotos).Order().ToList();
            Assert.Equal(TinyPhotos.Select((p, i) => i == 0 ? "sub/" + p : p).Order(), all);
            Assert.Equal(4 * 4, source.Views.Train.Count);

            // Each training view comes from a training photo, four views per photo, and the label is the photo.
            Assert.All(source.TrainingSources, s => Assert.Contains(s, source.TrainingPhotos));
            Assert.All(source.TrainingSources.GroupBy(s => s), g => Assert.Equal(4, g.Count()));
            var labels = source.Labels;
            for (int i = 0; i < labels.Count; i++)
                for (int j = 0; j < labels.Count; j++)
                    Assert.Equal(source.TrainingSources[i] == source.TrainingSources[j], labels[i] == labels[j]);

            var pairs = source.Sampler(seed: 3).Sample(epoch: 0, count: 200);
            Assert.Equal(100, pairs.Count(p => p.Similar));
            foreach (var p in pairs)
            {
                Assert.NotEqual(p.First, p.Second);
                Assert.Equal(p.Similar, source.TrainingSources[p.First] == source.TrainingSources[p.Second]);
            }

            // Validation: queries and database views of held-out photos only; positives are the query photo's views.
            Assert.Equal(2 * 2, source.Views.Queries.Count);
            Assert.DoesNotContain(source.Views.Database, i => i.Label >= 0 && source.TrainingPhotos.Contains(source.Views.Landmarks[i.Label]));

            // Same photos and seed: same views and pairs, reused from disk; another seed: other views.
            var again = SelfSupervisedPairSource.FromFolder(folder, Tiny, Path.Combine(dir, "views2"));
            Assert.Equal(source.TrainingSources, again.TrainingSources);
            Assert.Equal(pairs, again.Sampler(seed: 3).Sample(epoch: 0, count: 200));
            Assert.NotEqual(pairs, again.Sampler(seed: 4).Sample(epoch: 0, count: 200));
            Assert.Equal(File.ReadAllBytes(Path.Combine(source.Views.Root, "views.tsv")), File.ReadAllBytes(Path.Combine(again.Views.Root, "views.tsv")));
            var reseeded = SelfSupervisedPairSource.FromFolder(folder, Tiny with { Seed = 5 }, Path.Combine(dir, "views3"));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(source.Views.Root, "views.tsv")), File.ReadAllBytes(Path.Combine(reseeded.Views.Root, "views.tsv")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TooFewOrMissingPhotosAreRefusedNamingTheFolder()
    {
        string dir = TestPaths.NewTempDirectory("ssl-few");
        try
        {
            File.Copy(Path.Combine(TestPaths.Photos, "apple.jpg"), Path.Combine(dir, "apple.jpg"));
            var e = Assert.Throws<UserInputException>(() => SelfSupervisedPairSource.FromFolder(dir, Tiny, Path.Combine(dir, "v")));
            Assert.Contains(dir, e.Message);
            Assert.Contains("at least 4", e.Message);
            Assert.Throws<UserInputException>(() => SelfSupervisedPairSource.FromFolder(Path.Combine(dir, "nope"), Tiny, Path.Combine(dir, "v")));
            Assert.Throws<UserInputException>(() => Tiny with { ViewsPerPhoto = 1 } is var s ? s.ViewConfig("x", 10) : null);

            // A file with an image extension that is not an image: the error names it.
            foreach (var f in new[] { "baboon.jpg", "board.jpg", "box.jpg" })
                File.Copy(Path.Combine(TestPaths.Photos, f), Path.Combine(dir, f));
            File.WriteAllText(Path.Combine(dir, "broken.jpg"), "not a jpeg");
            var bad = Assert.ThrowsAny<Exception>(() => SelfSupervisedPairSource.FromFolder(dir, Tiny, Path.Combine(dir, "v")));
            Assert.Contains("broken.jpg", bad is AggregateException agg ? agg.InnerExceptions[0].Message : bad.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ComparisonPhotosNeverIncludeATestLandmark()
    {
        string dir = TestPaths.NewTempDirectory("ssl-photos");
        try
        {
            MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Smoke, Path.Combine(dir, "smoke"), TestPaths.Photos);
            var dataset = LandmarkDataset.OpenMiniLandmarks(Path.Combine(dir, "smoke"));
            var (training, unused) = SelfSupervisedComparison.PhotosOf(dataset, TestPaths.Photos);
            var catalog = PhotoCatalog.Read(TestPaths.Photos).ToDictionary(p => p.File, p => p.Scene);
            var train = dataset.TrainLandmarks.Select(i => dataset.Landmarks[i]).ToHashSet();
            var test = dataset.TestLandmarks.Select(i => dataset.Landmarks[i]).ToHashSet();
            Assert.All(training, f => Assert.Contains(catalog[f], train));
            Assert.All(unused, f => Assert.DoesNotContain(catalog[f], test));
            Assert.All(unused, f => Assert.DoesNotContain(catalog[f], train));
            // Together with the test landmarks' photos they are the whole catalog: every photo a landmark does not use is "unused".
            Assert.Equal(catalog.Count, training.Count + unused.Count + catalog.Count(kv => test.Contains(kv.Value)));
            Assert.Equal(train.Order(), training.Select(f => catalog[f]).Distinct().Order());
        }
        finally { Directory.Delete(dir, true); }
    }
}
