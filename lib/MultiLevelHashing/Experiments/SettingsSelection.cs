using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments;

/// <summary>One candidate's cross-validation result.</summary>
/// <param name="Name">Short label of the candidate.</param>
/// <param name="Config">Its training configuration (the seed is replaced per run).</param>
/// <param name="Trained">Validation mAP of the trained global code, one value per fold and seed.</param>
/// <param name="Start">Validation mAP of the same runs before the first siamese step.</param>
public sealed record CandidateScore(string Name, TrainingConfig Config, IReadOnlyList<double> Trained, IReadOnlyList<double> Start)
{
    /// <summary>Mean and spread of <see cref="Trained"/>.</summary>
    public MeanSpread TrainedMap => MeanSpread.Of(Trained);

    /// <summary>Mean and spread of <see cref="Start"/>.</summary>
    public MeanSpread StartMap => MeanSpread.Of(Start);
}

/// <summary>Result of <see cref="SettingsSelection.CrossValidate"/>.</summary>
/// <param name="Candidates">Scores in the order given.</param>
/// <param name="Lsh">LSH with the same bit count on each fold's GAP descriptors (one value per fold and seed): the reference.</param>
/// <param name="Folds">Number of folds.</param>
/// <param name="Seeds">Seeds run on every fold.</param>
public sealed record SettingsSelectionResult(IReadOnlyList<CandidateScore> Candidates, IReadOnlyList<double> Lsh, int Folds, IReadOnlyList<int> Seeds)
{
    /// <summary>Mean and spread of <see cref="Lsh"/>.</summary>
    public MeanSpread LshMap => MeanSpread.Of(Lsh);

    /// <summary>
    /// Paired difference of candidate <paramref name="candidate"/>'s validation mAP minus <paramref name="reference"/>'s,
    /// run by run (same fold, same seed): much tighter than the two spreads, which are dominated by how hard each fold is.
    /// </summary>
    public MeanSpread PairedDifference(int candidate, int reference = 0) =>
        MeanSpread.Of(Candidates[candidate].Trained.Zip(Candidates[reference].Trained, (a, b) => a - b));

    /// <summary>The candidate with the highest mean validation mAP (the first on ties).</summary>
    public CandidateScore Best => Candidates.Aggregate((a, b) => b.TrainedMap.Mean > a.TrainedMap.Mean ? b : a);
}

/// <summary>
/// What notebook 04 cross-validates in a run mode: the preset the candidates vary, the candidates, the folds and the seeds.
/// </summary>
/// <param name="Preset">The training preset of the mode (<see cref="RunPresets.Training"/>).</param>
/// <param name="Candidates">Named settings; each spells out the settings under study, so none depends on the preset's current values.</param>
/// <param name="Folds">Cross-validation folds over the training landmarks.</param>
/// <param name="Seeds">Seeds of every fold and candidate.</param>
public sealed record SettingsSelectionPlan(TrainingConfig Preset, IReadOnlyList<(string Name, TrainingConfig Config)> Candidates, int Folds, IReadOnlyList<int> Seeds)
{
    /// <summary>
    /// Smoke: two candidates (whitened or centred start) over 3 folds and one seed. Full: the five candidates of the
    /// method README's settings study over 4 folds and two seeds.
    /// </summary>
    public static SettingsSelectionPlan ForMode(RunMode mode)
    {
        var preset = RunPresets.Training(mode);
        TrainingConfig Setting(GlobalHeadInit start, double gamma, double lr, int negatives, double shrinkage = 1.0) =>
            preset with { HeadInit = start, Gamma = gamma, LearningRate = lr, NegativeCandidates = negatives, WhiteningShrinkage = shrinkage };
        return mode == RunMode.Full
            ? new(preset, [
                ("whitened start, gamma 10, lr 3e-4", Setting(GlobalHeadInit.LearnedWhitening, 10, 3e-4, 1)),
                ("whitened start, gamma 0, lr 3e-4", Setting(GlobalHeadInit.LearnedWhitening, 0, 3e-4, 1)),
                ("whitened start (shrinkage 3), gamma 10, lr 3e-4", Setting(GlobalHeadInit.LearnedWhitening, 10, 3e-4, 1, shrinkage: 3)),
                ("centred start, gamma 10, lr 3e-4", Setting(GlobalHeadInit.Centered, 10, 3e-4, 1)),
                ("centred start, gamma 0, lr 1e-3, mining 4", Setting(GlobalHeadInit.Centered, 0, 1e-3, 4))], Folds: 4, Seeds: [0, 1])
            : new(preset, [
                ("whitened start, gamma 10", Setting(GlobalHeadInit.LearnedWhitening, 10, 3e-3, 1)),
                ("centred start, gamma 10", Setting(GlobalHeadInit.Centered, 10, 3e-3, 1))], Folds: 3, Seeds: [0]);
    }
}

/// <summary>
/// Chooses DSCNN training settings without the test benchmark: k-fold cross-validation over the training landmarks
/// (<see cref="LandmarkDataset.ValidationFold"/>). Each candidate trains on k-1 folds' landmarks and is scored by the
/// global code's mAP on the held-out fold, for every fold and seed; the candidate with the best mean wins.
/// </summary>
public static class SettingsSelection
{
    /// <summary>Cross-validates <paramref name="candidates"/> on <paramref name="dataset"/>'s training split.</summary>
    public static SettingsSelectionResult CrossValidate(LandmarkDataset dataset, IReadOnlyList<(string Name, TrainingConfig Config)> candidates,
        IReadOnlyList<int> seeds, int folds = 4, int splitSeed = 0, TrainingRunOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        if (candidates.Count == 0) throw new ArgumentException("no candidate settings", nameof(candidates));
        if (seeds.Count == 0) throw new ArgumentException("no seeds", nameof(seeds));
        var splits = Enumerable.Range(0, folds).Select(f => dataset.ValidationFold(f, folds, splitSeed)).ToList();
        var trained = candidates.Select(_ => new List<double>()).ToList();
        var start = candidates.Select(_ => new List<double>()).ToList();
        var lsh = new List<double>();
        int runs = splits.Count * candidates.Count * seeds.Count, done = 0;
        foreach (var split in splits)
            for (int c = 0; c < candidates.Count; c++)
            {
                var result = GlobalCodeComparison.Run(split, candidates[c].Config, seeds, options, progress: null, randomStartAblation: false);
                trained[c].AddRange(result.Seeds.Select(s => s.TrainedMap));
                start[c].AddRange(result.Seeds.Select(s => s.StartMap));
                if (c == 0) lsh.AddRange(result.Seeds.Select(s => s.LshMap));
                done += seeds.Count;
                progress.Report("cross-validation", done, runs, "runs", $"{split.Name}: {candidates[c].Name} {result.Trained}");
            }
        var scores = candidates.Select((c, i) => new CandidateScore(c.Name, c.Config, trained[i], start[i])).ToList();
        return new SettingsSelectionResult(scores, lsh, folds, seeds);
    }
}
