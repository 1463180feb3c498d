namespace MultiLevelHashing.Training;

/// <summary>One finished epoch: mean losses over its steps, the validation mAP of the global code (when computed), speed.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Loss">Mean total loss L = L_g + beta L_l.</param>
/// <param name="GlobalLoss">Mean L_g.</param>
/// <param name="LocalLoss">Mean L_l.</param>
/// <param name="ValidationMap">mAP of the global code on the validation split (official protocol), or null.</param>
/// <param name="LearningRate">Learning rate at the epoch's last step.</param>
/// <param name="Seconds">Wall time of the epoch's training steps.</param>
/// <param name="PairsPerSecond">Training throughput.</param>
public sealed record EpochRecord(int Epoch, double Loss, double GlobalLoss, double LocalLoss, double? ValidationMap,
    double LearningRate, double Seconds, double PairsPerSecond);

/// <summary>Loss and validation-mAP history of a run, as data for charts; saved in checkpoints so resumed runs keep it.</summary>
public sealed record TrainingHistory
{
    /// <summary>Validation mAP of the global code at its start (<see cref="TrainingConfig.HeadInit"/>), before the first siamese step, or null.</summary>
    public double? InitialValidationMap { get; init; }

    /// <summary>Epochs in order.</summary>
    public IReadOnlyList<EpochRecord> Epochs { get; init; } = [];

    /// <summary>This history with one more epoch.</summary>
    public TrainingHistory With(EpochRecord epoch) => this with { Epochs = [.. Epochs, epoch] };
}
