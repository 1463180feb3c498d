namespace MultiLevelHashing.Data;

/// <summary>
/// Which labels count as positives and which are ignored (removed from the ranked list) when scoring a query.
/// Section 3 of lib/MultiLevelHashing/README.md: the evaluation protocol of Oxford5k/Paris6k (classic) and of ROxford5k/RParis6k (revisited).
/// It lives with the ground truth, whose labels define the protocols (<see cref="GroundTruth.Relevance"/>), so that
/// Evaluation depends on Data and not the other way round.
/// </summary>
public enum EvaluationProtocol
{
    /// <summary>Oxford5k/Paris6k: positives = good ∪ ok, junk ignored.</summary>
    Classic,
    /// <summary>Revisited Easy: positives = easy; junk and hard ignored.</summary>
    Easy,
    /// <summary>Revisited Medium: positives = easy ∪ hard; junk ignored.</summary>
    Medium,
    /// <summary>Revisited Hard: positives = hard; junk and easy ignored.</summary>
    Hard,
}
