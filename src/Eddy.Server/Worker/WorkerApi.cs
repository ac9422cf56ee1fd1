using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Eddy.Server.Worker;

/// <summary>This server's part of a distributed job: per stage its group, topic and the partitions this server's worker owns.</summary>
public sealed record HostedSummaryView(
    string Jid, string Name, string State, bool Distributed, long StartTime, long EndTime, long Duration, string? Failure,
    string? WorkerAddress, int PartitionsOwned);

/// <summary>
/// The routes of the distributed jobs this server hosts a worker of: <c>GET /worker</c> (the body an <c>eddy worker</c>
/// serves, so that <c>eddy status</c> and the other workers' view find this server like any worker),
/// <c>GET /distributed-jobs</c>, <c>GET /distributed-jobs/{id}</c> (this server's stages, partitions and log),
/// <c>GET /distributed-jobs/{id}/status</c> (the whole job, every worker: <see cref="JobStatusView"/>) and
/// <c>PATCH /distributed-jobs/{id}?mode=cancel</c>.
/// </summary>
internal static class WorkerApi
{
    /// <summary>How long a whole-job view is reused: it reads the directory topic and asks every worker, too much for every poll.</summary>
    private static readonly TimeSpan ViewReuse = TimeSpan.FromSeconds(2);

    public static void Map(WebApplication app, JobManager manager, string? token, Action<string> log)
    {
        app.MapGet("/worker", () => Results.Json(DistributedWorker.Status(Running(manager))));
        app.MapGet("/worker/metrics", () => Results.Text(DistributedWorker.Metrics(Running(manager)), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/distributed-jobs", () => Results.Json(new { Jobs = manager.HostedWorkers.Select(h => Summary(manager, h)).Reverse().ToList() }));
        app.MapGet("/distributed-jobs/{id}", (string id) => WithHosted(manager, id, h => Results.Json(Detail(manager, h))));
        var views = new Dictionary<string, (DateTimeOffset At, Task<JsonObject> View)>(StringComparer.Ordinal);
        app.MapGet("/distributed-jobs/{id}/status", (string id, CancellationToken cancel) => WithHostedAsync(manager, id, async h =>
        {
            Task<JsonObject> view;
            lock (views)
            {
                if (!views.TryGetValue(h.Id, out var cached) || DateTimeOffset.UtcNow - cached.At > ViewReuse || cached.View.IsFaulted)
                {
                    var warnings = new List<string>();
                    cached = (DateTimeOffset.UtcNow, JobStatusView.AssembleAsync(h.Name, h.BootstrapServers, h.Properties, warnings.Add, token)
                        .ContinueWith(t =>
                        {
                            var v = t.Result;
                            v["warnings"] = new JsonArray([.. warnings.Select(w => (JsonNode?)w)]);
                            return v;
                        }, TaskScheduler.Default));
                    views[h.Id] = cached;
                }
                view = cached.View;
            }
            try
            {
                return Results.Json(await view.WaitAsync(cancel));
            }
            catch (AggregateException e) when (e.InnerException is JobStatusException s)
            {
                return Error(StatusCodes.Status503ServiceUnavailable, s.Message);
            }
            catch (JobStatusException e)
            {
                return Error(StatusCodes.Status503ServiceUnavailable, e.Message);
            }
        }));
        app.MapPatch("/distributed-jobs/{id}", (string id, string? mode) => WithHosted(manager, id, h => Cancel(h, mode, log)));
    }

    private static IEnumerable<DistributedWorker> Running(JobManager manager) =>
        manager.HostedWorkers.Where(h => h.State is JobStates.Running or JobStates.Cancelling).Select(h => h.Worker);

    public static IResult Cancel(HostedWorker h, string? mode, Action<string> log)
    {
        if (mode is not null && mode != "cancel")
            return Error(StatusCodes.Status400BadRequest, $"mode '{mode}' is not supported: use mode=cancel (a distributed job stops with final checkpoints of its partitions)");
        bool cancelled = h.Cancel();
        log($"distributed job '{h.Name}' ({h.Id}) " + (cancelled ? "cancel requested: final checkpoints, then its worker leaves the groups" : $"already {h.State}"));
        return cancelled ? Results.Accepted() : Error(StatusCodes.Status409Conflict, $"job '{h.Name}' has already ended or is stopping ({h.State})");
    }

    public static HostedSummaryView Summary(JobManager manager, HostedWorker h)
    {
        var end = h.EndedAt ?? DateTimeOffset.UtcNow;
        return new HostedSummaryView(h.Id, h.Name, h.State, true, h.SubmittedAt.ToUnixTimeMilliseconds(), h.EndedAt?.ToUnixTimeMilliseconds() ?? -1,
            (long)(end - h.SubmittedAt).TotalMilliseconds, h.Failure, manager.WorkerAddress?.ToString().TrimEnd('/'), h.Worker.OwnedPartitions);
    }

    /// <summary>The summary, this server's view of the job as its <c>GET /worker</c> has it (stages, partitions, rebalances), the SQL and the log.</summary>
    public static object Detail(JobManager manager, HostedWorker h) => new
    {
        Job = Summary(manager, h),
        Worker = h.State is JobStates.Running or JobStates.Cancelling ? h.Worker.JobViews().FirstOrDefault() : null,
        h.Sql,
        h.Log,
    };

    /// <summary>Flink's exception history shape for <c>GET /jobs/{id}/exceptions</c> of a distributed job.</summary>
    public static object Exceptions(HostedWorker h) => new
    {
        ExceptionHistory = h.Failure is { } f ? new[] { new { Timestamp = h.EndedAt?.ToUnixTimeMilliseconds() ?? -1, Message = f } } : [],
        Restarts = 0,
    };

    private static IResult WithHosted(JobManager manager, string id, Func<HostedWorker, IResult> action) =>
        manager.FindHosted(id) is { } h ? action(h) : Error(StatusCodes.Status404NotFound, $"no distributed job with id or name '{id}'");

    private static async Task<IResult> WithHostedAsync(JobManager manager, string id, Func<HostedWorker, Task<IResult>> action) =>
        manager.FindHosted(id) is { } h ? await action(h) : Error(StatusCodes.Status404NotFound, $"no distributed job with id or name '{id}'");

    private static IResult Error(int status, string message) => Results.Json(new ErrorView([message]), statusCode: status);
}
