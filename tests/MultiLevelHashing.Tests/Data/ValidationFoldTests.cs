using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Tests.Data;

public class ValidationFoldTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    private LandmarkDataset D => fixture.Dataset;

    [Fact]
    public void FoldsPartitionTheTrainingLandmarksAndNeverTouchTheTestSet()
    {
        const int folds = 3;
        var heldOut = new List<int>();
        for (int f = 0; f < folds; f++)
        {
            var fold = D.ValidationFold(f, folds);
            Assert.Equal(2, fold.TestLandmarks.Count);
            heldOut.AddRange(fold.TestLandmarks);
            // It trains on the other training landmarks only, and its benchmark is the held-out training views.
            Assert.Empty(fold.TrainLandmarks.Intersect(fold.TestLandmarks));
            Assert.Equal(D.Train.Count(t => !fold.TestLandmarks.Contains(t.Label)), fold.Train.Count);
            Assert.Equal(D.Train.Where(t => fold.TestLandmarks.Contains(t.Label)).Select(t => t.Path).Order(),
                         fold.Database.Select(t => t.Path).Order());
            Assert.Empty(fold.Database.Select(t => t.Path).Intersect(D.Database.Select(t => t.Path)));
            Assert.Empty(fold.Database.Select(t => t.Label).Intersect(D.TestLandmarks));
        }
        Assert.Equal(D.TrainLandmarks.Order(), heldOut.Order());
    }

    [Fact]
    public void QueriesAreGoodViewsWithTheirLandmarksGradesAsLabels()
    {
        var fold = D.ValidationFold(1, 3);
        var gt = fold.GroundTruth;
        Assert.Equal(fold.Database.Count(t => t.Grade == "good"), fold.Queries.Count);
        for (int q = 0; q < fold.Queries.Count; q++)
        {
            var query = fold.Queries[q];
            var own = fold.Database.Single(t => t.Name == query.ImageName);
            Assert.Equal("good", own.Grade);
            Assert.Equal(own.Box, query.Box);
            Assert.Equal(own.Path, query.Path);
            // Independent of the implementation: the labels straight from each view's grade and landmark.
            int[] Where(Func<DatasetImage, bool> pick) =>
                [.. Enumerable.Range(0, fold.Database.Count).Where(i => fold.Database[i].Label == query.Label && pick(fold.Database[i]))];
            var relevance = gt.Relevance(q, EvaluationProtocol.Classic);
            Assert.Equal(Where(t => t.Grade is "good" or "ok"), relevance.Positives);
            Assert.Equal(Where(t => t.Grade == "junk"), relevance.Ignored);
            Assert.Contains(gt.IndexOf(query.ImageName), relevance.Positives);
        }
        // A perfect ranking (positives first) scores 1 under the official protocol.
        var perfect = Enumerable.Range(0, fold.Queries.Count).Select(q =>
            (IReadOnlyList<int>)[.. Enumerable.Range(0, fold.Database.Count).OrderBy(i => fold.Database[i].Label == fold.Queries[q].Label ? 0 : 1)]).ToList();
        Assert.Equal(1.0, MeanAveragePrecision.Evaluate(gt, perfect, EvaluationProtocol.Classic).MeanAveragePrecision, 9);
    }

    [Fact]
    public void SameSeedSameFoldsAndBadRequestsAreRefused()
    {
        Assert.Equal(D.ValidationFold(0, 3, seed: 4).TestLandmarks, D.ValidationFold(0, 3, seed: 4).TestLandmarks);
        var e = Assert.Throws<UserInputException>(() => D.ValidationFold(0, 4));
        Assert.Contains("too few", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => D.ValidationFold(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => D.ValidationFold(0, 1));
        // Real benchmarks have no graded training views.
        var ungraded = new LandmarkDataset("x", D.Root, D.Landmarks, [.. D.Train.Select(t => t with { Grade = null })], D.Database, D.Queries, D.GroundTruth);
        Assert.Contains("graded", Assert.Throws<UserInputException>(() => ungraded.ValidationFold(0, 3)).Message);
    }
}
