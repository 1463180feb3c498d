namespace MultiLevelHashing.Attention;

/// <summary>
/// The input size of bit selection. The search setting it goes with (N, lambda, rho) is
/// <see cref="Search.MultiLevelSetting.Default"/>.
/// </summary>
public static class SelectionDefaults
{
    /// <summary>
    /// Input size S of the maps and codes used for selection: 224 px gives 7 x 7 maps (160 px, the training preset's, gives
    /// 5 x 5); notebook 05 measures what each size costs and changes.
    /// </summary>
    public const int ImageSize = 224;
}
