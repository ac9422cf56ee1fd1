namespace Eddy.Runtime;

/// <summary>
/// A test hook (<see cref="JobConfig.SourceHold"/>) that holds each source reader after a chosen number of records
/// until <see cref="Release"/>, so that a test can take a checkpoint at a known point of the input: the reader is
/// handed an output with room for no more than its allowance, and is not read at all while held (the task goes on
/// taking barriers and completion notices). It also counts what every reader read, so a straight run can tell a
/// later run where half of the input is. Unset, the source driver does not look at it.
/// </summary>
public sealed class SourceHold(Func<string, int, long>? limitOf = null)
{
    private readonly Dictionary<(string StateId, int Subtask), Reader> readers = [];
    private volatile bool released = limitOf is null;

    private sealed class Reader(long limit)
    {
        public long Limit = limit;
        public long Read;
        public bool Held;
        public bool Finished;
    }

    /// <summary>Records read per source (by state id) and subtask, so far.</summary>
    public IReadOnlyDictionary<(string StateId, int Subtask), long> RecordsRead
    {
        get
        {
            lock (readers) return readers.ToDictionary(e => e.Key, e => e.Value.Read);
        }
    }

    /// <summary>Lets every reader read freely from now on.</summary>
    public void Release() => released = true;

    /// <summary>
    /// Waits until <paramref name="sourceSubtasks"/> readers have each reached their limit or the end of their input.
    /// </summary>
    public async Task WaitAllHeldAsync(int sourceSubtasks, TimeSpan timeout, CancellationToken cancel = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (readers)
            {
                if (readers.Count >= sourceSubtasks && readers.Values.All(r => r.Held || r.Finished)) return;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"sources not held after {timeout}: {Describe()}");
            await Task.Delay(5, cancel).ConfigureAwait(false);
        }
    }

    private string Describe()
    {
        lock (readers)
            return string.Join(", ", readers.Select(e => $"{e.Key.StateId}[{e.Key.Subtask}] read {e.Value.Read} of {e.Value.Limit}"
                + (e.Value.Finished ? " (ended)" : e.Value.Held ? " (held)" : "")));
    }

    internal void Register(string stateId, int subtask)
    {
        lock (readers) readers[(stateId, subtask)] = new Reader(limitOf?.Invoke(stateId, subtask) ?? long.MaxValue);
    }

    /// <summary>How many more records the reader may read now (0: it is held).</summary>
    internal long Allowance(string stateId, int subtask)
    {
        lock (readers)
        {
            var r = readers[(stateId, subtask)];
            if (released) return long.MaxValue;
            long left = Math.Max(0, r.Limit - r.Read);
            r.Held = left == 0;
            return left;
        }
    }

    internal void Counted(string stateId, int subtask, int records)
    {
        lock (readers) readers[(stateId, subtask)].Read += records;
    }

    internal void Ended(string stateId, int subtask)
    {
        lock (readers) readers[(stateId, subtask)].Finished = true;
    }
}
