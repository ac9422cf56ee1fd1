using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Eddy.Server.Worker;

/// <summary>
/// The REST API of an <c>eddy worker</c> (loopback unless told otherwise): <c>GET /worker</c> (its groups, partitions,
/// their lag and last checkpoint, rebalances), <c>GET /metrics</c> (Prometheus text), <c>GET /healthz</c> (200 while
/// the worker runs: a liveness and readiness probe). The worker supplies both views; this only serves them.
/// </summary>
public sealed class WorkerEndpoint : IAsyncDisposable
{
    private readonly WebApplication app;

    private WorkerEndpoint(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    public Uri Address { get; }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower, WriteIndented = true };

    /// <summary>Listens on <paramref name="bind"/>:<paramref name="port"/> (0: a free port); throws <see cref="PortInUseException"/>.</summary>
    public static async Task<WorkerEndpoint> StartAsync(string bind, int port, Func<object> status, Func<string> metrics, CancellationToken cancel = default)
    {
        var address = EddyServer.ParseBind(bind);
        if (port is < 0 or > 65535) throw new ArgumentException($"--port takes 0 to 65535, got {port}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        var app = builder.Build();
        app.MapGet("/worker", () => Answer(() => JsonSerializer.Serialize(status(), Json), "application/json"));
        app.MapGet("/metrics", () => Answer(metrics, "text/plain; version=0.0.4"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        try
        {
            await app.StartAsync(cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            bool inUse = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException
                || (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse });
            throw inUse
                ? new PortInUseException(port, $"port {port} on {address} is already in use: choose another with --port")
                : new IOException($"cannot listen on {address} port {port}: {e.Message}");
        }
        var bound = app.Urls.First();
        // A wildcard bind is reached on this machine through loopback.
        return new WorkerEndpoint(app, new Uri(bound.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal)));
    }

    /// <summary>A view that could not be made is a 500 that says why (a probe that timed out, a worker stopping).</summary>
    private static IResult Answer(Func<string> view, string contentType)
    {
        try
        {
            return Results.Text(view(), contentType);
        }
        catch (Exception e)
        {
            return Results.Text($"error: {e.Message}\n", "text/plain", statusCode: 500);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
