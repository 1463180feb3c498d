namespace MultiLevelHashing.Runtime;

/// <summary>Finds the repository root and its standard folders.</summary>
public static class RepositoryLayout
{
    /// <summary>Environment variable that names the repository root explicitly.</summary>
    public const string RootVariable = "MLH_REPO_ROOT";

    /// <summary>
    /// The folder holding <c>Research.sln</c>: <c>MLH_REPO_ROOT</c> if set, else the first ancestor of the
    /// current directory, else of this assembly's location, that holds it.
    /// </summary>
    public static string FindRoot()
    {
        string? explicitRoot = Environment.GetEnvironmentVariable(RootVariable);
        if (!string.IsNullOrWhiteSpace(explicitRoot))
        {
            if (!File.Exists(Path.Combine(explicitRoot, "Research.sln")))
                throw new UserInputException($"{RootVariable}={explicitRoot}: no Research.sln there");
            return Path.GetFullPath(explicitRoot);
        }
        return TryFindFrom(Environment.CurrentDirectory)
            ?? TryFindFrom(AppContext.BaseDirectory)
            ?? throw new UserInputException(
                $"cannot find the repository root (a folder with Research.sln) above {Environment.CurrentDirectory}; set {RootVariable}");
    }

    private static string? TryFindFrom(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Research.sln"))) return dir.FullName;
        return null;
    }

    /// <summary><c>artifacts/</c> under the root, or <c>MLH_ARTIFACTS</c> when set: where runs write their outputs.</summary>
    public static string ArtifactsDirectory(string root)
        => Environment.GetEnvironmentVariable("MLH_ARTIFACTS") is { Length: > 0 } custom
            ? Path.GetFullPath(custom)
            : Path.Combine(root, "artifacts");

    /// <summary>The <c>notebooks/</c> folder under the root.</summary>
    public static string NotebooksDirectory(string root) => Path.Combine(root, "notebooks");
}
