using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Eddy.Server;

public sealed record ServerOptions
{
    public int Slots { get; init; } = 4;

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 8081;

    public string Bind { get; init; } = "127.0.0.1";

    /// <summary>Required on every request when set; required to be set when binding beyond loopback.</summary>
    public string? Token { get; init; }

    /// <summary>Where print sinks' lines also go (null: only kept for the dashboard).</summary>
    public TextWriter? PrintTo { get; init; }

    /// <summary>Where request and job log lines go (null: nowhere).</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>
/// The Eddy server: a <see cref="JobManager"/> behind a REST API modelled on Flink's, the dashboard's static files and
/// a Prometheus endpoint, on Kestrel.
/// </summary>
public sealed class EddyServer : IAsyncDisposable
{
    public const string TokenCookie = "eddy_token";

    private readonly WebApplication app;

    private EddyServer(WebApplication app, JobManager manager, ServerOptions options)
    {
        this.app = app;
        Manager = manager;
        Options = options;
    }

    public JobManager Manager { get; }

    public ServerOptions Options { get; }

    /// <summary>The address the server listens on, e.g. http://127.0.0.1:8081 (known after start).</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    public static bool IsLoopback(string bind) =>
        bind == "localhost" || (IPAddress.TryParse(bind, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Starts the server; throws <see cref="ArgumentException"/> for a non-loopback bind without a token.</summary>
    public static async Task<EddyServer> StartAsync(ServerOptions options, CancellationToken cancel = default)
    {
        if (!IsLoopback(options.Bind) && string.IsNullOrEmpty(options.Token))
        {
            throw new ArgumentException(
                $"binding to {options.Bind} exposes the server beyond this machine: give a token with --token or EDDY_TOKEN");
        }
        if (!IPAddress.TryParse(options.Bind == "localhost" ? "127.0.0.1" : options.Bind, out var address))
            throw new ArgumentException($"--bind takes an IP address (127.0.0.1, 0.0.0.0, ::), got '{options.Bind}'");

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, options.Port);
            k.Limits.MaxRequestBodySize = Api.MaxScriptBytes;
        });
        builder.Services.Configure<JsonOptions>(j =>
        {
            j.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower;
            j.SerializerOptions.DictionaryKeyPolicy = null;
        });
        var app = builder.Build();
        var manager = new JobManager(options.Slots) { PrintTo = options.PrintTo };
        var server = new EddyServer(app, manager, options);
        server.Configure();
        await app.StartAsync(cancel);
        var bound = app.Urls.First();
        server.Address = new Uri(bound.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));
        return server;
    }

    public Task WaitForShutdownAsync(CancellationToken cancel) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(app, cancel);

    private void Log(string line) => Options.Log?.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss} {SecretOptions(line)}");

    private static string SecretOptions(string line) => Eddy.Sql.SecretOptions.RedactText(line);

    private void Configure()
    {
        if (!string.IsNullOrEmpty(Options.Token)) app.Use(CheckToken);
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Request.Method != "GET") Log($"{context.Request.Method} {context.Request.Path} -> {context.Response.StatusCode}");
        });

        Api.Map(app, Manager, Log);
        Dashboard.Map(app);
    }

    /// <summary>
    /// A bearer token (API clients), or the cookie the dashboard sets after it was opened with <c>?token=</c> once.
    /// Compared in constant time.
    /// </summary>
    private async Task CheckToken(HttpContext context, RequestDelegate next)
    {
        var expected = Encoding.UTF8.GetBytes(Options.Token!);
        string? given = null;
        var auth = context.Request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) given = auth[7..].Trim();
        bool fromQuery = false;
        if (given is null && context.Request.Query.TryGetValue("token", out var q))
        {
            given = q.ToString();
            fromQuery = true;
        }
        given ??= context.Request.Cookies[TokenCookie];
        if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsJsonAsync(new ErrorView([
                given is null
                    ? "this server requires a token: send 'Authorization: Bearer <token>' (eddy --token or EDDY_TOKEN), or open the dashboard with ?token=<token>"
                    : "the token is wrong",
            ]));
            return;
        }
        if (fromQuery)
        {
            context.Response.Cookies.Append(TokenCookie, given, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Path = "/",
            });
        }
        await next(context);
    }

    public async ValueTask DisposeAsync()
    {
        Manager.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
