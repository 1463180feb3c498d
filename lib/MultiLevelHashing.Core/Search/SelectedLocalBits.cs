namespace MultiLevelHashing.Search;

/// <summary>
/// A stored dataset-level bit selection (lib/MultiLevelHashing/README.md section 2.7): the local bits a model keeps for
/// the multi-level search, kept in its checkpoint so that searches use it without a hand-written file.
/// </summary>
/// <param name="LocalBits">Kl of the model it was made for.</param>
/// <param name="Bits">The selected bit indices, ascending, distinct, each in [0, Kl).</param>
/// <param name="Rho">The selected share L / Kl it was asked for.</param>
/// <param name="ImageSize">Input size S the maps were computed at.</param>
/// <param name="Source">What it was computed from (dataset name, its training split).</param>
public sealed record SelectedLocalBits(int LocalBits, int[] Bits, double Rho, int ImageSize, string Source)
{
    /// <summary>The selection as a mask for <see cref="MultiLevelSearch"/>; checks it fits <paramref name="localBits"/>.</summary>
    public BitMask ToMask(int localBits)
    {
        if (localBits != LocalBits)
            throw new ArgumentException($"the stored selection was made for {LocalBits} local bits, the codes have {localBits}");
        for (int i = 0; i < Bits.Length; i++)
            if (Bits[i] < 0 || Bits[i] >= LocalBits || (i > 0 && Bits[i] <= Bits[i - 1]))
                throw new ArgumentException($"the stored selection is not a sorted list of distinct bits in 0..{LocalBits - 1}");
        return BitMask.FromIndices(LocalBits, Bits);
    }
}
