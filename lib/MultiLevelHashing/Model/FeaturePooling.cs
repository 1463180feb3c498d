using System.Text.Json.Serialization;

namespace MultiLevelHashing.Model;

/// <summary>
/// How a feature map F (N x C x h x w) is pooled into one vector per image: by the global hash head
/// (<see cref="Gap"/> or <see cref="GeM"/>, <see cref="GlobalHashHead.Pool"/>) and by the float-descriptor baselines
/// (all three, <c>Baselines.FloatDescriptors</c>); lib/MultiLevelHashing/README.md sections 2.2 and 2.9.
/// </summary>
public enum FeaturePooling
{
    /// <summary>
    /// Global average pooling (GAP); makes the class activation map of a global bit exact (lib/MultiLevelHashing/README.md
    /// section 2.6). Architecture files (checkpoints, exported models) name it <c>Average</c>.
    /// </summary>
    [JsonStringEnumMemberName("Average")]
    Gap,
    /// <summary>Generalised mean pooling with p = 3 (GeM; Radenovic et al.), a common retrieval alternative.</summary>
    GeM,
    /// <summary>Regional maximum activations of convolutions (Tolias et al.), 3 scales, without PCA whitening; float descriptors only.</summary>
    RMac,
}
