using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Eddy.Tests.Checkpoints;

/// <summary>
/// A stand-in S3 server for tests: s3rver (npm, tests/s3/package-lock.json; no S3 server can be installed here) run
/// by node on loopback with a folder of its own, started on first use and ended with the test process (it exits when
/// its standard input closes, so a killed test run leaves no server behind). Objects go to files in
/// <see cref="DataFolder"/>, so a test can damage one behind the store's back. scripts/test.sh installs the npm
/// package (scripts/prereqs.sh, <c>ensure_s3_test_prereqs</c>); outside the script the first use runs <c>npm ci</c>.
/// </summary>
public sealed class S3StandIn : IDisposable
{
    private static readonly Lazy<S3StandIn> Shared = new(() => new S3StandIn("eddy-test"));
    private readonly Process? node;

    /// <summary>The one server of this test process, with the bucket <c>eddy-test</c>.</summary>
    public static S3StandIn Instance => Shared.Value;

    /// <summary>Credentials s3rver accepts (it checks signatures against these).</summary>
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    public S3StandIn(params string[] buckets)
    {
        // Another S3-compatible store with these buckets and credentials (a real MinIO, or s3rver started by hand
        // with EDDY_S3RVER_LOG=1 to see its requests) instead of a server of the test's own.
        if (Environment.GetEnvironmentVariable("EDDY_TEST_S3_ENDPOINT") is { Length: > 0 } given)
        {
            Endpoint = given;
            DataFolder = "";
            return;
        }
        string dir = Path.Combine(RepoRoot(), "tests", "s3");
        EnsureInstalled(dir);
        DataFolder = Directory.CreateTempSubdirectory("eddy-s3rver-").FullName;
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // s3rver makes the continuation tokens of long listings with DES, which OpenSSL 3 keeps in its legacy provider.
        info.ArgumentList.Add("--openssl-legacy-provider");
        info.ArgumentList.Add(Path.Combine(dir, "serve.mjs"));
        info.ArgumentList.Add(DataFolder);
        foreach (var b in buckets) info.ArgumentList.Add(b);
        node = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var stderr = node.StandardError.ReadToEndAsync();
        string? line = node.StandardOutput.ReadLine();
        var m = line is null ? Match.Empty : Regex.Match(line, @"listening on (http://\S+)");
        if (!m.Success) throw new InvalidOperationException($"s3rver did not start: {line} {stderr.Result}");
        Endpoint = m.Groups[1].Value;
        _ = node.StandardOutput.ReadToEndAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    /// <summary>The server's URL, <c>http://127.0.0.1:port</c>.</summary>
    public string Endpoint { get; }

    /// <summary>Where s3rver keeps its objects (one folder per bucket).</summary>
    public string DataFolder { get; }

    /// <summary>Settings that reach this server (path-style, its credentials).</summary>
    public Eddy.Runtime.S3Settings Settings => new()
    {
        Endpoint = Endpoint,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        PathStyleAccess = true,
    };

    /// <summary>A prefix no other test uses, under the bucket <c>eddy-test</c>.</summary>
    public static string NewLocation(string name) => $"s3://eddy-test/{name}-{Guid.NewGuid():N}";

    /// <summary>The same options as SQL SET statements.</summary>
    public string SetStatements() =>
        $"SET 's3.endpoint' = '{Endpoint}';\nSET 's3.access-key' = '{AccessKey}';\nSET 's3.secret-key' = '{SecretKey}';\nSET 's3.path.style.access' = 'true';\n";

    private static void EnsureInstalled(string dir)
    {
        if (Directory.Exists(Path.Combine(dir, "node_modules", "s3rver"))) return;
        if (Environment.GetEnvironmentVariable("EDDY_TEST_UNDER_SCRIPT") is not null)
            throw new InvalidOperationException("tests/s3/node_modules/s3rver is missing although scripts/test.sh runs the tests: ensure_s3_test_prereqs did not install it (see the script's output)");
        var info = new ProcessStartInfo("npm") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "ci", "--no-audit", "--no-fund" }) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException("npm did not start");
        var output = p.StandardOutput.ReadToEndAsync();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"npm ci in {dir} failed: {error}{output.Result}");
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Eddy.slnx"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (Eddy.slnx) above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        try
        {
            if (node is { HasExited: false })
            {
                node.Kill(entireProcessTree: true);
                node.WaitForExit(5000);
                Directory.Delete(DataFolder, recursive: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
        }
    }
}
