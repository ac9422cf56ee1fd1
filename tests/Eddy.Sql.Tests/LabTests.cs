using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>The Flink lab's actual statements.</summary>
public class LabTests
{
    public const string EventsDdl = """
        CREATE TABLE events (url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
          event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''))
        WITH ('connector' = 'kafka', 'properties.bootstrap.servers' = '${KAFKA_URL}', 'topic' = '${KAFKA_TOPIC}', 'properties.group.id' = '${KAFKA_GROUP}',
          'properties.security.protocol' = 'SASL_SSL', 'properties.sasl.mechanism' = 'PLAIN',
          'properties.sasl.jaas.config' = 'org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule required username="k" password="s";',
          'scan.startup.mode' = 'latest-offset', 'properties.auto.offset.reset' = 'latest', 'format' = 'json');
        """;

    public const string AggregatedDdl = """
        CREATE TABLE processed_events_aggregated (event_hour TIMESTAMP(3), test_data INT, num_hits BIGINT, PRIMARY KEY (event_hour, test_data) NOT ENFORCED) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://postgres:5432/postgres', 'table-name' = 'processed_events_aggregated', 'username' = 'postgres', 'password' = 'postgres', 'driver' = 'org.postgresql.Driver');
        """;

    public const string SrcDdl = """
        CREATE TABLE src (test_data INTEGER, event_timestamp BIGINT, event_watermark AS TO_TIMESTAMP_LTZ(event_timestamp, 3), WATERMARK for event_watermark as event_watermark - INTERVAL '5' SECOND) WITH ('connector' = 'datagen');
        """;

    public const string InsertAgg = """
        INSERT INTO processed_events_aggregated SELECT window_start as event_hour, test_data, COUNT(*) AS num_hits FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_watermark), INTERVAL '1' MINUTE)) GROUP BY window_start, test_data;
        """;

    public const string Script = EventsDdl + "\n" + AggregatedDdl + "\n" + SrcDdl + "\n" + InsertAgg;

    [Fact]
    public void Events_table_columns_computed_column_and_options()
    {
        var t = P.Stmt<CreateTable>(EventsDdl);
        Assert.Equal("events", t.Name.ToString());
        Assert.Equal(8, t.Columns.Count);
        Assert.Equal(["url", "referrer", "user_agent", "host", "ip", "headers", "event_time"],
            t.Columns.Take(7).Select(c => c.Name.Value));
        foreach (var c in t.Columns.Take(7))
        {
            var pc = Assert.IsType<PhysicalColumn>(c);
            Assert.Equal(TypeKind.String, pc.Type.Type.Kind);
            Assert.Equal(0, pc.Type.Type.Precision);
        }
        var computed = Assert.IsType<ComputedColumn>(t.Columns[7]);
        Assert.Equal("event_timestamp", computed.Name.Value);
        var call = Assert.IsType<FunctionCall>(computed.Expression);
        Assert.Equal("TO_TIMESTAMP", call.UpperName);
        Assert.Equal(P.Col("event_time"), call.Arguments[0]);
        Assert.Equal(new StringLiteral("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"), call.Arguments[1]);
        Assert.Null(t.Watermark);
        Assert.Null(t.PrimaryKey);
        Assert.Equal(10, t.Options.Count);
        var options = t.Options.ToDictionary(o => o.Key, o => o.Value);
        Assert.Equal("kafka", options["connector"]);
        Assert.Equal("${KAFKA_URL}", options["properties.bootstrap.servers"]);
        Assert.Equal("${KAFKA_TOPIC}", options["topic"]);
        Assert.Equal("${KAFKA_GROUP}", options["properties.group.id"]);
        Assert.Equal("org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule required username=\"k\" password=\"s\";",
            options["properties.sasl.jaas.config"]);
        Assert.Equal("json", options["format"]);
        Assert.False(t.Temporary);
        Assert.False(t.IfNotExists);
    }

    [Fact]
    public void Aggregated_sink_with_primary_key()
    {
        var t = P.Stmt<CreateTable>(AggregatedDdl);
        Assert.Equal(3, t.Columns.Count);
        var eventHour = Assert.IsType<PhysicalColumn>(t.Columns[0]);
        Assert.Equal(DataType.Timestamp3, eventHour.Type.Type);
        Assert.Equal(DataType.Int, ((PhysicalColumn)t.Columns[1]).Type.Type);
        Assert.Equal(DataType.BigInt, ((PhysicalColumn)t.Columns[2]).Type.Type);
        Assert.NotNull(t.PrimaryKey);
        Assert.Equal(["event_hour", "test_data"], t.PrimaryKey!.Columns.Select(c => c.Value));
        Assert.True(t.PrimaryKey.NotEnforced);
        Assert.Equal("jdbc:postgresql://postgres:5432/postgres", t.Options.Single(o => o.Key == "url").Value);
        Assert.Equal(6, t.Options.Count);
    }

    [Fact]
    public void Datagen_source_with_watermark()
    {
        var t = P.Stmt<CreateTable>(SrcDdl);
        Assert.Equal(3, t.Columns.Count);
        Assert.Equal(DataType.Int, ((PhysicalColumn)t.Columns[0]).Type.Type);
        var wmCol = Assert.IsType<ComputedColumn>(t.Columns[2]);
        Assert.Equal(
            new FunctionCall(P.Name("TO_TIMESTAMP_LTZ"), new Expr[] { P.Col("event_timestamp"), P.Int(3) }),
            wmCol.Expression);
        Assert.NotNull(t.Watermark);
        Assert.Equal("event_watermark", t.Watermark!.Column.Value);
        Assert.Equal(
            new BinaryExpr(BinaryOperator.Subtract, P.Col("event_watermark"),
                new IntervalLiteral("5", new IntervalQualifier(TimeUnit.Second))),
            t.Watermark.Strategy);
        Assert.Equal([new TableOption("connector", "datagen")], t.Options);
    }

    [Fact]
    public void Insert_with_tumble_window_tvf()
    {
        var insert = P.Stmt<Insert>(InsertAgg);
        Assert.Equal("processed_events_aggregated", insert.Target.ToString());
        Assert.Empty(insert.Columns);
        var select = Assert.IsType<SelectQuery>(insert.Source);
        Assert.Equal(3, select.Items.Count);
        Assert.Equal(new SelectExpr(P.Col("window_start"), P.Id("event_hour")), select.Items[0]);
        Assert.Equal(new SelectExpr(P.Col("test_data")), select.Items[1]);
        Assert.Equal(new SelectExpr(new FunctionCall(P.Name("COUNT"), NodeList<Expr>.Empty, Star: true), P.Id("num_hits")), select.Items[2]);

        var from = Assert.IsType<TableFunctionRef>(select.From);
        Assert.False(from.Lateral);
        Assert.Equal("TUMBLE", from.Call.UpperName);
        Assert.Equal(3, from.Call.Arguments.Count);
        Assert.Equal(new TableArgument(P.Name("events"), null, NodeList<Expr>.Empty, NodeList<OrderItem>.Empty), from.Call.Arguments[0]);
        Assert.Equal(new DescriptorExpr(new[] { P.Id("event_watermark") }), from.Call.Arguments[1]);
        Assert.Equal(new IntervalLiteral("1", new IntervalQualifier(TimeUnit.Minute)), from.Call.Arguments[2]);
        Assert.Equal([P.Col("window_start"), P.Col("test_data")], select.GroupBy);
    }

    [Fact]
    public void Whole_lab_script_parses_with_positions()
    {
        var script = SqlParser.ParseScript(Script, "lab.sql");
        Assert.Equal(4, script.Statements.Count);
        Assert.IsType<CreateTable>(script.Statements[0]);
        Assert.IsType<CreateTable>(script.Statements[1]);
        Assert.IsType<CreateTable>(script.Statements[2]);
        Assert.IsType<Insert>(script.Statements[3]);
        Assert.Equal(1, script.Statements[0].Span.Line);
        Assert.Equal(1, script.Statements[0].Span.Column);
        Assert.Equal(7, script.Statements[1].Span.Line);
        Assert.Equal(8, script.Statements[2].Span.Line);
        Assert.Equal(9, script.Statements[3].Span.Line);
        // Each statement span runs from its first keyword up to, not including, its ';'.
        foreach (var s in script.Statements)
        {
            Assert.StartsWith(s is Insert ? "INSERT" : "CREATE", Script.Substring(s.Span.Offset));
            Assert.Equal(';', Script[s.Span.End]);
        }
        var insert = (Insert)script.Statements[3];
        var tumble = ((TableFunctionRef)((SelectQuery)insert.Source).From!).Call;
        Assert.Equal(9, tumble.Span.Line);
        Assert.Equal("TUMBLE(TABLE events, DESCRIPTOR(event_watermark), INTERVAL '1' MINUTE)", Script.Substring(tumble.Span.Offset, tumble.Span.Length));
        Assert.Equal("lab.sql", script.FileName);
    }

    [Fact]
    public void Lab_script_round_trips() => P.RoundTrip(Script);
}
