using Eddy.Runtime;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Plan.Match;

/// <summary>
/// A partial or completed match: the rows taken so far (sequence numbers of the key's rows, each with the pattern
/// element it was mapped to), the element of the last row and how many rows that element has taken.
/// </summary>
public sealed class PartialMatch
{
    public int Element { get; set; }

    public int Count { get; set; }

    public long Start { get; set; }

    public long StartTime { get; set; }

    public List<long> Rows { get; set; } = [];

    public List<int> Variables { get; set; } = [];

    internal PartialMatch Take(long seq, long time, int element, int count) => new()
    {
        Element = element,
        Count = count,
        Start = Rows.Count == 0 ? seq : Start,
        StartTime = Rows.Count == 0 ? time : StartTime,
        Rows = [.. Rows, seq],
        Variables = [.. Variables, element],
    };
}

/// <summary>
/// One partition's state: rows waiting for the watermark (event time), the rows live matches refer to (row
/// <c>i</c> has sequence number <see cref="FirstSeq"/> + i), and the partial matches and the completed matches
/// held back until no earlier partial match can still complete (as Flink's NFA state).
/// </summary>
public sealed class MatchKeyState<TIn>
{
    public List<TIn> Pending { get; set; } = [];

    public List<long> PendingTimes { get; set; } = [];

    public List<TIn> Rows { get; set; } = [];

    public long FirstSeq { get; set; }

    public long NextSeq { get; set; }

    public List<PartialMatch> Partials { get; set; } = [];

    public List<PartialMatch> Completed { get; set; } = [];

    /// <summary>The event-time timer registered for this key, <see cref="long.MinValue"/> when none.</summary>
    public long TimerAt { get; set; } = long.MinValue;
}

/// <summary>
/// What DEFINE conditions and MEASURES read: the rows of one (partial) match and, for a condition, the row being
/// tried as <see cref="CurrentVariable"/>. Navigations compiled by <see cref="MatchCodegen"/> call it; one instance
/// per operator, repointed before every evaluation.
/// </summary>
public sealed class MatchView<TIn>
{
    internal List<TIn> KeyRows = null!;
    internal long FirstSeq;
    internal PartialMatch Match = null!;
    internal int CurrentVariable = -1;
    internal TIn Current = default!;

    /// <summary>When the match is emitted: the time of the row or watermark being processed (Flink's MATCH_ROWTIME()).</summary>
    public long EmitTime;

    /// <summary>
    /// The position of the <paramref name="offset"/>-th row of <paramref name="variable"/> (-1: every variable),
    /// counted from the first or from the last; -1 when there is none; <see cref="int.MaxValue"/> for the current row.
    /// </summary>
    public int Find(int variable, bool fromFirst, int offset)
    {
        var vars = Match.Variables;
        bool current = CurrentVariable >= 0 && (variable < 0 || variable == CurrentVariable);
        if (fromFirst)
        {
            for (int i = 0; i < vars.Count; i++)
            {
                if (variable >= 0 && vars[i] != variable) continue;
                if (offset-- == 0) return i;
            }
            return current && offset == 0 ? int.MaxValue : -1;
        }
        if (current)
        {
            if (offset == 0) return int.MaxValue;
            offset--;
        }
        for (int i = vars.Count - 1; i >= 0; i--)
        {
            if (variable >= 0 && vars[i] != variable) continue;
            if (offset-- == 0) return i;
        }
        return -1;
    }

    public TIn Row(int position) => position == int.MaxValue ? Current : KeyRows[(int)(Match.Rows[position] - FirstSeq)];

    /// <summary>The aggregate of <paramref name="variable"/>'s rows (-1: all rows), in match order.</summary>
    public TAcc Aggregate<TAcc>(int variable, Func<TIn, TAcc, TAcc> add)
    {
        TAcc acc = default!;
        var vars = Match.Variables;
        for (int i = 0; i < vars.Count; i++)
        {
            if (variable < 0 || vars[i] == variable) acc = add(KeyRows[(int)(Match.Rows[i] - FirstSeq)], acc);
        }
        if (CurrentVariable >= 0 && (variable < 0 || variable == CurrentVariable)) acc = add(Current, acc);
        return acc;
    }
}

/// <summary>A match's skip target was missing or the match's first row: the job fails, as Flink's does.</summary>
public sealed class MatchSkipException(string message) : Exception(message);

/// <summary>
/// MATCH_RECOGNIZE on a keyed stream, with the semantics of Flink's CEP operator and NFA for the patterns Flink's SQL
/// accepts (strict contiguity between rows): every row starts a new attempt; each partial match takes the row into
/// its current variable (while below its maximum) or into a later one (past variables whose minimum is met and
/// optional ones), each way that the variable's DEFINE accepts being a branch of its own; a variable right after a
/// greedy one takes a row only if the greedy one's condition rejects it. A branch that reaches the end of the pattern
/// (the rest optional) is a completed match. Completed matches are emitted in order of their first row, each only
/// when no partial match started earlier (it could still complete first), and each emitted match prunes the partial
/// and completed matches that the AFTER MATCH SKIP strategy discards. WITHIN drops partial matches whose first row is
/// at least the interval older than the row being processed. Event time: rows wait until the watermark passes them,
/// are processed in time order (then the secondary ORDER BY, then arrival), late rows (at or before the watermark)
/// are dropped and counted; processing time: arrival order.
/// </summary>
public sealed class MatchFunction<TIn, TKey, TOut>(
    MatchElement[] elements,
    Func<MatchView<TIn>, bool>?[] defines,
    Func<MatchView<TIn>, long, TOut> measures,
    Comparison<TIn>? secondaryOrder,
    bool eventTime,
    AfterMatchSkipKind skip,
    int skipTo,
    long? withinMs,
    string[] variableNames) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, MatchKeyState<TIn>>? state;
    private readonly MatchView<TIn> view = new();
    private readonly List<PartialMatch> nextPartials = [];
    private readonly List<PartialMatch> potential = [];
    private readonly List<TIn> sortBuffer = [];

    /// <summary>Rows dropped for being late (Flink's numLateRecordsDropped).</summary>
    public long LateRecordsDropped { get; private set; }

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<MatchKeyState<TIn>>("match");
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var key = state!.Value;
        if (key is null) state.Value = key = new MatchKeyState<TIn>();
        if (!eventTime)
        {
            long now = context.CurrentProcessingTime;
            AdvanceTime(key, now, now, output);
            Process(key, value, now, now, output);
            Trim(key);
            if (key.Partials.Count == 0 && key.Completed.Count == 0) state.Clear();
            return;
        }
        long ts = context.Timestamp;
        if (ts <= context.CurrentWatermark)
        {
            LateRecordsDropped++;
            return;
        }
        // After every waiting row with the same time or earlier: ties keep arrival order until sorted.
        var times = key.PendingTimes;
        int lo = 0, hi = times.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (times[mid] <= ts) lo = mid + 1;
            else hi = mid;
        }
        key.Pending.Insert(lo, value);
        times.Insert(lo, ts);
        Schedule(key, context);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var key = state!.Value;
        if (key is null) return;
        key.TimerAt = long.MinValue;
        var times = key.PendingTimes;
        long watermark = Math.Max(context.CurrentWatermark, timestamp);
        long now = context.CurrentProcessingTime;
        int head = 0;
        while (head < times.Count && times[head] <= watermark)
        {
            long time = times[head];
            int end = head + 1;
            while (end < times.Count && times[end] == time) end++;
            sortBuffer.Clear();
            for (int i = head; i < end; i++) sortBuffer.Add(key.Pending[i]);
            // Stable: rows equal under the secondary order keep their arrival order.
            if (secondaryOrder is not null && sortBuffer.Count > 1) StableSort(sortBuffer, secondaryOrder);
            AdvanceTime(key, time, now, output);
            foreach (var row in sortBuffer) Process(key, row, time, now, output);
            head = end;
        }
        sortBuffer.Clear();
        key.Pending.RemoveRange(0, head);
        times.RemoveRange(0, head);
        // As Flink's operator, the NFA then advances to the watermark: partial matches past WITHIN are dropped.
        AdvanceTime(key, watermark, now, output);
        Trim(key);
        if (key.Pending.Count == 0 && key.Partials.Count == 0 && key.Completed.Count == 0)
        {
            state.Clear();
            return;
        }
        Schedule(key, context);
    }

    /// <summary>
    /// One event-time timer per key: at the earliest waiting row, or (with WITHIN) when the oldest partial match times
    /// out, where Flink's operator advances its NFA on every watermark.
    /// </summary>
    private void Schedule(MatchKeyState<TIn> key, KeyedContext<TKey> context)
    {
        long at = key.PendingTimes.Count > 0 ? key.PendingTimes[0] : long.MaxValue;
        if (withinMs is { } within && key.Partials.Count > 0)
        {
            long oldest = long.MaxValue;
            foreach (var p in key.Partials) oldest = Math.Min(oldest, p.StartTime);
            at = Math.Min(at, Math.Max(oldest + within, context.CurrentWatermark + 1));
        }
        if (at == key.TimerAt) return;
        if (key.TimerAt != long.MinValue) context.DeleteEventTimeTimer(key.TimerAt);
        key.TimerAt = long.MinValue;
        if (at == long.MaxValue) return;
        context.RegisterEventTimeTimer(at);
        key.TimerAt = at;
    }

    /// <summary>
    /// Flink's NFA.advanceTime: drops the partial matches WITHIN has timed out at <paramref name="time"/>, after which
    /// completed matches they held back may be emitted.
    /// </summary>
    private void AdvanceTime(MatchKeyState<TIn> key, long time, long now, Collector<TOut> output)
    {
        if (withinMs is not { } within || key.Partials.Count == 0) return;
        int before = key.Partials.Count;
        for (int i = key.Partials.Count - 1; i >= 0; i--)
        {
            if (time - key.Partials[i].StartTime >= within) key.Partials.RemoveAt(i);
        }
        if (key.Partials.Count != before && key.Completed.Count > 0)
        {
            view.KeyRows = key.Rows;
            view.FirstSeq = key.FirstSeq;
            Emit(key.Partials, key.Completed, time, now, output);
        }
    }

    private static void StableSort(List<TIn> rows, Comparison<TIn> order)
    {
        for (int i = 1; i < rows.Count; i++)
        {
            var row = rows[i];
            int j = i - 1;
            while (j >= 0 && order(rows[j], row) > 0)
            {
                rows[j + 1] = rows[j];
                j--;
            }
            rows[j + 1] = row;
        }
    }

    private void Process(MatchKeyState<TIn> key, TIn row, long time, long now, Collector<TOut> output)
    {
        long seq = key.NextSeq++;
        key.Rows.Add(row);
        view.KeyRows = key.Rows;
        view.FirstSeq = key.FirstSeq;
        view.Current = row;
        nextPartials.Clear();
        potential.Clear();
        foreach (var partial in key.Partials) Advance(partial, seq, time);
        Advance(StartState, seq, time);
        view.Current = default!;
        view.CurrentVariable = -1;
        StableSortByStart(nextPartials);
        key.Completed.AddRange(potential);
        StableSortByStart(key.Completed);
        Emit(nextPartials, key.Completed, time, now, output);
        key.Partials.Clear();
        key.Partials.AddRange(nextPartials);
        nextPartials.Clear();
        potential.Clear();
    }

    /// <summary>
    /// Emits the completed matches, earliest first, while none of <paramref name="partials"/> (sorted by start) started
    /// before it; each emitted match prunes both lists by the skip strategy.
    /// </summary>
    private void Emit(List<PartialMatch> partials, List<PartialMatch> completed, long time, long now, Collector<TOut> output)
    {
        while (completed.Count > 0 && (partials.Count == 0 || completed[0].Start <= partials[0].Start))
        {
            var match = completed[0];
            completed.RemoveAt(0);
            long pruneAt = PruningRow(match, out bool inclusive);
            Prune(partials, pruneAt, inclusive);
            Prune(completed, pruneAt, inclusive);
            view.Match = match;
            view.CurrentVariable = -1;
            view.EmitTime = time;
            output.CurrentTimestamp = time;
            output.Collect(measures(view, now));
        }
        view.Match = null!;
    }

    private static void Prune(List<PartialMatch> list, long pruneAt, bool inclusive)
    {
        int kept = 0;
        for (int i = 0; i < list.Count; i++)
        {
            long start = list[i].Start;
            if (inclusive ? start <= pruneAt : start < pruneAt) continue;
            list[kept++] = list[i];
        }
        list.RemoveRange(kept, list.Count - kept);
    }

    private static readonly PartialMatch StartState = new() { Element = -1 };

    private static void StableSortByStart(List<PartialMatch> list)
    {
        for (int i = 1; i < list.Count; i++)
        {
            var m = list[i];
            int j = i - 1;
            while (j >= 0 && list[j].Start > m.Start)
            {
                list[j + 1] = list[j];
                j--;
            }
            list[j + 1] = m;
        }
    }

    /// <summary>Where the skip strategy resumes: partial matches that start before (or at, when inclusive) it are discarded.</summary>
    private long PruningRow(PartialMatch match, out bool inclusive)
    {
        switch (skip)
        {
            case AfterMatchSkipKind.PastLastRow:
                inclusive = true;
                return match.Rows[^1];
            case AfterMatchSkipKind.ToNextRow:
                inclusive = true;
                return match.Rows[0];
            default:
            {
                inclusive = false;
                int at = skip == AfterMatchSkipKind.ToFirst ? match.Variables.IndexOf(skipTo) : match.Variables.LastIndexOf(skipTo);
                if (at < 0) throw new MatchSkipException($"MATCH_RECOGNIZE could not skip to {variableNames[skipTo]}: no row of the match is mapped to it (as Flink, the job fails)");
                if (at == 0) throw new MatchSkipException($"MATCH_RECOGNIZE could not skip to {(skip == AfterMatchSkipKind.ToFirst ? "FIRST" : "LAST")} {variableNames[skipTo]}: it is the first row of the match, which would start the next match where this one started (as Flink, the job fails)");
                return match.Rows[at];
            }
        }
    }

    /// <summary>The branches of <paramref name="partial"/> that take the current row.</summary>
    private void Advance(PartialMatch partial, long seq, long time)
    {
        int e = partial.Element;
        int c = partial.Count;
        view.Match = partial;
        if (e >= 0 && c < elements[e].Max && Accepts(e, loop: true)) Branch(partial, seq, time, e, c + 1);
        if (e < 0 || c >= elements[e].Min)
        {
            for (int j = e + 1; j < elements.Length; j++)
            {
                if (Accepts(j, loop: false)) Branch(partial, seq, time, j, 1);
                if (elements[j].Min > 0) break;
            }
        }
    }

    private bool Accepts(int element, bool loop)
    {
        view.CurrentVariable = element;
        if (defines[element] is { } define && !define(view)) return false;
        // Flink's greedy quantifier: the variable after it takes a row only when the greedy one would not.
        if (!loop && element > 0 && elements[element - 1].Greedy)
        {
            view.CurrentVariable = element - 1;
            if (defines[element - 1] is not { } previous || previous(view)) return false;
        }
        return true;
    }

    private void Branch(PartialMatch partial, long seq, long time, int element, int count)
    {
        var next = partial.Take(seq, time, element, count);
        bool last = element == elements.Length - 1;
        if (!(last && count == elements[element].Max)) nextPartials.Add(next);
        // Complete when the rest of the pattern may be empty (Flink's PROCEED path to the final state).
        if (count >= elements[element].Min && !elements[element].Greedy)
        {
            bool rest = true;
            for (int j = element + 1; j < elements.Length && rest; j++) rest = elements[j].Min == 0 && !elements[j].Greedy;
            if (rest) potential.Add(next);
        }
    }

    /// <summary>Drops the rows no live match refers to any more.</summary>
    private static void Trim(MatchKeyState<TIn> key)
    {
        long keep = key.NextSeq;
        foreach (var p in key.Partials) keep = Math.Min(keep, p.Start);
        foreach (var p in key.Completed) keep = Math.Min(keep, p.Start);
        int drop = (int)(keep - key.FirstSeq);
        if (drop <= 0) return;
        key.Rows.RemoveRange(0, drop);
        key.FirstSeq = keep;
    }
}
