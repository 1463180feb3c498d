using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Data;

/// <summary>Opens any supported ground-truth source by looking at what the path is.</summary>
public static class GroundTruthReader
{
    /// <summary>
    /// Reads <paramref name="path"/>: a gt_files folder (Oxford/Paris text lists, also the generated mini-landmarks),
    /// a <c>.tgz</c>/<c>.tar.gz</c>/<c>.tar</c> of one, or a <c>gnd_*.pkl</c> (classic or revisited). Files are told apart by
    /// content (a pickle starts with 0x80), so a renamed file still reads.
    /// </summary>
    /// <exception cref="UserInputException">Missing or malformed input; the message names the file.</exception>
    public static GroundTruth Read(string path)
    {
        if (Directory.Exists(path)) return OxfordTextGroundTruth.ReadDirectory(path);
        if (!File.Exists(path)) throw new UserInputException($"{path}: no such ground-truth file or folder (expected a gt_files folder, a .tgz or a gnd_*.pkl)");
        int first;
        using (var fs = File.OpenRead(path)) first = fs.ReadByte();
        if (first == -1) throw UserInputException.InFile(path, "empty file; expected a gt_files .tgz or a gnd_*.pkl");
        if (first == 0x80 || path.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase)) return PickleGroundTruth.Read(path);
        return OxfordTextGroundTruth.ReadArchive(path);
    }
}
