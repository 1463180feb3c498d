using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>Optimizer of the DSCNN training.</summary>
public enum OptimizerKind
{
    /// <summary>Adam with decoupled weight decay (AdamW).</summary>
    Adam,
    /// <summary>Stochastic gradient descent with momentum and weight decay.</summary>
    Sgd,
}

/// <summary>
/// Adam(W) and momentum SGD over a fixed list of parameters, with every piece of state (moments, step count)
/// exposed as named tensors so that checkpoints restore it exactly: a resumed run continues bit for bit.
/// </summary>
public sealed class HashOptimizer : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _first;
    private readonly Tensor[] _second;
    private readonly double _beta1, _beta2, _eps, _weightDecay, _momentum;

    /// <summary>Which update rule.</summary>
    public OptimizerKind Kind { get; }

    /// <summary>Steps taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>An optimizer of <paramref name="parameters"/>.</summary>
    public HashOptimizer(IEnumerable<Parameter> parameters, OptimizerKind kind, double weightDecay = 0,
        double momentum = 0.9, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        _parameters = parameters.ToArray();
        Kind = kind;
        _weightDecay = weightDecay;
        _momentum = momentum;
        _beta1 = beta1;
        _beta2 = beta2;
        _eps = eps;
        _first = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _second = kind == OptimizerKind.Adam ? _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray() : [];
    }

    /// <summary>The optimized parameters.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Clears gradients.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
            if (p.grad is { } g) { g.zero_(); }
    }

    /// <summary>One update with learning rate <paramref name="lr"/>.</summary>
    public void Update(double lr)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Step++;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            var g = p.grad;
            if (g is null) continue;
            if (Kind == OptimizerKind.Adam)
            {
                if (_weightDecay > 0) p.mul_(1 - lr * _weightDecay);
                _first[i].mul_(_beta1).add_(g, alpha: 1 - _beta1);
                _second[i].mul_(_beta2).addcmul_(g, g, value: 1 - _beta2);
                double c1 = 1 - Math.Pow(_beta1, Step);
                double c2 = 1 - Math.Pow(_beta2, Step);
                var denom = (_second[i] / c2).sqrt_().add_(_eps);
                p.addcdiv_(_first[i], denom, value: -lr / c1);
            }
            else
            {
                var d = _weightDecay > 0 ? g + _weightDecay * p : g;
                _first[i].mul_(_momentum).add_(d);
                p.add_(_first[i], alpha: -lr);
            }
        }
    }

    /// <summary>The state as named tensors (moments) plus the step count, for checkpoints.</summary>
    public IEnumerable<(string Name, Tensor Value)> State()
    {
        for (int i = 0; i < _first.Length; i++) yield return ($"m.{i}", _first[i]);
        for (int i = 0; i < _second.Length; i++) yield return ($"v.{i}", _second[i]);
    }

    /// <summary>Restores <see cref="State"/> and the step count.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long step)
    {
        using var noGrad = no_grad();
        foreach (var (name, value) in State())
        {
            if (!state.TryGetValue(name, out var source)) throw new InvalidDataException($"optimizer state '{name}' missing");
            if (!source.shape.SequenceEqual(value.shape)) throw new InvalidDataException($"optimizer state '{name}' has the wrong shape");
            value.copy_(source);
        }
        Step = step;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _first) t.Dispose();
        foreach (var t in _second) t.Dispose();
    }
}

/// <summary>Learning-rate schedule over the whole run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The base rate throughout.</summary>
    Constant,
    /// <summary>Cosine decay from the base rate to 1% of it over all steps.</summary>
    Cosine,
    /// <summary>Multiplied by 0.1 at 2/3 of the epochs.</summary>
    Step,
}

/// <summary>Learning rate as a function of progress.</summary>
public static class LearningRates
{
    /// <summary>Rate at global step <paramref name="step"/> of <paramref name="totalSteps"/> (epoch <paramref name="epoch"/> of <paramref name="epochs"/>).</summary>
    public static double At(LearningRateSchedule schedule, double baseRate, long step, long totalSteps, int epoch, int epochs) => schedule switch
    {
        LearningRateSchedule.Constant => baseRate,
        LearningRateSchedule.Cosine => baseRate * (0.01 + 0.99 * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1.0, (double)step / Math.Max(1, totalSteps))))),
        LearningRateSchedule.Step => epoch >= (int)Math.Ceiling(epochs * 2.0 / 3.0) ? baseRate * 0.1 : baseRate,
        _ => throw new ArgumentOutOfRangeException(nameof(schedule)),
    };
}
