using Eddy.Runtime;

namespace Eddy.Connectors;

/// <summary>
/// Flink's datagen connector: rows of random or sequential values for a schema, at <c>rows-per-second</c> (of the
/// reader's clock, shared among the subtasks), bounded by <c>number-of-rows</c> or by the shortest sequence.
/// </summary>
public sealed class DatagenSource : Source<Row>
{
    private readonly long seed;

    public DatagenSource(DatagenOptions options)
    {
        Options = options;
        seed = options.Seed ?? System.Random.Shared.NextInt64();
    }

    /// <summary>A source of <c>WITH (...)</c>-style options outside SQL; a bad option's message names the table 'datagen'.</summary>
    public DatagenSource(Schema schema, IReadOnlyDictionary<string, string> options) : this(DatagenOptions.Parse("datagen", schema, options)) { }

    public DatagenOptions Options { get; }

    public override bool IsBounded => Options.IsBounded;

    public override SourceReader<Row> CreateReader(SourceReaderContext context) => new Reader(Options, seed, context);

    /// <summary>Subtask <paramref name="subtask"/>'s share of <paramref name="total"/>: the remainder goes to the first subtasks.</summary>
    internal static long Share(long total, int subtask, int parallelism) =>
        total / parallelism + (total % parallelism > subtask ? 1 : 0);

    private sealed class Reader : SourceReader<Row>
    {
        private readonly ValueGenerator[] generators;
        private readonly FastRandom random;
        private readonly RateLimiter limiter;
        private readonly TimeProvider clock;
        private long remaining;

        public Reader(DatagenOptions options, long seed, SourceReaderContext context)
        {
            generators = options.Fields.Select(f => ValueGenerator.For(f, context.SubtaskIndex, context.Parallelism)).ToArray();
            random = new FastRandom(FastRandom.Mix(seed, context.SubtaskIndex));
            clock = context.Clock;
            limiter = new RateLimiter(clock, (double)options.RowsPerSecond / context.Parallelism);
            remaining = options.NumberOfRows is { } n ? Share(n, context.SubtaskIndex, context.Parallelism) : long.MaxValue;
            foreach (var g in generators) remaining = Math.Min(remaining, g.Remaining);
            // An empty state: the reader's position never reached the checkpoint (a wrapping reader that does not pass
            // SnapshotState on); it starts over.
            if (context.Restored is { } restored && restored.SubtaskStates.Count > context.SubtaskIndex
                && restored.SubtaskStates[context.SubtaskIndex].Length > 0)
            {
                // Each subtask continues its own sequence stride and row count, so the parallelism must stay.
                if (restored.OldParallelism != context.Parallelism)
                {
                    throw new InvalidOperationException(
                        $"datagen source '{context.OperatorId}': checkpoint {restored.CheckpointId} was taken at parallelism "
                        + $"{restored.OldParallelism}; datagen resumes only at the same parallelism (now {context.Parallelism})");
                }
                using var r = new BinaryReader(new MemoryStream(restored.SubtaskStates[context.SubtaskIndex]));
                if (r.ReadInt32() != generators.Length)
                    throw new InvalidOperationException($"datagen source '{context.OperatorId}': the checkpoint was taken with other columns");
                remaining = r.ReadInt64();
                random.Load(r);
                foreach (var g in generators) g.Load(r);
            }
        }

        /// <summary>The rows still to come, the random generator and every sequence's position.</summary>
        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            state.Write(generators.Length);
            state.Write(remaining);
            random.Save(state);
            foreach (var g in generators) g.Save(state);
        }

        public override SourceStatus Read(SourceOutput<Row> output)
        {
            if (remaining <= 0) return SourceStatus.EndOfInput;
            int granted = limiter.Acquire((int)Math.Min(output.Room, remaining));
            if (granted == 0) return SourceStatus.NothingAvailable;
            var now = clock.GetUtcNow();
            for (int i = 0; i < granted; i++)
            {
                var values = new object?[generators.Length];
                for (int f = 0; f < values.Length; f++) values[f] = generators[f].Next(random, now);
                output.Add(new Row(RowKind.Insert, values));
            }
            remaining -= granted;
            return remaining > 0 ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
        }
    }
}
