using Eddy.Connectors.Kafka;

namespace Eddy.Tests;

/// <summary>
/// <c>eddy status JOB</c>'s ways in besides a plain broker: Kafka client settings (<c>--set properties.*</c>, a
/// properties file) that reach the status probe, <c>--worker URL</c> (one worker asked directly), and
/// <c>--advertise</c> on the worker; each refused with the option named when malformed.
/// </summary>
public sealed class WorkerStatusOptionsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-status-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Client_settings_reach_the_status_probe()
    {
        using var broker = new MockKafkaCluster();
        // Plain: the dev broker answers, and there is no worker of the job.
        var (code, _, err) = CliTests.Run(["status", "nobody", "--bootstrap-servers", broker.Bootstrap]);
        Assert.Equal(1, code);
        Assert.Contains("no worker of job 'nobody' is announced in 'nobody-workers'", err);

        // The same broker spoken to with TLS (a setting only the client settings carry) is not reached at all: the
        // setting was used. From --set and, the same, from a properties file.
        (code, _, err) = CliTests.Run(["status", "nobody", "--bootstrap-servers", broker.Bootstrap, "--set", "properties.security.protocol=SSL"]);
        Assert.Equal(1, code);
        Assert.DoesNotContain("is announced", err);
        Assert.StartsWith("error: ", err);
        string file = Path.Combine(dir, "client.properties");
        File.WriteAllText(file, "# the broker's TLS listener\nsecurity.protocol = SSL\n");
        var (fileCode, _, fileErr) = CliTests.Run(["status", "nobody", "--bootstrap-servers", broker.Bootstrap, "--properties-file", file]);
        Assert.Equal(1, fileCode);
        Assert.DoesNotContain("is announced", fileErr);
        // --set wins over the file: back to plaintext, the broker answers again.
        (code, _, err) = CliTests.Run(["status", "nobody", "--bootstrap-servers", broker.Bootstrap, "--properties-file", file,
            "--set", "properties.security.protocol=PLAINTEXT"]);
        Assert.Equal(1, code);
        Assert.Contains("no worker of job 'nobody' is announced", err);
    }

    [Fact]
    public void Malformed_client_settings_are_refused_naming_the_option_or_line()
    {
        var (code, _, err) = CliTests.Run(["status", "j", "--bootstrap-servers", "127.0.0.1:1", "--set", "security.protocol=SSL"]);
        Assert.Equal(2, code);
        Assert.Contains("--set takes properties.KEY=VALUE here", err);
        string file = Path.Combine(dir, "bad.properties");
        File.WriteAllText(file, "security.protocol=SSL\nthis line has no separator\n");
        (code, _, err) = CliTests.Run(["status", "j", "--bootstrap-servers", "127.0.0.1:1", "--properties-file", file]);
        Assert.Equal(2, code);
        Assert.Contains($"--properties-file {file}:2: expected key=value", err);
        (code, _, err) = CliTests.Run(["status", "j", "--set", "properties.security.protocol=SSL"]);
        Assert.Equal(2, code);
        Assert.Contains("are Kafka client settings for --bootstrap-servers", err);
    }

    [Fact]
    public void A_worker_address_is_asked_directly_and_a_bad_one_is_refused()
    {
        var (code, _, err) = CliTests.Run(["status", "j", "--worker", "not-a-url"]);
        Assert.Equal(2, code);
        Assert.Contains("--worker takes the worker's REST address, http://host:port, got 'not-a-url'", err);
        (code, _, err) = CliTests.Run(["status", "j", "--worker", "http://127.0.0.1:1", "--bootstrap-servers", "127.0.0.1:1"]);
        Assert.Equal(2, code);
        Assert.Contains("exclude each other", err);
        // Nothing listens on port 1: said so, with the address, and no broker is involved.
        (code, _, err) = CliTests.Run(["status", "j", "--worker", "http://127.0.0.1:1"]);
        Assert.Equal(1, code);
        Assert.Contains("the worker at http://127.0.0.1:1 does not answer GET /worker", err);
    }

    [Fact]
    public void Eddy_run_refuses_a_job_set_to_run_distributed_at_the_set()
    {
        string file = Path.Combine(dir, "job.sql");
        File.WriteAllText(file, """
            SET 'pipeline.name' = 'spread';
            SET 'execution.distributed' = 'true';
            CREATE TABLE g (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE o (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO o SELECT id FROM g;
            """);
        var (code, output, err) = CliTests.Run(["run", file]);
        Assert.Equal(1, code);
        Assert.Contains("job.sql: line 2, column 1:", err);
        Assert.Contains("job 'spread' sets 'execution.distributed' = 'true'", err);
        Assert.Contains("eddy submit --distributed", err);
        Assert.Equal("", output);
        (code, _, err) = CliTests.Run(["run", file, "--set", "execution.distributed=maybe"]);
        Assert.Equal(2, code);
        Assert.Contains("'execution.distributed' takes true or false, got 'maybe'", err);
    }

    [Fact]
    public void An_advertise_address_that_is_not_http_is_refused()
    {
        string file = Path.Combine(dir, "job.sql");
        File.WriteAllText(file, "SELECT 1;");
        var (code, _, err) = CliTests.Run(["worker", file, "--port", "0", "--advertise", "worker-7:8081"]);
        Assert.Equal(1, code);
        Assert.Contains("--advertise takes the address other machines reach this REST API at, http://host:port, got 'worker-7:8081'", err);
        (code, _, err) = CliTests.Run(["server", "--port", "0", "--advertise", "ftp://worker-7:8081"]);
        Assert.Equal(2, code);
        Assert.Contains("--advertise takes the address", err);
    }
}
