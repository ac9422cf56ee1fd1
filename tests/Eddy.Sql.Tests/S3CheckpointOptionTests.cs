using Eddy.Runtime;
using Eddy.Sql.Parsing;
using Eddy.Tests.Checkpoints;

namespace Eddy.Sql.Tests;

/// <summary>
/// <c>execution.checkpointing.dir = 's3://bucket/prefix'</c> and the <c>s3.*</c> options in SQL: checked when SET,
/// masked when shown, and a store that does not answer or lacks the bucket refuses the job at planning with an error
/// located at the SET of the option at fault.
/// </summary>
public sealed class S3CheckpointOptionTests
{
    private static string Job(string sets) => sets + """
        SET 'execution.checkpointing.interval' = '1 s';
        CREATE TABLE src (v BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
        CREATE TABLE out (v BIGINT) WITH ('connector' = 'blackhole');
        INSERT INTO out SELECT v FROM src;
        """;

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public void An_endpoint_nobody_listens_on_is_refused_at_the_SET_of_s3_endpoint()
    {
        int port = ClosedPort();
        string sql = Job($"""
            SET 'execution.checkpointing.dir' = 's3://eddy-test/jobs';
            SET 's3.access-key' = 'S3RVER';
            SET 's3.endpoint' = 'http://127.0.0.1:{port}';
            SET 's3.secret-key' = 'S3RVER';

            """);
        var e = Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(sql, "job.sql"));
        Assert.Equal(3, e.Line);
        Assert.Contains("'s3.endpoint'", e.Message);
        Assert.Contains($"cannot reach http://127.0.0.1:{port}", e.Message);
        Assert.DoesNotContain("S3RVER", e.Message);
    }

    [Fact]
    public void A_missing_bucket_is_refused_at_the_SET_of_the_checkpoint_directory()
    {
        var server = S3StandIn.Instance;
        string sql = Job($"""
            SET 's3.endpoint' = '{server.Endpoint}';
            SET 's3.path.style.access' = 'true';
            SET 's3.access-key' = '{S3StandIn.AccessKey}';
            SET 's3.secret-key' = '{S3StandIn.SecretKey}';
            SET 'execution.checkpointing.dir' = 's3://no-such-bucket/jobs';

            """);
        var e = Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(sql, "job.sql"));
        Assert.Equal(5, e.Line);
        Assert.Contains("bucket 'no-such-bucket' does not exist", e.Message);
        Assert.Contains("'execution.checkpointing.dir'", e.Message);
    }

    [Fact]
    public void A_reachable_store_with_its_bucket_plans_the_job_with_the_settings()
    {
        var server = S3StandIn.Instance;
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var jobs = session.Execute(Job(server.SetStatements() + "SET 'execution.checkpointing.dir' = 's3://eddy-test/planned';\n"), "job.sql");
        var config = Assert.Single(jobs).Environment.Config;
        Assert.Equal("s3://eddy-test/planned", config.CheckpointDirectory);
        Assert.Equal(new S3Settings { Endpoint = server.Endpoint, AccessKey = S3StandIn.AccessKey, SecretKey = S3StandIn.SecretKey, PathStyleAccess = true }, config.S3);
    }

    [Theory]
    [InlineData("SET 'execution.checkpointing.dir' = 'hdfs://nn/checkpoints';", "the scheme 'hdfs://' is not supported")]
    [InlineData("SET 'execution.checkpointing.dir' = 's3://Not_A_Bucket/x';", "is not a bucket name")]
    [InlineData("SET 's3.endpoint' = 'minio:9000';", "'s3.endpoint' is the store's URL")]
    [InlineData("SET 's3.path.style.access' = 'yes';", "'s3.path.style.access' is 'true' or 'false'")]
    public void Malformed_values_are_refused_where_they_are_set(string set, string reason)
    {
        var e = Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute("SET 'parallelism.default' = '1';\n" + set, "job.sql"));
        Assert.Equal(2, e.Line);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void SET_lists_the_keys_masked_and_explain_does_not_contact_the_store()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { PlanOnly = true };
        session.Execute($"""
            SET 's3.endpoint' = 'http://127.0.0.1:{ClosedPort()}';
            SET 's3.access-key' = 'AKIAEXAMPLEKEY';
            SET 's3.secret-key' = 'very-secret-value';
            SET 'execution.checkpointing.dir' = 's3://eddy-test/jobs';
            SET;
            """, "job.sql");
        string shown = output.ToString();
        Assert.Contains("s3.endpoint", shown);
        Assert.DoesNotContain("very-secret-value", shown);
        Assert.DoesNotContain("AKIAEXAMPLEKEY", shown);
        Assert.Contains(SecretOptions.Mask, shown);
        // Planning only (eddy explain): the unreachable store is not contacted.
        Assert.Single(session.Execute(Job(""), "job.sql"));
    }
}
