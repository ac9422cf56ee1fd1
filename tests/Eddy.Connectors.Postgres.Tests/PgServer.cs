using System.Diagnostics;
using Npgsql;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>
/// The PostgreSQL server the tests write to: the one scripts/test.sh started (EDDY_TEST_PG), or, when a test runs
/// outside the script, one this process starts with the same script and stops at exit.
/// </summary>
internal static class PgServer
{
    private static readonly Lazy<string> Connection = new(Resolve);
    private static int counter;

    public static string ConnectionString => Connection.Value;

    /// <summary>A table name no other test uses, so tests can run in parallel against one database.</summary>
    public static string UniqueName(string prefix) => $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref counter)}";

    public static NpgsqlConnection Open()
    {
        var conn = new NpgsqlConnection(ConnectionString);
        conn.Open();
        return conn;
    }

    public static void Execute(string sql)
    {
        using var conn = Open();
        using var cmd = new NpgsqlCommand(sql, conn);
        cmd.ExecuteNonQuery();
    }

    public static List<object?[]> Query(string sql)
    {
        using var conn = Open();
        using var cmd = new NpgsqlCommand(sql, conn);
        using var r = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (r.Read())
        {
            var row = new object?[r.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    private static string Resolve()
    {
        var fromScript = Environment.GetEnvironmentVariable("EDDY_TEST_PG");
        if (!string.IsNullOrEmpty(fromScript)) return fromScript;
        if (Environment.GetEnvironmentVariable("EDDY_TEST_UNDER_SCRIPT") is not null)
            throw new InvalidOperationException("EDDY_TEST_PG is not set although scripts/test.sh runs the tests: its PostgreSQL server did not start (see the script's output)");
        string script = Path.Combine(RepoRoot(), "scripts", "pg-test-server.sh");
        string conn = RunScript(script, "start");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunScript(script, "stop", conn);
        return conn;
    }

    /// <summary>
    /// A server of the caller's own (started by the same script), for a test that restarts it: the shared one must
    /// stay up for the tests running in parallel. Dispose stops it and deletes its data.
    /// </summary>
    public sealed class Own : IDisposable
    {
        private readonly string script = Path.Combine(RepoRoot(), "scripts", "pg-test-server.sh");

        /// <param name="walLevel">the server's wal_level (the script's default is logical).</param>
        public Own(string? walLevel = null) =>
            ConnectionString = RunScript(script, walLevel is null ? [] : [KeyValuePair.Create("EDDY_PG_WAL_LEVEL", walLevel)], "start");

        public string ConnectionString { get; }

        /// <summary>Stops the server (ending every session) and starts it again on the same port and data.</summary>
        public void Restart() => RunScript(script, "restart", ConnectionString);

        public void Dispose() => RunScript(script, "stop", ConnectionString);
    }

    private static string RunScript(string script, params string[] args) => RunScript(script, [], args);

    private static string RunScript(string script, IEnumerable<KeyValuePair<string, string>> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed: {error}");
        return output.Trim();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Eddy.slnx"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (Eddy.slnx) above " + AppContext.BaseDirectory);
    }
}
