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
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--levels", "--candidates", "3"] })
            Assert.Equal(0, await Invoke(["query", "--index", index, "--checkpoint", Path.Combine(work, "model.ckpt"),
                "--image", Path.Combine(images, "graf1.jpg"), "--k", "3", .. extra]));
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
