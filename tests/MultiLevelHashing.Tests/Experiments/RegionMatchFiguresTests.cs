using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Search.Regions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Experiments;

/// <summary>
/// The region-match figures of notebooks 05 and 06 (lib/MultiLevelHashing/README.md sections 2.3, 2.6 Rendering and 2.8)
/// on a hand-built benchmark of four 200 x 100 photos with 2 x 2 grids of 64-bit region codes: which positive is drawn,
/// which cells count as inside a box, and what each selection of locations keeps, against <see cref="RegionMatcher.Matches"/>.
/// </summary>
public sealed class RegionMatchFiguresTests : IDisposable
{
    private const int Bits = 64;
    private readonly string _dir = Directory.CreateTempSubdirectory("mlh-region-figures-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Images i0..i3; query q0 is the left half of i0, whose positives are i0 (its own photo), i1 and i2, and i3 is a
    /// negative. i3 and i2 are i0 with 2 and 6 bits of every region flipped, i1 is unrelated: region codes rank i0, i3, i2, i1.
    /// </summary>
    private (LandmarkDataset Dataset, RegionMatcher Matcher, RegionCodes Query) Benchmark()
    {
        var names = new[] { "i0", "i1", "i2", "i3" };
        var database = new List<DatasetImage>();
        foreach (string name in names)
        {
            string path = Path.Combine(_dir, name + ".png");
            using (var image = new Image<Rgb24>(200, 100, new Rgb24(128, 128, 128))) image.SaveAsPng(path);
            database.Add(new DatasetImage(name, path, name == "i3" ? 1 : 0, DatasetSplit.Test, Box: new BoundingBox(100, 0, 200, 100)));
        }
        var box = new BoundingBox(0, 0, 100, 100);
        var truth = new GroundTruth("hand", names, [new GroundTruthQuery("q0", "i0", box, "a", new ClassicLabels([0, 1, 2], []), null)], databaseIsComplete: true);
        var dataset = new LandmarkDataset("hand", _dir, ["a", "b"], [], database, [new DatasetQuery("q0", "i0", database[0].Path, box, 0)], truth);

        var rng = new Random(7);
        var own = new bool[4, Bits];
        for (int r = 0; r < 4; r++)
            for (int b = 0; b < Bits; b++) own[r, b] = rng.Next(2) == 1;
        var real = new List<float>();
        void Add(Func<int, int, bool> bit)
        {
            for (int r = 0; r < 4; r++)
                for (int b = 0; b < Bits; b++) real.Add(bit(r, b) ? 1f : -1f);
        }
        Add((r, b) => own[r, b]);                       // i0
        Add((_, _) => rng.Next(2) == 1);                // i1: unrelated
        Add((r, b) => own[r, b] ^ (b % 10 == r && b < 60)); // i2: 6 bits of each region flipped
        Add((r, b) => own[r, b] ^ (b == r || b == r + 8));   // i3: 2 bits flipped
        // Strengths distinct per cell so that the strongest two are known: cells (1, 1) and (0, 1).
        float[] strength = [1, 3, 2, 4];
        var positions = Enumerable.Range(0, 16).Select(i => new RegionPosition(i % 4 / 2, i % 2, strength[i % 4])).ToArray();
        var codes = RegionCodes.FromReal(real.ToArray(), Bits, 2, 2, [0, 4, 8, 12, 16], positions);
        // The cropped query is coded as its own photo, so i0 ranks first.
        return (dataset, new RegionMatcher(codes), codes.Slice(0, 1));
    }

    [Fact]
    public void TheBestPositiveIsTheHighestRankedPositiveOtherThanTheQuerysOwnPhoto()
    {
        var (dataset, matcher, query) = Benchmark();
        var pair = RegionMatchFigures.BestPositive(dataset, 0, matcher, query, EvaluationProtocol.Classic);
        Assert.Equal((0, 0, 2, 3), (pair.Query, pair.Photo, pair.Image, pair.Rank)); // i0 (own photo) and i3 (negative) ahead
        Assert.Equal(matcher.Similarity(query, 0, 2), pair.Similarity, 12);
        Assert.True(pair.Similarity < 1);
    }

    [Fact]
    public void CellsInsideABoxAreThoseWhoseCentreItHoldsOrElseTheMostCovered()
    {
        var (_, matcher, _) = Benchmark();
        // Cell centres at 0.25 and 0.75 of each axis.
        Assert.Equal([0, 2], RegionMatchFigures.CellsInside(matcher.Database, 0, new RegionBox(0, 0, 0.5, 1)));     // left column
        Assert.Equal([0, 1], RegionMatchFigures.CellsInside(matcher.Database, 0, new RegionBox(0, 0, 1, 0.3)));     // top row
        Assert.Equal([1, 3], RegionMatchFigures.CellsInside(matcher.Database, 0, new RegionBox(0.7, 0.1, 0.8, 0.9))); // a thin strip over both right centres
        Assert.Equal([3], RegionMatchFigures.CellsInside(matcher.Database, 0, new RegionBox(0.45, 0.55, 0.7, 0.7)));  // no centre: the most covered cell
    }

    [Fact]
    public void EachSelectionIsASubsetAndItsMatchesAreTheMatchersOnTheKeptLocations()
    {
        var (dataset, matcher, query) = Benchmark();
        var pair = RegionMatchFigures.BestPositive(dataset, 0, matcher, query, EvaluationProtocol.Classic);
        var panels = RegionMatchFigures.Selections(dataset, pair, matcher, 2, seed: 0);
        Assert.Equal(["all locations", "inside the query box", "strongest 2", "random 2"], panels.Select(p => p.Name));

        var photo = matcher.Database.Slice(pair.Photo, 1);
        var all = panels[0];
        Assert.Equal(matcher.Matches(photo, 0, pair.Image), all.Matches);
        Assert.Equal(matcher.Similarity(photo, 0, pair.Image), all.Similarity, 12);
        Assert.Equal((all.Matches.Length, 0, 0), (all.Kept, all.Dropped.Count, all.New));

        foreach (var p in panels)
        {
            // Kept locations are locations of the photo and of the image, each at most once.
            var photoCells = photo.Positions(0).ToArray().Select(c => (c.Row, c.Column)).ToHashSet();
            var keptCells = p.Query.Positions(0).ToArray().Select(c => (c.Row, c.Column)).ToList();
            Assert.Subset(photoCells, keptCells.ToHashSet());
            Assert.Equal(keptCells.Count, keptCells.Distinct().Count());
            Assert.True(p.Image.RegionCount(0) <= matcher.Database.RegionCount(pair.Image));
            // Every match of all locations is either kept (the same two cells) or dropped.
            Assert.Equal(all.Matches.Length, p.Kept + p.Dropped.Count);
            Assert.Equal(new RegionMatcher(p.Image, matcher.Kernel).Matches(p.Query, 0, 0), p.Matches);
            // Every region matches itself at sigma = 1, so K(Q, Q) and K(D, D) count the kept regions and the similarity
            // is the kept matches' sum over the square root of their product.
            Assert.Equal(p.Matches.Sum(m => (double)m.Value) / Math.Sqrt(p.Query.RegionCount(0) * p.Image.RegionCount(0)), p.Similarity, 6);
        }

        // Inside the query box (the left half): the left column, matched against every location of the image, so its
        // matches are exactly the matcher's for those query locations, a subset of all locations' matches.
        var inside = panels[1];
        Assert.Equal([(0, 0), (1, 0)], inside.Query.Positions(0).ToArray().Select(c => (c.Row, c.Column)));
        var expected = matcher.Matches(inside.Query, 0, pair.Image);
        Assert.Equal(expected, inside.Matches);
        Assert.Equal((expected.Length, 0), (inside.Kept, inside.New));
        Assert.Subset(all.Matches.Select(m => (m.ImageRegion, m.Value)).ToHashSet(), inside.Matches.Select(m => (m.ImageRegion, m.Value)).ToHashSet());

        // The strongest two of both sides: cells (1, 1) and (0, 1).
        var strongest = panels[2];
        Assert.Equal([(1, 1), (0, 1)], strongest.Query.Positions(0).ToArray().Select(c => (c.Row, c.Column)));
        Assert.Equal(2, strongest.Image.RegionCount(0));
        Assert.Equal(2, panels[3].Query.RegionCount(0));
    }

    [Fact]
    public void TheFiguresAreWrittenWithCountsThatMatchTheirMatches()
    {
        var (dataset, matcher, query) = Benchmark();
        var pair = RegionMatchFigures.BestPositive(dataset, 0, matcher, query, EvaluationProtocol.Classic);

        var strength = RegionMatchFigures.WriteStrength(_dir, dataset, pair, matcher);
        Assert.Equal(matcher.Matches(matcher.Database.Slice(0, 1), 0, pair.Image), strength.Matches);
        // The query box is the left column (regions 0 and 2); the image's landmark box the right column (regions 1 and 3).
        Assert.Equal(strength.Matches.Count(m => m.QueryRegion is 0 or 2), strength.InsideQueryBox);
        Assert.Equal(strength.Matches.Count(m => m.QueryRegion is 0 or 2 && m.ImageRegion is 1 or 3), strength.LandInsideImageBox);
        Assert.Equal(Path.Combine(_dir, "q0-strength.png"), strength.Path);
        Assert.Contains($"{strength.Matches.Length} matches, {strength.InsideQueryBox} from the 2 cells inside the query box", strength.Title);
        using (var png = Image.Load<Rgb24>(strength.Path)) Assert.Equal(24 + 320 + 48 + 320 + 24, png.Width);

        var (path, _, panels) = RegionMatchFigures.WriteSelections(_dir, dataset, pair, matcher, 2, seed: 0);
        Assert.Equal(4, panels.Count);
        using var sheet = Image.Load<Rgb24>(path);
        Assert.True(sheet.Height > 4 * 160, "four panels, one under the other");
    }
}
