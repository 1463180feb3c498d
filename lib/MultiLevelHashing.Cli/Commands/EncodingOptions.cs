using System.CommandLine;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>The encoding options <c>mlh encode</c> and <c>mlh index</c> share, and their summary at the end.</summary>
internal static class EncodingOptions
{
    public sealed record Settings(int BatchSize, BadImagePolicy BadImages, EncodingPipelineOptions Pipeline);

    public static Option<int> Batch() => new("--batch") { Description = "images per forward batch", DefaultValueFactory = _ => 16 };

    public static Option<bool> Strict() => new("--strict")
    {
        Description = "stop at the first image that cannot be read (non-zero exit); by default such images are skipped and listed at the end",
    };

    public static Option<int?> DecodeThreads() => new("--decode-threads")
    {
        Description = $"threads decoding images while the network runs (default {EncodingPipelineOptions.DefaultDecodeThreads}: one per two cores)",
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
    public static (ImageFileSource Source, List<string> Ids) Folder(DirectoryInfo folder)
    {
        if (!folder.Exists) throw new UserInputException($"{folder.FullName}: image folder not found");
        var files = folder.EnumerateFiles()
            .Where(f => ImageLoader.ImageExtensions.Contains(f.Extension.ToLowerInvariant()))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new UserInputException($"{folder.FullName}: no images ({string.Join(", ", ImageLoader.ImageExtensions)})");
        return (new ImageFileSource(ImageFiles.Of(files.Select(f => f.FullName), folder.FullName)),
            files.Select(f => Path.GetFileNameWithoutExtension(f.Name)).ToList());
    }

    /// <summary>Prints the rate, where the time went, and a warning naming every skipped image.</summary>
    public static void PrintSummary(EncodingTimings timings, IReadOnlyList<ImageLoadFailure> skipped)
    {
        System.Console.WriteLine($"timing: {timings.Summary()}");
        if (skipped.Count == 0) return;
        System.Console.Error.WriteLine($"warning: skipped {skipped.Count} image(s) that could not be read (--strict stops at the first):");
        foreach (var failure in skipped) System.Console.Error.WriteLine($"  {failure.Problem}");
    }
}
