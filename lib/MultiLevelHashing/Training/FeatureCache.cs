using System.Security.Cryptography;
using System.Text;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>
/// The backbone's maps F of a whole image set, computed once and kept on disk under a name that encodes what
/// determines them (backbone, image size, images). With frozen backbones this turns training into head-only steps
/// at thousands of pairs per second. Files: magic, version, shape, float32 data, SHA-256; written atomically.
/// </summary>
public static class FeatureCache
{
    private static readonly byte[] Magic = "MLHFEAT\0"u8.ToArray();
    private const int Version = 1;

    /// <summary>File name for a feature-config hash and an image-set fingerprint.</summary>
    public static string FileName(string featureHash, string fingerprint)
    {
        string images = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint)))[..16].ToLowerInvariant();
        return $"features-{featureHash}-{images}.bin";
    }

    /// <summary>
    /// F for every image of <paramref name="images"/> (N x C x h x w, CPU), read from <paramref name="cacheDirectory"/>
    /// when present and intact, else computed in batches and written there (when a directory is given).
    /// </summary>
    public static Tensor GetOrCompute(Backbone backbone, IImageSource images, int imageSize, int batchSize, string featureHash,
        string? cacheDirectory, Device? device = null, IProgress<ProgressReport>? progress = null)
    {
        string? path = cacheDirectory is null ? null : Path.Combine(cacheDirectory, FileName(featureHash, images.Fingerprint));
        if (path is not null && File.Exists(path))
        {
            var cached = TryRead(path);
            if (cached is not null && cached.shape[0] == images.Count) return cached;
            cached?.Dispose();
        }
        var features = Compute(backbone, images, imageSize, batchSize, device, progress);
        if (path is not null) Write(path, features);
        return features;
    }

    /// <summary>F for every image, computed in batches under dispose scopes.</summary>
    public static Tensor Compute(Backbone backbone, IImageSource images, int imageSize, int batchSize, Device? device = null,
        IProgress<ProgressReport>? progress = null)
    {
        bool wasTraining = backbone.training;
        backbone.eval();
        var parts = new List<Tensor>();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < images.Count; start += batchSize)
            {
                int end = Math.Min(images.Count, start + batchSize);
                using var scope = NewDisposeScope();
                var x = images.Load(Enumerable.Range(start, end - start).ToArray(), imageSize);
                if (device is not null) x = x.to(device);
                parts.Add(backbone.forward(x).cpu().DetachFromDisposeScope());
                progress.Report("backbone features", end, images.Count, "img");
            }
            var all = cat(parts, 0).DetachFromDisposeScope();
            return all;
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
            if (wasTraining) backbone.train();
        }
    }

    private static Tensor? TryRead(string path)
    {
        try
        {
            byte[] all = File.ReadAllBytes(path);
            using var r = new BinaryReader(new MemoryStream(all));
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) || r.ReadInt32() != Version) return null;
            int ndim = r.ReadInt32();
            var shape = new long[ndim];
            for (int i = 0; i < ndim; i++) shape[i] = r.ReadInt64();
            long n = shape.Aggregate(1L, (a, b) => a * b);
            int offset = (int)r.BaseStream.Position;
            int bytes = checked((int)n * 4);
            if (offset + bytes + 32 != all.Length) return null;
            if (!SHA256.HashData(all.AsSpan(0, offset + bytes)).AsSpan().SequenceEqual(all.AsSpan(offset + bytes, 32))) return null;
            var data = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(all.AsSpan(offset, bytes)).ToArray();
            return tensor(data, shape).DetachFromDisposeScope();
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or OverflowException)
        {
            // A damaged cache is recomputed, never trusted.
            return null;
        }
    }

    private static void Write(string path, Tensor features)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write((int)features.ndim);
            foreach (long d in features.shape) w.Write(d);
            using var c = features.contiguous();
            w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        }
        var body = ms.ToArray();
        string temp = $"{path}.tmp-{Environment.ProcessId}";
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            f.Write(body);
            f.Write(SHA256.HashData(body));
        }
        File.Move(temp, path, overwrite: true);
    }
}
