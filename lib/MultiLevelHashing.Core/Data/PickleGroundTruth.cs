using System.Collections;
using MultiLevelHashing.Runtime;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;

namespace MultiLevelHashing.Data;

/// <summary>
/// Reads and writes the <c>gnd_*.pkl</c> ground-truth files of the classic (Oxford5k, Paris6k) and revisited
/// (ROxford5k, RParis6k) benchmarks: a Python pickle of a dict with <c>imlist</c> (database names), <c>qimlist</c>
/// (query names), optional <c>qidx</c> (classic: query indices into imlist), and <c>gnd</c>, one dict per query with
/// <c>bbx</c> [x1, y1, x2, y2] and either <c>ok</c>/<c>junk</c> (classic: ok = good ∪ ok) or
/// <c>easy</c>/<c>hard</c>/<c>junk</c> (revisited), all as indices into imlist. lib/MultiLevelHashing/README.md section 3.2.
/// </summary>
public static class PickleGroundTruth
{
    /// <summary>Largest pickle read (gnd_rparis6k.pkl is 270 KiB; a database of millions of images still fits).</summary>
    public const long MaxFileBytes = 512L << 20;

    /// <summary>Reads a gnd_*.pkl file.</summary>
    /// <exception cref="UserInputException">Missing file, truncated or malformed pickle, or unexpected contents; the message names the file.</exception>
    public static GroundTruth Read(string path)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, "no such file");
        long size = new FileInfo(path).Length;
        if (size > MaxFileBytes)
            throw UserInputException.InFile(path, $"pickle of {size:N0} bytes, above the limit of {MaxFileBytes:N0} (PickleGroundTruth.MaxFileBytes)");
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(path, bytes);
    }

    /// <summary>Parses pickle bytes; <paramref name="source"/> names them in messages.</summary>
    public static GroundTruth Parse(string source, byte[] bytes)
    {
        if (bytes.Length == 0) throw UserInputException.InFile(source, "empty file; expected a Python pickle");
        object root;
        try
        {
            using var unpickler = new Unpickler();
            root = unpickler.loads(bytes);
        }
        catch (Exception e) when (e is PickleException or EndOfStreamException or InvalidCastException or ArgumentException
                                       or IndexOutOfRangeException or InvalidOperationException or IOException or FormatException
                                       or OverflowException or NullReferenceException or KeyNotFoundException or ArgumentOutOfRangeException)
        {
            // A complete pickle ends with the STOP opcode '.'; reads past the end surface as range errors.
            bool truncated = bytes[^1] != (byte)'.' || e is EndOfStreamException or ArgumentOutOfRangeException or IndexOutOfRangeException;
            throw UserInputException.InFile(source, (truncated ? "truncated or damaged pickle" : "not a readable pickle") + $" ({e.GetType().Name}: {e.Message})");
        }

        if (root is not IDictionary dict) throw UserInputException.InFile(source, $"expected a pickled dict at the top level, found {Describe(root)}");
        var imlist = Strings(source, Get(source, dict, "imlist"), "imlist");
        var qimlist = Strings(source, Get(source, dict, "qimlist"), "qimlist");
        var gnd = List(source, Get(source, dict, "gnd"), "gnd");
        if (gnd.Count != qimlist.Length)
            throw UserInputException.InFile(source, $"'gnd' has {gnd.Count} entries but 'qimlist' has {qimlist.Length} queries");

        var queries = new List<GroundTruthQuery>(gnd.Count);
        for (int q = 0; q < gnd.Count; q++)
        {
            string where = $"gnd[{q}]";
            if (gnd[q] is not IDictionary g) throw UserInputException.InFile(source, $"{where} should be a dict, found {Describe(gnd[q])}");
            var bbxList = List(source, Get(source, g, "bbx", where), $"{where}['bbx']");
            if (bbxList.Count != 4) throw UserInputException.InFile(source, $"{where}['bbx'] should hold 4 numbers, found {bbxList.Count}");
            var c = new double[4];
            for (int k = 0; k < 4; k++) c[k] = Number(source, bbxList[k], $"{where}['bbx'][{k}]");
            var box = new BoundingBox(c[0], c[1], c[2], c[3]);
            if (!box.IsValid) throw UserInputException.InFile(source, $"{where}['bbx'] is not a valid box: {box}");

            ClassicLabels? classic = null;
            RevisitedLabels? revisited = null;
            int[] Indices(string key) => IndexList(source, Get(source, g, key, where), $"{where}['{key}']", imlist.Length);
            if (g.Contains("junk") && g.Contains("ok") && !g.Contains("easy"))
                classic = new ClassicLabels(Indices("ok"), Indices("junk"));
            else if (g.Contains("easy") && g.Contains("hard") && g.Contains("junk"))
            {
                revisited = new RevisitedLabels(Indices("easy"), Indices("hard"), Indices("junk"));
                if (g.Contains("ok")) classic = new ClassicLabels(Indices("ok"), Indices("junk"));
            }
            else
                throw UserInputException.InFile(source, $"{where} needs keys 'ok' and 'junk' (classic) or 'easy', 'hard' and 'junk' (revisited)");
            queries.Add(new GroundTruthQuery(qimlist[q], qimlist[q], box, null, classic, revisited));
        }

        if (dict.Contains("qidx"))
        {
            var qidx = IndexList(source, dict["qidx"], "qidx", imlist.Length, sort: false);
            if (qidx.Length != qimlist.Length) throw UserInputException.InFile(source, $"'qidx' has {qidx.Length} entries but 'qimlist' has {qimlist.Length}");
            for (int q = 0; q < qidx.Length; q++)
                if (imlist[qidx[q]] != qimlist[q])
                    throw UserInputException.InFile(source, $"qidx[{q}] points at '{imlist[qidx[q]]}' but qimlist[{q}] is '{qimlist[q]}'");
        }
        return new GroundTruth(source, imlist, queries, databaseIsComplete: true);
    }

    /// <summary>
    /// Writes a ground truth as a gnd pickle (protocol 2) atomically: <c>imlist</c>, <c>qimlist</c>, <c>qidx</c> where every
    /// query image is in the database, and per query <c>bbx</c> plus <c>ok</c>/<c>junk</c> and/or <c>easy</c>/<c>hard</c>/<c>junk</c>.
    /// Classic <c>junk</c> wins where both label kinds exist and disagree, so write both only when their junk sets agree.
    /// </summary>
    public static void Write(GroundTruth truth, string path)
    {
        var gnd = new ArrayList();
        foreach (var q in truth.Queries)
        {
            // Hashtable order follows string hashes, which differ per process; ordered dicts keep the bytes stable.
            var g = new SortedDictionary<string, object>(StringComparer.Ordinal) { ["bbx"] = new ArrayList { q.Box.X1, q.Box.Y1, q.Box.X2, q.Box.Y2 } };
            if (q.Revisited is { } r)
            {
                g["easy"] = new ArrayList(r.Easy);
                g["hard"] = new ArrayList(r.Hard);
                g["junk"] = new ArrayList(r.Junk);
            }
            if (q.Classic is { } c)
            {
                g["ok"] = new ArrayList(c.Positives);
                g["junk"] = new ArrayList(c.Junk);
            }
            gnd.Add(g);
        }
        var root = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["imlist"] = new ArrayList(truth.DatabaseImages.ToArray()),
            ["qimlist"] = new ArrayList(truth.Queries.Select(q => q.ImageName).ToArray()),
            ["gnd"] = gnd,
        };
        var qidx = truth.Queries.Select(q => truth.IndexOf(q.ImageName)).ToArray();
        if (qidx.All(i => i >= 0)) root["qidx"] = new ArrayList(qidx);
        byte[] bytes;
        using (var pickler = new Pickler(useMemo: false))
            bytes = pickler.dumps(root);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    private static object? Get(string source, IDictionary d, string key, string? where = null)
    {
        if (!d.Contains(key)) throw UserInputException.InFile(source, where is null ? $"missing key '{key}'" : $"{where} is missing key '{key}'");
        return d[key];
    }

    private static IList List(string source, object? o, string what)
        => o switch
        {
            IList l => l,
            _ => throw UserInputException.InFile(source, $"'{what}' should be a list, found {Describe(o)}"),
        };

    private static string[] Strings(string source, object? o, string what)
    {
        var l = List(source, o, what);
        var result = new string[l.Count];
        for (int i = 0; i < l.Count; i++)
            result[i] = l[i] as string ?? throw UserInputException.InFile(source, $"{what}[{i}] should be a string, found {Describe(l[i])}");
        return result;
    }

    private static double Number(string source, object? o, string what) => o switch
    {
        double d when double.IsFinite(d) => d,
        float f when float.IsFinite(f) => f,
        int i => i,
        long l => l,
        short s => s,
        byte b => b,
        _ => throw UserInputException.InFile(source, $"{what} should be a finite number, found {Describe(o)}"),
    };

    private static int[] IndexList(string source, object? o, string what, int count, bool sort = true)
    {
        var l = List(source, o, what);
        var result = new int[l.Count];
        for (int i = 0; i < l.Count; i++)
        {
            long v = l[i] switch
            {
                int x => x,
                long x => x,
                short x => x,
                byte x => x,
                _ => throw UserInputException.InFile(source, $"{what}[{i}] should be an integer index, found {Describe(l[i])}"),
            };
            if (v < 0 || v >= count) throw UserInputException.InFile(source, $"{what}[{i}] = {v} is outside imlist (0..{count - 1})");
            result[i] = (int)v;
        }
        return sort ? [.. result.Distinct().Order()] : result;
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        string s => $"the string '{(s.Length > 40 ? s[..40] + "..." : s)}'",
        ClassDict cd => $"an object of Python class {cd.ClassName}",
        _ => o.GetType().Name,
    };
}
