using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Regions;

/// <summary>
/// What a checkpoint records of the region coder stored in it (PCA-sign or learned whitening; lib/MultiLevelHashing/README.md section 2.3);
/// the projection itself (weight B x C, bias B) is stored as tensors beside the model's.
/// </summary>
/// <param name="Bits">Bits per region code B.</param>
/// <param name="Channels">Channels C of the backbone maps it codes.</param>
/// <param name="ImageSize">Input size S the maps are computed at (the grid is the backbone's map of an S x S image).</param>
/// <param name="Source">How and on what it was fitted (the method, the dataset name, its training split).</param>
public sealed record RegionCoderInfo(int Bits, int Channels, int ImageSize, string Source);

/// <summary>
/// The region coder as the command line makes and uses it (lib/MultiLevelHashing/README.md section 2.3): fitted
/// on the backbone maps of a dataset's training images only, and applied to every h x w location of the maps of database
/// and query images at the coder's image size, a batch at a time, as <see cref="Experiments.RegionStudy"/> codes the tables' images.
/// The backbone is the checkpoint model's, so that the database and the queries are coded from the same maps.
/// </summary>
public static class RegionCoderEncoding
{
    /// <summary>
    /// <see cref="RegionHashHead.FromPca"/> with <paramref name="bits"/> bits on the maps of <paramref name="dataset"/>'s
    /// training images at <paramref name="imageSize"/> px, or, with <paramref name="whitening"/>, the learned whitening of
    /// the matched locations of warped views of those images (<see cref="CorrespondenceTraining.LearnedWhitening"/>, the
    /// tables' trained coder). Refuses any image of the test benchmark: the coder must never see the images it is scored on.
    /// </summary>
    public static (RegionHashHead Coder, RegionCoderInfo Info) FitOnTraining(DscnnModel model, LandmarkDataset dataset, int bits, int imageSize, int batchSize,
        IProgress<ProgressReport>? progress = null, CorrespondenceTrainingConfig? whitening = null)
    {
        if (dataset.Train.Count == 0) throw new UserInputException($"{dataset.Root}: dataset '{dataset.Name}' has no training images to fit a region coder on");
        TrainingSelection.EnsureTrainingOnly(dataset, dataset.Train);
        var device = model.GlobalHead.Weight.device;
        using var maps = FeatureCache.Compute(model.Backbone, ImageFileSource.Train(dataset), imageSize, batchSize, device, progress);
        int channels = (int)maps.shape[1];
        if (bits > channels)
            throw new UserInputException($"--bits {bits}: the PCA-sign coder keeps at most as many directions as the backbone has channels ({channels})");
        string source = $"{dataset.Name} training split ({dataset.Train.Count} images, {maps.shape[2]} x {maps.shape[3]} locations each)";
        if (whitening is null) return (RegionHashHead.FromPca(maps, bits), new RegionCoderInfo(bits, channels, imageSize, source));
        if (whitening.Method != RegionTrainingMethod.LearnedWhitening) throw new ArgumentException("only learned whitening is fitted here", nameof(whitening));
        // Learned whitening needs no PCA: the start head only gives its size and its location vectors.
        using (var start = new RegionHashHead(channels, bits))
        using (var views = CorrespondenceTraining.Warp(model.Backbone, ImageFileSource.Train(dataset), imageSize, (int)maps.shape[2], (int)maps.shape[3], whitening, progress, batchSize))
        {
            var whitened = CorrespondenceTraining.LearnedWhitening(start, maps.cpu(), views, whitening.Shrinkage);
            return (whitened, new RegionCoderInfo(bits, channels, imageSize,
                $"{whitening.Describe()} ({views.Sources.Length} warped views, seed {whitening.Seed}), {source}"));
        }
    }

    /// <summary>
    /// Region codes of every image of <paramref name="images"/>: the maps of <paramref name="backbone"/> at
    /// <paramref name="imageSize"/> px, every location coded by <paramref name="coder"/>, <paramref name="batchSize"/>
    /// images at a time (memory holds one batch of maps and the packed codes), reported as <paramref name="task"/>.
    /// </summary>
    public static RegionCodes Encode(Backbone backbone, RegionHashHead coder, IImageSource images, int imageSize, int batchSize, Device device,
        IProgress<ProgressReport>? progress = null, string task = "region codes")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        bool wasTraining = backbone.training;
        backbone.eval();
        try
        {
            var parts = new List<RegionCodes>();
            int height = 0, width = 0;
            using var noGrad = no_grad();
            for (int start = 0; start < images.Count; start += batchSize)
            {
                int end = Math.Min(images.Count, start + batchSize);
                using var scope = NewDisposeScope();
                var x = images.Load(Enumerable.Range(start, end - start).ToArray(), imageSize).to(device);
                var maps = backbone.forward(x).cpu();
                if (maps.shape[1] != coder.Channels)
                    throw new UserInputException($"the region coder codes {coder.Channels}-channel maps but the backbone gives {maps.shape[1]} channels; fit it again with mlh regions");
                (height, width) = ((int)maps.shape[2], (int)maps.shape[3]);
                parts.Add(coder.Encode(maps));
                progress.Report(task, end, images.Count, "img");
            }
            return parts.Count == 0
                ? new RegionCodes(coder.Bits, 1, 1, [], [0], [])
                : RegionCodes.Concat(parts, coder.Bits, height, width);
        }
        finally
        {
            if (wasTraining) backbone.train();
        }
    }
}
