using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// A STAND-IN for Confluent's Schema Registry (no registry server can be installed on these machines): the REST subset
/// that Eddy's avro-confluent format and Confluent's own .NET serializer call, on a loopback port, in memory.
/// <list type="bullet">
/// <item><c>POST /subjects/{subject}/versions</c> {"schema": ...} → {"id": n}: a schema text already registered (under
/// any subject) keeps its id, as the real registry's global ids do; a new one gets the next id and the subject's next
/// version.</item>
/// <item><c>POST /subjects/{subject}</c> (look-up) → {"subject", "id", "version", "schema"} or 404 (error 40403).</item>
/// <item><c>GET /schemas/ids/{id}</c> → {"schema": ...} or 404 (error 40403).</item>
/// <item><c>GET /subjects</c>, <c>GET /subjects/{subject}/versions</c>, <c>GET /subjects/{subject}/versions/latest</c>.</item>
/// </list>
/// Anything else gets 404 and is listed in <see cref="Unknown"/> (Confluent's 2.16 deserializer asks
/// <c>GET /associations/resources/...</c> and carries on after the 404). With <see cref="RequiredUserInfo"/> set, requests
/// without that basic-auth user:password get 401; with <see cref="RequiredBearerToken"/>, requests without
/// <c>Authorization: Bearer</c> and that token get 401. Given a server certificate it serves HTTPS (TLS by
/// <see cref="SslStream"/> over a minimal HTTP/1.1 loop: request line, headers, Content-Length bodies, keep-alive). It does not check
/// compatibility, normalize schemas, or know schema types other than Avro. Real use: the Redpanda registry of
/// docker-compose.yml (port 8081 inside the compose network).
/// </summary>
public sealed class SchemaRegistryStandIn : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Lock gate = new();
    private readonly List<string> schemas = [];
    private readonly Dictionary<string, List<int>> subjects = [];
    private readonly SslStreamCertificateContext? tls;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    /// <param name="serverCertificate">With its private key: the stand-in serves HTTPS with it (and <paramref name="chain"/>).</param>
    public SchemaRegistryStandIn(string? requiredUserInfo = null, string? requiredBearerToken = null,
        X509Certificate2? serverCertificate = null, X509Certificate2Collection? chain = null)
    {
        RequiredUserInfo = requiredUserInfo;
        RequiredBearerToken = requiredBearerToken;
        if (serverCertificate is not null) tls = SslStreamCertificateContext.Create(serverCertificate, chain, offline: true);
        listener.Start();
        Url = $"{(tls is null ? "http" : "https")}://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        loop = Task.Run(Serve);
    }

    public string Url { get; }

    public string? RequiredUserInfo { get; }

    public string? RequiredBearerToken { get; }

    /// <summary>TLS handshakes the stand-in lost (the client did not trust its certificate), with the reason.</summary>
    public List<string> FailedHandshakes { get; } = [];

    /// <summary>Every request as "METHOD /path" (query left out), for tests to see what a client called.</summary>
    public List<string> Requests { get; } = [];

    /// <summary>Requests the stand-in does not implement (answered 404 with error 404 "not in the stand-in").</summary>
    public List<string> Unknown { get; } = [];

    /// <summary>Registers directly (as another producer would have), returning the id.</summary>
    public int Register(string subject, string schema)
    {
        lock (gate)
        {
            int id = schemas.IndexOf(schema) + 1;
            if (id == 0)
            {
                schemas.Add(schema);
                id = schemas.Count;
            }
            var versions = subjects.TryGetValue(subject, out var v) ? v : subjects[subject] = [];
            if (!versions.Contains(id)) versions.Add(id);
            return id;
        }
    }

    public string? Schema(int id)
    {
        lock (gate) return id >= 1 && id <= schemas.Count ? schemas[id - 1] : null;
    }

    public IReadOnlyList<int> Versions(string subject)
    {
        lock (gate) return subjects.TryGetValue(subject, out var v) ? [.. v] : [];
    }

    private async Task Serve()
    {
        var connections = new List<Task>();
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }
            connections.Add(Task.Run(() => Connection(client)));
        }
        await Task.WhenAll(connections);
    }

    /// <summary>One connection: requests answered in turn until the client closes it.</summary>
    private async Task Connection(TcpClient client)
    {
        using (client)
        {
            Stream stream = client.GetStream();
            try
            {
                if (tls is not null)
                {
                    var ssl = new SslStream(stream);
                    try
                    {
                        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = tls }, stop.Token);
                    }
                    catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
                    {
                        lock (gate) FailedHandshakes.Add(e.Message);
                        return;
                    }
                    stream = ssl;
                }
                var reader = new BufferedStream(stream);
                while (!stop.IsCancellationRequested && await Request.ReadAsync(reader) is { } request)
                {
                    var response = new Response();
                    try
                    {
                        Answer(request, response);
                    }
                    catch (Exception e)
                    {
                        Reply(response, 500, new JsonObject { ["error_code"] = 50001, ["message"] = e.Message });
                    }
                    await response.WriteAsync(stream);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
    }

    /// <summary>An HTTP/1.1 request: method, path, headers (names lower-cased) and body.</summary>
    private sealed record Request(string HttpMethod, string Path, Dictionary<string, string> Headers, byte[] Body)
    {
        public static async Task<Request?> ReadAsync(Stream stream)
        {
            string? line = await ReadLine(stream);
            if (string.IsNullOrEmpty(line)) return null;
            var parts = line.Split(' ');
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (await ReadLine(stream) is { Length: > 0 } header)
            {
                int colon = header.IndexOf(':');
                if (colon > 0) headers[header[..colon].Trim()] = header[(colon + 1)..].Trim();
            }
            var body = new byte[headers.TryGetValue("Content-Length", out var length) ? int.Parse(length) : 0];
            await stream.ReadExactlyAsync(body);
            return new Request(parts[0], parts[1].Split('?')[0], headers, body);
        }

        private static async Task<string?> ReadLine(Stream stream)
        {
            var bytes = new List<byte>();
            var one = new byte[1];
            while (true)
            {
                if (await stream.ReadAsync(one) == 0) return bytes.Count == 0 ? null : Encoding.ASCII.GetString([.. bytes]);
                if (one[0] == '\n') return Encoding.ASCII.GetString([.. bytes]).TrimEnd('\r');
                bytes.Add(one[0]);
            }
        }
    }

    private sealed class Response
    {
        public int StatusCode { get; set; } = 200;

        public byte[] Body { get; set; } = [];

        public async Task WriteAsync(Stream stream)
        {
            string head = $"HTTP/1.1 {StatusCode} {(StatusCode == 200 ? "OK" : "Error")}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
                + $"Content-Length: {Body.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(Body);
            await stream.FlushAsync();
        }
    }

    private void Answer(Request request, Response context)
    {
        string path = Uri.UnescapeDataString(request.Path).TrimEnd('/');
        string line = $"{request.HttpMethod} {path}";
        lock (gate) Requests.Add(line);
        string? expected = RequiredUserInfo is not null ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(RequiredUserInfo))
            : RequiredBearerToken is not null ? "Bearer " + RequiredBearerToken
            : null;
        if (expected is not null && request.Headers.GetValueOrDefault("Authorization") != expected)
        {
            Reply(context, 401, new JsonObject { ["error_code"] = 401, ["message"] = "Unauthorized" });
            return;
        }
        string[] parts = request.Path.TrimEnd('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        switch (request.HttpMethod, parts)
        {
            case ("GET", ["schemas", "ids", var idText]) when int.TryParse(idText, out int id):
                if (Schema(id) is { } text) Reply(context, 200, new JsonObject { ["schema"] = text });
                else NotFound(context, 40403, "Schema not found");
                return;
            case ("GET", ["subjects"]):
                lock (gate) Reply(context, 200, new JsonArray([.. subjects.Keys.Select(k => (JsonNode)k)]));
                return;
            case ("GET", ["subjects", var subject, "versions"]):
                var versions = Versions(subject);
                if (versions.Count == 0) NotFound(context, 40401, "Subject not found");
                else Reply(context, 200, new JsonArray([.. Enumerable.Range(1, versions.Count).Select(v => (JsonNode)v)]));
                return;
            case ("GET", ["subjects", var subject, "versions", "latest"]):
                var all = Versions(subject);
                if (all.Count == 0) NotFound(context, 40401, "Subject not found");
                else Reply(context, 200, Entry(subject, all.Count, all[^1]));
                return;
            case ("POST", ["subjects", var subject, "versions"]):
                Reply(context, 200, new JsonObject { ["id"] = Register(subject, SchemaOf(request)) });
                return;
            case ("POST", ["subjects", var subject]):
                string schema = SchemaOf(request);
                var ids = Versions(subject);
                int found = -1;
                for (int i = 0; i < ids.Count; i++)
                {
                    if (Schema(ids[i]) == schema) found = i;
                }
                if (found < 0) NotFound(context, 40403, "Schema not found");
                else Reply(context, 200, Entry(subject, found + 1, ids[found]));
                return;
            default:
                lock (gate) Unknown.Add(line);
                NotFound(context, 404, "not in the stand-in");
                return;
        }
    }

    private JsonObject Entry(string subject, int version, int id) =>
        new() { ["subject"] = subject, ["version"] = version, ["id"] = id, ["schema"] = Schema(id) };

    private static string SchemaOf(Request request)
    {
        var body = JsonNode.Parse(Encoding.UTF8.GetString(request.Body)) ?? throw new InvalidOperationException("no body");
        string type = body["schemaType"]?.GetValue<string>() ?? "AVRO";
        if (type != "AVRO") throw new InvalidOperationException($"the stand-in knows Avro schemas only, not {type}");
        return body["schema"]?.GetValue<string>() ?? throw new InvalidOperationException("no \"schema\" in the body");
    }

    private static void NotFound(Response context, int code, string message) =>
        Reply(context, 404, new JsonObject { ["error_code"] = code, ["message"] = message });

    private static void Reply(Response context, int status, JsonNode body)
    {
        context.StatusCode = status;
        context.Body = Encoding.UTF8.GetBytes(body.ToJsonString(new JsonSerializerOptions()));
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
