namespace Eddy.Server;

/// <summary>
/// The server's last log lines (start, submissions, cancels, savepoints, jobs ending, refused requests), for <c>GET /server/log</c> and
/// the dashboard's log tab. Bounded, and masked as they are added with <see cref="Eddy.Sql.SecretOptions.RedactText"/>
/// (the same masking as the lines the server writes to its log), so no secret reaches a reader.
/// </summary>
public sealed class ServerLog(int capacity = ServerLog.DefaultCapacity)
{
    public const int DefaultCapacity = 1000;

    /// <summary>The longest line kept: a line quoting a huge request must not hold megabytes.</summary>
    public const int MaxLineLength = 2000;

    private readonly Queue<string> lines = new();
    private long total;

    public int Capacity => capacity;

    public void Add(string line)
    {
        var masked = Eddy.Sql.SecretOptions.RedactText(line.Length > MaxLineLength * 2 ? line[..(MaxLineLength * 2)] : line);
        if (masked.Length > MaxLineLength) masked = masked[..MaxLineLength] + $" … ({line.Length} characters)";
        foreach (var part in masked.Split('\n'))
        {
            lock (lines)
            {
                lines.Enqueue(part.TrimEnd('\r'));
                total++;
                while (lines.Count > capacity) lines.Dequeue();
            }
        }
    }

    /// <summary>The last <paramref name="count"/> lines (at most the capacity), oldest first, and how many were written in all.</summary>
    public (IReadOnlyList<string> Lines, long Total) Tail(int count)
    {
        lock (lines)
        {
            var all = lines.ToList();
            return (all.Skip(Math.Max(0, all.Count - Math.Clamp(count, 0, capacity))).ToList(), total);
        }
    }
}
