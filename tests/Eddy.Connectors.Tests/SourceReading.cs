using System.Reflection;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

/// <summary>One record a reader produced.</summary>
public readonly record struct ReadRecord<T>(T Value, long Timestamp, int Split);

/// <summary>
/// Drives a source reader directly, without a job. The records a reader put into its <see cref="SourceOutput{T}"/>
/// are internal to the runtime, so they are read here by reflection rather than by widening the runtime's API.
/// </summary>
public static class SourceReading
{
    public static SourceReaderContext Context(int subtask = 0, int parallelism = 1, TimeProvider? clock = null) =>
        new(subtask, parallelism, clock ?? new ManualClock(1_700_000_000_000), new SubtaskMetrics("test", subtask));

    /// <summary>One call of <see cref="SourceReader{T}.Read"/>, and what it produced.</summary>
    public static (SourceStatus Status, List<ReadRecord<T>> Records) ReadOnce<T>(SourceReader<T> reader, SourceOutput<T> output)
    {
        var status = reader.Read(output);
        return (status, Drain(output));
    }

    public static List<ReadRecord<T>> Drain<T>(SourceOutput<T> output)
    {
        var batch = (Batch<T>)typeof(SourceOutput<T>).GetProperty("Batch", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(output)!;
        var splits = (int[])typeof(SourceOutput<T>).GetField("splits", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(output)!;
        var records = new List<ReadRecord<T>>(batch.Count);
        for (int i = 0; i < batch.Count; i++) records.Add(new(batch.Values[i], batch.Timestamps[i], splits[i]));
        batch.Clear();
        return records;
    }

    /// <summary>
    /// Everything one subtask's reader reads until the end of input. A throttled reader's manual clock moves on a
    /// second whenever it has nothing available.
    /// </summary>
    public static List<ReadRecord<T>> ReadAll<T>(Source<T> source, int subtask = 0, int parallelism = 1, ManualClock? clock = null)
    {
        clock ??= new ManualClock(1_700_000_000_000);
        using var reader = source.CreateReader(Context(subtask, parallelism, clock));
        var output = new SourceOutput<T>();
        var all = new List<ReadRecord<T>>();
        for (int calls = 0; ; calls++)
        {
            var (status, records) = ReadOnce(reader, output);
            all.AddRange(records);
            if (status == SourceStatus.EndOfInput) return all;
            if (status == SourceStatus.NothingAvailable) clock.Advance(TimeSpan.FromSeconds(1));
            if (calls > 1_000_000) throw new InvalidOperationException("the reader never ended");
        }
    }

    public static List<T> Values<T>(Source<T> source, int subtask = 0, int parallelism = 1, ManualClock? clock = null) =>
        ReadAll(source, subtask, parallelism, clock).Select(r => r.Value).ToList();

    /// <summary>The first <paramref name="count"/> records of an unbounded source.</summary>
    public static List<T> Take<T>(Source<T> source, int count, int subtask = 0, int parallelism = 1, ManualClock? clock = null)
    {
        clock ??= new ManualClock(1_700_000_000_000);
        using var reader = source.CreateReader(Context(subtask, parallelism, clock));
        var output = new SourceOutput<T>();
        var all = new List<T>();
        while (all.Count < count)
        {
            var (status, records) = ReadOnce(reader, output);
            all.AddRange(records.Select(r => r.Value));
            if (status == SourceStatus.EndOfInput) break;
            if (status == SourceStatus.NothingAvailable) clock.Advance(TimeSpan.FromSeconds(1));
        }
        return all.Take(count).ToList();
    }
}

/// <summary>A temporary folder removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "eddy-conn-" + Guid.NewGuid().ToString("N"));

    public string File(string relative, string content)
    {
        string full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, content);
        return full;
    }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder does not fail a test.
        }
    }
}
