using MultiLevelHashing.Attention;
using MultiLevelHashing.Torch;
using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Training;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh query</c>: one image against an index file, by the global code, by the multi-level search over local bits
/// (<c>--levels</c>), or by the multi-level search with region codes (<c>--regions</c>, lib/MultiLevelHashing/README.md
/// section 2.8).
/// </summary>
public static class QueryCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var index = new Option<FileInfo>("--index") { Description = "index file written by mlh index", Required = true };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "the checkpoint the index was made with", Required = true };
        var image = new Option<FileInfo>("--image") { Description = "query image", Required = true };
        var box = new Option<string?>("--box") { Description = BoxArgument.Help };
        var k = new Option<int>("--k") { Description = "results to print", DefaultValueFactory = _ => 10 };
        var levels = new Option<bool>("--levels") { Description = "multi-level search: rank by the global code, re-rank the top --candidates by d_g/Kg + lambda * d_sel/L" };
        var candidates = new Option<int>("--candidates") { Description = $"with --levels or --regions: how many stage-1 results are re-ranked (when not given: this default for --levels, {RegionSearch.DefaultCandidates} for --regions)", DefaultValueFactory = _ => MultiLevelSetting.Default.Candidates };
        var lambda = new Option<double>("--lambda") { Description = "with --levels: weight of the selected local bits", DefaultValueFactory = _ => MultiLevelSetting.Default.Lambda };
        var selected = new Option<FileInfo?>("--selected-bits") { Description = "with --levels: file of local bit indices to use (whitespace or comma separated), instead of --select" };
        var select = new Option<string>("--select")
        {
            Description = "with --levels: which local bits stage 2 compares: 'dataset' (the selection stored in the checkpoint by mlh select; the default when it has one), " +
                          "'query' (the --rho share most pertinent to the query's box, or to the salient region of its global maps without a box), or 'all'",
        };
        var rho = new Option<double?>("--rho") { Description = "with --select query: share of the local bits kept (default: the stored selection's, else " + MultiLevelSetting.Default.Rho.ToString(CultureInfo.InvariantCulture) + ")" };
        var regions = new Option<bool>("--regions")
        {
            Description = "multi-level search with region codes (an index written by mlh index --regions): rank by the global code, re-rank the top --candidates " +
                          $"(default {RegionSearch.DefaultCandidates} here) by the region similarity of the selective match kernel ({SelectiveKernel.Default})",
        };
        var verify = new Option<int?>("--verify")
        {
            Description = "with --regions: spatially verify the top V results (default 100 when given without a value) and order them by the region score of the matches one placement explains",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var expand = new Option<int?>("--expand") { Description = "with --regions: average query expansion in Hamming space with the top E results (the tables use 5)" };
        var inverted = new Option<int>("--inverted")
        {
            Description = "with --regions: also re-rank the M images the region-level inverted file ranks best (the vocabulary mlh index --regions stored in the index), " +
                          "so that images the global code ranks far down can be found by their regions (0: the global shortlist only)",
        };
        var probes = new Option<int>("--probes") { Description = "with --inverted: nearest words each query region visits", DefaultValueFactory = _ => 4 };
        var command = new Command("query", "Search an index with one image: top-k by global Hamming distance, the multi-level ranking with --levels, or with region codes with --regions.")
        { index, checkpoint, image, box, k, levels, regions, candidates, lambda, selected, select, rho, verify, expand, inverted, probes };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(k);
            if (count < 1) throw new UserInputException($"--k must be at least 1, got {count}");
            var imageFile = parse.GetValue(image)!;
            if (!imageFile.Exists) throw new UserInputException($"{imageFile.FullName}: image not found");
            // Check the query image before loading the model: a bad image ends with its name, its problem and exit 2.
            BoundingBox? crop = parse.GetValue(box) is { } b ? BoxArgument.Parse(b) : null;
            using (var photo = ImageLoader.LoadRgb(imageFile.FullName))
                if (crop is { } inside) BoxArgument.RequireInside(inside, photo.Width, photo.Height, imageFile.FullName);
            var ckpt = parse.GetValue(checkpoint)!;
            bool byRegions = parse.GetValue(regions);
            if (byRegions && (parse.GetValue(selected) is not null || parse.GetValue(select) is not null || parse.GetValue(rho) is not null))
                throw new UserInputException("--regions re-ranks by region codes; --selected-bits, --select and --rho choose local bits and do not apply");
            bool verifying = parse.GetResult(verify) is not null;
            int verifyDepth = parse.GetValue(verify) ?? DefaultVerificationDepth;
            int? expansion = parse.GetValue(expand);
            if (!byRegions && (verifying || expansion is not null)) throw new UserInputException("--verify and --expand work on region codes: add --regions");
            if (verifyDepth < 1) throw new UserInputException($"--verify must be at least 1, got {verifyDepth}");
            if (expansion is < 1) throw new UserInputException($"--expand must be at least 1, got {expansion}");
            int invertedCount = parse.GetValue(inverted), probeCount = parse.GetValue(probes);
            if (invertedCount < 0) throw new UserInputException($"--inverted must be at least 0, got {invertedCount}");
            if (probeCount < 1) throw new UserInputException($"--probes must be at least 1, got {probeCount}");
            if (invertedCount > 0 && !byRegions) throw new UserInputException("--inverted works on region codes: add --regions");
            if (invertedCount > 0 && expansion is not null) throw new UserInputException("--inverted and --expand cannot be combined");
            var info = Checkpoint.ReadInfo(ckpt.FullName);
            using var db = CodeIndexFile.Open(parse.GetValue(index)!.FullName, [info.Config.GlobalBits, info.Config.LocalBits]);
            var coder = byRegions ? Checkpoint.RequireRegionCoder(ckpt.FullName) : ((RegionHashHead Coder, RegionCoderInfo Info)?)null;
            using var loadedCoder = coder?.Coder;
            if (coder is { } stored) RequireRegions(db, stored.Info);
            if (invertedCount > 0) RequireVocabulary(db);

            var device = TorchDevice.Default();
            var (model, loaded) = Checkpoint.LoadModel(ckpt.FullName, device);
            using var _ = model;
            using var codes = DscnnEncoder.Encode(model, new ImageFileSource(ImageFiles.Of([(imageFile.FullName, crop)], imageFile.DirectoryName!)),
                loaded.Config.ImageSize, 1, device: device);

            var table = new Table().AddColumns("rank", "image", "global distance");
            if (coder is { } regionCoder)
            {
                var queryRegions = RegionCoderEncoding.Encode(model.Backbone, regionCoder.Coder,
                    new ImageFileSource(ImageFiles.Of([(imageFile.FullName, crop)], imageFile.DirectoryName!)), regionCoder.Info.ImageSize, 1, device);
                int shortlist = parse.GetResult(candidates) is { Implicit: false } ? parse.GetValue(candidates) : RegionSearch.DefaultCandidates;
                if (shortlist < 0) throw new UserInputException($"--candidates must be at least 0, got {shortlist}");
                CommandOutput.Writer(output).WriteLine($"stage 2 re-ranks the top {Math.Min(shortlist, db.Count)} by region codes ({db.Regions!.Bits} bits, " +
                                                       $"{queryRegions.RegionCount(0)} query regions; {SelectiveKernel.Default})");
                // The benchmark's search: with --inverted, the inverted file over the index's region codes, with its stored words.
                var search = RegionSearch.Create(db.Levels[0], db.Regions, SelectiveKernel.Default, invertedCount > 0 ? db.Vocabulary : null);
                if (invertedCount > 0)
                    CommandOutput.Writer(output).WriteLine($"stage 1 also takes the inverted file's top {invertedCount} ({db.Vocabulary!.Count} words, {probeCount} probes)");
                int length = verifying ? Math.Max(count, verifyDepth) : count;
                var ranking = expansion is int e
                    ? search.SearchExpanded(codes.Global, queryRegions, shortlist, e, length)[0]
                    : search.Search(codes.Global, queryRegions, shortlist, length, 0, invertedCount, probeCount)[0];
                if (expansion is not null) CommandOutput.Writer(output).WriteLine($"the query's code and region scores are averaged with its top {expansion} (query expansion)");
                if (verifying)
                {
                    ranking = search.Verify([ranking], queryRegions, SpatialVerifier.Default, verifyDepth)[0];
                    CommandOutput.Writer(output).WriteLine($"the top {Math.Min(verifyDepth, ranking.Ids.Length)} are ordered by the region score of spatially consistent matches (region score column)");
                }
                table.AddColumns("region score");
                for (int r = 0; r < Math.Min(count, ranking.Ids.Length); r++)
                    table.AddRow((r + 1).ToString(), Markup.Escape(db.ImageIds[ranking.Ids[r]]), ranking.GlobalDistances[r].ToString(),
                        r < ranking.Reranked ? ranking.RegionScores[r].ToString("0.0000", CultureInfo.InvariantCulture) : "-");
            }
            else if (parse.GetValue(levels))
            {
                var (mask, how) = ChooseMask(parse.GetValue(selected), parse.GetValue(select), parse.GetValue(rho), loaded, model, imageFile, crop, db.Levels[1].Bits);
                CommandOutput.Writer(output).WriteLine($"stage 2 compares {mask.Count} of {mask.Bits} local bits ({how})");
                var search = new MultiLevelSearch(db.Levels[0], db.Levels[1]);
                var ranking = search.Search(codes.Global, codes.Local, [mask],
                    new MultiLevelOptions { Setting = new MultiLevelSetting(parse.GetValue(candidates), parse.GetValue(lambda), mask.Count / (double)mask.Bits), ResultCount = count })[0];
                table.AddColumns("selected-bit distance", "score");
                for (int r = 0; r < Math.Min(count, ranking.Ids.Length); r++)
                    table.AddRow((r + 1).ToString(), Markup.Escape(db.ImageIds[ranking.Ids[r]]), ranking.GlobalDistances[r].ToString(),
                        r < ranking.Reranked ? ranking.SelectedDistances[r].ToString() : "-", ranking.Scores[r].ToString("0.0000", CultureInfo.InvariantCulture));
            }
            else
            {
                var result = new HammingIndex(db.Levels[0]).Search(codes.Global, Math.Min(count, db.Count));
                for (int r = 0; r < result.K; r++)
                    if (result.Ids[0, r] >= 0)
                        table.AddRow((r + 1).ToString(), Markup.Escape(db.ImageIds[result.Ids[0, r]]), result.Distances[0, r].ToString());
            }
            CommandOutput.Console(output).Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>Refuses an index without region codes, or with codes of another length than the checkpoint's coder makes, naming the index.</summary>
    /// <summary>How many results <c>--verify</c> checks when given without a value: the tables' depth.</summary>
    public const int DefaultVerificationDepth = 100;

    internal static void RequireRegions(CodeIndex db, RegionCoderInfo coder)
    {
        if (db.Regions is null)
            throw UserInputException.InFile(db.Path, "the index holds no region codes; write it with mlh index --regions (after mlh regions stored a region coder in the checkpoint)");
        if (db.Regions.Bits != coder.Bits)
            throw UserInputException.InFile(db.Path, $"the index holds {db.Regions.Bits}-bit region codes but the checkpoint's region coder makes {coder.Bits}-bit codes; " +
                                                     "index again with mlh index --regions");
    }

    /// <summary>Refuses <c>--inverted</c> on an index that stores no region vocabulary, naming the index.</summary>
    internal static void RequireVocabulary(CodeIndex db)
    {
        if (db.Vocabulary is null)
            throw UserInputException.InFile(db.Path, "the index holds no region vocabulary for --inverted; write it again with mlh index --regions " +
                                                     $"(index format version {CodeIndexFile.VocabularyFormatVersion} or later)");
    }

    private static (BitMask Mask, string How) ChooseMask(FileInfo? maskFile, string? select, double? rho, CheckpointInfo info, DscnnModel model,
        FileInfo imageFile, BoundingBox? crop, int localBits)
    {
        if (maskFile is not null)
        {
            if (select is not null) throw new UserInputException("--selected-bits and --select exclude each other");
            return (ReadMask(maskFile, localBits), $"from {maskFile.Name}");
        }
        switch ((select ?? (info.Selection is null ? "all" : "dataset")).ToLowerInvariant())
        {
            case "all":
                return (BitMask.All(localBits), "all bits");
            case "dataset":
                if (info.Selection is null)
                    throw new UserInputException("--select dataset: the checkpoint stores no bit selection; run mlh select --checkpoint C --dataset D first");
                try
                {
                    return (info.Selection.ToMask(localBits), $"dataset-level selection from {info.Selection.Source}");
                }
                catch (ArgumentException e)
                {
                    throw new UserInputException($"--select dataset: {e.Message}");
                }
            case "query":
                double share = rho ?? info.Selection?.Rho ?? MultiLevelSetting.Default.Rho;
                if (!(share > 0 && share <= 1)) throw new UserInputException($"--rho must be in (0, 1], got {share.ToString(CultureInfo.InvariantCulture)}");
                int size = info.Selection?.ImageSize ?? info.Config.ImageSize;
                // The maps of the whole photo say which bits fire inside the box; the compared code stays the crop's.
                var maps = BitActivationMaps.FromImages(model, new ImageFileSource(ImageFiles.Of([imageFile.FullName], imageFile.DirectoryName!)), size, 1);
                float[] cover = crop is { } b
                    ? BitPertinence.CellCoverage(TrainingSelection.Region(imageFile.FullName, b), maps.Local.Height, maps.Local.Width)
                    : BitPertinence.SalientCoverage(maps.Global, 0);
                return (BitSelection.QueryAdaptive(maps.Local, 0, cover, BitSelection.SelectedCount(localBits, share)),
                    crop is null ? "query-adaptive, salient region of the global maps" : "query-adaptive, the query box");
            case var other:
                throw new UserInputException($"--select {other}: expected dataset, query or all");
        }
    }

    private static BitMask ReadMask(FileInfo file, int bits)
    {
        if (!file.Exists) throw new UserInputException($"{file.FullName}: selected-bits file not found");
        var indices = new List<int>();
        foreach (string token in File.ReadAllText(file.FullName).Split([' ', '\t', '\n', '\r', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int bit) || bit < 0 || bit >= bits)
                throw UserInputException.InFile(file.FullName, $"'{token}' is not a local bit index in 0..{bits - 1}");
            indices.Add(bit);
        }
        return BitMask.FromIndices(bits, indices);
    }
}
