using MultiLevelHashing.Model;
using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Cli;

[Collection(ConsoleCommandCollection.Name)]
public class IndexQueryCommandTests
{
    [Fact]
    public void QueryAndBenchmarkDefaultToTheLibrarysMultiLevelSetting()
    {
        foreach (var command in new[] { QueryCommand.Create(), BenchmarkCommand.Create() })
        {
            var parsed = command.Parse([]);
            Assert.Equal(50, parsed.GetValue<int>("--candidates"));
            Assert.Equal(0.25, parsed.GetValue<double>("--lambda"));
            Assert.Equal(new MultiLevelOptions().Setting.Candidates, parsed.GetValue<int>("--candidates"));
            Assert.Equal(new MultiLevelOptions().Setting.Lambda, parsed.GetValue<double>("--lambda"));
        }
        Assert.Equal(0.125, SelectCommand.Create().Parse([]).GetValue<double>("--rho"));
    }

    private static Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(QueryCommand.Create());
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    [Fact]
    public async Task IndexesAFolderAndFindsAnIndexedImageAtDistanceZero()
    {
        string work = Path.Combine(Path.GetTempPath(), "mlh-index-" + Guid.NewGuid().ToString("N"));
        string images = Path.Combine(work, "images");
        Directory.CreateDirectory(images);
        string photos = Path.Combine(RepositoryLayout.FindRoot(), "data", "photos");
        foreach (string name in new[] { "graf1.jpg", "leuven-a.jpg", "coffee.jpg" })
            File.Copy(Path.Combine(photos, name), Path.Combine(images, name));
        var config = TrainingConfig.Smoke;
        using (var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false))
        {
            DscnnFactory.Initialize(model, seed: 0, includeBackbone: true);
            Checkpoint.Save(Path.Combine(work, "model.ckpt"), config, model, null, 0, new TrainingHistory());
        }
        string index = Path.Combine(work, "db.mlhidx");

        Assert.Equal(0, await Invoke("index", "--images", images, "--checkpoint", Path.Combine(work, "model.ckpt"), "--output", index));

        using (var db = CodeIndexFile.Open(index, [config.GlobalBits, config.LocalBits]))
        {
            Assert.Equal(["coffee", "graf1", "leuven-a"], db.ImageIds);
            Assert.Equal(3, db.Levels[0].Count);
        }
        // The query image is itself indexed: its own row must be at global distance 0 (others may tie with it).
        string byGlobalCode = await Query(index, Path.Combine(work, "model.ckpt"), Path.Combine(images, "graf1.jpg"));
        Assert.Equal("0", Cell(byGlobalCode, "graf1", "global distance"));
        Assert.Equal(3, Rows(byGlobalCode).Count);

        // Multi-level search: same code on both levels, so the selected-bit distance and the combined score are 0 too.
        string byLevels = await Query(index, Path.Combine(work, "model.ckpt"), Path.Combine(images, "graf1.jpg"), "--levels", "--candidates", "3");
        Assert.Equal("0", Cell(byLevels, "graf1", "global distance"));
        Assert.Equal("0", Cell(byLevels, "graf1", "selected-bit distance"));
        Assert.Equal("0.0000", Cell(byLevels, "graf1", "score"));
    }

    /// <summary>Runs <c>mlh query --k 3</c> and returns the table it prints, without colours or wrapping.</summary>
    private static async Task<string> Query(string index, string checkpoint, string image, params string[] extra)
    {
        var text = new StringWriter();
        var root = new RootCommand();
        root.Subcommands.Add(QueryCommand.Create(text));
        Assert.Equal(0, await root.Parse(["query", "--index", index, "--checkpoint", checkpoint, "--image", image, "--k", "3", .. extra])
            .InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
        return text.ToString();
    }

    /// <summary>The table's lines that have cells, split into trimmed cells (header first).</summary>
    private static List<string[]> Rows(string table, bool withHeader = false)
    {
        var rows = table.Split('\n')
            .Where(line => line.Contains('│') || line.Contains('|'))
            .Select(line => line.Split('│', '|').Select(cell => cell.Trim()).ToArray())
            .ToList();
        return withHeader ? rows : rows.Skip(1).ToList();
    }

    /// <summary>The cell under <paramref name="column"/> in the row of <paramref name="image"/>.</summary>
    private static string Cell(string table, string image, string column)
    {
        var rows = Rows(table, withHeader: true);
        int c = Array.IndexOf(rows[0], column);
        Assert.True(c >= 0, $"no column '{column}' in:\n{table}");
        var row = rows.Skip(1).SingleOrDefault(r => r.Length > 2 && r[2] == image);
        Assert.True(row is not null, $"no row for '{image}' in:\n{table}");
        return row![c];
    }

    [Fact]
    public async Task QueryRejectsADamagedIndexWithAnErrorNamingIt()
    {
        string work = Path.Combine(Path.GetTempPath(), "mlh-index-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var config = TrainingConfig.Smoke;
        using (var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false))
            Checkpoint.Save(Path.Combine(work, "model.ckpt"), config, model, null, 0, new TrainingHistory());
        string bad = Path.Combine(work, "bad.mlhidx");
        File.WriteAllBytes(bad, new byte[64]);
        var e = await Assert.ThrowsAnyAsync<UserInputException>(() => Invoke("query", "--index", bad, "--checkpoint", Path.Combine(work, "model.ckpt"),
            "--image", Path.Combine(RepositoryLayout.FindRoot(), "data", "photos", "graf1.jpg")));
        Assert.Contains("bad.mlhidx", e.Message);
    }
}
