using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Eddy.Sql.Connectors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Eddy.Server;

/// <summary>The server's port is taken by another program.</summary>
public sealed class PortInUseException(int port, string message) : IOException(message)
{
    public int Port { get; } = port;
}

public sealed record ServerOptions
{
    /// <summary>The connectors jobs' tables may name, built by the host (the CLI, a test project's helper).</summary>
    public required ConnectorRegistry Connectors { get; init; }

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

    /// <summary>
    /// A folder of function assemblies every job can use (<c>--udf-dir</c>, as Flink's <c>lib/</c>): each job's
    /// session adds them, and a relative <c>ADD JAR</c> path resolves here.
    /// </summary>
    public string? UdfDirectory { get; init; }

    /// <summary>
    /// The address a hosted worker announces in its job's directory topic (<c>--advertise</c>): where other machines
    /// reach this server when it listens on 0.0.0.0 or sits behind NAT. Null: the bound address (for a wildcard bind,
    /// this host's first non-loopback IPv4 address).
    /// </summary>
    public Uri? Advertise { get; init; }

    /// <summary>Metric reporters beside <c>/metrics</c> (<c>eddy server -D metrics.reporters=otel ...</c>); none by default.</summary>
    public IReadOnlyList<OpenTelemetryReporterOptions> Reporters { get; init; } = [];
}

/// <summary>
/// The Eddy server: a <see cref="JobManager"/> behind a REST API modelled on Flink's, the dashboard's static files and
/// a Prometheus endpoint, on Kestrel.
/// </summary>
public sealed class EddyServer : IAsyncDisposable
{
    public const string TokenCookie = "eddy_token";

    private readonly WebApplication app;

    private readonly List<OpenTelemetryReporter> reporters = [];

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

    /// <summary>The shortest token a server reachable beyond this machine accepts.</summary>
    public const int MinTokenLength = 16;

    /// <summary>
    /// The address a --bind value names: an IPv4 or IPv6 address, <c>localhost</c>, or an IPv4 address written as
    /// IPv6 (<c>::ffff:127.0.0.1</c>, listened on as the IPv4 address). Throws <see cref="ArgumentException"/> otherwise.
    /// </summary>
    public static IPAddress ParseBind(string bind)
    {
        string text = bind.Trim();
        if (text == "localhost") return IPAddress.Loopback;
        if (text.StartsWith('[') && text.EndsWith(']')) text = text[1..^1];
        if (!IPAddress.TryParse(text, out var address) || text.Contains('%', StringComparison.Ordinal))
            throw new ArgumentException($"--bind takes an IP address (127.0.0.1, 0.0.0.0, ::1, ::) or localhost, got '{bind}'");
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>Why <paramref name="token"/> is too weak for a server reachable beyond this machine, or null.</summary>
    public static string? WeakTokenReason(string token)
    {
        if (token.Any(char.IsWhiteSpace)) return "a token must not contain spaces";
        if (token.Length < MinTokenLength) return $"a token must have at least {MinTokenLength} characters (it has {token.Length})";
        return token.Distinct().Count() < 4 ? "a token must not repeat one or two characters" : null;
    }

    /// <summary>A random token of 32 URL-safe characters.</summary>
    public static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Starts the server. Throws <see cref="ArgumentException"/> for a bad --bind, or a non-loopback bind without a
    /// strong enough token; <see cref="IOException"/> (one line naming the port and --port) when the port is taken.
    /// </summary>
    public static async Task<EddyServer> StartAsync(ServerOptions options, CancellationToken cancel = default)
    {
        var address = ParseBind(options.Bind);
        if (!IPAddress.IsLoopback(address))
        {
            if (string.IsNullOrEmpty(options.Token))
            {
                throw new ArgumentException(
                    $"binding to {options.Bind} exposes the server beyond this machine: give a token with --token or EDDY_TOKEN");
            }
            if (WeakTokenReason(options.Token) is { } weak)
                throw new ArgumentException($"binding to {options.Bind} exposes the server beyond this machine and {weak}: use a longer random token");
        }
        if (options.Port is < 0 or > 65535) throw new ArgumentException($"--port takes 0 to 65535, got {options.Port}");

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
        if (options.UdfDirectory is { } udfs && !Directory.Exists(udfs)) throw new ArgumentException($"--udf-dir {udfs}: no such folder");
        var manager = new JobManager(options.Slots, options.Connectors) { PrintTo = options.PrintTo, UdfDirectory = options.UdfDirectory is { } d ? Path.GetFullPath(d) : null };
        var server = new EddyServer(app, manager, options);
        server.Configure();
        try
        {
            await app.StartAsync(cancel);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            manager.Dispose();
            await app.DisposeAsync();
            bool inUse = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException
                || (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse });
            throw inUse
                ? new PortInUseException(options.Port, $"port {options.Port} on {address} is already in use (another eddy server or program listens there): choose another with --port")
                : new IOException($"cannot listen on {address} port {options.Port}: {e.Message}");
        }
        var bound = app.Urls.First();
        server.Address = new Uri(bound.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));
        server.LogTail.Add($"{DateTimeOffset.UtcNow:HH:mm:ss} server started: {options.Slots} task slot(s), listening on {bound}");
        manager.Holder = $"the eddy server at {server.Address}";
        manager.WorkerAddress = Worker.DistributedWorker.Advertised(server.Address, options.Bind, options.Advertise);
        foreach (var reporter in options.Reporters)
        {
            server.reporters.Add(new OpenTelemetryReporter(manager, reporter));
            server.LogTail.Add($"{DateTimeOffset.UtcNow:HH:mm:ss} metrics reporter '{reporter.Name}': OTLP {reporter.Protocol} to {reporter.Endpoint} every {reporter.Interval.TotalSeconds:0.###} s");
        }
        return server;
    }

    public Task WaitForShutdownAsync(CancellationToken cancel) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(app, cancel);

    /// <summary>The last log lines, masked, for <c>GET /server/log</c>.</summary>
    public ServerLog LogTail { get; } = new();

    private void Log(string line)
    {
        var stamped = $"{DateTimeOffset.UtcNow:HH:mm:ss} {SecretOptions(line)}";
        LogTail.Add(stamped);
        Options.Log?.WriteLine(stamped);
    }

    private static string SecretOptions(string line) => Eddy.Sql.SecretOptions.RedactText(line);

    private void Configure()
    {
        if (!string.IsNullOrEmpty(Options.Token)) app.Use(CheckToken);
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Request.Method != "GET") Log($"{context.Request.Method} {context.Request.Path} -> {context.Response.StatusCode}");
        });

        Manager.JobEnded += job => Log($"job '{job.Name}' ({job.Id}) {job.State}"
            + (job.State == JobStates.Failed && job.Exceptions.LastOrDefault() is { } e ? $": {e.Message.Split('\n')[0]}" : ""));
        Api.Map(app, Manager, Log);
        Manager.WorkerLog = Log;
        Worker.WorkerApi.Map(app, Manager, Options.Token, Log);
        DashboardApi.Map(app, Manager, LogTail);
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
        foreach (var reporter in reporters) reporter.Dispose();
        Manager.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
