using Eddy.Runtime;

namespace Eddy;

/// <summary>
/// The entry point of a typed job: sources make <see cref="DataStream{T}"/>s, transformations chain on them, and
/// <see cref="Execute"/> plans and runs the graph in this process.
/// </summary>
public sealed class StreamEnvironment
{
    private readonly StreamGraph graph = new();

    private StreamEnvironment(JobConfig config) => Config = config;

    public static StreamEnvironment Create(JobConfig? config = null) => new(config ?? new JobConfig());

    public JobConfig Config { get; private set; }

    public StreamGraph Graph => graph;

    /// <summary>Counters of the job's functions, shown with the job's metrics (the server's /metrics).</summary>
    public JobCounters Counters { get; } = new();

    public StreamEnvironment SetParallelism(int parallelism)
    {
        Config = Config with { DefaultParallelism = parallelism };
        return this;
    }

    public StreamEnvironment SetMaxParallelism(int maxParallelism)
    {
        Config = Config with { MaxParallelism = maxParallelism };
        return this;
    }

    public StreamEnvironment Configure(Func<JobConfig, JobConfig> change)
    {
        Config = change(Config);
        return this;
    }

    internal T AddNode<T>(T node) where T : StreamNode => graph.Add(node);

    public DataStream<T> FromSource<T>(Source<T> source, WatermarkStrategy<T>? watermarks = null, string name = "Source")
    {
        var node = AddNode(new SourceNode<T>(source, watermarks ?? WatermarkStrategy<T>.NoWatermarks()) { Name = name });
        return new DataStream<T>(this, [new(node, null)]);
    }

    /// <summary>A bounded stream of in-memory records (split over the subtasks in order).</summary>
    public DataStream<T> FromCollection<T>(IReadOnlyList<T> items, WatermarkStrategy<T>? watermarks = null, string name = "Collection") =>
        FromSource(new CollectionSource<T>(items), watermarks, name);

    /// <summary>Builds the physical plan without running it.</summary>
    public JobPlan Plan() => JobPlan.Build(graph, Config);

    /// <summary>Starts the job in the background.</summary>
    public JobExecution Start(string jobName = "job") => new JobExecution(jobName, graph, Config) { Counters = Counters }.Start();

    /// <summary>Runs the job to its end (bounded inputs) or until <paramref name="cancel"/> fires.</summary>
    public async Task<JobResult> ExecuteAsync(string jobName = "job", CancellationToken cancel = default)
    {
        var job = Start(jobName);
        await using var reg = cancel.Register(job.Cancel);
        return await job.Completion.ConfigureAwait(false);
    }

    /// <summary>Runs the job to its end; throws when it failed.</summary>
    public JobResult Execute(string jobName = "job")
    {
        var result = ExecuteAsync(jobName).GetAwaiter().GetResult();
        if (result.Failure is not null) throw result.Failure;
        return result;
    }
}
