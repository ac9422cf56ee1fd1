using System.Text;

namespace Eddy.Server;

/// <summary>
/// A text writer that keeps the last lines written (a job's print sink output), safe for the job's task threads to
/// write and the API to read at once; optionally echoed line by line to another writer (<c>eddy run --ui</c>). Secret option values never reach it: sinks print rows, not options.
/// </summary>
public sealed class OutputTail(int capacity = 200, TextWriter? echo = null) : TextWriter
{
    private readonly Queue<string> lines = new();
    private readonly StringBuilder current = new();
    private long total;

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>Lines written so far, including those no longer kept.</summary>
    public long TotalLines
    {
        get { lock (lines) return total; }
    }

    public override void Write(char value)
    {
        lock (lines) Append(value);
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        lock (lines)
        {
            foreach (var c in value) Append(c);
        }
    }

    private void Append(char value)
    {
        if (value != '\n')
        {
            current.Append(value);
            return;
        }
        if (current.Length > 0 && current[^1] == '\r') current.Length--;
        var line = current.ToString();
        echo?.WriteLine(line);
        lines.Enqueue(line);
        current.Clear();
        total++;
        while (lines.Count > capacity) lines.Dequeue();
    }

    public override void WriteLine(string? value) => Write(value + "\n");

    public IReadOnlyList<string> Lines()
    {
        lock (lines) return lines.ToList();
    }
}
