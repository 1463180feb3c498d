namespace MultiLevelHashing.Tests.Model;

internal static class TestPaths
{
    /// <summary>The folder holding Research.sln, found by walking up from the test output.</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Research.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Research.sln not found above " + AppContext.BaseDirectory);
    }

    public static string TempDirectory()
    {
        string d = Path.Combine(Path.GetTempPath(), "mlh-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }
}
