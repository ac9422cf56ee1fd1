using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Eddy.Runtime;
using Eddy.Sql;

namespace Eddy.Server;

/// <summary>The REST API's routes. Every view is built from the jobs' latest sampled readings, so a request never waits on a job.</summary>
internal static class Api
{
    public static void Map(WebApplication app, JobManager manager, Action<string> log)
    {
        app.MapGet("/overview", () => Views.Overview(manager));
        app.MapGet("/config", () => new { SlotsTotal = manager.TotalSlots, RefreshInterval = 500, Features = new { Checkpoints = true, Savepoints = true } });
        app.MapGet("/jobs", () => new JobsView(manager.Jobs.Select(j => new JobIdView(j.Id, j.State)).ToList()));
        app.MapGet("/jobs/overview", () => new JobsOverviewView(manager.Jobs.Select(j => Views.Summary(manager, j)).Reverse().ToList()));
        app.MapPost("/jobs", (HttpRequest request) => Submit(request, manager, log));

        // A distributed job the server hosts a worker of answers here too (its summary, cancel, failure), so that eddy
        // submit, cancel and scripts treat both kinds alike; its details are under /distributed-jobs.
        app.MapGet("/jobs/{id}", (string id) => manager.Find(id) is null && manager.FindHosted(id) is { } h
            ? Results.Json(Worker.WorkerApi.Summary(manager, h))
            : WithJob(manager, id, j => Results.Json(Views.Detail(manager, j))));
        app.MapPatch("/jobs/{id}", (string id, string? mode) => manager.Find(id) is null && manager.FindHosted(id) is { } h
            ? Worker.WorkerApi.Cancel(h, mode, log)
            : WithJob(manager, id, j =>
        {
            if (mode is not null && mode != "cancel")
                return Error(StatusCodes.Status400BadRequest, $"mode '{mode}' is not supported: use mode=cancel, or POST /jobs/{id}/stop to stop with a savepoint");
            bool cancelled = manager.Cancel(j);
            log($"job '{j.Name}' ({j.Id}) " + (cancelled ? "cancel requested" : $"already {j.State}"));
            return cancelled ? Results.Accepted() : Error(StatusCodes.Status409Conflict, $"job '{j.Name}' has already ended ({j.State})");
        }));
        app.MapGet("/jobs/{id}/plan", (string id) => WithJob(manager, id, j =>
            Results.Json(new PlanView(j.Id, j.Name, j.Sql, j.PlanText, j.Reading.Vertices.Select(v => Views.Vertex(j, v)).ToList()))));
        app.MapGet("/jobs/{id}/vertices/{vid}", (string id, string vid) => WithVertex(manager, id, vid, (j, v) => Results.Json(Views.Vertex(j, v))));
        app.MapGet("/jobs/{id}/vertices/{vid}/subtasks/metrics", (string id, string vid) => WithVertex(manager, id, vid, (_, v) =>
            Results.Json(new SubtasksMetricsView(v.Vertex.Id.ToString(CultureInfo.InvariantCulture), v.Vertex.Name,
                v.Subtasks.Select(Views.Subtask).ToList()))));
        // Flink's vertex metrics: without 'get' the metric ids, with 'get=a,b' their values (ids 'subtask.operator.group.name').
        app.MapGet("/jobs/{id}/vertices/{vid}/metrics", (string id, string vid, string? get) => WithVertex(manager, id, vid, (_, v) =>
        {
            var all = v.Subtasks.SelectMany(s => s.Sample.OperatorMetrics.Select(m =>
                (Id: s.Subtask.ToString(CultureInfo.InvariantCulture) + "." + m.Identifier, m.Value))).ToList();
            if (string.IsNullOrEmpty(get)) return Results.Json(all.Select(m => new MetricIdView(m.Id)).ToList());
            var wanted = get.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            return Results.Json(all.Where(m => wanted.Contains(m.Id))
                .Select(m => new MetricValueView(m.Id, m.Value.ToString("R", CultureInfo.InvariantCulture))).ToList());
        }));
        app.MapGet("/jobs/{id}/watermarks", (string id) => WithJob(manager, id, j => Results.Json(Views.Watermarks(j))));
        app.MapGet("/jobs/{id}/checkpoints", (string id) => WithJob(manager, id, j => Results.Json(Views.Checkpoints(j))));
        app.MapGet("/jobs/{id}/exceptions", (string id) => manager.Find(id) is null && manager.FindHosted(id) is { } h
            ? Results.Json(Worker.WorkerApi.Exceptions(h))
            : WithJob(manager, id, j => Results.Json(Views.Exceptions(j))));
        app.MapGet("/jobs/{id}/diagnosis", (string id) => WithJob(manager, id, j => Results.Json(new DiagnosisView(j.Id, j.State, j.Reading.Diagnosis))));
        app.MapPost("/jobs/{id}/savepoints", (string id, HttpRequest request) => Savepoint(manager, id, request, stop: false, log));
        app.MapPost("/jobs/{id}/stop", (string id, HttpRequest request) => Savepoint(manager, id, request, stop: true, log));
        app.MapGet("/metrics", () => Results.Text(Prometheus.Cached(manager), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/openapi.json", () => Dashboard.Asset("openapi.json"));
    }

    private static readonly JsonSerializerOptions KebabJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower };

    /// <summary>
    /// POST /jobs/{id}/savepoints ({"target-directory": ..., "cancel-job": bool}, both optional) and POST
    /// /jobs/{id}/stop (the same, cancelling): answered when the savepoint is written or has failed, not with
    /// Flink's trigger id to poll.
    /// </summary>
    private static async Task<IResult> Savepoint(JobManager manager, string id, HttpRequest request, bool stop, Action<string> log)
    {
        var job = manager.Find(id);
        if (job is null) return Error(StatusCodes.Status404NotFound, $"no job with id or name '{id}'");
        SavepointRequest? body = null;
        if (request.HasJsonContentType())
        {
            try
            {
                body = await request.ReadFromJsonAsync<SavepointRequest>(KebabJson);
            }
            catch (JsonException e)
            {
                return Error(StatusCodes.Status400BadRequest, $"the request body is not valid JSON: {e.Message}");
            }
        }
        string? target = body?.TargetDirectory ?? request.Query["target-directory"];
        bool cancel = stop || body?.CancelJob == true;
        var stats = await job.Savepoint(string.IsNullOrWhiteSpace(target) ? null : target, cancel);
        if (stats is null)
            return Error(StatusCodes.Status409Conflict, $"job '{job.Name}' is {job.State}: a savepoint needs a running job");
        if (stats.Status != CheckpointStatus.Completed)
        {
            log($"job '{job.Name}' ({job.Id}) savepoint failed: {stats.FailureReason}");
            return Results.Json(new SavepointView("FAILED", stats.Id < 0 ? null : stats.Id, null, stats.FailureReason, false),
                statusCode: StatusCodes.Status500InternalServerError);
        }
        log($"job '{job.Name}' ({job.Id}) savepoint {stats.Id} written to {stats.Path}" + (cancel ? "; job cancelled" : ""));
        return Results.Json(new SavepointView("COMPLETED", stats.Id, stats.Path, null, cancel));
    }

    private static IResult Error(int status, string message) => Results.Json(new ErrorView([message]), statusCode: status);

    private static IResult WithJob(JobManager manager, string id, Func<ManagedJob, IResult> action)
    {
        var job = manager.Find(id);
        return job is null ? Error(StatusCodes.Status404NotFound, $"no job with id or name '{id}'") : action(job);
    }

    private static IResult WithVertex(JobManager manager, string id, string vid, Func<ManagedJob, VertexReading, IResult> action) =>
        WithJob(manager, id, j =>
        {
            var v = j.Reading.Vertices.FirstOrDefault(x => x.Vertex.Id.ToString(CultureInfo.InvariantCulture) == vid);
            return v is null
                ? Error(StatusCodes.Status404NotFound, $"job '{j.Name}' has no vertex '{vid}' (vertices: {string.Join(", ", j.Vertices.Select(x => x.Id))})")
                : action(j, v);
        });

    /// <summary>
    /// POST /jobs: a JSON body {"sql": ..., "file-name": ..., "options": {"k": "v"}}, or the SQL script itself as
    /// text/plain. A script that does not plan gets 400 with the CLI's located message.
    /// </summary>
    private static async Task<IResult> Submit(HttpRequest request, JobManager manager, Action<string> log)
    {
        if (request.ContentLength > MaxScriptBytes) return ScriptTooLarge();
        string? sql;
        string? fileName = request.Query["file-name"];
        Dictionary<string, string>? options = null;
        string? savepointPath = request.Query["savepoint-path"];
        bool allowNonRestored = request.Query["allow-non-restored-state"] == "true";
        bool distributed = request.Query["distributed"] == "true";
        List<UploadedFile>? uploads = null;
        if (request.HasJsonContentType())
        {
            SubmitRequest? body;
            try
            {
                body = await request.ReadFromJsonAsync<SubmitRequest>(new JsonSerializerOptions(JsonSerializerDefaults.Web)
                {
                    PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
                });
            }
            catch (JsonException e)
            {
                return Error(StatusCodes.Status400BadRequest, $"the request body is not valid JSON: {e.Message}");
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return ScriptTooLarge();
            }
            sql = body?.Sql;
            fileName = body?.FileName ?? fileName;
            options = body?.Options;
            savepointPath = body?.SavepointPath ?? savepointPath;
            allowNonRestored |= body?.AllowNonRestoredState == true;
            uploads = body?.Udfs;
            distributed |= body?.Distributed == true;
        }
        else
        {
            try
            {
                using var reader = new StreamReader(request.Body, Encoding.UTF8);
                sql = await reader.ReadToEndAsync();
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return ScriptTooLarge();
            }
        }
        if (string.IsNullOrWhiteSpace(sql))
            return Error(StatusCodes.Status400BadRequest, "no SQL given: send {\"sql\": \"...\"} as JSON or the script as text/plain");
        UserAssemblies? udfs = null;
        try
        {
            if (uploads is { Count: > 0 }) udfs = UserAssemblies.Save(uploads);
            var (jobs, hosted) = manager.SubmitScript(sql, fileName, options, savepointPath, allowNonRestored, udfs: udfs, distributed: distributed);
            foreach (var j in jobs) log($"job '{j.Name}' ({j.Id}) submitted, {j.SlotsNeeded} slot(s), {j.State}");
            foreach (var h in hosted) log($"distributed job '{h.Name}' ({h.Id}) submitted: this server runs one worker of its groups");
            return Results.Json(new SubmitView([.. jobs.Select(j => j.Id), .. hosted.Select(h => h.Id)], jobs.Select(j => Views.Summary(manager, j)).ToList(),
                hosted.Select(h => Worker.WorkerApi.Summary(manager, h)).ToList()), statusCode: StatusCodes.Status202Accepted);
        }
        catch (SubmissionException e)
        {
            log($"submission refused: {e.Message.Split('\n')[0]}");
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A planner bug fails this request only, with what went wrong; the server and its jobs carry on.
            string message = $"planning the script failed: {e.GetType().Name}: {SecretOptions.RedactText(e.Message)}";
            log(message);
            return Error(StatusCodes.Status500InternalServerError, message);
        }
    }

    /// <summary>The largest request body POST /jobs takes (Kestrel refuses larger ones before they are read).</summary>
    public const long MaxScriptBytes = 16 * 1024 * 1024;

    private static IResult ScriptTooLarge() => Error(StatusCodes.Status413PayloadTooLarge,
        $"the request body is larger than the {MaxScriptBytes / (1024 * 1024)} MiB a SQL script may have: split the script into several submissions");
}
