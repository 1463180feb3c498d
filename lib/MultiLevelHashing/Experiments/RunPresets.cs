using MultiLevelHashing.Attention;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments;

/// <summary>
/// The settings a run mode implies: which training preset, which model the tables and maps use, over which seeds. The
/// notebooks, <see cref="PaperTablesConfig"/> and <c>mlh</c> take them from here, so that a mode is stated once and every
/// notebook that reuses a cached model asks for it under the same configuration (the model cache keys on it).
/// </summary>
public static class RunPresets
{
    /// <summary>The training preset of a mode: <see cref="TrainingConfig.Smoke"/> or <see cref="TrainingConfig.Full"/>.</summary>
    public static TrainingConfig Training(RunMode mode) => mode == RunMode.Full ? TrainingConfig.Full : TrainingConfig.Smoke;

    /// <summary>
    /// The model of the tables, the bit maps and bit selection: in full mode the Full preset at selection's input size
    /// (<see cref="SelectionDefaults.ImageSize"/>, 224 px); in smoke mode one short epoch of the small CNN.
    /// </summary>
    public static TrainingConfig TablesTraining(RunMode mode) => mode == RunMode.Full
        ? TrainingConfig.Full with { ImageSize = SelectionDefaults.ImageSize }
        : TrainingConfig.Smoke with { Epochs = 1 };

    /// <summary>
    /// Training when a notebook compares regimes rather than tunes one: the Full preset in full mode, one short epoch of
    /// the small CNN in smoke mode.
    /// </summary>
    public static TrainingConfig ShortSmokeTraining(RunMode mode) => mode == RunMode.Full ? TrainingConfig.Full : TrainingConfig.Smoke with { Epochs = 1 };

    /// <summary>
    /// The preset <c>mlh train --preset</c> names: <c>full</c> is the model of the reported tables
    /// (<see cref="TablesTraining"/> of <see cref="RunMode.Full"/>, 224 px), <c>smoke</c> the <see cref="TrainingConfig.Smoke"/> preset.
    /// </summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static TrainingConfig Command(string name) => name.ToLowerInvariant() switch
    {
        "full" => TablesTraining(RunMode.Full),
        "smoke" => TrainingConfig.Smoke,
        _ => throw new ArgumentException($"unknown preset '{name}' (known: smoke, full)"),
    };

    /// <summary>Seeds of every trained or seeded method: 0, 1 and 2 in full mode, 0 alone in smoke mode.</summary>
    public static IReadOnlyList<int> Seeds(RunMode mode) => mode == RunMode.Full ? [0, 1, 2] : [0];

    /// <summary>The configuration of the reported tables of a mode: <see cref="PaperTablesConfig.Full"/> or <see cref="PaperTablesConfig.Smoke"/>.</summary>
    public static PaperTablesConfig Tables(RunMode mode) => mode == RunMode.Full ? PaperTablesConfig.Full : PaperTablesConfig.Smoke;

    /// <summary>
    /// The benchmark the region rows are also reported on (table 9d, <see cref="PaperTables.RunRegionRows"/>):
    /// mini-landmarks/large in full mode; in smoke mode none, and the notebook runs the same code on its smoke benchmark.
    /// </summary>
    public static MiniLandmarksConfig? SecondBenchmark(RunMode mode) => mode == RunMode.Full ? MiniLandmarksConfig.Large : null;

    /// <summary>The bit-selection study of a mode on <see cref="TablesTraining"/>'s model.</summary>
    public static BitSelectionStudyConfig Selection(RunMode mode) => mode == RunMode.Full
        ? BitSelectionStudyConfig.Full(TablesTraining(mode))
        : BitSelectionStudyConfig.Smoke(TablesTraining(mode));

    /// <summary>The input sizes the input-size study (notebook 05) trains a model at: 160, 224 and 320 px in full mode, 64 px in smoke mode.</summary>
    public static IReadOnlyList<int> InputSizes(RunMode mode) => mode == RunMode.Full ? [160, 224, 320] : [64];

    /// <summary>
    /// The multi-level setting held fixed while the input size varies: <see cref="MultiLevelSetting.Default"/> in full
    /// mode; N = 20 in smoke mode, whose database is too small for the default shortlist to re-rank anything less than all of it.
    /// </summary>
    public static MultiLevelSetting FixedSearchSetting(RunMode mode) => mode == RunMode.Full ? MultiLevelSetting.Default : new MultiLevelSetting(20, 0.5, 0.25);
}
