namespace MultiLevelHashing.Search;

/// <summary>
/// The setting of the multi-level search with a bit selection (lib/MultiLevelHashing/README.md sections 2.7 and 2.8):
/// how many stage-1 results are re-ranked, the weight of the selected local bits, and the share of local bits selected.
/// The defaults, <see cref="Default"/>, are what 4-fold cross-validation over the training landmarks of full
/// mini-landmarks chose for the query-adaptive selection at 224 px, 3 seeds (notebook 06,
/// <c>Experiments.BitSelectionStudy</c>; never the test queries): N = 50, lambda = 0.25, rho = 1/8. <c>mlh</c> and a
/// library caller who sets nothing get the same search.
/// </summary>
/// <param name="Candidates">N: stage-1 results re-ranked.</param>
/// <param name="Lambda">lambda: weight of the selected local bits in d = d_g/Kg + lambda * d_sel/L.</param>
/// <param name="Rho">rho: selected share L / Kl. The search compares the bits of the mask it is given; rho says how many
/// a selection keeps (1 when all bits are used).</param>
public sealed record MultiLevelSetting(int Candidates = 50, double Lambda = 0.25, double Rho = 0.125)
{
    /// <summary>The cross-validated setting: N = 50, lambda = 0.25, rho = 1/8.</summary>
    public static MultiLevelSetting Default { get; } = new();

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"N={Candidates}, lambda={Lambda:0.###}, rho={Rho:0.###}");
}
