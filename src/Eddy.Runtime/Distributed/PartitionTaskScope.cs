namespace Eddy.Runtime.Distributed;

/// <summary>
/// What a pipeline instance run by <c>eddy worker</c> owns: one partition number of its stage's input topic(s). Its
/// sources read exactly that partition and its sinks key their exactly-once bookkeeping by it (PostgreSQL progress
/// rows, Kafka transactional ids), so whichever worker runs the partition next continues the same bookkeeping.
/// </summary>
/// <param name="Stage">The stage of the distributed job (0 for a job of one stage).</param>
/// <param name="Partition">The partition number of the stage's input topic(s); co-partitioned inputs share it.</param>
public sealed record PartitionTaskScope(int Stage, int Partition)
{
    /// <summary>The task's folder under the job's checkpoint folder: <c>stage-&lt;i&gt;/partition-&lt;p&gt;</c>.</summary>
    public string RelativeFolder => Path.Combine($"stage-{Stage}", $"partition-{Partition}");

    /// <summary>A short name for logs, transactional ids and progress rows: <c>s&lt;i&gt;-p&lt;p&gt;</c>.</summary>
    public string Tag => $"s{Stage}-p{Partition}";

    public override string ToString() => $"stage {Stage}, partition {Partition}";
}
