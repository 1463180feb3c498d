using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Data;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Torch;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// The encoding options <c>mlh encode</c> and <c>mlh index</c> share, the chunked encoding both run through (codes go to
/// disk a chunk at a time: memory does not grow with the number of images, a killed run resumes, and <c>--shard</c>
/// splits the work over machines), and their summary at the end.
/// </summary>
internal static class EncodingOptions
{
    /// <summary>Batch size, what happens to unreadable images, the decoding pipeline, and the input size (null: the checkpoint's).</summary>
    public sealed record Settings(int BatchSize, BadImagePolicy BadImages, EncodingPipelineOptions Pipeline, int? ImageSize = null);

    /// <summary>The images to encode: a name and part for the cache's file name, the folder they come from, paths with crops, and ids.</summary>
    public sealed record ImageList(string Name, string Part, string Root, List<(string Path, BoundingBox? Crop)> Images, List<string> Ids);

    /// <summary>The chunk options: the shared cache (null: a private one next to the output), chunk size, shard, dry run.</summary>
    public sealed record ChunkSettings(string? Cache, int ChunkSize, CodeShard? Shard, bool DryRun);

    /// <summary>
    /// The options every encoding command takes (batch, bad images, decoding threads, input size, and the chunked cache:
    /// cache, chunk, shard, dry run), declared once, added to a command together and read together.
    /// </summary>
    public sealed class Declared
    {
        public Option<int> Batch { get; } = EncodingOptions.Batch();
        public Option<bool> Strict { get; } = EncodingOptions.Strict();
        public Option<int?> DecodeThreads { get; } = EncodingOptions.DecodeThreads();
        public Option<int?> Size { get; } = EncodingOptions.Size();
        public Option<DirectoryInfo?> Cache { get; } = EncodingOptions.Cache();
        public Option<int> Chunk { get; } = EncodingOptions.Chunk();
        public Option<string?> Shard { get; } = EncodingOptions.Shard();
        public Option<bool> DryRun { get; } = EncodingOptions.DryRun();

        /// <summary>Adds every option to <paramref name="command"/>.</summary>
        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { Batch, Strict, DecodeThreads, Size, Cache, Chunk, Shard, DryRun }) command.Options.Add(option);
        }

        /// <summary>Batch, bad-image policy, decoding threads and input size, checked.</summary>
        public Settings ReadSettings(ParseResult parse) => Read(parse, Batch, Strict, DecodeThreads) with { ImageSize = ReadSize(parse, Size) };

        /// <summary>The chunk options, checked.</summary>
        public ChunkSettings ReadChunks(ParseResult parse) => EncodingOptions.ReadChunks(parse, Cache, Chunk, Shard, DryRun);
    }

    public static Option<DirectoryInfo?> Cache() => new("--cache")
    {
        Description = "folder of the chunked code cache, shared by every shard (--shard), mlh encode, mlh index and mlh benchmark; chunks found " +
                      "there are not encoded again (default: a folder next to the output, removed when the output is written)",
    };

    public static Option<int> Chunk() => new("--chunk")
    {
        Description = "images per stored chunk of codes (an interruption loses at most one chunk; every shard and the joining run must use the same)",
        DefaultValueFactory = _ => 512,
    };

    public static Option<string?> Shard() => new("--shard")
    {
        Description = "i/n: encode only shard i (0..n-1) of the image list into --cache (chunk c belongs to shard c mod n) and write no output; " +
                      "a later run without --shard on the same cache encodes what is missing and writes the output",
    };

    public static Option<bool> DryRun() => new("--dry-run")
    {
        Description = "print the chunks (image ranges and ids) this run or shard would encode and which are already stored; encode nothing",
    };

    public static ChunkSettings ReadChunks(ParseResult parse, Option<DirectoryInfo?> cache, Option<int> chunk, Option<string?> shard, Option<bool> dryRun)
    {
        int chunkSize = parse.GetValue(chunk);
        if (chunkSize < 1) throw new UserInputException($"--chunk must be at least 1, got {chunkSize}");
        string? cacheDir = parse.GetValue(cache)?.FullName;
        CodeShard? part = parse.GetValue(shard) is { } text ? CodeShard.Parse(text) : null;
        if (part is not null && cacheDir is null)
            throw new UserInputException("--shard needs --cache: the folder every shard and the joining run share");
        return new ChunkSettings(cacheDir, chunkSize, part, parse.GetValue(dryRun));
    }

    /// <summary>
    /// The chunked encoding of <c>mlh encode</c> and <c>mlh index</c>: checks that the folders it will write to are
    /// writable before anything else, then prints the plan (<c>--dry-run</c>), encodes one shard (<c>--shard</c>), or
    /// makes (or finds) the whole list's index in the cache and hands it to <paramref name="write"/>, whose message is
    /// printed to <paramref name="output"/>; it also gets the image list and the progress, for work on the images kept (region
    /// codes). <paramref name="outputStem"/> names the private cache when no <c>--cache</c> is given. <paramref name="shardWork"/>,
    /// when given, runs in a shard after its codes are stored (the shard's region codes: it gets the encoding, the cache's
    /// index path, the image list, the shard and the progress) and its message is added to the shard's; <paramref name="planMore"/>,
    /// when given, is the plan of that work, printed by <c>--dry-run</c> after the codes' plan.
    /// </summary>
    public static int RunChunked(TextWriter output, Settings settings, ChunkSettings chunks, FileInfo checkpoint, string? outputStem,
                                 Func<IProgress<ProgressReport>, ImageList> list, Func<CachedCodes, ImageList, IProgress<ProgressReport>, string> write,
                                 Func<CachedEncoding, string, ImageList, CodeShard, IProgress<ProgressReport>, string>? shardWork = null,
                                 Func<CachedEncoding, string, ImageList, CodeShard, PartPlan>? planMore = null)
    {
        if (outputStem is null && chunks.Shard is null && !chunks.DryRun)
            throw new UserInputException("--output is required (unless --shard or --dry-run)");
        if (!checkpoint.Exists) throw new UserInputException($"{checkpoint.FullName}: checkpoint not found");
        string cacheDir = chunks.Cache ?? outputStem + ".chunks";
        if (!chunks.DryRun)
        {
            if (chunks.Shard is null) AtomicFile.CheckWritable(Path.GetDirectoryName(Path.GetFullPath(outputStem!))!);
            AtomicFile.CheckWritable(cacheDir);
        }
        using var encoding = new CachedEncoding(checkpoint.FullName, settings.BatchSize, chunks.ChunkSize, TorchDevice.Default(),
            settings.BadImages, settings.Pipeline, settings.ImageSize);
        var shard = chunks.Shard ?? CodeShard.All;
        var (message, skipped) = ConsoleProgress.Run(progress =>
        {
            var images = list(progress);
            string index = encoding.IndexPath(cacheDir, images.Name, images.Part, images.Images);
            if (chunks.DryRun)
            {
                var plan = ChunkedCodeCache.Plan(index, images.Ids, encoding.Bits, chunks.ChunkSize, shard, encoding.AllowsSkipped);
                string text = PlanText(new PartPlan(images.Part, index, images.Ids, plan), shard, chunks.ChunkSize);
                if (planMore is not null) text += Environment.NewLine + PlanText(planMore(encoding, index, images, shard), shard, chunks.ChunkSize);
                return (text, (IReadOnlyList<string>)[]);
            }
            var encoder = encoding.Encoder(images.Images, images.Root);
            if (chunks.Shard is { } s)
            {
                var work = ChunkedCodeCache.EncodeShard(index, images.Ids, encoding.Bits, chunks.ChunkSize, s, encoder, encoding.AllowsSkipped,
                    $"encode (shard {s})", progress);
                string more = shardWork is null ? "" : "; " + shardWork(encoding, index, images, s, progress);
                return (ShardText(s, [(images.Part, work)]) + more + "; run again without --shard (same --cache, --chunk and --batch) once every shard is done", []);
            }
            using var cached = ChunkedCodeCache.Ensure(index, images.Ids, encoding.Bits, chunks.ChunkSize, encoder, encoding.AllowsSkipped, "encode", progress);
            if (cached.Index.Count == 0) throw new UserInputException($"none of the {images.Ids.Count} images could be read; nothing to write");
            string done;
            try
            {
                done = write(cached, images, progress);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw AtomicFile.WriteFailure(outputStem!, e, $"earlier files are as they were and the codes stay in {cacheDir}; run again once it can be written");
            }
            cached.Dispose();
            if (chunks.Cache is null)
                try { Directory.Delete(cacheDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return (done, cached.Skipped);
        });
        output.WriteLine(message);
        if (!chunks.DryRun && chunks.Shard is null)
        {
            if (encoding.Timings is { } timings) output.WriteLine($"timing: {timings.Summary()}");
            else output.WriteLine("timing: nothing encoded (every chunk was already stored)");
            PrintSkipped(skipped);
        }
        return 0;
    }

    /// <summary>One line per chunk of a shard's plan: its number, image range, first and last id, stored or to encode.</summary>
    public static string PlanText(PartPlan plan, CodeShard shard, int chunkSize)
    {
        var text = new System.Text.StringBuilder();
        int toEncode = plan.Chunks.Count(c => !c.Stored);
        text.AppendLine($"shard {shard} of {plan.Part} ({plan.Ids.Count} images in chunks of {chunkSize}): {plan.Chunks.Count} chunks, " +
                        $"{toEncode} to encode ({plan.Chunks.Where(c => !c.Stored).Sum(c => c.Count)} images), {plan.Chunks.Count - toEncode} stored; cache {plan.IndexPath}");
        foreach (var c in plan.Chunks)
            text.AppendLine($"  chunk {c.Chunk}: images {c.Start}..{c.Start + c.Count - 1} ({plan.Ids[c.Start]} .. {plan.Ids[c.Start + c.Count - 1]}) {(c.Stored ? "stored" : "to encode")}");
        return text.ToString().TrimEnd();
    }

    /// <summary>What a shard did, per part.</summary>
    public static string ShardText(CodeShard shard, IEnumerable<(string Part, ChunkWork Work)> parts) =>
        $"shard {shard}: " + string.Join("; ", parts.Select(p =>
            $"{p.Part}: encoded {p.Work.EncodedChunks} chunks ({p.Work.EncodedImages} images), {p.Work.StoredChunks} chunks ({p.Work.StoredImages} images) already stored"));

    public static Option<int> Batch() => new("--batch") { Description = "images per forward batch", DefaultValueFactory = _ => 16 };

    public static Option<bool> Strict() => new("--strict")
    {
        Description = "stop at the first image that cannot be read (non-zero exit); by default such images are skipped and listed at the end",
    };

    public static Option<int?> DecodeThreads() => new("--decode-threads")
    {
        Description = $"threads decoding images (default: one per core between the forward passes of a CPU network, which uses every core; " +
                      $"{EncodingPipelineOptions.DefaultDecodeThreads}, one per two cores, alongside a GPU network's)",
    };

    /// <summary><c>--size</c>: the input side S, when codes are wanted at another size than the model was trained at.</summary>
    public static Option<int?> Size() => new("--size")
    {
        Description = "encode at S x S pixels (default: the size the checkpoint was trained at)",
    };

    /// <summary>The value of <see cref="Size"/>, checked.</summary>
    public static int? ReadSize(ParseResult parse, Option<int?> size) => parse.GetValue(size) switch
    {
        null => null,
        < 32 and var s => throw new UserInputException($"--size must be at least 32, got {s}"),
        var s => s,
    };

    public static Settings Read(ParseResult parse, Option<int> batch, Option<bool> strict, Option<int?> decodeThreads)
    {
        int batchSize = parse.GetValue(batch);
        if (batchSize < 1) throw new UserInputException($"--batch must be at least 1, got {batchSize}");
        int? threads = parse.GetValue(decodeThreads);
        if (threads is < 1) throw new UserInputException($"--decode-threads must be at least 1, got {threads}");
        return new Settings(batchSize, parse.GetValue(strict) ? BadImagePolicy.Stop : BadImagePolicy.Skip,
            new EncodingPipelineOptions { DecodeThreads = threads });
    }

    /// <summary>The images of <paramref name="folder"/> (by extension, in ordinal name order) and their ids (file names without extension).</summary>
    public static ImageList Folder(DirectoryInfo folder)
    {
        if (!folder.Exists) throw new UserInputException($"{folder.FullName}: image folder not found");
        var files = folder.EnumerateFiles()
            .Where(f => ImageLoader.ImageExtensions.Contains(f.Extension.ToLowerInvariant()))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new UserInputException($"{folder.FullName}: no images ({string.Join(", ", ImageLoader.ImageExtensions)})");
        return new ImageList(folder.Name, "images", folder.FullName, [.. files.Select(f => (f.FullName, (BoundingBox?)null))],
            [.. files.Select(f => Path.GetFileNameWithoutExtension(f.Name))]);
    }

    /// <summary>A warning naming every skipped image.</summary>
    private static void PrintSkipped(IReadOnlyList<string> skipped)
    {
        if (skipped.Count == 0) return;
        System.Console.Error.WriteLine($"warning: skipped {skipped.Count} image(s) that could not be read (--strict stops at the first):");
        foreach (string problem in skipped) System.Console.Error.WriteLine($"  {problem}");
    }
}
