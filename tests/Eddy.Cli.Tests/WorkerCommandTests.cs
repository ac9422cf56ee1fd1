using Eddy.Sql;
using Eddy.Sql.Distributed;
using Eddy.Sql.Parsing;

namespace Eddy.Tests;

/// <summary>
/// What <c>eddy worker</c> refuses before it joins any group, each with the place in the script: sources without
/// partitions a group can divide, operators that combine rows across partitions other than the keyed operators a
/// stage split handles (and their processing-time forms), bounded sources, jobs without checkpoints,
/// sinks whose bookkeeping is by subtask. Planning only: no broker is contacted.
/// </summary>
public sealed class WorkerCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-worker-cli-").FullName;

    private const string KafkaEvents = """
        CREATE TABLE events (host VARCHAR, url VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (
            'connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json'
        );
        """;

    private (int Code, string Err) Worker(string sql, params string[] options)
    {
        string file = Path.Combine(dir, "job.sql");
        File.WriteAllText(file, sql);
        var (code, _, err) = CliTests.Run(["worker", file, "--port", "0", .. options]);
        return (code, err);
    }

    private const string PassThrough = $"""
        SET 'execution.checkpointing.interval' = '1 s';
        {KafkaEvents}
        CREATE TABLE out1 (host VARCHAR) WITH ('connector' = 'blackhole');
        INSERT INTO out1 SELECT host FROM events;
        """;

    [Fact]
    public void A_bind_address_that_is_not_an_ip_address_is_refused()
    {
        var (code, err) = Worker(PassThrough, "--bind", "every-interface");
        Assert.Equal(1, code);
        Assert.Contains("--bind takes an IP address", err);
        Assert.Contains("'every-interface'", err);
    }

    [Fact]
    public void An_s3_checkpoint_location_that_is_not_a_bucket_is_refused_naming_the_option()
    {
        var (code, err) = Worker(PassThrough, "--checkpoint-dir", "s3://Not_A_Bucket/workers");
        Assert.Equal(1, code);
        Assert.Contains("--checkpoint-dir", err);
        Assert.Contains("'Not_A_Bucket' is not a bucket name", err);
    }

    [Fact]
    public void An_s3_store_that_does_not_answer_is_refused_before_the_worker_joins_a_group()
    {
        // Port 1 on loopback: nothing listens there.
        var (code, err) = Worker(PassThrough, "--checkpoint-dir", "s3://eddy-test/workers", "--set", "s3.endpoint=http://127.0.0.1:1",
            "--set", "s3.path.style.access=true", "--set", "s3.access-key=k", "--set", "s3.secret-key=not-shown");
        Assert.Equal(1, code);
        Assert.Contains("--checkpoint-dir = 's3://eddy-test/workers'", err);
        Assert.Contains("http://127.0.0.1:1", err);
        Assert.DoesNotContain("not-shown", err);
        Assert.DoesNotContain("assigned partitions", err);
    }

    [Fact]
    public void A_datagen_source_is_refused_at_its_connector_option()
    {
        var (code, err) = Worker("""
            SET 'execution.checkpointing.interval' = '1 s';
            CREATE TABLE events (host VARCHAR) WITH (
                'connector' = 'datagen'
            );
            CREATE TABLE out1 (host VARCHAR) WITH ('connector' = 'blackhole');
            INSERT INTO out1 SELECT host FROM events;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 3, column 5", err);
        Assert.Contains("table 'events' reads connector 'datagen'", err);
    }

    [Theory]
    // Of the joins of an updating input only regular joins (inner and outer) have a cross-process test.
    [InlineData("SELECT host, url FROM events WHERE host NOT IN (SELECT url FROM (SELECT url, COUNT(*) AS n FROM events GROUP BY url))",
        "an anti join of an updating input")]
    public void A_semi_or_anti_join_of_an_updating_input_is_refused_at_its_insert_with_the_reason(string query, string what)
    {
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            {KafkaEvents}
            CREATE TABLE out1 (host VARCHAR, url VARCHAR, PRIMARY KEY (host) NOT ENFORCED) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://127.0.0.1:1/db', 'table-name' = 'out1');
            INSERT INTO out1 {query};
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 6, column 1", err);
        Assert.Contains($"has {what}, which is not supported across processes", err);
    }

    [Fact]
    public void A_sink_upsert_materializer_is_refused_at_its_insert_naming_the_option()
    {
        // GROUP BY host, url written by host: Flink puts a SinkUpsertMaterializer (keyed by host) after the aggregation.
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            {KafkaEvents}
            CREATE TABLE out1 (host VARCHAR, url VARCHAR, n BIGINT, PRIMARY KEY (host) NOT ENFORCED) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://127.0.0.1:1/db', 'table-name' = 'out1');
            INSERT INTO out1 SELECT host, url, COUNT(*) FROM events GROUP BY host, url;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 6, column 1", err);
        Assert.Contains("SinkUpsertMaterializer keyed by its primary key (host)", err);
        Assert.Contains("the primary key does not hold every grouping column of the GROUP BY (host, url)", err);
        Assert.Contains("SET 'table.exec.sink.upsert-materialize' = 'NONE' writes the changes as they are, which is Flink's result only when", err);
    }

    [Fact]
    public void A_join_of_a_group_by_is_refused_as_not_splittable_into_stages()
    {
        // A regular join of an updating input runs when the input is a changelog source; a GROUP BY's rows reach the
        // join's exchange without source offsets. (The SinkUpsertMaterializer, keyed by the LEFT join's left key, would
        // run in the join's stage.)
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            {KafkaEvents}
            CREATE TABLE out1 (host VARCHAR, url VARCHAR, PRIMARY KEY (host) NOT ENFORCED) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://127.0.0.1:1/db', 'table-name' = 'out1');
            INSERT INTO out1 SELECT a.host, b.url FROM events a LEFT JOIN (SELECT url, COUNT(*) AS n FROM events GROUP BY url) b ON a.host = b.url;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 6, column 1", err);
        Assert.Contains("cannot be split into stages", err);
    }

    private const string VersionedRates = """
        CREATE TABLE rates (url VARCHAR, rate INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (url) NOT ENFORCED) WITH (
            'connector' = 'upsert-kafka', 'topic' = 'rates', 'properties.bootstrap.servers' = '127.0.0.1:1', 'key.format' = 'json', 'value.format' = 'json'
        );
        CREATE TABLE cdc_rates (url VARCHAR, rate INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (url) NOT ENFORCED) WITH (
            'connector' = 'kafka', 'topic' = 'cdc_rates', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'debezium-json'
        );
        CREATE TABLE out1 (host VARCHAR, rate INT) WITH ('connector' = 'blackhole');
        """;

    [Theory]
    // An event-time temporal join against a versioned table read from a changelog (upsert-kafka, Debezium JSON): the
    // probe rows and the table's changes each through a repartition topic keyed by its primary key, co-partitioned.
    [InlineData("INSERT INTO out1 SELECT e.host, r.rate FROM events e JOIN rates FOR SYSTEM_TIME AS OF e.ts AS r ON e.url = r.url",
        "events|rates|job-5-TemporalJoin-JoinLeftInput-repartition;job-5-TemporalJoin-JoinRightInput-repartition")]
    [InlineData("INSERT INTO out1 SELECT e.host, r.rate FROM events e LEFT JOIN cdc_rates FOR SYSTEM_TIME AS OF e.ts AS r ON e.url = r.url AND r.rate > CHAR_LENGTH(e.host)",
        "events|cdc_rates|job-5-TemporalJoin-JoinLeftInput-repartition;job-5-TemporalJoin-JoinRightInput-repartition")]
    public void Temporal_joins_against_changelog_versioned_tables_pass_the_workers_checks(string insert, string stages)
    {
        Assert.Equal(stages, string.Join("|", WorkerStages($"SET 'execution.checkpointing.interval' = '1 s';{KafkaEvents}{VersionedRates}{insert};")));
    }

    [Fact]
    public void A_temporal_join_against_a_versioned_view_is_refused_at_its_insert_with_the_reason()
    {
        // The view's deduplication is a keyed operator before the join's own exchange: its changes carry no source positions.
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            {KafkaEvents}
            {VersionedRates}
            CREATE VIEW last_hits AS SELECT host, url, ts FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY host ORDER BY ts DESC) AS rn FROM events) WHERE rn = 1;
            INSERT INTO out1 SELECT e.url, 1 FROM events e JOIN last_hits FOR SYSTEM_TIME AS OF e.ts AS h ON e.url = h.host;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 14, column 1", err);
        Assert.Contains("has an event-time temporal join (FOR SYSTEM_TIME AS OF) against a versioned view, which is not supported across processes", err);
        Assert.Contains("a keyed operator before the join's own exchange", err);
    }

    [Fact]
    public void A_window_join_of_window_aggregations_is_refused_as_not_splittable_into_stages()
    {
        // The window join's keyed exchanges follow the window aggregations, not a source (or what relays its positions):
        // their records have no source offsets to drop a replay by.
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            {KafkaEvents}
            CREATE TABLE out1 (host VARCHAR, a BIGINT, b BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO out1 SELECT a.host, a.n, b.n
            FROM (SELECT host, window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY host, window_start, window_end) a
            JOIN (SELECT url, window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY url, window_start, window_end) b
            ON a.host = b.url AND a.window_start = b.window_start AND a.window_end = b.window_end;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 6, column 1", err);
        Assert.Contains("cannot be split into stages", err);
        Assert.Contains("not a source", err);
    }

    [Theory]
    // Processing-time order is the order rows reach one process; a stage reads them per partition of a topic.
    [InlineData("SELECT host, CAST(COUNT(*) OVER (PARTITION BY host ORDER BY pt ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS VARCHAR) FROM events",
        "an OVER window ordered by processing time")]
    [InlineData("SELECT host, url FROM (SELECT host, url, ROW_NUMBER() OVER (PARTITION BY host ORDER BY pt) AS rn FROM events) WHERE rn = 1",
        "a deduplication ordered by processing time")]
    [InlineData("SELECT host, url FROM (SELECT host, url, ROW_NUMBER() OVER (PARTITION BY host ORDER BY pt DESC) AS rn FROM events) WHERE rn = 1",
        "a deduplication ordered by processing time")]
    public void Keyed_operators_without_a_cross_process_test_are_refused_at_their_insert(string query, string what)
    {
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            CREATE TABLE events (host VARCHAR, url VARCHAR, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (
                'connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json'
            );
            CREATE TABLE out1 (host VARCHAR, url VARCHAR) WITH ('connector' = 'blackhole');
            INSERT INTO out1 {query};
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 6, column 1", err);
        Assert.Contains($"has {what}, which is not supported across processes", err);
    }

    [Fact]
    public void A_group_by_over_a_group_by_is_refused_as_not_splittable_into_stages()
    {
        // The second aggregation's keyed exchange follows the first, not the source: its records have no source offsets
        // to drop a replay by.
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            {KafkaEvents}
            CREATE TABLE out1 (hits BIGINT, hosts BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO out1 SELECT hits, COUNT(*) FROM (SELECT host, COUNT(*) AS hits FROM events GROUP BY host) GROUP BY hits;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 6, column 1", err);
        Assert.Contains("cannot be split into stages", err);
        Assert.Contains("not a source", err);
    }

    private const string ChangelogTables = """
        SET 'execution.checkpointing.interval' = '1 s';
        CREATE TABLE cdc (id BIGINT, grp VARCHAR, qty INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
            'connector' = 'kafka', 'topic' = 'cdc', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'debezium-json'
        );
        CREATE TABLE ups (id BIGINT, grp VARCHAR, qty INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
            'connector' = 'upsert-kafka', 'topic' = 'ups', 'properties.bootstrap.servers' = '127.0.0.1:1', 'key.format' = 'json', 'value.format' = 'json'
        );
        CREATE TABLE out1 (grp VARCHAR, a BIGINT, b BIGINT, PRIMARY KEY (grp) NOT ENFORCED) WITH ('connector' = 'blackhole');
        """;

    /// <summary>The worker's checks on the script's one job (planning only): its stages, each as the topics it reads.</summary>
    private static List<string> WorkerStages(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null) { PlanOnly = true };
        try
        {
            var job = Assert.Single(session.Execute(sql));
            var shape = WorkerJobCheck.Check(job, "job", session.RepartitionPartitions);
            job.ReleaseUserCode();
            return [.. shape.Stages.Select(s => s.ReadsSources ? string.Join(";", s.SourceTopics) : string.Join(";", s.Inputs.Select(i => i.Name)))];
        }
        finally
        {
            session.ReleaseUserCode();
        }
    }

    [Theory]
    // A GROUP BY, a retracting Top-N and an inner join of changelog sources (Debezium JSON, upsert-kafka): one keyed
    // exchange straight after the source, its changes through a repartition topic.
    [InlineData("INSERT INTO out1 SELECT grp, SUM(qty), COUNT(*) FROM cdc GROUP BY grp", "cdc|job-2-GroupAggregate-repartition")]
    [InlineData("INSERT INTO out1 SELECT grp, SUM(qty), COUNT(*) FROM ups GROUP BY grp", "ups|job-2-GroupAggregate-repartition")]
    [InlineData("INSERT INTO out1 SELECT grp, id, CAST(qty AS BIGINT) FROM (SELECT grp, id, qty, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY qty DESC) AS rn FROM ups) WHERE rn <= 3",
        "ups|job-2-Rank-repartition")]
    [InlineData("INSERT INTO out1 SELECT c.grp, c.id, u.id FROM cdc c JOIN ups u ON c.grp = u.grp",
        "cdc|ups|job-5-Join-JoinLeftInput-repartition;job-5-Join-JoinRightInput-repartition")]
    [InlineData("INSERT INTO out1 SELECT COALESCE(c.grp, u.grp), c.id, u.id FROM cdc c FULL JOIN ups u ON c.grp = u.grp",
        "cdc|ups|job-5-Join-JoinLeftInput-repartition;job-5-Join-JoinRightInput-repartition")]
    public void Keyed_operators_over_changelog_sources_pass_the_workers_checks(string insert, string stages)
    {
        // Under AUTO Flink puts a SinkUpsertMaterializer (keyed by grp) after the Top-N and the joins, whose upsert keys
        // do not lie within out1's key; grp is their key, so it runs in their stage: no repartition topic of its own.
        Assert.Equal(stages, string.Join("|", WorkerStages(ChangelogTables + insert + ";")));
    }

    [Theory]
    // Each into out1 keyed by grp, which is the operator's key: the PARTITION BY, a join side's key column when that
    // side is never padded, COALESCE of both sides' key columns, the grouping column (FORCE: AUTO puts none there).
    [InlineData("SELECT grp, id, CAST(qty AS BIGINT) FROM (SELECT grp, id, qty, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY qty DESC) AS rn FROM ups) WHERE rn <= 3", 2)]
    [InlineData("SELECT c.grp, c.id, u.id FROM cdc c JOIN ups u ON c.grp = u.grp", 3)]
    [InlineData("SELECT u.grp, c.id, u.id FROM cdc c JOIN ups u ON c.grp = u.grp", 3)]
    [InlineData("SELECT c.grp, c.id, u.id FROM cdc c LEFT JOIN ups u ON c.grp = u.grp", 3)]
    [InlineData("SELECT u.grp, c.id, u.id FROM cdc c RIGHT JOIN ups u ON c.grp = u.grp", 3)]
    [InlineData("SELECT COALESCE(c.grp, u.grp), c.id, u.id FROM cdc c FULL JOIN ups u ON c.grp = u.grp", 3)]
    [InlineData("SET 'table.exec.sink.upsert-materialize' = 'FORCE'; INSERT INTO out1 SELECT grp, SUM(qty), COUNT(*) FROM cdc GROUP BY grp", 2)]
    public void A_sink_upsert_materializer_keyed_by_the_operators_key_runs_in_the_operators_stage(string query, int stageCount)
    {
        string insert = query.StartsWith("SET", StringComparison.Ordinal) ? query : "INSERT INTO out1 " + query;
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null) { PlanOnly = true };
        try
        {
            var job = Assert.Single(session.Execute(ChangelogTables + insert + ";"));
            Assert.Contains("upsertMaterialize=[true]", SqlSession.Describe(job));
            var stages = SqlSession.DescribeStages(job, null).Split('\n').Where(l => l.StartsWith("stage ", StringComparison.Ordinal)).ToList();
            job.ReleaseUserCode();
            Assert.Equal(stageCount, stages.Count);
            Assert.Matches(@" -> SinkMaterializer -> Sink: out1\s*$", stages[^1]);
            Assert.DoesNotContain(stages.Take(stages.Count - 1), l => l.Contains("SinkMaterializer", StringComparison.Ordinal));
        }
        finally
        {
            session.ReleaseUserCode();
        }
        Assert.Equal(stageCount, WorkerStages(ChangelogTables + insert + ";").Count);
    }

    [Theory]
    // A changelog source into out1 keyed by grp, not by the source's key id (AUTO and FORCE): no keyed operator before the
    // materializer, whose exchange is the job's first, cut into a repartition topic keyed by grp after the source.
    [InlineData("INSERT INTO out1 SELECT grp, id, CAST(qty AS BIGINT) FROM ups", "ups|job-2-SinkMaterializer-repartition")]
    [InlineData("INSERT INTO out1 SELECT grp, id, CAST(qty AS BIGINT) FROM cdc WHERE qty > 0", "cdc|job-2-SinkMaterializer-repartition")]
    [InlineData("SET 'table.exec.sink.upsert-materialize' = 'FORCE'; INSERT INTO out1 SELECT grp, id, CAST(qty AS BIGINT) FROM cdc", "cdc|job-2-SinkMaterializer-repartition")]
    public void A_sink_upsert_materializer_straight_after_a_changelog_source_reads_a_repartition_topic_keyed_by_the_primary_key(string insert, string stages)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null) { PlanOnly = true };
        try
        {
            var job = Assert.Single(session.Execute(ChangelogTables + insert + ";"));
            Assert.Contains("upsertMaterialize=[true]", SqlSession.Describe(job));
            var lines = SqlSession.DescribeStages(job, null).Split('\n').Where(l => l.StartsWith("stage ", StringComparison.Ordinal)).ToList();
            job.ReleaseUserCode();
            Assert.Equal(2, lines.Count);
            Assert.Matches(@"^stage 1: Repartition reader: \S+ -> SinkMaterializer -> Sink: out1\s*$", lines[1]);
        }
        finally
        {
            session.ReleaseUserCode();
        }
        Assert.Equal(stages, string.Join("|", WorkerStages(ChangelogTables + insert + ";")));
    }

    [Theory]
    // Rows of one grp come from several keys of the operator before the materializer (or through a union of sources).
    [InlineData("SELECT u.grp, c.id, u.id FROM cdc c LEFT JOIN ups u ON c.grp = u.grp",
        "the primary key does not hold the left side's key columns (a padded row's right side is NULL) of the LEFT join (grp = grp)")]
    [InlineData("SELECT c.grp, c.id, u.id FROM cdc c FULL JOIN ups u ON c.grp = u.grp",
        "the primary key holds neither both sides' key columns nor COALESCE of them (a padded row's other side is NULL) of the FULL OUTER join (grp = grp)")]
    [InlineData("SELECT CAST(c.qty AS VARCHAR), c.id, u.id FROM cdc c JOIN ups u ON c.grp = u.grp",
        "the primary key holds neither side's key columns of the inner join (grp = grp)")]
    [InlineData("SELECT CAST(n AS VARCHAR), 0, n FROM (SELECT grp, COUNT(*) AS n FROM cdc GROUP BY grp)",
        "the primary key does not hold every grouping column of the GROUP BY (grp)")]
    [InlineData("SELECT grp, id, CAST(qty AS BIGINT) FROM ups UNION ALL SELECT grp, id, CAST(qty AS BIGINT) FROM cdc",
        "between the sink and the keyed operator below it only projections and filters are followed, and the sink reads a Union")]
    public void A_sink_upsert_materializer_whose_key_does_not_imply_the_operators_key_is_refused_naming_both(string query, string reason)
    {
        string message = Refusal(ChangelogTables + "INSERT INTO out1 " + query + ";");
        Assert.Contains("through a SinkUpsertMaterializer keyed by its primary key (grp)", message);
        Assert.Contains(reason, message);
        Assert.Contains("'table.exec.sink.upsert-materialize' = 'NONE' writes the changes as they are, which is Flink's result only when no two rows", message);
    }

    /// <summary>The worker's refusal of the script's one job (planning only).</summary>
    private static string Refusal(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null) { PlanOnly = true };
        try
        {
            var job = Assert.Single(session.Execute(sql));
            var e = Assert.Throws<SqlParseException>(() => WorkerJobCheck.Check(job, "job", session.RepartitionPartitions));
            job.ReleaseUserCode();
            return e.Message;
        }
        finally
        {
            session.ReleaseUserCode();
        }
    }

    [Fact]
    public void A_group_by_over_a_group_by_of_a_changelog_is_refused_as_not_splittable_into_stages()
    {
        // The second exchange follows the first aggregation: its rows have no source offsets.
        // NONE: the materializing decision (a key under CAST(n AS VARCHAR)) is not what this test is about.
        var (code, err) = Worker(ChangelogTables + "SET 'table.exec.sink.upsert-materialize' = 'NONE';INSERT INTO out1 SELECT CAST(n AS VARCHAR), COUNT(*), MAX(n) FROM (SELECT grp, COUNT(*) AS n FROM ups GROUP BY grp) GROUP BY n;");
        Assert.Equal(1, code);
        Assert.Contains("cannot be split into stages", err);
        Assert.Contains("not a source", err);
    }

    [Fact]
    public void Two_jobs_with_one_name_are_refused()
    {
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            SET 'pipeline.name' = 'lab';
            {KafkaEvents}
            CREATE TABLE out1 (host VARCHAR) WITH ('connector' = 'blackhole');
            INSERT INTO out1 SELECT host FROM events;
            INSERT INTO out1 SELECT url FROM events;
            """);
        Assert.Equal(1, code);
        Assert.Contains("two jobs of the script are named 'lab'", err);
    }

    [Fact]
    public void A_bounded_kafka_source_is_refused_at_its_bounded_mode()
    {
        var (code, err) = Worker("""
            SET 'execution.checkpointing.interval' = '1 s';
            CREATE TABLE events (host VARCHAR) WITH (
                'connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json',
                'scan.bounded.mode' = 'latest-offset'
            );
            CREATE TABLE out1 (host VARCHAR) WITH ('connector' = 'blackhole');
            INSERT INTO out1 SELECT host FROM events;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 4, column 5", err);
        Assert.Contains("is bounded ('scan.bounded.mode' = 'latest-offset')", err);
    }

    [Fact]
    public void A_job_without_checkpoints_is_refused()
    {
        var (code, err) = Worker($"""
            {KafkaEvents}
            CREATE TABLE out1 (host VARCHAR) WITH ('connector' = 'blackhole');
            INSERT INTO out1 SELECT host FROM events;
            """);
        Assert.Equal(1, code);
        Assert.Contains("takes no checkpoints", err);
        Assert.Contains("execution.checkpointing.interval", err);
    }

    [Fact]
    public void A_filesystem_sink_is_refused_at_its_connector_option()
    {
        var (code, err) = Worker($"""
            SET 'execution.checkpointing.interval' = '1 s';
            {KafkaEvents}
            CREATE TABLE out1 (host VARCHAR) WITH (
                'connector' = 'filesystem', 'path' = '{dir}/out', 'format' = 'json'
            );
            INSERT INTO out1 SELECT host FROM events;
            """);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 6, column 5", err);
        Assert.Contains("sink table 'out1' uses connector 'filesystem'", err);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
