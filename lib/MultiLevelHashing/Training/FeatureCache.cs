using System.Security.Cryptography;
using System.Text;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>
/// The backbone's maps F of a whole image set, computed once and kept on disk under a name that encodes what
/// determines them (backbone, image size, images). With frozen backbones this turns training into head-only steps
/// at thousands of pairs per second. Files: one tensor (<see cref="TensorSerializer"/>) in a <see cref="ChecksummedFile"/>,
/// written atomically.
/// </summary>
public static class FeatureCache
{
    private static readonly byte[] Magic = "MLHFEAT\0"u8.ToArray();
    private const int Version = 2;

    /// <summary>
    /// File name for a feature-config hash and an image-set fingerprint, under the process's JPEG decoding mode
    /// (<see cref="ImageLoadOptions.JpegDecoding"/>), which changes the pixels and so the features.
    /// </summary>
    public static string FileName(string featureHash, string fingerprint)
    {
        string decoded = $"{fingerprint}|jpeg {ImageLoadOptions.Default.JpegDecoding}";
        string images = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(decoded)))[..16].ToLowerInvariant();
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

    /// <summary>The cached maps in <paramref name="path"/>, or null when the file is damaged, outdated or not 4-D float32.</summary>
    internal static Tensor? TryRead(string path)
    {
        try
        {
            byte[] payload = ChecksummedFile.ReadPayload(path, Magic, Version, "feature cache");
            using var r = new BinaryReader(new MemoryStream(payload));
            var features = TensorSerializer.Read(r);
            if (r.BaseStream.Position != payload.Length || features.dtype != ScalarType.Float32 || features.ndim != 4)
            {
                features.Dispose();
                return null;
            }
            return features.DetachFromDisposeScope();
        }
        catch (Exception e) when (e is UserInputException or InvalidDataException or EndOfStreamException)
        {
            // A damaged or outdated cache is recomputed, never trusted.
            return null;
        }
    }

    internal static void Write(string path, Tensor features) =>
        ChecksummedFile.Write(path, Magic, Version, w => TensorSerializer.Write(w, features));
}
