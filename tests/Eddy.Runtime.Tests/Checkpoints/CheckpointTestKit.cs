using System.Collections.Concurrent;
using Eddy.Runtime;

namespace Eddy.Tests.Checkpoints;

/// <summary>What the test components saw, in order, with the thread each thing happened on.</summary>
public sealed class Journal
{
    private readonly ConcurrentQueue<(string Event, string? Thread)> events = new();

    public void Add(string e) => events.Enqueue((e, Thread.CurrentThread.Name));

    public List<(string Event, string? Thread)> Events => events.ToList();
}

/// <summary>
/// A source of (subtask, index) records: each subtask emits <c>count</c> records, <c>perRead</c> per read (a slow
/// subtask yields its thread between reads), pauses at <c>pauseAt</c> until it has been told of
/// <c>checkpointsBeforeResume</c> completed checkpoints, and ends only after <c>checkpointsBeforeEnd</c>. Its state is
/// the next index.
/// </summary>
public sealed class SteppedSource(int count, Func<int, int> perRead, int pauseAt = int.MaxValue,
    int checkpointsBeforeResume = 0, int checkpointsBeforeEnd = 0, Journal? journal = null) : Source<(int Sub, int Index)>
{
    private readonly int count = count;
    private readonly Func<int, int> perRead = perRead;
    private readonly int pauseAt = pauseAt;
    private readonly int checkpointsBeforeResume = checkpointsBeforeResume;
    private readonly int checkpointsBeforeEnd = checkpointsBeforeEnd;
    private readonly Journal? journal = journal;

    public override bool IsBounded => true;

    public override SourceReader<(int Sub, int Index)> CreateReader(SourceReaderContext context)
    {
        int next = 0;
        if (context.Restored is { } r)
        {
            next = new BinaryReader(new MemoryStream(r.SubtaskStates[context.SubtaskIndex])).ReadInt32();
            journal?.Add($"source {context.SubtaskIndex} restored at {next} from {r.CheckpointId}");
        }
        return new Reader(this, context.SubtaskIndex, next);
    }

    private sealed class Reader(SteppedSource s, int subtask, int next) : SourceReader<(int Sub, int Index)>
    {
        private int notified;

        public override SourceStatus Read(SourceOutput<(int Sub, int Index)> output)
        {
            if (next >= s.pauseAt && notified < s.checkpointsBeforeResume && next < s.count) return SourceStatus.NothingAvailable;
            if (next >= s.count) return notified >= s.checkpointsBeforeEnd ? SourceStatus.EndOfInput : SourceStatus.NothingAvailable;
            int n = Math.Min(Math.Min(s.perRead(subtask), output.Room), s.count - next);
            if (next < s.pauseAt) n = Math.Min(n, s.pauseAt - next);
            for (int i = 0; i < n; i++) output.Add((subtask, next++));
            if (s.perRead(subtask) < 16) Thread.Yield();
            return SourceStatus.MoreAvailable;
        }

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            state.Write(next);
            s.journal?.Add($"source {subtask} snapshot {checkpointId} at {next}");
        }

        public override void NotifyCheckpointComplete(long checkpointId)
        {
            notified++;
            s.journal?.Add($"source {subtask} notify {checkpointId}");
        }
    }
}

/// <summary>Counts the records it saw per source subtask; its state is those counts. Passes records on.</summary>
public sealed class CountingOperator(Journal? journal = null, string label = "count") : StreamOperator<(int Sub, int Index), (int Sub, int Index)>
{
    private readonly Dictionary<int, int> counts = [];

    public IReadOnlyDictionary<int, int> Counts => counts;

    public override bool HasState => true;

    public override void OnBatch(Batch<(int Sub, int Index)> batch)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            var sub = batch.Values[i].Sub;
            counts[sub] = counts.GetValueOrDefault(sub) + 1;
        }
        Output.OnBatch(batch);
    }

    public override void SnapshotState(long checkpointId, OperatorStateWriter state)
    {
        state.OperatorState.Write(counts.Count);
        foreach (var (k, v) in counts)
        {
            state.OperatorState.Write(k);
            state.OperatorState.Write(v);
        }
        journal?.Add($"{label} {Context.SubtaskIndex} snapshot {checkpointId}");
    }

    public override void RestoreState(OperatorStateReader state)
    {
        foreach (var r in state.OperatorStates)
        {
            int n = r.ReadInt32();
            for (int i = 0; i < n; i++)
            {
                int k = r.ReadInt32();
                counts[k] = counts.GetValueOrDefault(k) + r.ReadInt32();
            }
        }
    }

    public override void NotifyCheckpointComplete(long checkpointId) => journal?.Add($"{label} {Context.SubtaskIndex} notify {checkpointId}");

    public static Dictionary<int, int> Decode(byte[] bytes)
    {
        var r = new BinaryReader(new MemoryStream(bytes));
        int n = r.ReadInt32();
        var d = new Dictionary<int, int>();
        for (int i = 0; i < n; i++) d[r.ReadInt32()] = r.ReadInt32();
        return d;
    }
}

/// <summary>
/// A sink that makes records visible only when the checkpoint that covers them completes (the rest of its input too,
/// by the final checkpoint): records of an epoch are kept in the writer's state until then, so a restore can finish
/// the commit. Commits are idempotent by (subtask, checkpoint id).
/// </summary>
public sealed class TwoPhaseCollectSink<T> : Sink<T>
{
    private readonly List<T> committed = [];
    private readonly HashSet<(int, long)> committedEpochs = [];
    private readonly Func<BinaryReader, T> read;
    private readonly Action<BinaryWriter, T> write;

    public TwoPhaseCollectSink(Func<BinaryReader, T> read, Action<BinaryWriter, T> write)
    {
        this.read = read;
        this.write = write;
    }

    public Journal? Journal { get; init; }

    public List<T> Committed
    {
        get
        {
            lock (committed) return committed.ToList();
        }
    }

    private void Commit(int subtask, long epoch, List<T> records)
    {
        lock (committed)
        {
            if (!committedEpochs.Add((subtask, epoch))) return;
            committed.AddRange(records);
        }
    }

    public override SinkWriter<T> CreateWriter(SinkWriterContext context)
    {
        var writer = new Writer(this, context.SubtaskIndex);
        if (context.Restored is { } restored && restored.SubtaskStates[context.SubtaskIndex].Length > 0)
        {
            // Finish the commits of this subtask's old state that the crash may have cut short.
            var r = new BinaryReader(new MemoryStream(restored.SubtaskStates[context.SubtaskIndex]));
            int epochs = r.ReadInt32();
            for (int e = 0; e < epochs; e++)
            {
                long id = r.ReadInt64();
                int n = r.ReadInt32();
                var records = new List<T>(n);
                for (int i = 0; i < n; i++) records.Add(read(r));
                if (id <= restored.CheckpointId) Commit(context.SubtaskIndex, id, records);
            }
        }
        return writer;
    }

    private sealed class Writer(TwoPhaseCollectSink<T> sink, int subtask) : SinkWriter<T>
    {
        private List<T> current = [];
        private readonly SortedDictionary<long, List<T>> staged = [];

        public override bool CommitsAtCheckpoints => true;

        public override void Write(Batch<T> batch)
        {
            for (int i = 0; i < batch.Count; i++) current.Add(batch.Values[i]);
        }

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            staged[checkpointId] = current;
            current = [];
            state.Write(staged.Count);
            foreach (var (id, records) in staged)
            {
                state.Write(id);
                state.Write(records.Count);
                foreach (var v in records) sink.write(state, v);
            }
            sink.Journal?.Add($"sink {subtask} snapshot {checkpointId}");
        }

        public override void NotifyCheckpointComplete(long checkpointId)
        {
            foreach (var id in staged.Keys.Where(k => k <= checkpointId).ToList())
            {
                sink.Commit(subtask, id, staged[id]);
                staged.Remove(id);
            }
            sink.Journal?.Add($"sink {subtask} notify {checkpointId}");
        }

        public override void Flush()
        {
            if (staged.Count > 0 || current.Count > 0)
                throw new InvalidOperationException($"sink {subtask}: flushed with records not committed by a checkpoint");
        }
    }
}

public static class CheckpointTestDirs
{
    public static string NewTemp()
    {
        var dir = Path.Combine(Path.GetTempPath(), "eddy-ck-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
