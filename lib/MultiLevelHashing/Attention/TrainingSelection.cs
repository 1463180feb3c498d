using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Attention;

/// <summary>
/// Dataset-level bit selection from a dataset's training split (lib/MultiLevelHashing/README.md section 2.7): the maps
/// of the training images, their landmark boxes, and the guard that keeps every test image out.
/// </summary>
public static class TrainingSelection
{
    /// <summary>
    /// Throws unless every image of <paramref name="images"/> is a training image of <paramref name="dataset"/> and none of
    /// them is a database or query image of its benchmark: a selection must never read the images it is scored on.
    /// </summary>
    /// <exception cref="InvalidOperationException">An image is in the test split or in the benchmark.</exception>
    internal static void EnsureTrainingOnly(LandmarkDataset dataset, IEnumerable<DatasetImage> images)
    {
        var benchmark = dataset.Database.Select(d => Path.GetFullPath(d.Path))
            .Concat(dataset.Queries.Select(q => Path.GetFullPath(q.Path))).ToHashSet(StringComparer.Ordinal);
        foreach (var image in images)
            if (image.Split != DatasetSplit.Train || benchmark.Contains(Path.GetFullPath(image.Path)))
                throw new InvalidOperationException(
                    $"bit selection reads training images only, but '{image.Name}' ({image.Path}) is part of the test benchmark of '{dataset.Name}'");
    }

    /// <summary>The landmark box of every image as a region of its area.</summary>
    public static RegionBox[] Boxes(IReadOnlyList<DatasetImage> images)
    {
        var boxes = new RegionBox[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            if (image.Box is not { } box)
                throw new UserInputException($"{image.Path}: no landmark box for '{image.Name}'; dataset-level bit selection needs the boxes of the training images");
            boxes[i] = Region(image.Path, box);
        }
        return boxes;
    }

    /// <summary>A pixel box of the image file <paramref name="path"/> as a region of its area (the size is read from the header).</summary>
    public static RegionBox Region(string path, BoundingBox box)
    {
        var (width, height) = ImageLoader.Size(path);
        return RegionBox.FromPixels(box, width, height);
    }

    /// <summary>
    /// The labelled training images of <paramref name="dataset"/> that have a landmark box, their maps at
    /// <paramref name="imageSize"/> (through <paramref name="config"/>'s feature source: cached maps for a frozen backbone)
    /// and their boxes.
    /// </summary>
    public static (LevelMaps Maps, RegionBox[] Boxes) TrainingMaps(DscnnModel model, TrainingConfig config, LandmarkDataset dataset, int imageSize,
        string? cacheDirectory, IProgress<ProgressReport>? progress = null)
    {
        var images = dataset.Train.Where(t => t.Label >= 0 && t.Box is not null).ToList();
        if (images.Count == 0)
            throw new UserInputException($"{dataset.Root}: dataset '{dataset.Name}' has no labelled training images with landmark boxes to select bits from");
        EnsureTrainingOnly(dataset, images);
        var files = new ImageFileSource(ImageFiles.Of(images.Select(i => (i.Path, (BoundingBox?)null)), dataset.Root));
        using var source = FeatureSource.For(config with { ImageSize = imageSize }, model.Backbone, files, cacheDirectory,
            model.GlobalHead.Weight.device, progress);
        return (BitActivationMaps.FromSource(model, source, config.InferenceBatch, progress), Boxes(images));
    }

    /// <summary>
    /// Dataset-level selection of round(<paramref name="rho"/> * Kl) local bits for <paramref name="model"/> from
    /// <paramref name="dataset"/>'s training split, ready to store in the model's checkpoint.
    /// </summary>
    public static SelectedLocalBits Select(DscnnModel model, TrainingConfig config, LandmarkDataset dataset, double rho, int imageSize,
        string? cacheDirectory, IProgress<ProgressReport>? progress = null)
    {
        var (maps, boxes) = TrainingMaps(model, config, dataset, imageSize, cacheDirectory, progress);
        var mask = BitSelection.DatasetLevel(maps.Local, boxes, BitSelection.SelectedCount(model.LocalBits, rho));
        return new SelectedLocalBits(model.LocalBits, [.. mask.Indices()], rho, imageSize, $"{dataset.Name} training split ({boxes.Length} images)");
    }
}
