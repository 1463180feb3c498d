namespace MultiLevelHashing.Runtime;

/// <summary>
/// How big a run is. <see cref="Smoke"/> keeps every notebook under about a minute on 2 CPU cores and
/// exercises the whole pipeline; <see cref="Full"/> is the size the reported figures come from.
/// </summary>
public enum RunMode
{
    /// <summary>Tiny data and few steps: proves the pipeline runs.</summary>
    Smoke,
    /// <summary>The size of the reported figures and tables.</summary>
    Full,
}

/// <summary>Reads and names <see cref="RunMode"/>s.</summary>
public static class RunModes
{
    /// <summary>The environment variable that selects the mode (<c>smoke</c> or <c>full</c>).</summary>
    public const string EnvironmentVariable = "MLH_MODE";

    /// <summary>Parses <c>smoke</c> or <c>full</c> (case-insensitive); anything else is an error naming the value.</summary>
    public static RunMode Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "smoke" => RunMode.Smoke,
        "full" => RunMode.Full,
        _ => throw new UserInputException($"unknown mode '{value}': expected 'smoke' or 'full'"),
    };

    /// <summary>The mode from <c>MLH_MODE</c>, <see cref="RunMode.Smoke"/> when it is unset.</summary>
    public static RunMode FromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(value) ? RunMode.Smoke : Parse(value);
    }

    /// <summary>The lower-case name used on the command line and in <c>MLH_MODE</c>.</summary>
    public static string Name(this RunMode mode) => mode == RunMode.Full ? "full" : "smoke";
}
