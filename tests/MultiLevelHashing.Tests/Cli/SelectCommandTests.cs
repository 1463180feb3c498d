using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;
using MultiLevelHashing.Tests.Training;

namespace MultiLevelHashing.Tests.Cli;

[Collection(ConsoleCommandCollection.Name)]
public class SelectCommandTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    private static Task<int> Invoke(TextWriter? output, params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(SelectCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(QueryCommand.Create(output));
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static string SmokeCheckpoint(string work, string name) => UntrainedCheckpoint.Write(Path.Combine(work, name));

    [Fact]
    public async Task StoresADeterministicSelectionThatQueriesUse()
    {
        string work = TestPaths.NewTempDirectory("select");
        try
        {
            string a = SmokeCheckpoint(work, "a.ckpt"), b = SmokeCheckpoint(work, "b.ckpt");
            string dataset = fixture.Summary.Directory;
            Assert.Equal(0, await Invoke(null, "select", "--checkpoint", a, "--dataset", dataset, "--rho", "0.25"));
            Assert.Equal(0, await Invoke(null, "select", "--checkpoint", b, "--dataset", dataset, "--rho", "0.25"));
            var sa = Checkpoint.ReadInfo(a).Selection!;
            var sb = Checkpoint.ReadInfo(b).Selection!;
            int kl = TrainingConfig.Smoke.LocalBits;
            Assert.Equal(kl, sa.LocalBits);
            Assert.Equal((int)Math.Round(0.25 * kl), sa.Bits.Length);
            Assert.Equal(sa.Bits, sb.Bits);  // same seed, same data: same mask
            Assert.Equal(sa.Bits.Order().Distinct(), sa.Bits);
            // The weights are untouched: the model loads and matches the other copy.
            var (ma, _) = Checkpoint.LoadModel(a);
            using (ma) Assert.Equal(kl, ma.LocalBits);

            string images = Path.Combine(work, "images");
            Directory.CreateDirectory(images);
            foreach (string name in new[] { "graf1.jpg", "coffee.jpg", "leuven-a.jpg" })
                File.Copy(Path.Combine(RepositoryLayout.FindRoot(), "data", "photos", name), Path.Combine(images, name));
            string index = Path.Combine(work, "db.mlhidx");
            Assert.Equal(0, await Invoke(null, "index", "--images", images, "--checkpoint", a, "--output", index));
            string query = Path.Combine(images, "graf1.jpg");

            string byDataset = await Query(index, a, query);
            Assert.Contains($"stage 2 compares {sa.Bits.Length} of {kl} local bits (dataset-level selection", byDataset);
            string byQuery = await Query(index, a, query, "--select", "query", "--box", "10,10,200,150");
            Assert.Contains($"stage 2 compares {sa.Bits.Length} of {kl} local bits (query-adaptive, the query box)", byQuery);
            string salient = await Query(index, a, query, "--select", "query", "--rho", "0.5");
            Assert.Contains($"compares {kl / 2} of {kl} local bits (query-adaptive, salient region", salient);
            string all = await Query(index, a, query, "--select", "all");
            Assert.Contains($"compares {kl} of {kl} local bits (all bits)", all);

            string plain = SmokeCheckpoint(work, "plain.ckpt");
            var e = await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, "query", "--index", index, "--checkpoint", plain,
                "--image", query, "--levels", "--select", "dataset"));
            Assert.Contains("mlh select", e.Message);
            await Assert.ThrowsAsync<UserInputException>(() => Invoke(null, "select", "--checkpoint", a, "--dataset", dataset, "--rho", "1.5"));
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    private static async Task<string> Query(string index, string checkpoint, string image, params string[] extra)
    {
        var text = new StringWriter();
        Assert.Equal(0, await Invoke(text, ["query", "--index", index, "--checkpoint", checkpoint, "--image", image, "--k", "3", "--levels", .. extra]));
        return text.ToString();
    }
}
