using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Attention.Rendering;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Torch;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh maps</c>: the bit activation maps of one image as overlay PNGs and a contact sheet
/// (lib/MultiLevelHashing/README.md section 2.6).
/// </summary>
public static class MapsCommand
{
    /// <summary>The command; what it wrote goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train", Required = true };
        var image = new Option<FileInfo>("--image") { Description = "the image", Required = true };
        var box = new Option<string?>("--box") { Description = BoxArgument.Help + "; the maps cover the box, placed where it lies in the image" };
        var level = new Option<string>("--level") { Description = "global (class activation maps CAM_k) or local (maps U_k)", DefaultValueFactory = _ => "local" };
        var bits = new Option<string>("--bits") { Description = "top:N (the N bits with the largest u) or a list of bit indices j,k,...", DefaultValueFactory = _ => "top:8" };
        var size = new Option<int?>("--size") { Description = "side S the image is stretched to before encoding (default: the checkpoint's image size)" };
        var outputDir = new Option<DirectoryInfo>("--output") { Description = "folder for the PNGs (created if missing)", Required = true };
        var command = new Command("maps",
            "Draw the bit activation maps of one image: one PNG per selected bit (heat map over the photo, colour bar, caption) and a contact sheet.")
        { checkpoint, image, box, level, bits, size, outputDir };
        command.SetAction(parse =>
        {
            var imageFile = parse.GetValue(image)!;
            if (!imageFile.Exists) throw new UserInputException($"{imageFile.FullName}: image not found");
            var mapLevel = ParseLevel(parse.GetValue(level)!);
            BoundingBox? crop = parse.GetValue(box) is { } b ? BoxArgument.Parse(b) : null;
            using (var photo = ImageLoader.LoadRgb(imageFile.FullName))
                if (crop is { } inside) BoxArgument.RequireInside(inside, photo.Width, photo.Height, imageFile.FullName);
            var ckpt = parse.GetValue(checkpoint)!;
            var info = Checkpoint.ReadInfo(ckpt.FullName);
            int levelBits = mapLevel == MapLevel.Global ? info.Config.GlobalBits : info.Config.LocalBits;
            string bitsText = parse.GetValue(bits)!;
            var choice = BitChoice.Parse(bitsText, levelBits, BitMapFigures.Name(mapLevel));
            int imageSize = parse.GetValue(size) ?? info.Config.ImageSize;
            if (imageSize < 32 || imageSize > 4096) throw new UserInputException($"--size must be within 32..4096, got {imageSize}");
            string folder = parse.GetValue(outputDir)!.FullName;

            var files = ConsoleProgress.Run(progress =>
            {
                var (model, _) = Checkpoint.LoadModel(ckpt.FullName, TorchDevice.Default());
                using var disposeModel = model;
                ImageBitMaps maps;
                try
                {
                    maps = BitMapFigures.Compute(model, imageFile.FullName, crop, imageSize, TorchDevice.Default());
                }
                catch (NotSupportedException e)
                {
                    throw UserInputException.InFile(ckpt.FullName, e.Message);
                }
                var selected = choice.Top is int n ? BitMapFigures.StrongestBits(maps.Codes(mapLevel), n) : choice.Indices!;
                return BitMapFigures.Write(maps, mapLevel, selected, folder, progress);
            });
            var writer = output ?? System.Console.Out;
            foreach (string path in files.Overlays) writer.WriteLine($"wrote {path}");
            writer.WriteLine($"wrote {files.Sheet} (contact sheet of {files.Overlays.Count} {BitMapFigures.Name(mapLevel)} bit maps)");
            return 0;
        });
        return command;
    }

    private static MapLevel ParseLevel(string text) => text.ToLowerInvariant() switch
    {
        "global" => MapLevel.Global,
        "local" => MapLevel.Local,
        _ => throw new UserInputException($"--level {text}: expected global or local"),
    };

    /// <summary>The parsed <c>--bits</c>: the strongest <see cref="Top"/> bits, or explicit <see cref="Indices"/>.</summary>
    private sealed record BitChoice(int? Top, int[]? Indices)
    {
        public static BitChoice Parse(string text, int bits, string level)
        {
            string t = text.Trim();
            if (t.StartsWith("top:", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(t[4..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1 || n > bits)
                    throw new UserInputException($"--bits {text}: top:N needs N within 1..{bits} (the {level} code has {bits} bits)");
                return new BitChoice(n, null);
            }
            var indices = new List<int>();
            foreach (string token in t.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k))
                    throw new UserInputException($"--bits {text}: '{token}' is not a bit index (expected top:N or j,k,...)");
                if (k < 0 || k >= bits)
                    throw new UserInputException($"--bits {text}: bit {k} does not exist; the {level} code has bits 0..{bits - 1}");
                if (indices.Contains(k)) throw new UserInputException($"--bits {text}: bit {k} is listed twice");
                indices.Add(k);
            }
            return new BitChoice(null, [.. indices]);
        }
    }
}
