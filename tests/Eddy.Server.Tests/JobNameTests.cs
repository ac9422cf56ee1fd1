using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Eddy.Runtime;

namespace Eddy.Server.Tests;

/// <summary>A job that checkpoints owns its name's checkpoint folder: the server refuses a second live job of that name.</summary>
public class JobNameTests
{
    private static string Checkpointing(string name, string folder) => $"""
        SET 'pipeline.name' = '{name}';
        SET 'execution.checkpointing.interval' = '100 ms';
        SET 'execution.checkpointing.dir' = '{folder}';
        CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '500');
        CREATE TABLE sink_t (id BIGINT) WITH ('connector' = 'blackhole');
        INSERT INTO sink_t SELECT id FROM gen;
        """;

    private static async Task<(HttpStatusCode Status, string Body)> Post(RunningServer s, string sql)
    {
        var response = await s.Client.PostAsJsonAsync("jobs", new JsonObject { ["sql"] = sql });
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_second_job_of_a_running_name_is_refused_naming_the_job_and_the_server()
    {
        string folder = Path.Combine(Path.GetTempPath(), "eddy-names-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            await using var s = await RunningServer.Start();
            var id = Assert.Single(await s.Submit(Checkpointing("orders", folder)));
            await s.WaitForState(id, "RUNNING");

            var (status, body) = await Post(s, Checkpointing("orders", folder));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("job name 'orders' is in use", body);
            Assert.Contains(id, body);
            Assert.Contains(s.Server.Address.ToString(), body);
            Assert.Contains("execution.checkpointing.dir", body);
            Assert.Single((await s.Get("jobs/overview"))["jobs"]!.AsArray());

            // Once it ended, the name is free.
            Assert.Equal(HttpStatusCode.Accepted, (await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null)).StatusCode);
            await s.WaitForState(id, "CANCELED");
            var again = Assert.Single(await s.Submit(Checkpointing("orders", folder)));
            await s.WaitForState(again, "RUNNING");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_name_held_by_another_process_is_refused_naming_that_process()
    {
        string folder = Path.Combine(Path.GetTempPath(), "eddy-names-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            await using var s = await RunningServer.Start();
            using (JobNameLock.Acquire(folder, "orders", "eddy run orders.sql (pid 4242 on elsewhere)"))
            {
                var (status, body) = await Post(s, Checkpointing("orders", folder));
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.Contains("eddy run orders.sql (pid 4242 on elsewhere)", body);
            }
            var id = Assert.Single(await s.Submit(Checkpointing("orders", folder)));
            await s.WaitForState(id, "RUNNING");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
