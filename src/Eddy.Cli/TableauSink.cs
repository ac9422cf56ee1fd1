using System.Text;
using Eddy.Runtime;

namespace Eddy.Cli;

/// <summary>
/// A query's changelog printed as it arrives, as Flink's SQL client shows a streaming result in tableau mode: an
/// <c>op</c> column (+I, -U, +U, -D) before the row's fields, every column right-aligned at a width that its type
/// gives (the rows are not known in advance), longer values cut with "...", NULL as &lt;NULL&gt;.
/// </summary>
internal sealed class TableauSink(Schema schema, TextWriter output) : Sink<Row>
{
    /// <summary>The widest a column is shown (Flink's default for unbounded strings).</summary>
    internal const int MaxColumnWidth = 30;

    private const string Null = "<NULL>";
    private readonly TextWriter output = output;
    private readonly int[] widths = schema.Columns.Select(c => Math.Max(Math.Max(c.Name.Length, Null.Length), TypeWidth(c.Type))).ToArray();
    private long count;

    public long Count => Interlocked.Read(ref count);

    /// <summary>The width a value of <paramref name="type"/> needs at most (capped at <see cref="MaxColumnWidth"/>).</summary>
    internal static int TypeWidth(DataType type) => Math.Min(MaxColumnWidth, type.Kind switch
    {
        TypeKind.Boolean => 5,
        TypeKind.TinyInt => 4,
        TypeKind.SmallInt => 6,
        TypeKind.Int => 11,
        TypeKind.BigInt => 20,
        TypeKind.Decimal => type.Precision + 2,
        TypeKind.Date => 10,
        TypeKind.Time => 8 + (type.Precision > 0 ? type.Precision + 1 : 0),
        TypeKind.Timestamp or TypeKind.TimestampLtz => 19 + (type.Precision > 0 ? type.Precision + 1 : 0),
        TypeKind.Char => type.Precision,
        _ => MaxColumnWidth,
    });

    private string Rule => "+----+" + string.Concat(widths.Select(w => new string('-', w + 2) + "+"));

    public void WriteHeader()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Rule);
        sb.Append("| op |");
        for (int i = 0; i < widths.Length; i++) sb.Append(' ').Append(Fit(schema.Columns[i].Name, widths[i])).Append(" |");
        sb.AppendLine();
        sb.AppendLine(Rule);
        lock (output)
        {
            output.Write(sb.ToString());
            output.Flush();
        }
    }

    /// <summary>The closing rule and the count line (none when the query failed: the error says it).</summary>
    public void WriteFooter(string? summary)
    {
        lock (output)
        {
            output.WriteLine(Rule);
            if (summary is not null) output.WriteLine(summary);
            output.Flush();
        }
    }

    public override SinkWriter<Row> CreateWriter(SinkWriterContext context) => new Writer(this);

    private static string Fit(string text, int width) =>
        text.Length > width ? text[..(width - 3)] + "..." : text.PadLeft(width);

    private static string Op(RowKind kind) => kind switch
    {
        RowKind.Insert => "+I",
        RowKind.UpdateBefore => "-U",
        RowKind.UpdateAfter => "+U",
        _ => "-D",
    };

    private sealed class Writer(TableauSink sink) : SinkWriter<Row>
    {
        private readonly StringBuilder lines = new();

        public override void Write(Batch<Row> batch)
        {
            lines.Clear();
            for (int i = 0; i < batch.Count; i++)
            {
                var row = batch.Values[i];
                lines.Append("| ").Append(Op(batch.KindAt(i))).Append(" |");
                for (int c = 0; c < sink.widths.Length; c++)
                {
                    object? value = row[c];
                    string text = value is null ? Null : Row.FormatForClient(value);
                    lines.Append(' ').Append(Fit(text, sink.widths[c])).Append(" |");
                }
                lines.AppendLine();
            }
            Interlocked.Add(ref sink.count, batch.Count);
            // Printed per batch as it arrives, not at the end of the query.
            lock (sink.output)
            {
                sink.output.Write(lines.ToString());
                sink.output.Flush();
            }
        }
    }
}
