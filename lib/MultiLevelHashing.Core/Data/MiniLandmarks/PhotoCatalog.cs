using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Data.MiniLandmarks;

/// <summary>One shipped photo (a row of <c>data/photos/photos.tsv</c>).</summary>
/// <param name="File">File name inside the photo folder.</param>
/// <param name="Scene">Scene name; photos of one scene (e.g. a stereo pair) form one landmark.</param>
/// <param name="Role"><c>landmark</c> (may become a landmark) or <c>clutter</c> (textures: backgrounds, occluders, distractors only).</param>
/// <param name="Package">Debian package it came from.</param>
/// <param name="Original">Original path inside that package.</param>
/// <param name="Licence">Licence the package states for it.</param>
public sealed record PhotoEntry(string File, string Scene, string Role, string Package, string Original, string Licence);

/// <summary>The photos that the mini-landmarks generator turns into a benchmark.</summary>
public static class PhotoCatalog
{
    /// <summary>Catalog file name inside the photo folder.</summary>
    public const string CatalogFileName = "photos.tsv";

    /// <summary>Reads <c>photos.tsv</c> from <paramref name="photoDirectory"/> and checks that every file exists.</summary>
    public static IReadOnlyList<PhotoEntry> Read(string photoDirectory)
    {
        string path = Path.Combine(photoDirectory, CatalogFileName);
        if (!File.Exists(path)) throw UserInputException.InFile(path, "photo catalog not found");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != "file\tscene\trole\tpackage\toriginal\tlicence")
            throw UserInputException.InFile(path, "expected the header 'file scene role package original licence' (tab-separated)", 1);
        var result = new List<PhotoEntry>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split('\t');
            if (f.Length != 6) throw UserInputException.InFile(path, $"expected 6 tab-separated fields, found {f.Length}", i + 1);
            if (f[2] is not ("landmark" or "clutter")) throw UserInputException.InFile(path, $"role must be 'landmark' or 'clutter', found '{f[2]}'", i + 1);
            if (!File.Exists(Path.Combine(photoDirectory, f[0]))) throw UserInputException.InFile(path, $"photo '{f[0]}' is listed but missing", i + 1);
            if (f[1].Length == 0 || !f[1].All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
                throw UserInputException.InFile(path, $"scene '{f[1]}' must be lower-case letters, digits and '_'", i + 1);
            result.Add(new PhotoEntry(f[0], f[1], f[2], f[3], f[4], f[5]));
        }
        return result;
    }

    /// <summary>
    /// The catalog a preset uses: <c>photos.tsv</c> of <paramref name="photoDirectory"/>, plus, with
    /// <paramref name="extraFolder"/>, the <c>photos.tsv</c> of that subfolder, whose files are named
    /// <c>&lt;extraFolder&gt;/&lt;file&gt;</c> (relative to <paramref name="photoDirectory"/>). A scene may not appear in both.
    /// </summary>
    public static IReadOnlyList<PhotoEntry> Read(string photoDirectory, string? extraFolder)
    {
        var main = Read(photoDirectory);
        if (extraFolder is null) return main;
        string folder = Path.Combine(photoDirectory, extraFolder);
        if (!Directory.Exists(folder)) throw UserInputException.InFile(folder, "photo folder of the preset not found");
        var extra = Read(folder);
        var mainScenes = main.Select(p => p.Scene).ToHashSet(StringComparer.Ordinal);
        if (extra.FirstOrDefault(p => mainScenes.Contains(p.Scene)) is { } clash)
            throw UserInputException.InFile(Path.Combine(folder, CatalogFileName), $"scene '{clash.Scene}' is also a scene of {Path.Combine(photoDirectory, CatalogFileName)}");
        return [.. main, .. extra.Select(p => p with { File = extraFolder + "/" + p.File })];
    }

    /// <summary><c>data/photos</c> of the repository (env <c>MLH_PHOTOS</c> overrides); see <see cref="RepositoryLayout.PhotosDirectory"/>.</summary>
    /// <exception cref="UserInputException">Neither found.</exception>
    public static string DefaultDirectory() => RepositoryLayout.PhotosDirectory();
}
