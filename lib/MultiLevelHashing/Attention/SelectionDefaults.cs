namespace MultiLevelHashing.Attention;

/// <summary>
/// Default settings of the multi-level search with bit selection: those that 4-fold cross-validation over the training
/// landmarks of full mini-landmarks chose for the query-adaptive selection at 224 px, 3 seeds (notebook 06,
/// <see cref="Experiments.BitSelectionStudy"/>; never the test queries): N = 50, lambda = 0.25, rho = 1/8.
/// </summary>
public static class SelectionDefaults
{
    /// <summary>
    /// Input size S of the maps and codes used for selection: 224 px gives 7 x 7 maps (160 px, the training preset's, gives
    /// 5 x 5); notebook 05 measures what each size costs and changes.
    /// </summary>
    public const int ImageSize = 224;

    /// <summary>Share of the local bits kept, rho = L / Kl.</summary>
    public const double Rho = 0.125;

    /// <summary>Stage-1 candidates re-ranked, N.</summary>
    public const int Candidates = 50;

    /// <summary>Weight of the selected local bits, lambda.</summary>
    public const double Lambda = 0.25;
}
