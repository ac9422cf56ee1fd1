using System.Text;

namespace Eddy.Runtime;

/// <summary>
/// A text output that behaves like an exactly-once external system, for tests of stop → restore: text written to it
/// directly appears at once, but a <see cref="PrintSink{T}"/> of a job that takes checkpoints stages its lines per
/// checkpoint and they appear only when the checkpoint completes (or at the end of input). Each staged part is
/// committed under a transaction name, at most once, so a restored sink can safely commit again what its checkpoint
/// recorded; lines a stopped job had not committed are lost with it, as in a transactional sink.
/// </summary>
public sealed class CommittedOutput : TextWriter
{
    private readonly StringBuilder text = new();
    private readonly HashSet<string> committed = [];

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (text) text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (text) text.Append(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (text) text.Append(buffer, index, count);
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        lock (text) text.Append(buffer);
    }

    /// <summary>Makes <paramref name="lines"/> visible unless <paramref name="transaction"/> was committed before.</summary>
    public void Commit(string transaction, string lines)
    {
        lock (text)
        {
            if (committed.Add(transaction)) text.Append(lines);
        }
    }

    /// <summary>How many transactions were committed (each staged part once).</summary>
    public int Commits
    {
        get
        {
            lock (text) return committed.Count;
        }
    }

    public override string ToString()
    {
        lock (text) return text.ToString();
    }
}
