namespace Eddy.Runtime;

/// <summary>What a task needs to take part in checkpoints: the coordinator, its parallelism and key-group range.</summary>
internal sealed record TaskCheckpointing(
    CheckpointCoordinator Coordinator,
    int Parallelism,
    (int Start, int End) KeyGroupRange,
    string? SourceStateId);
