using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;
using MultiLevelHashing.Tests.Training;

namespace MultiLevelHashing.Tests.Cli;

[Collection(ConsoleCommandCollection.Name)]
public class RegionsCommandTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    private const int Bits = 32, Size = 96;

    private static Task<int> Invoke(TextWriter? output, params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(RegionsCommand.Create(output));
        root.Subcommands.Add(IndexCommand.Create(output));
        root.Subcommands.Add(QueryCommand.Create(output));
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static string SmokeCheckpoint(string work, string name) => UntrainedCheckpoint.Write(Path.Combine(work, name));

    [Fact]
    public async Task RegionsIndexAndQueryRankAsRegionSearchComputedDirectly()
    {
        string work = TestPaths.NewTempDirectory("regions");
        try
        {
            var ds = fixture.Dataset;
            string dataset = fixture.Summary.Directory, ckpt = SmokeCheckpoint(work, "model.ckpt");
            Assert.Null(Checkpoint.ReadInfo(ckpt).RegionCoder); // checkpoints without a coder load as before

            Assert.Equal(0, await Invoke(null, "regions", "--checkpoint", ckpt, "--dataset", dataset, "--bits", $"{Bits}", "--size", $"{Size}"));
            var stored = Checkpoint.ReadInfo(ckpt).RegionCoder!;
            Assert.Equal((Bits, Size), (stored.Bits, stored.ImageSize));
            Assert.True(stored.Channels >= Bits);
            Assert.Contains($"{ds.Train.Count} images", stored.Source);
            var (reloaded, _) = Checkpoint.LoadModel(ckpt); // the model's tensors are untouched and still load
            reloaded.Dispose();

            string index = Path.Combine(work, "db.mlhidx");
            Assert.Equal(0, await Invoke(null, "index", "--dataset", dataset, "--checkpoint", ckpt, "--output", index, "--regions", "--batch", "4"));

            // The independent path: the coder from the checkpoint applied to maps computed here, and RegionSearch itself.
            var query = ds.Queries[0];
            var box = query.Box;
            var (coder, info) = Checkpoint.LoadRegionCoder(ckpt)!.Value;
            var (model, loaded) = Checkpoint.LoadModel(ckpt);
            RegionCodes databaseRegions, queryRegions;
            PackedCodes queryGlobal;
            using (model)
            using (coder)
            {
                using (var maps = FeatureCache.Compute(model.Backbone, ImageFileSource.Database(ds), info.ImageSize, 8))
                    databaseRegions = coder.Encode(maps);
                var querySource = new ImageFileSource(ImageFiles.Of([(query.Path, (BoundingBox?)box)], ds.Root));
                using (var maps = FeatureCache.Compute(model.Backbone, querySource, info.ImageSize, 1))
                    queryRegions = coder.Encode(maps);
                queryGlobal = DscnnEncoder.Encode(model, querySource, loaded.Config.ImageSize, 1).Global;
            }

            int k = 8;
            string[] expected, expectedVerified, expectedExpanded;
            using (var db = CodeIndexFile.Open(index, [TrainingConfig.Smoke.GlobalBits, TrainingConfig.Smoke.LocalBits]))
            {
                Assert.Equal(ds.Database.Select(d => d.Name), db.ImageIds);
                var mapped = db.Regions!;
                Assert.True(mapped.GridHeight * mapped.GridWidth > 1, "every location of a grid is coded");
                Assert.Equal(databaseRegions.Offsets.ToArray(), mapped.Offsets.ToArray());
                Assert.Equal(databaseRegions.AllCodes.ToArray(), mapped.AllCodes.ToArray());
                Assert.Equal(databaseRegions.AllPositions.ToArray(), mapped.AllPositions.ToArray());
                var ranking = new RegionSearch(db.Levels[0], databaseRegions, SelectiveKernel.Default)
                    .Search(queryGlobal, queryRegions, RegionSearch.DefaultCandidates, k)[0];
                Assert.Equal(Math.Min(k, ds.Database.Count), ranking.Reranked); // the whole shortlist is re-ranked by region score
                expected = [.. ranking.Ids.Select(i => db.ImageIds[i])];
                // --verify: the top 100 verified; --expand 2: query expansion with the top 2.
                var search = new RegionSearch(db.Levels[0], databaseRegions, SelectiveKernel.Default);
                var top100 = search.Search(queryGlobal, queryRegions, RegionSearch.DefaultCandidates, 100);
                expectedVerified = [.. search.Verify(top100, queryRegions, SpatialVerifier.Default, 100)[0].Ids.Take(k).Select(i => db.ImageIds[i])];
                expectedExpanded = [.. search.SearchExpanded(queryGlobal, queryRegions, RegionSearch.DefaultCandidates, 2, k)[0].Ids.Select(i => db.ImageIds[i])];
            }

            string boxText = string.Join(',', new[] { box.X1, box.Y1, box.X2, box.Y2 }.Select(v => v.ToString(CultureInfo.InvariantCulture)));
            var text = new StringWriter();
            Assert.Equal(0, await Invoke(text, "query", "--index", index, "--checkpoint", ckpt, "--image", query.Path, "--box", boxText,
                "--regions", "--k", $"{k}"));
            var rows = Rows(text.ToString());
            Assert.Equal(expected, rows.Select(r => r[2]));
            Assert.All(rows, r => Assert.NotEqual("-", r[4]));
            Assert.Contains($"stage 2 re-ranks the top {ds.Database.Count} by region codes ({Bits} bits", text.ToString());

            text = new StringWriter();
            Assert.Equal(0, await Invoke(text, "query", "--index", index, "--checkpoint", ckpt, "--image", query.Path, "--box", boxText,
                "--regions", "--verify", "--k", $"{k}"));
            Assert.Equal(expectedVerified, Rows(text.ToString()).Select(r => r[2]));
            text = new StringWriter();
            Assert.Equal(0, await Invoke(text, "query", "--index", index, "--checkpoint", ckpt, "--image", query.Path, "--box", boxText,
                "--regions", "--expand", "2", "--k", $"{k}"));
            Assert.Equal(expectedExpanded, Rows(text.ToString()).Select(r => r[2]));
            var misuse = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, "query", "--index", index, "--checkpoint", ckpt, "--image", query.Path, "--verify"));
            Assert.Contains("--regions", misuse.Message);

            // An index without region codes, and a checkpoint without a coder, are refused naming the file.
            string plainIndex = Path.Combine(work, "plain.mlhidx");
            Assert.Equal(0, await Invoke(null, "index", "--dataset", dataset, "--checkpoint", ckpt, "--output", plainIndex));
            var e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, "query", "--index", plainIndex, "--checkpoint", ckpt, "--image", query.Path, "--regions"));
            Assert.Contains("plain.mlhidx", e.Message);
            Assert.Contains("mlh index --regions", e.Message);
            string bare = SmokeCheckpoint(work, "bare.ckpt");
            e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, "index", "--dataset", dataset, "--checkpoint", bare, "--output",
                Path.Combine(work, "never.mlhidx"), "--regions"));
            Assert.Contains("bare.ckpt", e.Message);
            Assert.Contains("mlh regions", e.Message);

            // A coder of another length than the index's region codes: the index is named.
            Assert.Equal(0, await Invoke(null, "regions", "--checkpoint", ckpt, "--dataset", dataset, "--bits", "16", "--size", $"{Size}"));
            e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, "query", "--index", index, "--checkpoint", ckpt, "--image", query.Path, "--regions"));
            Assert.Contains("db.mlhidx", e.Message);
            Assert.Contains("32-bit region codes", e.Message);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    /// <summary>
    /// <c>mlh index --regions</c> stores the vocabulary a fresh default fit on the region codes gives, and <c>mlh query
    /// --regions --inverted M --probes P</c> ranks as <see cref="RegionSearch.Search"/> over the index with that vocabulary's
    /// inverted file; an index without a vocabulary or region codes, and <c>--inverted</c> without <c>--regions</c>, are refused.
    /// </summary>
    [Fact]
    public async Task RegionsFitsTheLearnedWhiteningOfWarpedTrainingViewsWhenAsked()
    {
        string work = TestPaths.NewTempDirectory("regions-whitening");
        try
        {
            var ds = fixture.Dataset;
            string dataset = fixture.Summary.Directory, ckpt = SmokeCheckpoint(work, "model.ckpt");
            var text = new StringWriter();
            Assert.Equal(0, await Invoke(text, "regions", "--checkpoint", ckpt, "--dataset", dataset, "--bits", $"{Bits}", "--size", $"{Size}",
                "--method", "whitening", "--shrinkage", "0.5", "--batch", "4"));
            Assert.StartsWith("learned-whitening region coder", text.ToString());
            var (coder, info) = Checkpoint.LoadRegionCoder(ckpt)!.Value;
            using var _ = coder;
            Assert.Contains("learned whitening of matched locations, shrinkage 0.5", info.Source);

            // The independent path: the same training maps and warped views, fitted here.
            var (model, _) = Checkpoint.LoadModel(ckpt);
            using (model)
            {
                using var maps = FeatureCache.Compute(model.Backbone, ImageFileSource.Train(ds), Size, 4);
                var config = MultiLevelHashing.Experiments.RegionStudyConfig.TablesTraining with { Shrinkage = 0.5 };
                using var views = CorrespondenceTraining.Warp(model.Backbone, ImageFileSource.Train(ds), Size, (int)maps.shape[2], (int)maps.shape[3], config, null, 4);
                using var pca = RegionHashHead.FromPca(maps, Bits);
                using var expected = CorrespondenceTraining.LearnedWhitening(pca, maps, views, 0.5);
                Assert.True(expected.Weight.sub(coder.Weight).abs().max().item<float>() < 1e-4);
                Assert.False(pca.Weight.sub(coder.Weight).abs().max().item<float>() < 1e-3);
            }

            var e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, "regions", "--checkpoint", ckpt, "--dataset", dataset,
                "--method", "whitening", "--shrinkage", "-1"));
            Assert.Contains("--shrinkage", e.Message);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [Fact]
    public async Task QueryWithTheInvertedFileRanksAsRegionSearchWithTheStoredVocabulary()
    {
        string work = TestPaths.NewTempDirectory("regions-inverted");
        try
        {
            var ds = fixture.Dataset;
            string dataset = fixture.Summary.Directory, ckpt = SmokeCheckpoint(work, "model.ckpt");
            Assert.Equal(0, await Invoke(null, "regions", "--checkpoint", ckpt, "--dataset", dataset, "--bits", $"{Bits}", "--size", $"{Size}"));
            string index = Path.Combine(work, "db.mlhidx");
            var indexed = new StringWriter();
            Assert.Equal(0, await Invoke(indexed, "index", "--dataset", dataset, "--checkpoint", ckpt, "--output", index, "--regions", "--batch", "4"));

            var query = ds.Queries[0];
            var box = query.Box;
            var (coder, info) = Checkpoint.LoadRegionCoder(ckpt)!.Value;
            var (model, loaded) = Checkpoint.LoadModel(ckpt);
            RegionCodes queryRegions;
            PackedCodes queryGlobal;
            using (model)
            using (coder)
            {
                var querySource = new ImageFileSource(ImageFiles.Of([(query.Path, (BoundingBox?)box)], ds.Root));
                using (var maps = FeatureCache.Compute(model.Backbone, querySource, info.ImageSize, 1))
                    queryRegions = coder.Encode(maps);
                queryGlobal = DscnnEncoder.Encode(model, querySource, loaded.Config.ImageSize, 1).Global;
            }

            const int candidates = 3, inverted = 5, probes = 2, k = 12;
            string[] expected, expectedScores;
            string noVocabulary = Path.Combine(work, "novocabulary.mlhidx"), noRegions = Path.Combine(work, "noregions.mlhidx");
            using (var db = CodeIndexFile.Open(index, [TrainingConfig.Smoke.GlobalBits, TrainingConfig.Smoke.LocalBits]))
            {
                var vocabulary = db.Vocabulary!;
                var fresh = RegionVocabulary.FitDefault(db.Regions!);
                Assert.Equal((fresh.Bits, fresh.Count, fresh.Fitting), (vocabulary.Bits, vocabulary.Count, vocabulary.Fitting));
                Assert.Equal(fresh.AllCentroids.ToArray(), vocabulary.AllCentroids.ToArray());
                Assert.Contains($"a vocabulary of {vocabulary.Count} words", indexed.ToString());

                var matcher = new RegionMatcher(db.Regions!, SelectiveKernel.Default);
                var search = new RegionSearch(db.Levels[0], matcher, invertedFile: new RegionInvertedFile(matcher, vocabulary));
                var ranking = search.Search(queryGlobal, queryRegions, candidates, k, 0, inverted, probes)[0];
                Assert.True(ranking.Reranked > candidates, "the inverted file adds images to the global shortlist");
                expected = [.. ranking.Ids.Select(i => db.ImageIds[i])];
                expectedScores = [.. ranking.RegionScores.Select((v, r) => r < ranking.Reranked ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-")];
                // The same index without its vocabulary (as written before format version 3), and without region codes.
                CodeIndexFile.Write(noVocabulary, db.ImageIds, db.Levels, db.Regions);
                CodeIndexFile.Write(noRegions, db.ImageIds, db.Levels);
            }

            string boxText = string.Join(',', new[] { box.X1, box.Y1, box.X2, box.Y2 }.Select(v => v.ToString(CultureInfo.InvariantCulture)));
            string[] Query(string file, params string[] rest) =>
                ["query", "--index", file, "--checkpoint", ckpt, "--image", query.Path, "--box", boxText, "--k", $"{k}", .. rest];
            var text = new StringWriter();
            Assert.Equal(0, await Invoke(text, Query(index, "--regions", "--candidates", $"{candidates}", "--inverted", $"{inverted}", "--probes", $"{probes}")));
            var rows = Rows(text.ToString());
            Assert.Equal(expected, rows.Select(r => r[2]));
            Assert.Equal(expectedScores, rows.Select(r => r[4]));
            Assert.Contains($"stage 1 also takes the inverted file's top {inverted}", text.ToString());

            var e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, Query(index, "--inverted", $"{inverted}")));
            Assert.Contains("--regions", e.Message);
            e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, Query(noVocabulary, "--regions", "--inverted", $"{inverted}")));
            Assert.Contains("novocabulary.mlhidx", e.Message);
            Assert.Contains("vocabulary", e.Message);
            e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, Query(noRegions, "--regions", "--inverted", $"{inverted}")));
            Assert.Contains("noregions.mlhidx", e.Message);
            Assert.Contains("region codes", e.Message);
            // Without --inverted the index without a vocabulary still answers.
            Assert.Equal(0, await Invoke(new StringWriter(), Query(noVocabulary, "--regions")));
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [Fact]
    public async Task BenchmarkScoresTheSearchWithRegionCodesAsRegionSearchComputedDirectly()
    {
        string work = TestPaths.NewTempDirectory("regions-benchmark");
        try
        {
            var ds = fixture.Dataset;
            string dataset = fixture.Summary.Directory, ckpt = SmokeCheckpoint(work, "model.ckpt"), results = Path.Combine(work, "results");
            var text = new StringWriter();
            var root = new RootCommand();
            root.Subcommands.Add(BenchmarkCommand.Create(text));
            var e = await Assert.ThrowsAsync<UserInputException>(() => root.Parse(["benchmark", "--dataset", dataset, "--checkpoint", ckpt, "--regions",
                "--cache", Path.Combine(work, "cache"), "--output", results]).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
            Assert.Contains("model.ckpt", e.Message);
            Assert.Contains("mlh regions", e.Message);

            Assert.Equal(0, await Invoke(null, "regions", "--checkpoint", ckpt, "--dataset", dataset, "--bits", $"{Bits}", "--size", $"{Size}"));
            const int candidates = 6;
            Assert.Equal(0, await root.Parse(["benchmark", "--dataset", dataset, "--checkpoint", ckpt, "--regions", "--candidates", $"{candidates}",
                "--cache", Path.Combine(work, "cache"), "--output", results]).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
            var report = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(results, "results.json")));
            Assert.Equal(Bits, report.RegionBits);
            var scored = report.Methods.Single(m => m.Method == "regions");
            Assert.Contains($"top {candidates} re-ranked by {Bits}-bit region codes", scored.Description);

            // The same search from codes computed here: the stored coder on maps of the database and the cropped queries.
            var (coder, info) = Checkpoint.LoadRegionCoder(ckpt)!.Value;
            var (model, loaded) = Checkpoint.LoadModel(ckpt);
            List<IReadOnlyList<int>> rankings, invertedRankings;
            const int inverted = 4, probes = 2;
            using (model)
            using (coder)
            {
                RegionCodes Regions(ImageFileSource images)
                {
                    using var maps = FeatureCache.Compute(model.Backbone, images, info.ImageSize, 8);
                    return coder.Encode(maps);
                }
                using var db = DscnnEncoder.Encode(model, ImageFileSource.Database(ds), loaded.Config.ImageSize, 8);
                using var queries = DscnnEncoder.Encode(model, ImageFileSource.Queries(ds), loaded.Config.ImageSize, 8);
                var databaseRegions = Regions(ImageFileSource.Database(ds));
                var queryRegions = Regions(ImageFileSource.Queries(ds));
                var search = new RegionSearch(db.Global, databaseRegions, SelectiveKernel.Default);
                rankings = [.. search.Search(queries.Global, queryRegions, candidates).Select(r => (IReadOnlyList<int>)r.Ids)];
                // --inverted: the vocabulary fitted on the database's region codes with seed 0 at the default size.
                var matcher = new RegionMatcher(databaseRegions, SelectiveKernel.Default);
                var file = new RegionInvertedFile(matcher, RegionVocabulary.Fit(databaseRegions, RegionVocabulary.DefaultSize(databaseRegions.TotalRegions)));
                invertedRankings = [.. new RegionSearch(db.Global, matcher, invertedFile: file)
                    .Search(queries.Global, queryRegions, candidates, 0, 0, inverted, probes).Select(r => (IReadOnlyList<int>)r.Ids)];
            }
            foreach (var protocol in ds.GroundTruth.Protocols)
            {
                double expected = MeanAveragePrecision.Evaluate(ds.GroundTruth, rankings, protocol).MeanAveragePrecision;
                var actual = scored.Protocols.Single(p => p.Protocol == BenchmarkReport.ProtocolName(protocol));
                Assert.Equal(expected, actual.Map, 12);
            }
            Assert.Contains("regions", text.ToString());

            // The region codes of the database and the queries are kept in the cache beside their codes: a rerun reads them.
            var kept = Directory.GetFiles(Path.Combine(work, "cache"), "*.regions-*.mlhidx");
            Assert.Equal(2, kept.Length);
            var written = kept.Select(File.GetLastWriteTimeUtc).ToArray();
            Assert.Equal(0, await root.Parse(["benchmark", "--dataset", dataset, "--checkpoint", ckpt, "--regions", "--candidates", $"{candidates}",
                "--cache", Path.Combine(work, "cache"), "--output", results]).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
            Assert.Equal(written, kept.Select(File.GetLastWriteTimeUtc));
            var again = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(results, "results.json"))).Methods.Single(m => m.Method == "regions");
            Assert.Equal(scored.Protocols.Select(p => p.Map), again.Protocols.Select(p => p.Map));

            // With the inverted file's top 4 added to the shortlist.
            Assert.Equal(0, await root.Parse(["benchmark", "--dataset", dataset, "--checkpoint", ckpt, "--regions", "--candidates", $"{candidates}",
                "--inverted", $"{inverted}", "--probes", $"{probes}", "--cache", Path.Combine(work, "cache"), "--output", results])
                .InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
            var withFile = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(results, "results.json"))).Methods.Single(m => m.Method == "regions");
            Assert.Contains($"the inverted file's top {inverted}", withFile.Description);
            foreach (var protocol in ds.GroundTruth.Protocols)
                Assert.Equal(MeanAveragePrecision.Evaluate(ds.GroundTruth, invertedRankings, protocol).MeanAveragePrecision,
                    withFile.Protocols.Single(p => p.Protocol == BenchmarkReport.ProtocolName(protocol)).Map, 12);
            var misuse = await Assert.ThrowsAsync<UserInputException>(() => root.Parse(["benchmark", "--dataset", dataset, "--checkpoint", ckpt,
                "--inverted", "3", "--cache", Path.Combine(work, "cache"), "--output", results]).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
            Assert.Contains("--regions", misuse.Message);

            // mlh benchmark --shard i/n --regions: each shard codes its chunks' region codes too; the joining run's region
            // files and scores are those of a single run with the same chunks, byte for byte.
            string[] Chunked(string cacheDir, params string[] rest) =>
                ["benchmark", "--dataset", dataset, "--checkpoint", ckpt, "--regions", "--candidates", $"{candidates}", "--chunk", "20", "--cache", cacheDir, .. rest];
            string singleCache = Path.Combine(work, "single-cache"), shared = Path.Combine(work, "shared-cache");
            Assert.Equal(0, await root.Parse(Chunked(singleCache, "--output", Path.Combine(work, "single-results")))
                .InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
            foreach (string shard in new[] { "1/2", "0/2" })
            {
                var shardText = new StringWriter();
                var shardRoot = new RootCommand();
                shardRoot.Subcommands.Add(BenchmarkCommand.Create(shardText));
                Assert.Equal(0, await shardRoot.Parse(Chunked(shared, "--shard", shard)).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
                // 54 database images in chunks of 20: chunks 0 and 2 are shard 0's, chunk 1 is shard 1's.
                Assert.Contains($"database region codes: encoded {(shard == "0/2" ? 2 : 1)} chunks", shardText.ToString());
            }
            Assert.Equal(0, await root.Parse(Chunked(shared, "--output", Path.Combine(work, "shared-results")))
                .InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
            var singleFiles = Directory.GetFiles(singleCache, "*.regions-*.mlhidx");
            Assert.Equal(2, singleFiles.Length);
            foreach (string file in singleFiles)
                Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(shared, Path.GetFileName(file))));
            Assert.Empty(Directory.GetDirectories(shared, "*.parts"));
            string Scores(string folder) => System.Text.Json.JsonSerializer.Serialize(
                BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(work, folder, "results.json"))).Methods);
            Assert.Equal(Scores("single-results"), Scores("shared-results"));
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    /// <summary>
    /// <c>mlh index --regions</c> codes region codes a chunk at a time into the cache (lib/MultiLevelHashing/README.md
    /// section 1.3): they equal <see cref="RegionCoderEncoding.Encode"/> over the readable images in one go (one image per
    /// batch, so that the chunks cannot change a batch); two shards and a
    /// joining run write the single run's bytes, and the joining run decodes no image (the images are overwritten with
    /// zeros, keeping their size and time, before it: it can only succeed by finding every chunk stored).
    /// </summary>
    [Fact]
    public async Task IndexRegionCodesByChunksAndShardsEqualTheInMemoryCodesAndTheSingleRunsBytes()
    {
        string work = TestPaths.NewTempDirectory("regions-chunks");
        try
        {
            var ds = fixture.Dataset;
            string dataset = fixture.Summary.Directory, ckpt = SmokeCheckpoint(work, "model.ckpt");
            Assert.Equal(0, await Invoke(null, "regions", "--checkpoint", ckpt, "--dataset", dataset, "--bits", $"{Bits}", "--size", $"{Size}"));
            string images = Path.Combine(work, "images");
            Directory.CreateDirectory(images);
            var database = ds.Database.Take(13).ToList();
            foreach (var image in database) File.Copy(image.Path, Path.Combine(images, Path.GetFileName(image.Path)));
            string first = Path.GetFileNameWithoutExtension(database.Select(d => d.Path).Order(StringComparer.Ordinal).First());
            File.WriteAllBytes(Path.Combine(images, first + "_bad.jpg"), [0xFF, 0xD8, 0xFF, 0x00]); // second in the list: left out of the first chunk
            var readable = Directory.GetFiles(images).Where(p => !p.Contains("_bad")).Order(StringComparer.Ordinal).ToList();
            string[] Common(params string[] rest) => ["index", "--images", images, "--checkpoint", ckpt, "--regions", "--batch", "1", "--chunk", "5", .. rest];

            string single = Path.Combine(work, "single.mlhidx");
            var run = await BadImageCommandTests.Invoke(Common("--output", single));
            Assert.Equal(0, run.Code);
            Assert.Contains("_bad", run.Stderr);

            // The independent truth: the coder over the readable images' maps in one go. One image per batch, as above: the
            // strengths' last bits depend on which images share a batch, and chunks (less the unreadable image) split batches.
            var (coder, info) = Checkpoint.LoadRegionCoder(ckpt)!.Value;
            var (model, _) = Checkpoint.LoadModel(ckpt);
            RegionCodes truth;
            using (model)
            using (coder)
                truth = RegionCoderEncoding.Encode(model.Backbone, coder, new ImageFileSource(ImageFiles.Of(readable, images)), info.ImageSize, 1, TorchSharp.torch.CPU);
            using (var index = CodeIndexFile.Open(single))
            {
                Assert.Equal(readable.Select(Path.GetFileNameWithoutExtension), index.ImageIds);
                var stored = index.Regions!;
                Assert.Equal((truth.Bits, truth.GridHeight, truth.GridWidth), (stored.Bits, stored.GridHeight, stored.GridWidth));
                Assert.Equal(truth.Offsets.ToArray(), stored.Offsets.ToArray());
                Assert.Equal(truth.AllPositions.ToArray(), stored.AllPositions.ToArray());
                Assert.Equal(truth.AllCodes.ToArray(), stored.AllCodes.ToArray());
            }

            string cache = Path.Combine(work, "cache");
            foreach (string shard in new[] { "1/2", "0/2" })
            {
                var part = await BadImageCommandTests.Invoke(Common("--cache", cache, "--shard", shard));
                Assert.Equal(0, part.Code);
                Assert.Contains($"region codes: encoded {(shard == "0/2" ? 2 : 1)} chunks", part.Stdout);
            }
            var dry = await BadImageCommandTests.Invoke(Common("--cache", cache, "--dry-run"));
            Assert.Equal(0, dry.Code);
            Assert.Contains("shard 0/1 of images region codes (14 images in chunks of 5): 3 chunks, 0 to encode", dry.Stdout);
            Assert.DoesNotContain("to encode\n", dry.Stdout.ReplaceLineEndings("\n"));
            var noted = Directory.GetFiles(images).ToDictionary(p => p, File.GetLastWriteTimeUtc);
            foreach (var (path, time) in noted)
            {
                File.WriteAllBytes(path, new byte[new FileInfo(path).Length]);
                File.SetLastWriteTimeUtc(path, time);
            }
            string joined = Path.Combine(work, "joined.mlhidx");
            var join = await BadImageCommandTests.Invoke(Common("--cache", cache, "--output", joined));
            Assert.True(join.Code == 0, join.Stderr + join.Stdout);
            Assert.Contains("nothing encoded", join.Stdout);
            Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(joined));
            Assert.Empty(Directory.GetDirectories(cache, "*.parts"));
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    private static List<string[]> Rows(string table) =>
        table.Split('\n')
            .Where(line => line.Contains('│') || line.Contains('|'))
            .Select(line => line.Split('│', '|').Select(cell => cell.Trim()).ToArray())
            .Skip(1)
            .ToList();
}
