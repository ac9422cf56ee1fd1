using System.Net;
using System.Net.Sockets;
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
/// <c>GET /associations/resources/...</c> and carries on after the 404). With <see cref="RequiredUserInfo"/> set, requests without that basic-auth user:password get 401. It does not check
/// compatibility, normalize schemas, or know schema types other than Avro. Real use: the Redpanda registry of
/// docker-compose.yml (port 8081 inside the compose network).
/// </summary>
public sealed class SchemaRegistryStandIn : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Lock gate = new();
    private readonly List<string> schemas = [];
    private readonly Dictionary<string, List<int>> subjects = [];
    private readonly Task loop;

    public SchemaRegistryStandIn(string? requiredUserInfo = null)
    {
        RequiredUserInfo = requiredUserInfo;
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            listener.Prefixes.Clear();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                Url = $"http://127.0.0.1:{port}";
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
        loop = Task.Run(Serve);
    }

    public string Url { get; private set; } = "";

    public string? RequiredUserInfo { get; }

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

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                Answer(context);
            }
            catch (Exception e)
            {
                Reply(context, 500, new JsonObject { ["error_code"] = 50001, ["message"] = e.Message });
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var request = context.Request;
        string path = request.Url!.AbsolutePath.TrimEnd('/');
        string line = $"{request.HttpMethod} {path}";
        lock (gate) Requests.Add(line);
        if (RequiredUserInfo is not null)
        {
            string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(RequiredUserInfo));
            if (request.Headers["Authorization"] != expected)
            {
                Reply(context, 401, new JsonObject { ["error_code"] = 401, ["message"] = "Unauthorized" });
                return;
            }
        }
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
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

    private static string SchemaOf(HttpListenerRequest request)
    {
        using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
        var body = JsonNode.Parse(reader.ReadToEnd()) ?? throw new InvalidOperationException("no body");
        string type = body["schemaType"]?.GetValue<string>() ?? "AVRO";
        if (type != "AVRO") throw new InvalidOperationException($"the stand-in knows Avro schemas only, not {type}");
        return body["schema"]?.GetValue<string>() ?? throw new InvalidOperationException("no \"schema\" in the body");
    }

    private static void NotFound(HttpListenerContext context, int code, string message) =>
        Reply(context, 404, new JsonObject { ["error_code"] = code, ["message"] = message });

    private static void Reply(HttpListenerContext context, int status, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString(new JsonSerializerOptions()));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/vnd.schemaregistry.v1+json";
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
