using MultiLevelHashing.Plots;
using MultiLevelHashing.Runtime;

namespace Notebooks.Tests;

public class ThroughputChartsTests
{
    [Fact]
    public void RatiosAreOfTheMediansAndLeaveTheSweepOut()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pytorch-{Guid.NewGuid():N}.tsv");
        File.WriteAllText(path, "row\tside\tdecode_threads\tbatch\trate\n" +
                                "Inference\tTorchSharp\t\t\t60\nInference\tTorchSharp\t\t\t70\nInference\tTorchSharp\t\t\t10\n" +
                                "Inference\tPyTorch\t\t\t50\nInference\tPyTorch\t\t\t40\n" +
                                "EndToEnd\tTorchSharp\t\t\t30\nEndToEnd\tPyTorch\t\t\t40\nEndToEnd\tTorchSharp\t2\t16\t1000\n" +
                                "EndToEnd\tPyTorch, 2 workers\t\t\t24\n");
        try
        {
            var (_, data) = ThroughputCharts.AgainstPyTorch(path);
            // The end-to-end row also gets a bar against each other PyTorch pipeline it was measured against.
            Assert.Equal(["Inference", "EndToEnd", "EndToEnd vs PyTorch, 2 workers"], data.Columns["row"].Cast<string>());
            Assert.Equal([60.0, 30.0, 30.0], data.Columns["TorchSharp median"].Cast<double>());
            Assert.Equal([45.0, 40.0, 24.0], data.Columns["PyTorch median"].Cast<double>());
            Assert.Equal([1.333, 0.75, 1.25], data.Columns["ratio"].Cast<double>());
            File.AppendAllText(path, "broken line\n");
            var e = Assert.Throws<UserInputException>(() => ThroughputCharts.AgainstPyTorch(path));
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
