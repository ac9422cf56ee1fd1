using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Eddy.Server;

/// <summary>The dashboard's static files (plain HTML, CSS and JavaScript), served from the assembly's resources.</summary>
internal static class Dashboard
{
    private static readonly ConcurrentDictionary<string, byte[]?> Cache = new();

    public static void Map(WebApplication app)
    {
        app.MapGet("/", () => Asset("index.html"));
        app.MapGet("/app.js", () => Asset("app.js"));
        app.MapGet("/app.css", () => Asset("app.css"));
    }

    public static IResult Asset(string name)
    {
        var bytes = Cache.GetOrAdd(name, n =>
        {
            using var stream = typeof(Dashboard).Assembly.GetManifestResourceStream("wwwroot/" + n);
            if (stream is null) return null;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            return memory.ToArray();
        });
        if (bytes is null) return Results.NotFound();
        string type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".json" => "application/json",
            _ => "application/octet-stream",
        };
        return Results.Bytes(bytes, type);
    }
}
