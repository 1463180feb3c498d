using MultiLevelHashing.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Data;

public class ImageSizeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void SizeFromTheHeaderIsTheSizeOfTheDecodedImage(ushort orientation)
    {
        string path = Path.Combine(Path.GetTempPath(), $"size-{Guid.NewGuid():N}.jpg");
        try
        {
            using (var image = new Image<Rgb24>(40, 16))
            {
                image.Metadata.ExifProfile = new ExifProfile();
                image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
                image.SaveAsJpeg(path);
            }
            using var decoded = ImageLoader.LoadRgb(path);
            Assert.Equal((decoded.Width, decoded.Height), ImageLoader.Size(path));
            Assert.Equal(orientation == 6 ? (16, 40) : (40, 16), ImageLoader.Size(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
