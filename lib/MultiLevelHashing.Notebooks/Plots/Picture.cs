namespace MultiLevelHashing.Plots;

/// <summary>A PNG picture shown inline in a notebook (embedded as a data URI, so the executed notebook stands alone).</summary>
/// <param name="Path">The PNG file; where <see cref="Png"/> is given, only the picture's name.</param>
/// <param name="Caption">Text under the picture; none when empty.</param>
public sealed record Picture(string Path, string Caption)
{
    /// <summary>The PNG's bytes when the picture was made in memory; null to read <see cref="Path"/>.</summary>
    public byte[]? Png { get; init; }

    /// <summary>An &lt;img&gt; element with the picture's bytes and the caption.</summary>
    public string ToHtml()
    {
        byte[] png = Png ?? File.ReadAllBytes(Path);
        string caption = Caption.Length == 0 ? "" : $"<figcaption>{System.Net.WebUtility.HtmlEncode(Caption)}</figcaption>";
        return $"<figure><img src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" style=\"max-width:100%\"/>{caption}</figure>";
    }
}
