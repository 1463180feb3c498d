using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using FsCheck.Xunit;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// Property-based damage of every file the toolkit reads (lib/MultiLevelHashing/README.md section 1.6): truncation,
/// bit flips, overwritten and inserted runs, anywhere or within the header. Files with a checksum (index,
/// checkpoint, feature cache) must refuse every change; formats without one (.npy, text lists, .tgz, pickles)
/// must refuse or return, and .npy must never return a different shape. Nothing else may escape, allocate more than
/// <see cref="FuzzHarness.AllocationBound"/> or take more than seconds.
/// </summary>
[Properties(Arbitrary = [typeof(DamageArbitrary)], MaxTest = FileFuzzTests.CasesPerProperty)]
public sealed class FileFuzzTests : IDisposable
{
    /// <summary>Cases per property (12 properties).</summary>
    public const int CasesPerProperty = 300;

    private readonly string _dir = TestPaths.NewTempDirectory("fuzz");
    private readonly ITestOutputHelper _output;
    private int _case;

    public FileFuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        // The tally so far (all formats), so that a run shows how many damaged files were refused and accepted.
        foreach (var ((format, verdict), n) in FuzzHarness.CasesRun.OrderBy(kv => kv.Key.Format, StringComparer.Ordinal))
            _output.WriteLine($"{format}: {verdict} {n}");
        Directory.Delete(_dir, true);
    }

    private string NextPath(string extension) => Path.Combine(_dir, $"case-{Interlocked.Increment(ref _case)}{extension}");

    private static readonly Lazy<(byte[] Bytes, Array2D<byte> Array)> Npy = new(() =>
    {
        var rnd = new Random(3);
        var data = new byte[40 * 8];
        rnd.NextBytes(data);
        var array = new Array2D<byte>(40, 8, data);
        string path = Path.Combine(Path.GetTempPath(), $"mlh-fuzz-seed-{Guid.NewGuid():N}.npy");
        NpyFile.WriteUInt8(path, array);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return (bytes, array);
    });

    private static readonly Lazy<byte[]> Index = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlh-fuzz-seed-{Guid.NewGuid():N}.mlhidx");
        var ids = Enumerable.Range(0, 30).Select(i => $"img_{i:D3}").ToArray();
        CodeIndexFile.Write(path, ids, [SyntheticCodes.Uniform(30, 64, 1), SyntheticCodes.Uniform(30, 128, 2)]);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    });

    private static readonly Lazy<byte[]> IndexWithRegions = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlh-fuzz-seed-{Guid.NewGuid():N}.mlhidx");
        var ids = Enumerable.Range(0, 12).Select(i => $"img_{i:D3}").ToArray();
        var rnd = new Random(4);
        var offsets = new int[13];
        for (int i = 0; i < 12; i++) offsets[i + 1] = offsets[i] + rnd.Next(0, 5);
        var words = new ulong[offsets[12]];
        for (int w = 0; w < words.Length; w++) words[w] = (ulong)rnd.NextInt64();
        var positions = Enumerable.Range(0, offsets[12]).Select(_ => new RegionPosition(rnd.Next(3), rnd.Next(3), rnd.NextSingle())).ToArray();
        // With the vocabulary of the region-level inverted file after the region codes, so that its fields are damaged too.
        var regions = new RegionCodes(64, 3, 3, words, offsets, positions);
        CodeIndexFile.Write(path, ids, [SyntheticCodes.Uniform(12, 64, 1)], regions, RegionVocabulary.FitDefault(regions));
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    });

    internal static byte[] SmallCheckpoint()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlh-fuzz-seed-{Guid.NewGuid():N}.ckpt");
        var config = TrainingConfig.Smoke;
        using (var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false))
        {
            DscnnFactory.Initialize(model, seed: 0, includeBackbone: true);
            Checkpoint.Save(path, config, model, null, 0, new TrainingHistory());
        }
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    private static readonly Lazy<byte[]> CheckpointBytes = new(SmallCheckpoint);

    private static readonly Lazy<(byte[] Bytes, float[] Values)> Features = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlh-fuzz-seed-{Guid.NewGuid():N}.bin");
        var values = Enumerable.Range(0, 6 * 4 * 3 * 3).Select(i => i * 0.25f - 7f).ToArray();
        using (var t = tensor(values, [6, 4, 3, 3])) FeatureCache.Write(path, t);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return (bytes, values);
    });

    private static readonly Dictionary<string, string> ListFiles = new(StringComparer.Ordinal)
    {
        ["tower_1_query.txt"] = "oxc1_tower_000001 10.5 20 200.25 180\n",
        ["tower_1_good.txt"] = "tower_000002\ntower_000003\n",
        ["tower_1_ok.txt"] = "tower_000004\n",
        ["tower_1_junk.txt"] = "tower_000005\n",
        ["bridge_1_query.txt"] = "oxc1_bridge_000001 0 0 50 60\n",
        ["bridge_1_good.txt"] = "bridge_000002\n",
        ["bridge_1_ok.txt"] = "",
        ["bridge_1_junk.txt"] = "bridge_000003\nbridge_000004\n",
    };

    private static readonly Lazy<byte[]> Tgz = new(() =>
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Ustar, leaveOpen: true))
            foreach (var (name, text) in ListFiles.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "gt_files/" + name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        return ms.ToArray();
    });

    private static readonly Lazy<byte[]> Pickle = new(() =>
    {
        var truth = OxfordTextGroundTruth.Parse("seed", ListFiles.ToDictionary(kv => kv.Key, kv => (kv.Key, kv.Value)));
        string path = Path.Combine(Path.GetTempPath(), $"mlh-fuzz-seed-{Guid.NewGuid():N}.pkl");
        PickleGroundTruth.Write(truth.WithDatabase(truth.DatabaseImages), path);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    });

    /// <summary>A canonical text of a ground truth, to compare an accepted read with the original.</summary>
    private static string Describe(GroundTruth g) => string.Join("\n", g.DatabaseImages) + "\n" + string.Join("\n", g.Queries.Select(q =>
        $"{q.Id} {q.ImageName} {q.Box} {string.Join(",", q.Classic?.Positives ?? [])} {string.Join(",", q.Classic?.Junk ?? [])}"));

    [Property]
    public void NpyIsRefusedOrReadWithItsShape(Damage damage)
    {
        var (original, array) = Npy.Value;
        byte[] bytes = damage.Apply(original);
        Array2D<byte>? read = null;
        var verdict = FuzzHarness.Run("npy", NextPath(".npy"), bytes, p => read = NpyFile.ReadUInt8(p));
        if (verdict == Verdict.Accepted)
        {
            // .npy has no checksum: changed data bytes read as changed values, but never as another shape.
            Assert.Equal((array.Rows, array.Columns), (read!.Rows, read.Columns));
            Assert.Equal(bytes[^array.Data.Length..], read.Data);
        }
    }

    [Property]
    public void IndexRefusesEveryChange(Damage damage) => AssertIndexRefusesEveryChange("index", Index.Value, [64, 128], damage);

    /// <summary>The checksum refuses any change to an index file; only the untouched bytes open.</summary>
    private void AssertIndexRefusesEveryChange(string format, byte[] original, int[] bits, Damage damage)
    {
        byte[] bytes = damage.Apply(original);
        var verdict = FuzzHarness.Run(format, NextPath(".mlhidx"), bytes, p => { using var _ = CodeIndexFile.Open(p, bits); });
        Assert.Equal(bytes.AsSpan().SequenceEqual(original) ? Verdict.Accepted : Verdict.Rejected, verdict);
    }

    [Property]
    public void IndexWithoutChecksumStaysInBounds(Damage damage)
    {
        // Without the checksum the layout checks alone must keep every read inside the mapping.
        byte[] bytes = damage.Apply(Index.Value);
        FuzzHarness.Run("index (no checksum)", NextPath(".mlhidx"), bytes, p =>
        {
            using var index = CodeIndexFile.Open(p, verifyChecksum: false);
            foreach (var level in index.Levels) _ = level.ToArray();
            Assert.All(index.Levels, l => Assert.Equal(index.Count, l.Count));
        });
    }

    [Property]
    public void IndexWithRegionsRefusesEveryChange(Damage damage) => AssertIndexRefusesEveryChange("index with regions", IndexWithRegions.Value, [64], damage);

    [Property]
    public void IndexWithRegionsWithoutChecksumStaysInBounds(Damage damage)
    {
        // The region section's layout checks alone must keep every read of offsets, positions, codes and vocabulary inside the mapping.
        byte[] bytes = damage.Apply(IndexWithRegions.Value);
        FuzzHarness.Run("index with regions (no checksum)", NextPath(".mlhidx"), bytes, p =>
        {
            using var index = CodeIndexFile.Open(p, verifyChecksum: false);
            if (index.Regions is not { } regions) return;
            Assert.Equal(index.Count, regions.Count);
            for (int i = 0; i < regions.Count; i++)
            {
                _ = regions.Codes(i).ToArray();
                Assert.All(regions.Positions(i).ToArray(), r => Assert.True(r.Row < regions.GridHeight && r.Column < regions.GridWidth));
            }
            _ = new RegionMatcher(regions).RankAll(regions);
            if (index.Vocabulary is { } vocabulary)
            {
                Assert.Equal(regions.Bits, vocabulary.Bits);
                var file = new RegionInvertedFile(new RegionMatcher(regions), vocabulary);
                for (int q = 0; q < regions.Count; q++) _ = file.Search(regions, q, 3);
            }
        });
    }

    [Property]
    public void CheckpointRefusesEveryChange(Damage damage)
    {
        byte[] bytes = damage.Apply(CheckpointBytes.Value);
        var verdict = FuzzHarness.Run("checkpoint", NextPath(".ckpt"), bytes, p => { using var _ = Checkpoint.Read(p); });
        Assert.Equal(bytes.AsSpan().SequenceEqual(CheckpointBytes.Value) ? Verdict.Accepted : Verdict.Rejected, verdict);
    }

    [Property]
    public void ResealedCheckpointPayloadIsRefusedOrFitsTheModel(Damage damage)
    {
        // Crafted payloads behind a valid checksum: the parser and the model's shape checks must hold on their own.
        byte[] bytes = FuzzHarness.Reseal(CheckpointBytes.Value, damage.Apply);
        FuzzHarness.Run("checkpoint (resealed)", NextPath(".ckpt"), bytes, p =>
        {
            var (model, _) = Checkpoint.LoadModel(p);
            model.Dispose();
        });
    }

    [Property]
    public void FeatureCacheIsRecomputedUnlessIntact(Damage damage)
    {
        var (original, values) = Features.Value;
        byte[] bytes = damage.Apply(original);
        using var read = ReadCache("feature cache", bytes);
        if (bytes.AsSpan().SequenceEqual(original)) Assert.Equal(values, read!.data<float>().ToArray());
        else Assert.Null(read);
    }

    [Property]
    public void ResealedFeatureCacheIsRefusedOrFourDimensional(Damage damage)
    {
        byte[] bytes = FuzzHarness.Reseal(Features.Value.Bytes, damage.Apply);
        using var read = ReadCache("feature cache (resealed)", bytes);
        if (read is not null) Assert.Equal(4, read.ndim);
    }

    private Tensor? ReadCache(string format, byte[] bytes)
    {
        Tensor? read = null;
        bool absent = false;
        // The cache never throws: a damaged file reads as absent (null) and is recomputed; tallied as refused.
        var verdict = FuzzHarness.Run(format, NextPath(".bin"), bytes, p =>
        {
            read = FeatureCache.TryRead(p);
            absent = read is null;
            if (absent) throw UserInputException.InFile(p, "read as absent");
        });
        Assert.Equal(absent ? Verdict.Rejected : Verdict.Accepted, verdict);
        return read;
    }

    [Property]
    public void TextListsAreRefusedByFileAndLineOrParsed(Damage damage)
    {
        var names = ListFiles.Keys.Order(StringComparer.Ordinal).ToArray();
        string victim = names[(int)((uint)damage.Seed % names.Length)];
        string path = NextPath(".txt");
        byte[] damaged = damage.Apply(Encoding.UTF8.GetBytes(ListFiles[victim]));
        FuzzHarness.Run("text ground truth", path, damaged, p =>
        {
            var files = ListFiles.ToDictionary(kv => kv.Key, kv => (kv.Key, kv.Value));
            string text;
            try { text = new UTF8Encoding(false, true).GetString(File.ReadAllBytes(p)); }
            catch (DecoderFallbackException) { throw UserInputException.InFile(p, "not UTF-8"); }
            files[victim] = (p, text);
            _ = OxfordTextGroundTruth.Parse(_dir, files);
        });
    }

    [Property]
    public void TgzIsRefusedOrReadsTheSameLists(Damage damage)
    {
        byte[] bytes = damage.Apply(Tgz.Value);
        GroundTruth? read = null;
        var verdict = FuzzHarness.Run("tgz", NextPath(".tgz"), bytes, p => read = OxfordTextGroundTruth.ReadArchive(p));
        // gzip's CRC-32 and tar's header checksums catch changes; changes to fields nobody reads (gzip time, padding) are harmless.
        if (verdict == Verdict.Accepted)
        {
            var expected = OxfordTextGroundTruth.Parse(read!.Source, ListFiles.ToDictionary(kv => kv.Key, kv => (kv.Key, kv.Value)));
            Assert.Equal(Describe(expected), Describe(read));
        }
    }

    [Fact]
    public void TgzWhoseDamageDecodesIntoAnEarlyEndOfArchiveIsRefused()
    {
        // Found by the property above: two zeroed bytes in the deflate stream end the tar early, before the lists of
        // one query; without reading the gzip stream to its CRC the shorter archive read as a smaller ground truth.
        byte[] bytes = new Damage(DamageKind.ZeroRun, 762566, InHeader: true, Count: 2, Seed: 489591516).Apply(Tgz.Value);
        string path = NextPath(".tgz");
        File.WriteAllBytes(path, bytes);
        Assert.Throws<UserInputException>(() => OxfordTextGroundTruth.ReadArchive(path));
    }

    [Fact]
    public void TgzWhoseDeflateStreamIsCutAfterDamageIsRefused()
    {
        // Found by the property above: flipped bits near the end of the deflate stream decode into other text and then
        // end inside a block; GZipStream returns end of stream there without an error, so only the trailer check
        // (CRC-32 and length of what was decoded) catches it.
        byte[] bytes = new Damage(DamageKind.FlipBits, 966742, InHeader: false, Count: 12, Seed: 68364999).Apply(Tgz.Value);
        string path = NextPath(".tgz");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<UserInputException>(() => OxfordTextGroundTruth.ReadArchive(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TgzCutAnywhereInItsLastBytesIsRefused()
    {
        byte[] whole = Tgz.Value;
        for (int cut = 1; cut <= 24; cut++)
        {
            string path = NextPath(".tgz");
            File.WriteAllBytes(path, whole[..^cut]);
            Assert.Throws<UserInputException>(() => OxfordTextGroundTruth.ReadArchive(path));
        }
    }

    [Property]
    public void PickleIsRefusedOrParsed(Damage damage)
    {
        byte[] bytes = damage.Apply(Pickle.Value);
        GroundTruth? read = null;
        var verdict = FuzzHarness.Run("gnd pickle", NextPath(".pkl"), bytes, p => read = PickleGroundTruth.Read(p));
        if (verdict == Verdict.Accepted)
            Assert.All(read!.Queries, q => Assert.True(q.Classic is not null || q.Revisited is not null));
    }
}
