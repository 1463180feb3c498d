using System.Buffers.Binary;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Data;

/// <summary>
/// Reads the Oxford5k / Paris6k ground truth in its official text-list form (<c>gt_files_170407</c>):
/// per query <c>&lt;landmark&gt;_&lt;n&gt;_query.txt</c> (one line <c>image x1 y1 x2 y2</c>; Oxford names carry an
/// <c>oxc1_</c> prefix there, Paris names do not) and <c>_good.txt</c>, <c>_ok.txt</c>, <c>_junk.txt</c> (one image
/// name per line). The source is a folder or its <c>.tgz</c> / <c>.tar.gz</c> / <c>.tar</c> archive.
/// lib/MultiLevelHashing/README.md section 3.1 (classic protocol).
/// </summary>
public static partial class OxfordTextGroundTruth
{
    /// <summary>The prefix Oxford query files put in front of image names.</summary>
    public const string OxfordQueryPrefix = "oxc1_";

    [GeneratedRegex(@"^(?<stem>.+)_(?<kind>query|good|ok|junk)\.txt$", RegexOptions.CultureInvariant)]
    private static partial Regex ListFileName();

    [GeneratedRegex(@"^(?<landmark>.+)_(?<n>\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex QueryStem();

    private static readonly string[] Kinds = ["query", "good", "ok", "junk"];

    /// <summary>Largest list file read (the official lists are below 100 KiB): a damaged size field cannot make us buffer gigabytes.</summary>
    public const long MaxListFileBytes = 16L << 20;

    /// <summary>Largest total of entry sizes an archive may declare (the official gt_files archive holds about 1 MiB).</summary>
    public const long MaxArchiveContentBytes = 1L << 30;

    /// <summary>Reads a gt_files folder, or a .tgz/.tar.gz/.tar holding one.</summary>
    /// <exception cref="UserInputException">A missing or malformed file; the message names it and the line.</exception>
    public static GroundTruth Read(string path)
    {
        if (Directory.Exists(path)) return ReadDirectory(path);
        if (File.Exists(path)) return ReadArchive(path);
        throw new UserInputException($"{path}: no such ground-truth folder or archive");
    }

    /// <summary>Reads every <c>*_{query,good,ok,junk}.txt</c> in a folder (other files are ignored).</summary>
    public static GroundTruth ReadDirectory(string directory)
    {
        var files = new Dictionary<string, (string Display, string Text)>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            string name = System.IO.Path.GetFileName(file);
            if (!ListFileName().IsMatch(name)) continue;
            long size = new FileInfo(file).Length;
            if (size > MaxListFileBytes)
                throw UserInputException.InFile(file, $"list file of {size:N0} bytes, above the limit of {MaxListFileBytes:N0} (OxfordTextGroundTruth.MaxListFileBytes)");
            files[name] = (file, ReadText(file, File.ReadAllBytes(file)));
        }
        return Parse(directory, files);
    }

    /// <summary>Reads the list files from a tar archive, gzip-compressed or not (folders inside it are ignored).</summary>
    public static GroundTruth ReadArchive(string archive)
    {
        var files = new Dictionary<string, (string Display, string Text)>(StringComparer.Ordinal);
        try
        {
            using var raw = File.OpenRead(archive);
            Span<byte> magic = stackalloc byte[2];
            int got = raw.Read(magic);
            raw.Position = 0;
            if (got == 0) throw UserInputException.InFile(archive, "the archive is empty");
            bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            using var checkedStream = gzip ? new Crc32ReadStream(new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true)) : null;
            Stream stream = checkedStream ?? (Stream)raw;
            using var reader = new TarReader(stream, leaveOpen: true);
            long declared = 0;
            while (reader.GetNextEntry() is { } entry)
            {
                declared += Math.Max(0, entry.Length);
                if (declared > MaxArchiveContentBytes)
                    throw UserInputException.InFile(archive, $"the archive declares more than {MaxArchiveContentBytes:N0} bytes of entries (damaged, or not a ground-truth archive)");
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                string name = System.IO.Path.GetFileName(entry.Name);
                if (!ListFileName().IsMatch(name)) continue;
                if (entry.Length > MaxListFileBytes)
                    throw UserInputException.InFile($"{archive}!{entry.Name}", $"list file of {entry.Length:N0} bytes, above the limit of {MaxListFileBytes:N0} (OxfordTextGroundTruth.MaxListFileBytes)");
                // TarReader gives an entry of 0 bytes no data stream: an empty list is legal and reads as no names.
                using var ms = new MemoryStream();
                entry.DataStream?.CopyTo(ms);
                string display = $"{archive}!{entry.Name}";
                files[name] = (display, ReadText(display, ms.ToArray()));
            }
            // TarReader stops at the end-of-archive blocks, and GZipStream ends silently where its input ends, even inside
            // a deflate block. So the whole stream is read and its CRC-32 and length are checked against the gzip trailer
            // here: damage that decodes into other text, an early end-of-archive or a cut stream is refused instead of
            // read as other or fewer lists.
            if (checkedStream is not null)
            {
                Drain(archive, stream);
                CheckGzipTrailer(archive, raw, checkedStream);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException or OverflowException
                                       or NotSupportedException or IOException && e is not FileNotFoundException)
        {
            throw new UserInputException($"{archive}: not a readable .tgz/.tar archive of ground-truth lists ({e.Message})", e);
        }
        if (files.Count == 0) throw UserInputException.InFile(archive, "the archive holds no *_query.txt / *_good.txt / *_ok.txt / *_junk.txt files");
        return Parse(archive, files);
    }

    private static void CheckGzipTrailer(string archive, FileStream raw, Crc32ReadStream decoded)
    {
        Span<byte> trailer = stackalloc byte[8];
        if (raw.Length < 18) throw UserInputException.InFile(archive, "the gzip stream is shorter than its header and trailer");
        raw.Position = raw.Length - 8;
        raw.ReadExactly(trailer);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        // A multi-member gzip file (rare for .tgz) carries the last member's trailer only; it is refused with the same
        // message rather than read unchecked.
        if (crc != decoded.Crc || size != (uint)decoded.Length)
            throw UserInputException.InFile(archive, $"the gzip stream is damaged or cut: it decodes to {decoded.Length:N0} bytes with CRC-32 {decoded.Crc:x8}, its trailer says {size:N0} bytes with CRC-32 {crc:x8}");
    }

    private static void Drain(string archive, Stream stream)
    {
        var buffer = new byte[81920];
        long total = 0;
        int n;
        while ((n = stream.Read(buffer)) > 0)
            if ((total += n) > MaxArchiveContentBytes)
                throw UserInputException.InFile(archive, $"more than {MaxArchiveContentBytes:N0} bytes follow the end of the archive (damaged, or not a ground-truth archive)");
    }

    /// <summary>
    /// Builds the ground truth from list files given by file name (<c>all_souls_1_good.txt</c>) with their text.
    /// Query order: by landmark name (ordinal), then by query number. The database list is the sorted set of all names
    /// in the lists, marked incomplete (join it with an image folder through <see cref="GroundTruth.WithDatabase"/>).
    /// </summary>
    public static GroundTruth Parse(string source, IReadOnlyDictionary<string, (string Display, string Text)> files)
    {
        var stems = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in files.Keys)
            stems.Add(ListFileName().Match(name).Groups["stem"].Value);
        if (stems.Count == 0) throw UserInputException.InFile(source, "no *_query.txt / *_good.txt / *_ok.txt / *_junk.txt files found");

        var parsed = new List<(string Stem, string Landmark, long N, string Image, BoundingBox Box, string[] Good, string[] Ok, string[] Junk)>();
        foreach (var stem in stems)
        {
            foreach (var kind in Kinds)
                if (!files.ContainsKey($"{stem}_{kind}.txt"))
                    throw UserInputException.InFile(System.IO.Path.Combine(source, $"{stem}_{kind}.txt"), $"missing: query '{stem}' needs all of _query, _good, _ok and _junk lists");
            var (qDisplay, qText) = files[$"{stem}_query.txt"];
            var (image, box) = ParseQueryFile(qDisplay, qText);
            var m = QueryStem().Match(stem);
            string landmark = m.Success ? m.Groups["landmark"].Value : stem;
            long n = m.Success && long.TryParse(m.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
            parsed.Add((stem, landmark, n, image, box,
                ParseList(files[$"{stem}_good.txt"]), ParseList(files[$"{stem}_ok.txt"]), ParseList(files[$"{stem}_junk.txt"])));
        }
        parsed.Sort((a, b) =>
        {
            int c = string.CompareOrdinal(a.Landmark, b.Landmark);
            if (c != 0) return c;
            c = a.N.CompareTo(b.N);
            return c != 0 ? c : string.CompareOrdinal(a.Stem, b.Stem);
        });

        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var p in parsed)
        {
            names.Add(p.Image);
            names.UnionWith(p.Good); names.UnionWith(p.Ok); names.UnionWith(p.Junk);
        }
        var database = names.ToArray();
        var index = new Dictionary<string, int>(database.Length, StringComparer.Ordinal);
        for (int i = 0; i < database.Length; i++) index[database[i]] = i;
        int[] Idx(IEnumerable<string> list) => [.. list.Select(s => index[s]).Distinct().Order()];

        var queries = parsed.Select(p =>
        {
            int[] good = Idx(p.Good), ok = Idx(p.Ok);
            return new GroundTruthQuery(p.Stem, p.Image, p.Box, p.Landmark,
                new ClassicLabels(GroundTruth.Union(good, ok), Idx(p.Junk), good, ok), null);
        }).ToList();
        return new GroundTruth(source, database, queries, databaseIsComplete: false);
    }

    /// <summary>Parses a <c>_query.txt</c>: exactly one non-blank line <c>image x1 y1 x2 y2</c>.</summary>
    public static (string Image, BoundingBox Box) ParseQueryFile(string display, string text)
    {
        var lines = SplitLines(text);
        (string, BoundingBox)? result = null;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0) continue;
            if (result is not null) throw UserInputException.InFile(display, "a query file holds one line 'image x1 y1 x2 y2'; found a second one", i + 1);
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 5)
                throw UserInputException.InFile(display, $"expected 'image x1 y1 x2 y2' (5 fields), found {parts.Length}: '{Shorten(line)}'", i + 1);
            var c = new double[4];
            for (int k = 0; k < 4; k++)
                if (!double.TryParse(parts[k + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out c[k]) || !double.IsFinite(c[k]))
                    throw UserInputException.InFile(display, $"box coordinate '{Shorten(parts[k + 1])}' is not a number", i + 1);
            var box = new BoundingBox(c[0], c[1], c[2], c[3]);
            if (!box.IsValid)
                throw UserInputException.InFile(display, $"bad box {box}: need 0 <= x1 < x2 and 0 <= y1 < y2", i + 1);
            string image = parts[0].StartsWith(OxfordQueryPrefix, StringComparison.Ordinal) ? parts[0][OxfordQueryPrefix.Length..] : parts[0];
            if (image.Length == 0) throw UserInputException.InFile(display, "empty image name", i + 1);
            result = (image, box);
        }
        return result ?? throw UserInputException.InFile(display, "empty query file: expected one line 'image x1 y1 x2 y2'");
    }

    /// <summary>Parses a good/ok/junk list: one image name per line; blank lines are skipped; duplicates are kept once.</summary>
    public static string[] ParseList((string Display, string Text) file)
    {
        var lines = SplitLines(file.Text);
        var names = new List<string>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0) continue;
            if (line.AsSpan().IndexOfAny(" \t") >= 0)
                throw UserInputException.InFile(file.Display, $"expected one image name per line, found '{Shorten(line)}'", i + 1);
            names.Add(line);
        }
        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    private static string ReadText(string display, byte[] bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw UserInputException.InFile(display, "not a UTF-8/ASCII text file");
        }
    }

    private static string[] SplitLines(string text) => text.Replace("\r\n", "\n").Split('\n');

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
