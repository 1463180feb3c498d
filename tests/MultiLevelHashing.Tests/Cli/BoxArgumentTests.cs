using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Cli;

/// <summary><c>mlh query</c> shares the <c>--box</c> rules of <c>mlh maps</c>: a box outside the image or not four numbers is refused.</summary>
[Collection(ConsoleCommandCollection.Name)]
public class BoxArgumentTests
{
    [Theory]
    [InlineData("0,0,641,100", "outside the 640 x 512 image")]
    [InlineData("10,10,20", "four numbers")]
    [InlineData("50,10,20,40", "x2 must exceed x1")]
    public async Task QueryRefusesABadBoxBeforeEncoding(string box, string problem)
    {
        string work = Path.Combine(Path.GetTempPath(), "mlh-box-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var config = TrainingConfig.Smoke;
        using (var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false))
            Checkpoint.Save(Path.Combine(work, "model.ckpt"), config, model, null, 0, new TrainingHistory());
        string index = Path.Combine(work, "db.mlhidx");
        CodeIndexFile.Write(index, ["a"], [PackedCodes.FromReal(new float[config.GlobalBits], config.GlobalBits), PackedCodes.FromReal(new float[config.LocalBits], config.LocalBits)]);
        string photo = Path.Combine(RepositoryLayout.FindRoot(), "data", "photos", "graf1.jpg");

        var root = new RootCommand();
        root.Subcommands.Add(QueryCommand.Create());
        var e = await Assert.ThrowsAsync<UserInputException>(() => root.Parse(["query", "--index", index, "--checkpoint", Path.Combine(work, "model.ckpt"),
            "--image", photo, "--box", box]).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
        Assert.Contains("--box", e.Message);
        Assert.Contains(problem, e.Message);
    }
}
