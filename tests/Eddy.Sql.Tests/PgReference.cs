using System.Diagnostics;
using Npgsql;

namespace Eddy.Sql.Tests;

/// <summary>
/// PostgreSQL as an independent reference for expected values: the server scripts/test.sh started (EDDY_TEST_PG),
/// or, outside the script, one this process starts with scripts/pg-test-server.sh and stops at exit.
/// </summary>
internal static class PgReference
{
    private static readonly Lazy<string> Connection = new(Resolve);

    public static List<object?[]> Query(string sql)
    {
        using var conn = new NpgsqlConnection(Connection.Value);
        conn.Open();
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
        string script = Path.Combine(RepoRoot(), "scripts", "pg-test-server.sh");
        string conn = RunScript(script, "start");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunScript(script, "stop", conn);
        return conn;
    }

    private static string RunScript(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
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
