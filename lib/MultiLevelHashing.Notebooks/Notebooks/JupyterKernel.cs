using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Notebooks;

/// <summary>
/// Runs notebooks the way a user does: Jupyter's <c>nbconvert --execute</c> with the .NET Interactive kernel that the
/// repository pins (<c>.config/dotnet-tools.json</c>, restored by <c>dotnet tool restore</c>), in its own process, loading
/// the library from the build output as the setup cell says. The kernel spec is written into a private Jupyter data
/// folder (<see cref="DataFolder"/>), exactly as <c>dotnet interactive jupyter install</c> writes it for a user, so a
/// run neither needs nor touches the user's own kernels. Jupyter comes from Debian (<c>jupyter-nbconvert</c>,
/// <c>python3-nbclient</c>, <c>python3-ipykernel</c>; environment.md).
/// </summary>
public sealed class JupyterKernel
{
    /// <summary>The kernel spec name of .NET Interactive's C# kernel.</summary>
    public const string KernelName = ".net-csharp";

    private JupyterKernel(string repositoryRoot, string dataFolder)
    {
        RepositoryRoot = repositoryRoot;
        DataFolder = dataFolder;
    }

    /// <summary>The repository whose tool manifest pins the kernel.</summary>
    public string RepositoryRoot { get; }

    /// <summary>The Jupyter data folder (<c>JUPYTER_PATH</c>) holding <c>kernels/.net-csharp/kernel.json</c>.</summary>
    public string DataFolder { get; }

    /// <summary>Why notebooks cannot run under Jupyter here (no <c>jupyter</c>, no nbconvert), or null when they can.</summary>
    public static string? MissingPrerequisite()
    {
        if (ExternalProcess.FindOnPath("jupyter") is null)
            return "no `jupyter` on PATH; on Debian: apt-get install --no-install-recommends jupyter-nbconvert python3-nbclient python3-ipykernel";
        if (ExternalProcess.FindOnPath("jupyter-nbconvert") is null)
            return "no `jupyter-nbconvert` on PATH; on Debian: apt-get install --no-install-recommends jupyter-nbconvert python3-nbclient python3-ipykernel";
        return null;
    }

    /// <summary>
    /// Restores the pinned kernel (<c>dotnet tool restore</c> in <paramref name="repositoryRoot"/>) and writes its kernel
    /// specs into <paramref name="dataFolder"/><c>/kernels</c> with <c>dotnet interactive jupyter install --path</c>.
    /// </summary>
    public static async Task<JupyterKernel> InstallAsync(string repositoryRoot, string dataFolder, CancellationToken cancellation = default)
    {
        if (MissingPrerequisite() is { } missing) throw new UserInputException(missing);
        string kernels = Path.Combine(dataFolder, "kernels");
        Directory.CreateDirectory(kernels);
        await Dotnet(repositoryRoot, ["tool", "restore"], cancellation);
        await Dotnet(repositoryRoot, ["interactive", "jupyter", "install", "--path", kernels], cancellation);
        string spec = Path.Combine(kernels, KernelName, "kernel.json");
        if (!File.Exists(spec)) throw new InvalidOperationException($"{spec}: `dotnet interactive jupyter install` wrote no C# kernel spec");
        return new JupyterKernel(repositoryRoot, dataFolder);
    }

    private static async Task Dotnet(string workingDirectory, string[] arguments, CancellationToken cancellation)
    {
        var result = await ExternalProcess.RunAsync("dotnet", arguments, workingDirectory, timeout: TimeSpan.FromMinutes(10), cancellation: cancellation);
        if (!result.Succeeded)
            throw new InvalidOperationException($"`dotnet {string.Join(' ', arguments)}` failed (exit {result.ExitCode}): {result.Tail()}");
    }

    /// <summary>
    /// Executes <paramref name="notebook"/> in the kernel in <paramref name="mode"/> and writes the executed copy to
    /// <paramref name="executedPath"/>. Every cell runs (errors are recorded as outputs, as in an editor's "run all"
    /// that goes on); read the outcome with <see cref="ExecutedNotebook.Read"/>.
    /// </summary>
    /// <param name="notebook">The .ipynb file; the kernel runs in its folder.</param>
    /// <param name="executedPath">Where the executed copy goes.</param>
    /// <param name="mode">Passed to the notebook as <c>MLH_MODE</c>.</param>
    /// <param name="figureDirectory">The notebook's figure folder (<c>MLH_NOTEBOOK_OUTPUT</c>).</param>
    /// <param name="environment">More variables for the kernel (null values remove one), e.g. <c>LD_LIBRARY_PATH</c>.</param>
    /// <param name="cellTimeout">Longest time one cell may run.</param>
    /// <param name="cancellation">Stops the run.</param>
    public async Task<ProcessResult> ExecuteAsync(string notebook, string executedPath, RunMode mode, string figureDirectory,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? cellTimeout = null, CancellationToken cancellation = default)
    {
        string target = Path.GetFullPath(executedPath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.CreateDirectory(figureDirectory);
        var variables = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>())
        {
            ["JUPYTER_PATH"] = DataFolder,
            [RunModes.EnvironmentVariable] = mode.Name(),
            [NotebookSession.OutputVariable] = Path.GetFullPath(figureDirectory),
        };
        int seconds = (int)(cellTimeout ?? TimeSpan.FromMinutes(10)).TotalSeconds;
        var result = await ExternalProcess.RunAsync("jupyter",
        [
            "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
            $"--ExecutePreprocessor.kernel_name={KernelName}", $"--ExecutePreprocessor.timeout={seconds}",
            "--output", Path.GetFileNameWithoutExtension(target), "--output-dir", Path.GetDirectoryName(target)!,
            Path.GetFullPath(notebook),
        ], Path.GetDirectoryName(Path.GetFullPath(notebook)), variables, cancellation: cancellation);
        if (!result.Succeeded || !File.Exists(target))
            throw new InvalidOperationException($"{notebook}: Jupyter did not execute it (exit {result.ExitCode}): {result.Tail()}");
        return result;
    }

    /// <summary>Renders an executed notebook as a standalone HTML page with nbconvert (outputs, scripts included).</summary>
    public static async Task<string> ToHtmlAsync(string executedNotebook, string htmlPath, CancellationToken cancellation = default)
    {
        string target = Path.GetFullPath(htmlPath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var result = await ExternalProcess.RunAsync("jupyter",
            ["nbconvert", "--to", "html", "--output", Path.GetFileNameWithoutExtension(target), "--output-dir", Path.GetDirectoryName(target)!,
             Path.GetFullPath(executedNotebook)], timeout: TimeSpan.FromMinutes(5), cancellation: cancellation);
        if (!result.Succeeded || !File.Exists(target))
            throw new InvalidOperationException($"{executedNotebook}: nbconvert --to html failed (exit {result.ExitCode}): {result.Tail()}");
        return target;
    }
}
