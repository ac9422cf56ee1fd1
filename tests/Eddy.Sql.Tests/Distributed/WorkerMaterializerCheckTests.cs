using Eddy.Sql.Distributed;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Distributed;

/// <summary>Under <c>eddy worker</c> a SinkUpsertMaterializer (a keyed operator after another) is refused, naming the option.</summary>
public class WorkerMaterializerCheckTests
{
    private static SqlJob Job(string option) => Assert.Single(new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute($"""
        SET 'execution.checkpointing.interval' = '10 s';
        {option}
        CREATE TABLE t (k STRING, v STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
        CREATE TABLE o (k STRING, v STRING, c BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
        INSERT INTO o SELECT k, v, COUNT(*) FROM t GROUP BY k, v;
        """));

    [Fact]
    public void A_materializer_is_refused_with_its_reason_and_the_option()
    {
        var e = Assert.Throws<SqlParseException>(() => WorkerJobCheck.Check(Job(""), "j", null));
        Assert.Contains("SinkUpsertMaterializer", e.Message, StringComparison.Ordinal);
        Assert.Contains("'table.exec.sink.upsert-materialize' = 'NONE'", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 5, column 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_the_materializer_the_check_goes_on_to_the_sources()
    {
        // NONE: no materializer; the next refusal is the datagen source's (not Kafka), not the materializer's.
        var e = Assert.Throws<SqlParseException>(() => WorkerJobCheck.Check(Job("SET 'table.exec.sink.upsert-materialize' = 'NONE';"), "j", null));
        Assert.DoesNotContain("SinkUpsertMaterializer", e.Message, StringComparison.Ordinal);
    }
}
