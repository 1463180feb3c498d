using System.Globalization;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Data;

/// <summary>
/// A small benchmark in the official on-disk layouts, made of generated images: Oxford (<c>oxbuild_images/</c> with
/// names like <c>all_souls_000013.jpg</c>, <c>gt_files/</c> text lists with the <c>oxc1_</c> prefix in the query files,
/// and a revisited <c>gnd_roxford5k.pkl</c>), Paris (<c>paris/&lt;landmark&gt;/paris_&lt;landmark&gt;_NNNNNN.jpg</c>, text lists
/// without prefix), and a nested distractor folder. Per landmark the first image is the query, the next two good
/// (easy), one ok (hard), one junk, and the last is unlabelled; views of one landmark share a pattern.
/// </summary>
internal sealed class LandmarkFixture
{
    public static readonly string[] OxfordLandmarks = ["all_souls", "ashmolean", "balliol"];
    public static readonly string[] ParisLandmarks = ["defense", "eiffel", "louvre"];
    public const int Width = 64, Height = 48, ImagesPerLandmark = 6;
    public static readonly BoundingBox QueryBox = new(6.5, 4.2, 50.7, 40.9);

    public required string Root { get; init; }
    public string OxfordImages => Path.Combine(Root, "oxbuild_images");
    public string OxfordGt => Path.Combine(Root, "gt_files_170407");
    public string RevisitedPickle => Path.Combine(Root, "gnd_roxford5k.pkl");
    public string ParisImages => Path.Combine(Root, "paris");
    public string ParisGt => Path.Combine(Root, "paris_gt");
    public string Distractors => Path.Combine(Root, "flickr100k");

    /// <summary>Oxford image names by landmark, in file-name order (query first).</summary>
    public static string OxfordName(int landmark, int k) => $"{OxfordLandmarks[landmark]}_{13 + 7 * k:D6}";

    public static string ParisName(int landmark, int k) => $"paris_{ParisLandmarks[landmark]}_{k:D6}";

    /// <summary>Extra Oxford images that show no landmark.</summary>
    public static readonly string[] OxfordOthers = ["oxford_000021", "oxford_000105"];

    public static LandmarkFixture Create(string root, int distractors = 5)
    {
        var f = new LandmarkFixture { Root = root };
        Directory.CreateDirectory(f.OxfordImages);
        Directory.CreateDirectory(f.OxfordGt);
        Directory.CreateDirectory(f.ParisGt);
        for (int l = 0; l < OxfordLandmarks.Length; l++)
            for (int k = 0; k < ImagesPerLandmark; k++)
            {
                WriteImage(Path.Combine(f.OxfordImages, OxfordName(l, k) + ".jpg"), pattern: l, seed: 100 * l + k);
                string dir = Path.Combine(f.ParisImages, ParisLandmarks[l]);
                Directory.CreateDirectory(dir);
                WriteImage(Path.Combine(dir, ParisName(l, k) + ".jpg"), pattern: l + 3, seed: 1000 + 100 * l + k);
            }
        for (int i = 0; i < OxfordOthers.Length; i++) WriteImage(Path.Combine(f.OxfordImages, OxfordOthers[i] + ".jpg"), pattern: 7, seed: 5000 + i);
        for (int i = 0; i < distractors; i++)
        {
            string dir = Path.Combine(f.Distractors, i % 2 == 0 ? "0" : Path.Combine("1", "deep"));
            Directory.CreateDirectory(dir);
            WriteImage(Path.Combine(dir, $"{i * 37 % 101:D4}_flickr.jpg"), pattern: 8 + i % 3, seed: 9000 + i);
        }
        WriteTextLists(f.OxfordGt, OxfordLandmarks, OxfordName, OxfordTextGroundTruth.OxfordQueryPrefix);
        WriteTextLists(f.ParisGt, ParisLandmarks, ParisName, "");
        f.WriteRevisitedPickle(f.RevisitedPickle);
        return f;
    }

    /// <summary>Writes query/good/ok/junk lists: query = image 0 (also good), good = 0..2, ok = 3, junk = 4.</summary>
    private static void WriteTextLists(string dir, string[] landmarks, Func<int, int, string> name, string queryPrefix)
    {
        for (int l = 0; l < landmarks.Length; l++)
        {
            string stem = Path.Combine(dir, $"{landmarks[l]}_1");
            File.WriteAllText(stem + "_query.txt", string.Create(CultureInfo.InvariantCulture,
                $"{queryPrefix}{name(l, 0)} {QueryBox.X1} {QueryBox.Y1} {QueryBox.X2} {QueryBox.Y2}\n"));
            File.WriteAllText(stem + "_good.txt", string.Join('\n', new[] { 0, 1, 2 }.Select(k => name(l, k))) + "\n");
            File.WriteAllText(stem + "_ok.txt", name(l, 3) + "\n");
            File.WriteAllText(stem + "_junk.txt", name(l, 4) + "\n");
        }
    }

    /// <summary>A revisited pickle over the Oxford images: easy = good, hard = ok, junk = junk (query image 0 not listed, as in ROxford).</summary>
    private void WriteRevisitedPickle(string path)
    {
        var imlist = Directory.EnumerateFiles(OxfordImages).Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList();
        int Idx(int l, int k) => imlist.IndexOf(OxfordName(l, k));
        var queries = Enumerable.Range(0, OxfordLandmarks.Length).Select(l => new GroundTruthQuery(
            OxfordName(l, 0), OxfordName(l, 0), QueryBox, null, null,
            new RevisitedLabels([Idx(l, 1), Idx(l, 2)], [Idx(l, 3)], [Idx(l, 4)]))).ToList();
        PickleGroundTruth.Write(new GroundTruth(path, imlist!, queries, databaseIsComplete: true), path);
    }

    /// <summary>A JPEG of a landmark's pattern (stripes and colour of <paramref name="pattern"/>) with per-view noise and shift.</summary>
    public static void WriteImage(string path, int pattern, int seed)
    {
        var rng = new SeededRandom(seed);
        int shift = (int)(rng.NextDouble() * 6);
        using var image = new Image<Rgb24>(Width, Height);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                double s = Math.Sin((x + shift) * (0.15 + 0.07 * pattern) + y * 0.05 * (pattern % 4));
                byte Channel(int c) => (byte)Math.Clamp(128 + 90 * s * ((pattern + c) % 3 - 1 + 0.5) + (rng.NextDouble() - 0.5) * 30 + 20 * c * (pattern % 2), 0, 255);
                image[x, y] = new Rgb24(Channel(0), Channel(1), Channel(2));
            }
        image.SaveAsJpeg(path);
    }
}
