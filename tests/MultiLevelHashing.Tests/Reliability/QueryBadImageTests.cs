using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary><c>mlh query</c> with a bad image, run as a child process: the error names the image and its problem, exit code 2.</summary>
public sealed class QueryBadImageTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("query-bad");

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void ABadQueryImageEndsWithItsNameAndExitCode2()
    {
        var corpus = BadImageCorpus.WriteAll(_dir);
        foreach (string name in new[] { "text.jpg", "bomb-30000x30000.png", "truncated-half.jpg" })
        {
            string image = corpus.Single(c => c.Case.Name == name).Path;
            var (exit, stdout, stderr) = MlhProcess.Run(["query", "--index", Path.Combine(_dir, "none.mlhidx"),
                "--checkpoint", Path.Combine(_dir, "none.ckpt"), "--image", image]);
            Assert.True(exit == 2, $"{name}: exit {exit}\n{stdout}\n{stderr}");
            Assert.StartsWith($"error: {image}: ", stderr.Trim());
            Assert.Contains(corpus.Single(c => c.Case.Name == name).Case.RejectedWith!, stderr);
            Assert.DoesNotContain("   at ", stderr); // no stack trace
        }
    }
}
