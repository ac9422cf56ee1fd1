using System.Text;

namespace Eddy.Runtime;

/// <summary>
/// Flink's print connector: one line per record, <c>+I[a, b, c]</c> for rows (with the row kind the record carries in
/// the stream), <c>+I[value]</c> for other types. The prefix is <c>N&gt; </c> (subtask index + 1) when the sink runs at
/// parallelism above 1, <c>id:N&gt; </c> with an identifier, <c>id&gt; </c> with an identifier at parallelism 1.
/// Lines of a batch are written together under a lock on the writer, so the subtasks' lines never interleave;
/// the writer is flushed on flush and at the end.
/// </summary>
public sealed class PrintSink<T>(TextWriter? output = null, string? identifier = null) : Sink<T>
{
    private readonly TextWriter output = output ?? Console.Out;

    public override SinkWriter<T> CreateWriter(SinkWriterContext context) =>
        new Writer(output, Prefix(identifier, context.SubtaskIndex, context.Parallelism));

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
}
