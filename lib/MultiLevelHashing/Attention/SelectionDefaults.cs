namespace MultiLevelHashing.Attention;

/// <summary>
/// Default settings of the multi-level search with bit selection, as chosen by cross-validation over the training
/// landmarks of full mini-landmarks (notebook 06, <see cref="Experiments.BitSelectionStudy"/>; never the test queries).
/// </summary>
public static class SelectionDefaults
{
    /// <summary>Share of the local bits kept, rho = L / Kl.</summary>
    public const double Rho = 0.125;

    /// <summary>Stage-1 candidates re-ranked, N.</summary>
    public const int Candidates = 100;

    /// <summary>Weight of the selected local bits, lambda.</summary>
    public const double Lambda = 0.5;
}
