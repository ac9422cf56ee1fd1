using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

public class PrintSinkTests
{
    private static void Print<T>(PrintSink<T> sink, int subtask, int parallelism, params (T Value, RowKind Kind)[] records)
    {
        using var writer = sink.CreateWriter(new SinkWriterContext(subtask, parallelism, new ManualClock(), new SubtaskMetrics("print", subtask)));
        var batch = new Batch<T>();
        foreach (var (value, kind) in records) batch.Add(value, EventTime.None, kind);
        writer.Write(batch);
        writer.Flush();
    }

    [Fact]
    public void Rows_print_as_flink_does_without_a_prefix_at_parallelism_1()
    {
        var text = new StringWriter();
        Print(new PrintSink<Row>(text), 0, 1,
            (Row.Of(1, "a", null), RowKind.Insert),
            (Row.Of(2.5, true, new DateTime(2024, 1, 1, 10, 0, 0)), RowKind.UpdateBefore),
            (Row.OfKind(RowKind.Delete, 3), RowKind.UpdateAfter));
        Assert.Equal("+I[1, a, null]\n-U[2.5, true, 2024-01-01 10:00:00.000]\n+U[3]\n", text.ToString());
    }

    [Fact]
    public void Above_parallelism_1_lines_carry_the_subtask_number()
    {
        var text = new StringWriter();
        var sink = new PrintSink<Row>(text);
        Print(sink, 0, 3, (Row.Of(1), RowKind.Insert));
        Print(sink, 2, 3, (Row.Of(2), RowKind.Delete));
        Assert.Equal("1> +I[1]\n3> -D[2]\n", text.ToString());
    }

    [Fact]
    public void An_identifier_prefixes_every_line()
    {
        var text = new StringWriter();
        Print(new PrintSink<Row>(text, "out"), 1, 2, (Row.Of("x"), RowKind.Insert));
        Print(new PrintSink<Row>(text, "single"), 0, 1, (Row.Of("y"), RowKind.Insert));
        Assert.Equal("out:2> +I[x]\nsingle> +I[y]\n", text.ToString());
    }

    [Fact]
    public void Other_types_print_kind_and_value()
    {
        var text = new StringWriter();
        Print(new PrintSink<(int, string)>(text), 0, 1, ((1, "a"), RowKind.Insert));
        Print(new PrintSink<string?>(text), 0, 1, ("s", RowKind.Delete), (null, RowKind.Insert));
        Assert.Equal("+I[(1, a)]\n-D[s]\n+I[null]\n", text.ToString());
    }

    [Fact]
    public void The_prefix_matches_flinks_print_sink() =>
        Assert.Equal(["", "2> ", "id> ", "id:4> "],
            [PrintSink<Row>.Prefix(null, 0, 1), PrintSink<Row>.Prefix(null, 1, 2), PrintSink<Row>.Prefix("id", 0, 1), PrintSink<Row>.Prefix("id", 3, 4)]);

    [Fact]
    public void Blackhole_counts_and_discards()
    {
        var sink = new BlackholeSink<int>();
        var env = StreamEnvironment.Create().SetParallelism(3);
        env.FromCollection(Enumerable.Range(0, 10_000).ToArray()).SinkTo(sink);
        env.Execute();
        Assert.Equal(10_000, sink.Count);
    }
}
