using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Eddy.Server.Tests;

/// <summary>Requests meant to break the server: it answers each and keeps running its jobs.</summary>
public class HostileRequestTests
{
    private static string ChainScript(string op)
    {
        var terms = Enumerable.Range(0, 3000);
        string select = op switch
        {
            "AND" or "OR" => $"SELECT v FROM gen WHERE {string.Join($" {op} ", terms.Select(i => $"v <> {i}"))}",
            "+" => $"SELECT {string.Join(" + ", terms.Select(_ => "v"))} FROM gen",
            _ => $"SELECT CHAR_LENGTH({string.Join(" || ", terms.Select(_ => "CAST(v AS STRING)"))}) FROM gen",
        };
        return $"""
            CREATE TABLE gen (v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
            CREATE TABLE sink_t (v INT) WITH ('connector' = 'blackhole');
            INSERT INTO sink_t {select};
            """;
    }

    [Fact]
    public async Task Scripts_of_3000_term_chains_plan_while_a_running_job_keeps_running()
    {
        await using var s = await RunningServer.Start(slots: 8);
        var steady = Assert.Single(await s.Submit(Scripts.Unbounded("steady", parallelism: 1)));
        await s.WaitFor($"jobs/{steady}", j => j["state"]!.GetValue<string>() == "RUNNING"
            && j["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>() > 0, "records counted");

        foreach (var op in new[] { "AND", "OR", "+", "||" })
        {
            var response = await s.Client.PostAsync("jobs", new StringContent(ChainScript(op), Encoding.UTF8, "text/plain"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{op}: {(int)response.StatusCode} {text}");
        }

        long before = (await s.Get($"jobs/{steady}"))["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>();
        await s.WaitFor($"jobs/{steady}", j => j["state"]!.GetValue<string>() == "RUNNING"
            && j["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>() > before, "the first job still counts");
        Assert.Equal(5, (await s.Get("jobs"))["jobs"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_huge_one_line_script_gets_a_small_located_answer_and_a_too_large_body_gets_413()
    {
        await using var s = await RunningServer.Start(slots: 1);
        // 2 MB on one line; the error is at its end.
        string script = "SELECT " + string.Join(" + ", Enumerable.Repeat("1", 500_000)) + " FROM";
        var response = await s.Client.PostAsync("jobs", new StringContent(script, Encoding.UTF8, "text/plain"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(text.Length < 2000, $"an answer of {text.Length} characters");
        var message = JsonNode.Parse(text)!["errors"]![0]!.GetValue<string>();
        Assert.StartsWith($"line 1, column {script.Length + 1}: ", message, StringComparison.Ordinal);
        Assert.Contains("1 + 1 FROM\n", message, StringComparison.Ordinal);
        Assert.Contains(" | …", message, StringComparison.Ordinal);

        var huge = new StringContent(new string('x', (int)Api.MaxScriptBytes + 1), Encoding.UTF8, "text/plain");
        // Expect: 100-continue, so that the refusal arrives before the body is sent (as curl does for large bodies).
        using var post = new HttpRequestMessage(HttpMethod.Post, "jobs") { Content = huge };
        post.Headers.ExpectContinue = true;
        var tooLarge = await s.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("larger than the 16 MiB", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // And the server answers the next request.
        Assert.Equal(1, (await s.Get("overview"))["slots-total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Credentials_inside_a_jdbc_url_are_masked_in_every_view()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var id = Assert.Single(await s.Submit("""
            SET 'pipeline.name' = 'url-secrets';
            CREATE TABLE pg (id BIGINT) WITH ('connector' = 'jdbc', 'table-name' = 'x',
              'url' = 'jdbc:postgresql://eddy:pw-in-userinfo@db:5432/app?user=eddy&password=pw-in-query&sslpassword=pw-ssl&ssl=true');
            CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');
            CREATE TABLE sink_t (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO sink_t SELECT id FROM gen;
            """));
        foreach (var path in new[] { $"jobs/{id}", $"jobs/{id}/plan", "jobs/overview" })
        {
            var text = await s.Client.GetStringAsync(path);
            Assert.DoesNotContain("pw-in-", text, StringComparison.Ordinal);
            Assert.DoesNotContain("pw-ssl", text, StringComparison.Ordinal);
        }
        var sql = (await s.Get($"jobs/{id}"))["sql"]!.GetValue<string>();
        Assert.Contains("jdbc:postgresql://eddy:******@db:5432/app?user=eddy&password=******&sslpassword=******&ssl=true", sql, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, (await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Bind_addresses_and_tokens_are_checked_with_clear_errors()
    {
        // An IPv4 address written as IPv6 listens as the IPv4 address.
        await using (var mapped = await EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Port = 0, Bind = "::ffff:127.0.0.1" }))
            Assert.Equal("127.0.0.1", mapped.Address.Host);
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Port = 0, Bind = "example" }));
        Assert.Contains("--bind takes an IP address", bad.Message, StringComparison.Ordinal);
        foreach (var weak in new[] { " ", "x", "with spaces in the token", "aaaaaaaaaaaaaaaaaaaa" })
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Port = 0, Bind = "0.0.0.0", Token = weak }));
            Assert.Contains("a token must", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_naming_the_port_and_the_option()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var e = await Assert.ThrowsAsync<PortInUseException>(() => EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Port = port }));
        Assert.Equal($"port {port} on 127.0.0.1 is already in use (another eddy server or program listens there): choose another with --port", e.Message);
    }

    [Fact]
    public async Task Starting_fresh_with_checkpoints_is_not_counted_as_a_warning()
    {
        string checkpoints = Directory.CreateTempSubdirectory("eddy-fresh-").FullName;
        try
        {
            await using var s = await RunningServer.Start(slots: 2);
            var id = Assert.Single(await s.Submit($"SET 'execution.checkpointing.interval' = '10 s';\nSET 'execution.checkpointing.dir' = '{checkpoints}';\n"
                + Scripts.Unbounded("fresh-" + Guid.NewGuid().ToString("N"), parallelism: 1)));
            var job = await s.WaitForState(id, "RUNNING");
            Assert.Empty(job["warnings"]!.AsArray());
            var summary = (await s.Get("jobs/overview"))["jobs"]!.AsArray().Single(j => j!["jid"]!.GetValue<string>() == id)!;
            Assert.Equal(0, summary["warnings"]!.GetValue<int>());
            Assert.Equal(HttpStatusCode.Accepted, (await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null)).StatusCode);
            await s.WaitForState(id, "CANCELED");
        }
        finally
        {
            Directory.Delete(checkpoints, recursive: true);
        }
    }
}
