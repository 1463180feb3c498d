namespace MultiLevelHashing.Runtime;

/// <summary>
/// Where the library finds the checkout's folders: the root, the embedded photos, the generated benchmark, the
/// feature, model, result and code caches, the run outputs (<c>artifacts/</c>), the notebooks and their published
/// results, and the benchmark reports and PyTorch script under <c>tests/MultiLevelHashing.Benchmarks</c>. The embedded
/// default data lives in the repository, so the defaults are found from the repository root; outside a checkout the
/// data and cache folders have environment variables (or the APIs take explicit paths).
/// </summary>
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

    /// <summary>The repository root as <see cref="FindRoot"/> finds it, or null outside a checkout.</summary>
    public static string? TryFindRoot()
    {
        try { return FindRoot(); }
        catch (UserInputException) { return null; }
    }

    /// <summary><c>data/photos</c>, the embedded photos (env <c>MLH_PHOTOS</c> overrides).</summary>
    /// <exception cref="UserInputException">Neither the variable nor a checkout.</exception>
    public static string PhotosDirectory() => Environment.GetEnvironmentVariable("MLH_PHOTOS") is { Length: > 0 } env
        ? env
        : Path.Combine(TryFindRoot() ?? throw new UserInputException(
            "cannot find the repository (Research.sln) to locate data/photos; set MLH_PHOTOS or pass the photo folder"), "data", "photos");

    /// <summary><c>data/generated/mini-landmarks</c>, where generated benchmarks go (env <c>MLH_GENERATED</c> overrides).</summary>
    /// <exception cref="UserInputException">Neither the variable nor a checkout.</exception>
    public static string MiniLandmarksDirectory() => Environment.GetEnvironmentVariable("MLH_GENERATED") is { Length: > 0 } env
        ? env
        : Path.Combine(TryFindRoot() ?? throw new UserInputException(
            "cannot find the repository (Research.sln) to place data/generated; set MLH_GENERATED"), "data", "generated", "mini-landmarks");

    /// <summary>The path of the embedded photo <paramref name="fileName"/> (a name in <c>photos.tsv</c>) under <see cref="PhotosDirectory"/>.</summary>
    /// <exception cref="UserInputException">Neither <c>MLH_PHOTOS</c> nor a checkout.</exception>
    public static string PhotoFile(string fileName) => Path.Combine(PhotosDirectory(), fileName);

    /// <summary><c>data/generated/self-supervised</c> under the root: the views that self-supervised training renders from photos.</summary>
    public static string SelfSupervisedViewsDirectory(string root) => Path.Combine(root, "data", "generated", "self-supervised");

    /// <summary><c>data/generated/features</c>, the backbone-map cache (env <c>MLH_FEATURE_CACHE</c> overrides), or null outside a checkout.</summary>
    public static string? FeatureCacheDirectory() => Environment.GetEnvironmentVariable("MLH_FEATURE_CACHE") is { Length: > 0 } env
        ? env
        : TryFindRoot() is { } root ? Path.Combine(root, "data", "generated", "features") : null;

    /// <summary><c>data/generated/models</c>, the cache of trained models keyed by configuration (env <c>MLH_MODEL_CACHE</c> overrides), or null outside a checkout.</summary>
    public static string? ModelCacheDirectory() => Environment.GetEnvironmentVariable("MLH_MODEL_CACHE") is { Length: > 0 } env
        ? env
        : TryFindRoot() is { } root ? Path.Combine(root, "data", "generated", "models") : null;

    /// <summary>
    /// <c>data/generated/result-cache</c>, the cache of experiment results keyed by configuration (env
    /// <c>MLH_RESULT_CACHE</c> overrides; the older name <c>MLH_ARTEFACT_CACHE</c> is still read), or null outside a checkout.
    /// </summary>
    public static string? ResultCacheDirectory() =>
        (Environment.GetEnvironmentVariable("MLH_RESULT_CACHE") ?? Environment.GetEnvironmentVariable("MLH_ARTEFACT_CACHE")) is { Length: > 0 } env
            ? env
            : TryFindRoot() is { } root ? Path.Combine(root, "data", "generated", "result-cache") : null;

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

    /// <summary>
    /// <c>notebooks/results</c> under the root: the committed results the notebooks and the README show (the summary of
    /// a full run, its published notebooks, the measured benchmark tables).
    /// </summary>
    public static string PublishedResultsDirectory(string root) => Path.Combine(NotebooksDirectory(root), "results");

    /// <summary>
    /// <c>notebooks/results/benchmarks</c> under the root: the committed tables of measured runs that notebook 08 reads
    /// (<c>search.tsv</c> from <c>faiss/compare.sh</c>, <c>pytorch.tsv</c> from <c>mlh bench pytorch</c>).
    /// </summary>
    public static string PublishedBenchmarkTablesDirectory(string root) => Path.Combine(PublishedResultsDirectory(root), "benchmarks");

    /// <summary><c>search.tsv</c> in <see cref="PublishedBenchmarkTablesDirectory"/>: our search against FAISS, one row per measured point.</summary>
    public static string SearchBenchmarkTable(string root) => Path.Combine(PublishedBenchmarkTablesDirectory(root), "search.tsv");

    /// <summary><c>pytorch.tsv</c> in <see cref="PublishedBenchmarkTablesDirectory"/>: every timed run of TorchSharp against PyTorch.</summary>
    public static string PyTorchBenchmarkTable(string root) => Path.Combine(PublishedBenchmarkTablesDirectory(root), "pytorch.tsv");

    /// <summary><c>data/generated/codes</c> under the root: the codes <c>mlh benchmark</c> encodes, kept for its next run.</summary>
    public static string CodeCacheDirectory(string root) => Path.Combine(root, "data", "generated", "codes");

    /// <summary>
    /// <c>tests/MultiLevelHashing.Benchmarks/results</c> under the root: the committed benchmark reports (Markdown); the
    /// tables the notebooks read are in <see cref="PublishedBenchmarkTablesDirectory"/>.
    /// </summary>
    public static string BenchmarkResultsDirectory(string root) => Path.Combine(root, "tests", "MultiLevelHashing.Benchmarks", "results");

    /// <summary><c>tests/MultiLevelHashing.Benchmarks/pytorch/dscnn_benchmark.py</c> under the root: the PyTorch side of <c>mlh bench pytorch</c>.</summary>
    public static string PyTorchBenchmarkScript(string root) => Path.Combine(root, "tests", "MultiLevelHashing.Benchmarks", "pytorch", "dscnn_benchmark.py");
}
