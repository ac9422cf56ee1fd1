using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Eddy.Runtime;

namespace Eddy.Server.Tests;

/// <summary>Checkpoint statistics, savepoints, stop-with-savepoint and resuming, against a running server.</summary>
public sealed class SavepointApiTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-sp-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string WindowedWithCheckpoints(string name, int parallelism, string checkpoints) =>
        $"SET 'execution.checkpointing.interval' = '200 ms';\nSET 'execution.checkpointing.dir' = '{checkpoints}';\n"
        + Scripts.Windowed(name, parallelism, rate: 500);

    private static async Task<JsonNode> Post(RunningServer s, string path, object? body = null)
    {
        var response = await s.Client.PostAsJsonAsync(path, body ?? new { });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task The_checkpoints_view_shows_the_runtimes_history_and_a_resubmitted_job_resumes_by_name()
    {
        string checkpoints = Path.Combine(dir, "ck");
        await using var s = await RunningServer.Start(slots: 4);
        var id = Assert.Single(await s.Submit(WindowedWithCheckpoints("ck-job", 2, checkpoints)));
        var view = await s.WaitFor($"jobs/{id}/checkpoints", c => c["counts"]!["completed"]!.GetValue<int>() >= 2, "two checkpoints");

        Assert.True(view["config"]!["enabled"]!.GetValue<bool>());
        Assert.Equal(200, view["config"]!["interval-ms"]!.GetValue<long>());
        var latest = view["latest"]!["completed"]!;
        Assert.Equal("COMPLETED", latest["status"]!.GetValue<string>());
        Assert.False(latest["is-savepoint"]!.GetValue<bool>());
        Assert.True(latest["state-size"]!.GetValue<long>() > 0);
        var perOperator = latest["state-size-per-operator"]!.AsObject();
        Assert.True(perOperator.Count >= 2, perOperator.ToJsonString());
        Assert.Equal(latest["state-size"]!.GetValue<long>(), perOperator.Sum(p => p.Value!.GetValue<long>()));
        Assert.True(latest["alignment-duration"]!.GetValue<long>() >= 0);
        Assert.True(latest["sync-duration"]!.GetValue<long>() >= 0);
        Assert.True(latest["async-duration"]!.GetValue<long>() >= 0);
        Assert.True(latest["latest-ack-timestamp"]!.GetValue<long>() >= latest["trigger-timestamp"]!.GetValue<long>());
        Assert.StartsWith(checkpoints, latest["external-path"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(latest["external-path"]!.GetValue<string>(), "_metadata")));
        var history = view["history"]!.AsArray();
        Assert.Equal(view["counts"]!["total"]!.GetValue<int>(), history.Count);
        // Newest first.
        Assert.True(history[0]!["id"]!.GetValue<long>() > history[^1]!["id"]!.GetValue<long>());
        Assert.Null(view["latest"]!["restored"]);

        Assert.Equal(HttpStatusCode.Accepted, (await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null)).StatusCode);
        await s.WaitForState(id, "CANCELED");
        long lastCompleted = (await s.Get($"jobs/{id}/checkpoints"))["latest"]!["completed"]!["id"]!.GetValue<long>();

        // The same script again: the job resumes from its latest checkpoint by name, as eddy run does.
        var again = Assert.Single(await s.Submit(WindowedWithCheckpoints("ck-job", 2, checkpoints)));
        var resumed = await s.WaitFor($"jobs/{again}/checkpoints", c => c["latest"]!["restored"] is not null, "restored");
        var restored = resumed["latest"]!["restored"]!;
        Assert.Equal(lastCompleted, restored["id"]!.GetValue<long>());
        Assert.False(restored["is-savepoint"]!.GetValue<bool>());
        Assert.Equal(1, resumed["counts"]!["restored"]!.GetValue<int>());
        var job = await s.Get($"jobs/{again}");
        Assert.Contains(job["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains($"resumes from checkpoint {lastCompleted}"));
        // New checkpoints continue the numbering.
        var next = await s.WaitFor($"jobs/{again}/checkpoints", c => c["counts"]!["completed"]!.GetValue<int>() >= 1, "a checkpoint after resuming");
        Assert.True(next["latest"]!["completed"]!["id"]!.GetValue<long>() > lastCompleted);
        await s.Client.PatchAsync($"jobs/{again}?mode=cancel", null);
        await s.WaitForState(again, "CANCELED");
    }

    [Fact]
    public async Task A_savepoint_of_a_job_without_checkpointing_is_taken_on_demand_and_restored()
    {
        string savepoints = Path.Combine(dir, "sp");
        await using var s = await RunningServer.Start(slots: 4);
        var id = Assert.Single(await s.Submit(Scripts.Windowed("sp-job", parallelism: 2, rate: 500)));
        await s.WaitFor($"jobs/{id}", j => j["state"]!.GetValue<string>() == "RUNNING"
            && j["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>() > 200, "records read");
        Assert.False((await s.Get($"jobs/{id}/checkpoints"))["config"]!["enabled"]!.GetValue<bool>());

        var taken = await Post(s, $"jobs/{id}/savepoints", new Dictionary<string, object> { ["target-directory"] = savepoints });
        Assert.Equal("COMPLETED", taken["status"]!.GetValue<string>());
        string location = taken["location"]!.GetValue<string>();
        Assert.StartsWith(Path.Combine(savepoints, "savepoint-sp-job-"), location);
        var data = LocalCheckpointStorage.LoadFolder(location);
        var window = data.Operators.Single(o => o.Subtasks.Any(x => x.KeyGroups.Count > 0));
        Assert.Equal(2, window.Parallelism);
        var view = await s.Get($"jobs/{id}/checkpoints");
        var savepoint = view["latest"]!["savepoint"]!;
        Assert.True(savepoint["is-savepoint"]!.GetValue<bool>());
        Assert.Equal(location, savepoint["external-path"]!.GetValue<string>());
        Assert.Null(view["latest"]!["completed"]);

        // Stop with savepoint: the job ends CANCELED once the savepoint is written.
        var stopped = await Post(s, $"jobs/{id}/stop", new Dictionary<string, object> { ["target-directory"] = savepoints });
        Assert.True(stopped["cancelled"]!.GetValue<bool>());
        string final = stopped["location"]!.GetValue<string>();
        await s.WaitForState(id, "CANCELED");
        var finalData = LocalCheckpointStorage.LoadFolder(final);
        Assert.True(finalData.Id > data.Id);

        // Restored from the stop's savepoint (the generator source resumes only at its own parallelism; rescaling
        // is tested with Kafka in StalledWindowTests).
        var body = new JsonObject { ["sql"] = Scripts.Windowed("sp-job", parallelism: 2, rate: 500), ["savepoint-path"] = final };
        var response = await s.Client.PostAsJsonAsync("jobs", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var rescaled = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["jobids"]![0]!.GetValue<string>();
        var restoredView = await s.WaitFor($"jobs/{rescaled}/checkpoints", c => c["latest"]!["restored"] is not null, "restored");
        var restored = restoredView["latest"]!["restored"]!;
        Assert.Equal(finalData.Id, restored["id"]!.GetValue<long>());
        Assert.True(restored["is-savepoint"]!.GetValue<bool>());
        Assert.Equal(final, restored["external-path"]!.GetValue<string>());
        await s.WaitFor($"jobs/{rescaled}", j => j["state"]!.GetValue<string>() is "FAILED"
            || j["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>() > 0, "the rescaled job reads");
        Assert.True((await s.Get($"jobs/{rescaled}"))["state"]!.GetValue<string>() == "RUNNING", (await s.Get($"jobs/{rescaled}/exceptions")).ToJsonString());
        var again = await Post(s, $"jobs/{rescaled}/savepoints", new Dictionary<string, object> { ["target-directory"] = savepoints });
        var rescaledData = LocalCheckpointStorage.LoadFolder(again["location"]!.GetValue<string>());
        Assert.Equal(2, rescaledData.Find(window.StateId)!.Parallelism);
        Assert.True(rescaledData.Id > finalData.Id);

        await s.Client.PatchAsync($"jobs/{rescaled}?mode=cancel", null);
        await s.WaitForState(rescaled, "CANCELED");

        // Savepoints of an ended job, and restoring from a path that is not there, are clear errors.
        var late = await s.Client.PostAsJsonAsync($"jobs/{rescaled}/savepoints", new { });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("a savepoint needs a running job", await late.Content.ReadAsStringAsync());
        var missing = await s.Client.PostAsJsonAsync("jobs", new JsonObject { ["sql"] = Scripts.Bounded, ["savepoint-path"] = Path.Combine(dir, "nope") });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("is not a folder on the server", await missing.Content.ReadAsStringAsync());
    }
}
