using System.Text;

namespace Eddy.Runtime;

/// <summary>
/// Flink's print connector: one line per record, <c>+I[a, b, c]</c> for rows (with the row kind the record carries in
/// the stream), <c>+I[value]</c> for other types. The prefix is <c>N&gt; </c> (subtask index + 1) when the sink runs at
/// parallelism above 1, <c>id:N&gt; </c> with an identifier, <c>id&gt; </c> with an identifier at parallelism 1.
/// Lines of a batch are written together under a lock on the writer, so the subtasks' lines never interleave;
/// the writer is flushed on flush and at the end. Into a <see cref="CommittedOutput"/> (tests) with checkpointing
/// on, lines are staged per checkpoint and committed when it completes, exactly once across a restore.
/// </summary>
public sealed class PrintSink<T>(TextWriter? output = null, string? identifier = null) : Sink<T>
{
    private readonly TextWriter output = output ?? Console.Out;

    public override SinkWriter<T> CreateWriter(SinkWriterContext context) =>
        context.CheckpointingEnabled && output is CommittedOutput committed
            ? new StagingWriter(committed, Prefix(identifier, context.SubtaskIndex, context.Parallelism), context)
            : new Writer(output, Prefix(identifier, context.SubtaskIndex, context.Parallelism));

    /// <summary>The prefix of every line of a subtask, as Flink's <c>PrintSinkOutputWriter</c> makes it.</summary>
    public static string Prefix(string? identifier, int subtask, int parallelism)
    {
        string prefix = identifier ?? "";
        if (parallelism > 1)
        {
            if (prefix.Length > 0) prefix += ":";
            prefix += subtask + 1;
        }
        return prefix.Length > 0 ? prefix + "> " : "";
    }

    /// <summary>One record as the print sink shows it (without the prefix).</summary>
    public static string Format(T value, RowKind kind)
    {
        if (value is Row row)
        {
            string text = row.ToString();
            // Row.ToString starts with the row's own kind (two characters); the stream's kind of the record wins.
            return row.Kind == kind ? text : string.Concat(kind.ShortString(), text.AsSpan(2));
        }
        return $"{kind.ShortString()}[{value?.ToString() ?? "null"}]";
    }

    private sealed class Writer(TextWriter output, string prefix) : SinkWriter<T>
    {
        private readonly StringBuilder lines = new();

        public override void Write(Batch<T> batch)
        {
            lines.Clear();
            for (int i = 0; i < batch.Count; i++)
                lines.Append(prefix).Append(Format(batch.Values[i], batch.KindAt(i))).Append('\n');
            lock (output) output.Write(lines);
            if (lines.Capacity > 1 << 20) lines.Capacity = 1 << 16;
        }

        public override void Flush()
        {
            lock (output) output.Flush();
        }
    }

    /// <summary>
    /// Two-phase print into a <see cref="CommittedOutput"/>: lines since the last barrier are open; a barrier stages
    /// them under the checkpoint's id and writes every staged part into the state; completion commits the parts up to
    /// it; a restored writer commits the parts its old subtasks' states hold (committing twice is a no-op).
    /// </summary>
    private sealed class StagingWriter : SinkWriter<T>
    {
        private readonly CommittedOutput output;
        private readonly string prefix;
        private readonly string transactionPrefix;
        private readonly StringBuilder open = new();
        private readonly List<(long CheckpointId, string Lines)> staged = [];

        public StagingWriter(CommittedOutput output, string prefix, SinkWriterContext context)
        {
            this.output = output;
            this.prefix = prefix;
            transactionPrefix = $"{context.JobName}/{context.OperatorId}/{context.SubtaskIndex}/";
            foreach (var state in context.Restored?.SubtaskStates ?? [])
            {
                if (state.Length == 0) continue;
                using var r = new BinaryReader(new MemoryStream(state, writable: false));
                for (int n = r.ReadInt32(); n > 0; n--) output.Commit(r.ReadString(), r.ReadString());
            }
        }

        public override void Write(Batch<T> batch)
        {
            for (int i = 0; i < batch.Count; i++)
                open.Append(prefix).Append(Format(batch.Values[i], batch.KindAt(i))).Append('\n');
        }

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            staged.Add((checkpointId, open.ToString()));
            open.Clear();
            state.Write(staged.Count);
            foreach (var (id, lines) in staged)
            {
                state.Write(transactionPrefix + id);
                state.Write(lines);
            }
        }

        public override void NotifyCheckpointComplete(long checkpointId)
        {
            foreach (var (id, lines) in staged)
                if (id <= checkpointId) output.Commit(transactionPrefix + id, lines);
            staged.RemoveAll(s => s.CheckpointId <= checkpointId);
        }

        // Only at the end of input: everything left is final.
        public override void Flush()
        {
            foreach (var (id, lines) in staged) output.Commit(transactionPrefix + id, lines);
            staged.Clear();
            output.Commit(transactionPrefix + "end", open.ToString());
            open.Clear();
        }
    }
}
