namespace MultiLevelHashing.Runtime;

/// <summary>
/// Bad input from a user: a missing or damaged file, a malformed ground truth, mismatched code lengths.
/// The message names the file (and line or offset where known) and the problem; the CLI prints it and exits non-zero.
/// </summary>
public class UserInputException : Exception
{
    /// <summary>An error whose message already names the file and the problem.</summary>
    public UserInputException(string message) : base(message) { }

    /// <summary>An error caused by <paramref name="inner"/>.</summary>
    public UserInputException(string message, Exception inner) : base(message, inner) { }

    /// <summary>A problem in <paramref name="path"/>, optionally at a 1-based <paramref name="line"/>.</summary>
    public static UserInputException InFile(string path, string problem, int? line = null)
        => new(line is null ? $"{path}: {problem}" : $"{path}:{line}: {problem}");
}
