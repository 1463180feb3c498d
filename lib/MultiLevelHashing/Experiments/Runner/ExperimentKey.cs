using System.Security.Cryptography;
using System.Text;

namespace MultiLevelHashing.Experiments.Runner;

/// <summary>
/// Keys of cached experiment outputs (trained models, study results; lib/MultiLevelHashing/README.md section 1.7):
/// a SHA-256 over what determines the output (configuration JSON, image-set fingerprints, seeds) and the version of
/// the code that computes it. Builds are deterministic and carry no commit hash, so an assembly's module version id
/// changes exactly when its source does (comments included); a cache never serves an output computed by other code.
/// </summary>
public static class ExperimentKey
{
    /// <summary>The module version ids of this library and of the core (evaluation, search) it scores with: part of every key.</summary>
    public static string CodeVersion { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
        typeof(ExperimentKey).Assembly.ManifestModule.ModuleVersionId.ToString("N") + "|" +
        typeof(MultiLevelHashing.Search.PackedCodes).Assembly.ManifestModule.ModuleVersionId.ToString("N"))))[..32].ToLowerInvariant();

    /// <summary>First 16 hex digits of the SHA-256 of <paramref name="parts"/> (separated, so parts cannot run together) and <see cref="CodeVersion"/>.</summary>
    public static string Of(params string[] parts)
    {
        var text = new StringBuilder(CodeVersion);
        foreach (string part in parts) text.Append('\u001f').Append(part.Length).Append(':').Append(part);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }
}
