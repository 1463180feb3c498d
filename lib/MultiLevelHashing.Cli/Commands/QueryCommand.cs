using MultiLevelHashing.Torch;
using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh query</c>: one image against an index file, by the global code or by the multi-level search.</summary>
public static class QueryCommand
{
    /// <summary>The command; the result table goes to <paramref name="console"/> (default: the process console).</summary>
    public static Command Create(IAnsiConsole? console = null)
    {
        var index = new Option<FileInfo>("--index") { Description = "index file written by mlh index", Required = true };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "the checkpoint the index was made with", Required = true };
        var image = new Option<FileInfo>("--image") { Description = "query image", Required = true };
        var box = new Option<string?>("--box") { Description = "crop the query to x1,y1,x2,y2 (pixels), as the official protocol crops queries" };
        var k = new Option<int>("--k") { Description = "results to print", DefaultValueFactory = _ => 10 };
        var levels = new Option<bool>("--levels") { Description = "multi-level search: rank by the global code, re-rank the top --candidates by d_g/Kg + lambda * d_sel/L" };
        var candidates = new Option<int>("--candidates") { Description = "with --levels: how many stage-1 results are re-ranked", DefaultValueFactory = _ => 100 };
        var lambda = new Option<double>("--lambda") { Description = "with --levels: weight of the selected local bits", DefaultValueFactory = _ => 1.0 };
        var selected = new Option<FileInfo?>("--selected-bits") { Description = "with --levels: file of local bit indices to use (whitespace or comma separated); default all local bits" };
        var command = new Command("query", "Search an index with one image: top-k by global Hamming distance, or the multi-level ranking with --levels.")
        { index, checkpoint, image, box, k, levels, candidates, lambda, selected };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(k);
            if (count < 1) throw new UserInputException($"--k must be at least 1, got {count}");
            var imageFile = parse.GetValue(image)!;
            if (!imageFile.Exists) throw new UserInputException($"{imageFile.FullName}: image not found");
            // Check the query image before loading the model: a bad image ends with its name, its problem and exit 2.
            using (ImageLoader.LoadRgb(imageFile.FullName)) { }
            BoundingBox? crop = parse.GetValue(box) is { } b ? ParseBox(b) : null;
            var ckpt = parse.GetValue(checkpoint)!;
            var info = Checkpoint.ReadInfo(ckpt.FullName);
            using var db = CodeIndexFile.Open(parse.GetValue(index)!.FullName, [info.Config.GlobalBits, info.Config.LocalBits]);

            var (model, loaded) = Checkpoint.LoadModel(ckpt.FullName, TorchDevice.Default());
            using var _ = model;
            using var codes = DscnnEncoder.Encode(model, new ImageFileSource(ImageFiles.Of([(imageFile.FullName, crop)], imageFile.DirectoryName!)),
                loaded.Config.ImageSize, 1, device: TorchDevice.Default());

            var table = new Table().AddColumns("rank", "image", "global distance");
            if (parse.GetValue(levels))
            {
                var mask = parse.GetValue(selected) is { } maskFile ? ReadMask(maskFile, db.Levels[1].Bits) : BitMask.All(db.Levels[1].Bits);
                var search = new MultiLevelSearch(db.Levels[0], db.Levels[1]);
                var ranking = search.Search(codes.Global, codes.Local, [mask],
                    new MultiLevelOptions(Candidates: parse.GetValue(candidates), Lambda: parse.GetValue(lambda), ResultCount: count))[0];
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
            (console ?? AnsiConsole.Console).Write(table);
            return 0;
        });
        return command;
    }

    private static BoundingBox ParseBox(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 4 || !parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new UserInputException($"--box {text}: expected x1,y1,x2,y2");
        var v = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        if (v[2] <= v[0] || v[3] <= v[1]) throw new UserInputException($"--box {text}: x2 must exceed x1 and y2 exceed y1");
        return new BoundingBox(v[0], v[1], v[2], v[3]);
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
