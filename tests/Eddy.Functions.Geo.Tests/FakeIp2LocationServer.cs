using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Eddy.Functions.Geo.Tests;

/// <summary>
/// A local HTTP server that answers like api.ip2location.io (<c>GET /?ip=&amp;key=&amp;format=json</c>), with
/// misbehaving addresses: slow answers, 429s, 500s and malformed bodies. It counts requests per address.
/// </summary>
public sealed class FakeIp2LocationServer : IAsyncDisposable
{
    public const string Key = "test-key-not-a-secret";

    private readonly WebApplication app;
    public readonly ConcurrentDictionary<string, int> Requests = new();
    public readonly ConcurrentBag<string> KeysSeen = [];

    /// <summary>How long the "slow" addresses take (well over the client's timeout in tests).</summary>
    public TimeSpan SlowDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Answers for 198.51.100.0/24 wait for this (then answer as any other address): calls a test keeps in flight.</summary>
    public TaskCompletionSource HeldAnswers { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Requests for 198.51.100.0/24 received so far.</summary>
    public int HeldRequests => Requests.Where(r => r.Key.StartsWith("198.51.100.", StringComparison.Ordinal)).Sum(r => r.Value);

    private FakeIp2LocationServer(WebApplication app) => this.app = app;

    public Uri Endpoint { get; private set; } = null!;

    public int TotalRequests => Requests.Values.Sum();

    public static async Task<FakeIp2LocationServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeIp2LocationServer(app);
        app.MapGet("/", server.Answer);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Endpoint = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    private async Task Answer(HttpContext context)
    {
        string ip = context.Request.Query["ip"].ToString();
        KeysSeen.Add(context.Request.Query["key"].ToString());
        int n = Requests.AddOrUpdate(ip, 1, (_, c) => c + 1);
        if (context.Request.Query["key"] != Key)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("""{"error":{"error_code":10001,"error_message":"Invalid API key or insufficient credit."}}""");
            return;
        }
        switch (ip)
        {
            case "9.9.9.1": // always slower than any sane timeout
                await Task.Delay(SlowDelay, context.RequestAborted).ContinueWith(_ => { });
                await Json(context, ip, "US", "California", "Berkeley", 37.87, -122.27);
                return;
            case "9.9.9.2": // slow the first time only: a retry after the timeout gets through
                if (n == 1) await Task.Delay(SlowDelay, context.RequestAborted).ContinueWith(_ => { });
                await Json(context, ip, "CH", "Zurich", "Zürich", 47.37, 8.54);
                return;
            case "9.9.9.3": // rate-limited twice, then fine
                if (n <= 2)
                {
                    context.Response.StatusCode = 429;
                    await context.Response.WriteAsync("""{"error":{"error_code":429,"error_message":"Too many requests"}}""");
                    return;
                }
                await Json(context, ip, "FR", "Ile-de-France", "Paris", 48.85, 2.35);
                return;
            case "9.9.9.4": // always failing
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("internal error");
                return;
            case "9.9.9.5": // a 200 that is not JSON
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"country_code\": \"US\", \"region_na");
                return;
            case "9.9.9.6": // 500 once, then fine
                if (n == 1)
                {
                    context.Response.StatusCode = 503;
                    return;
                }
                await Json(context, ip, "JP", "Tokyo", "Tokyo", 35.68, 139.69);
                return;
            case "10.0.0.1": // as ip2location answers private addresses
                await context.Response.WriteAsync("""{"ip":"10.0.0.1","country_code":"-","country_name":"-","region_name":"-","city_name":"-","latitude":0,"longitude":0,"zip_code":"-","time_zone":"-","asn":"-","as":"-","is_proxy":false}""");
                return;
            case var held when held.StartsWith("198.51.100.", StringComparison.Ordinal):
                await HeldAnswers.Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { });
                if (context.RequestAborted.IsCancellationRequested) return;
                var heldLast = ip.Split('.')[^1];
                await Json(context, ip, "C" + heldLast, "Region " + heldLast, "City " + heldLast, 1.5, -2.5);
                return;
            default:
                // Any other address: a place derived from its last byte, so tests can check answers without a table.
                var last = ip.Split('.', ':')[^1];
                await Json(context, ip, "C" + last, "Region " + last, "City " + last, 1.5, -2.5);
                return;
        }
    }

    private static Task Json(HttpContext context, string ip, string country, string region, string city, double lat, double lon)
    {
        context.Response.ContentType = "application/json";
        var body = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["ip"] = ip, ["country_code"] = country, ["country_name"] = country, ["region_name"] = region, ["city_name"] = city,
            ["latitude"] = lat, ["longitude"] = lon, ["zip_code"] = "00000", ["time_zone"] = "+00:00", ["asn"] = "0", ["as"] = "Test", ["is_proxy"] = false,
        });
        return context.Response.WriteAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
