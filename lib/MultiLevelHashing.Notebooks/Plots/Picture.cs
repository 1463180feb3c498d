namespace MultiLevelHashing.Plots;

/// <summary>A PNG file shown inline in a notebook (embedded as a data URI, so the executed notebook stands alone).</summary>
/// <param name="Path">The PNG file.</param>
/// <param name="Caption">Text under the picture.</param>
public sealed record Picture(string Path, string Caption)
{
    /// <summary>An &lt;img&gt; element with the file's bytes and the caption.</summary>
    public string ToHtml() =>
        $"<figure><img src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(Path))}\" style=\"max-width:100%\"/>" +
        $"<figcaption>{System.Net.WebUtility.HtmlEncode(Caption)}</figcaption></figure>";
}
