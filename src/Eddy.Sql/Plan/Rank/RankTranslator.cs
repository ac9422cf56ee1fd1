using System.Reflection;
using Eddy.Runtime;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// A rank node: keyed by the partition columns, an <see cref="AppendOnlyTopNFunction{TIn, TKey, TOut}"/> or a
/// <see cref="DeduplicateFunction{TIn, TKey}"/>, with a compiled comparison of the ORDER BY columns.
/// </summary>
internal static class RankTranslator
{
    public static object Translate(RankPlan rank, JobTranslator job)
    {
        var input = job.Translate(rank.Input);
        var inputType = TypedStep.RowTypeOf(input);
        var keys = Keys(rank);
        var keyType = KeyCodegen.KeyType(keys);
        var outputType = rank.OutputRank ? RowTypes.For(rank.Schema) : inputType;
        return TypedStep.Make<IStep>(typeof(Step<,,>), inputType, keyType, outputType).Translate(input, rank);
    }

    private static List<BoundExpr> Keys(RankPlan rank) =>
        rank.PartitionKeys.Select(k => (BoundExpr)new InputRef(k, rank.Input.Schema[k].Name, rank.Input.Schema[k].Type)).ToList();

    private interface IStep
    {
        object Translate(object input, RankPlan rank);
    }

    private sealed class Step<TIn, TKey, TOut> : IStep where TKey : notnull
    {
        public object Translate(object input, RankPlan rank)
        {
            var keyed = ((DataStream<TIn>)input).KeyBy(KeyCodegen.KeySelector<TIn, TKey>(Keys(rank)));
            if (rank.FinalOnly)
            {
                var sortOrder = Comparison<TIn>(rank.Order);
                var finalRow = OutputRow<TIn, TOut>(rank);
                var function = rank.Function;
                long low = rank.RankStart, high = rank.RankEnd;
                return keyed.Process(() => new BatchRankFunction<TIn, TKey, TOut>(sortOrder, function, low, high, finalRow), "Rank");
            }
            if (rank.IsDeduplicate)
            {
                var strategy = rank.Strategy;
                // Rowtimes compared ascending whichever row is kept.
                var byRowtime = Comparison<TIn>([(rank.Order[0].Column, false, true)]);
                var sameRow = EqualExcept<TIn>(rank.Order[0].Column, rank.Input.Schema.Count);
                long ttl = rank.StateTtlMs;
                return keyed.Process(() => new DeduplicateFunction<TIn, TKey>(strategy, byRowtime, sameRow, ttl), "Deduplicate");
            }
            if (rank.IsWindowDeduplicate)
            {
                var byRowtime = Comparison<TIn>([(rank.Order[0].Column, false, true)]);
                var windowEndOf = EpochMilliseconds<TIn>(rank.WindowEnd);
                bool keepLast = rank.Strategy == RankStrategy.WindowKeepLast;
                return keyed.Process(() => new WindowDeduplicateFunction<TIn, TKey>(keepLast, byRowtime, windowEndOf), "WindowDeduplicate");
            }
            var compare = Comparison<TIn>(rank.Order);
            var output = OutputRow<TIn, TOut>(rank);
            if (rank.Strategy == RankStrategy.WindowTopN)
            {
                var windowEnd = EpochMilliseconds<TIn>(rank.WindowEnd);
                long first = rank.RankStart, last = rank.RankEnd;
                return keyed.Process(() => new WindowTopNFunction<TIn, TKey, TOut>(compare, first, last, windowEnd, output), "WindowRank");
            }
            bool withRowNumber = rank.OutputRank || rank.RankStart > 1;
            long start = rank.RankStart, end = rank.RankEnd;
            if (rank.Strategy == RankStrategy.UpdateFastTopN)
            {
                // Flink runs rank 1 with its FastTop1Function, which keeps no row key.
                long fastTtl = rank.StateTtlMs;
                if (start == 1 && end == 1 && fastTtl > 0) return keyed.Process(() => new FastTop1WithTtlFunction<TIn, TKey, TOut>(compare, output, fastTtl), "Rank");
                if (start == 1 && end == 1) return keyed.Process(() => new FastTop1Function<TIn, TKey, TOut>(compare, output), "Rank");
                var sameRowKey = EqualOn<TIn>(rank.RowKey);
                if (fastTtl > 0)
                    return keyed.Process(() => new UpdatableTopNWithTtlFunction<TIn, TKey, TOut>(compare, sameRowKey, start, end, withRowNumber, output, fastTtl), "Rank");
                return keyed.Process(() => new UpdateFastTopNFunction<TIn, TKey, TOut>(compare, sameRowKey, start, end, withRowNumber, output), "Rank");
            }
            if (rank.Strategy == RankStrategy.RetractTopN)
            {
                var sameRow = EqualExcept<TIn>(-1, rank.Input.Schema.Count);
                long retractTtl = rank.StateTtlMs;
                if (retractTtl > 0)
                    return keyed.Process(() => new RetractableTopNWithTtlFunction<TIn, TKey, TOut>(compare, sameRow, start, end, withRowNumber, output, retractTtl), "Rank");
                return keyed.Process(() => new RetractableTopNFunction<TIn, TKey, TOut>(compare, sameRow, start, end, withRowNumber, output), "Rank");
            }
            // Flink runs a top 1 of an append-only input with its FastTop1Function too (-U/+U where AppendOnlyTopNFunction
            // would emit -D/+I), except ORDER BY one processing time ascending (its AppendOnlyFirstNFunction: later rows
            // never sort first, so AppendOnlyTopNFunction's output is the same, until a state TTL tells them apart).
            bool firstN = rank.IsFirstN;
            long topNTtl = rank.StateTtlMs;
            if (start == 1 && end == 1 && !firstN && topNTtl > 0)
                return keyed.Process(() => new FastTop1WithTtlFunction<TIn, TKey, TOut>(compare, output, topNTtl), "Rank");
            if (start == 1 && end == 1 && !firstN)
                return keyed.Process(() => new FastTop1Function<TIn, TKey, TOut>(compare, output), "Rank");
            if (topNTtl > 0)
            {
                if (firstN) return keyed.Process(() => new AppendOnlyFirstNFunction<TIn, TKey, TOut>(start, end, withRowNumber, output, topNTtl), "Rank");
                return keyed.Process(() => new AppendOnlyTopNWithTtlFunction<TIn, TKey, TOut>(compare, start, end, withRowNumber, output, topNTtl), "Rank");
            }
            return keyed.Process(() => new AppendOnlyTopNFunction<TIn, TKey, TOut>(compare, start, end, withRowNumber, output), "Rank");
        }
    }

    /// <summary>A TIMESTAMP column as milliseconds since the epoch (the window end, for the timer).</summary>
    internal static Func<T, long> EpochMilliseconds<T>(int column)
    {
        var row = LinqExpr.Parameter(typeof(T), "row");
        LinqExpr value = LinqExpr.Field(row, RowTypes.FieldOf(typeof(T), column));
        if (value.Type == typeof(DateTime?)) value = LinqExpr.Call(value, typeof(DateTime?).GetMethod(nameof(Nullable<DateTime>.GetValueOrDefault), Type.EmptyTypes)!);
        var body = LinqExpr.Call(typeof(RankTranslator).GetMethod(nameof(ToEpochMs), BindingFlags.NonPublic | BindingFlags.Static)!, value);
        return LinqExpr.Lambda<Func<T, long>>(body, row).Compile();
    }

    private static long ToEpochMs(DateTime time) => (time.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    /// <summary>
    /// Whether two rows are equal in every column but <paramref name="except"/> (the processing time, which Flink's
    /// rows carry as a placeholder until it is materialized after the deduplication; -1: every column).
    /// </summary>
    private static Func<T, T, bool> EqualExcept<T>(int except, int columns)
    {
        var a = LinqExpr.Parameter(typeof(T), "a");
        var b = LinqExpr.Parameter(typeof(T), "b");
        LinqExpr body = LinqExpr.Constant(true);
        for (int c = columns - 1; c >= 0; c--)
        {
            if (c == except) continue;
            var field = RowTypes.FieldOf(typeof(T), c);
            var comparer = typeof(EqualityComparer<>).MakeGenericType(field.FieldType);
            var equal = LinqExpr.Call(LinqExpr.Property(null, comparer, "Default"), comparer.GetMethod("Equals", [field.FieldType, field.FieldType])!,
                LinqExpr.Field(a, field), LinqExpr.Field(b, field));
            body = LinqExpr.AndAlso(equal, body);
        }
        return LinqExpr.Lambda<Func<T, T, bool>>(body, a, b).Compile();
    }

    /// <summary>Whether two rows are equal in the given columns (the unique key of an UpdateFast Top-N's input).</summary>
    internal static Func<T, T, bool> EqualOn<T>(IReadOnlyList<int> columns)
    {
        var a = LinqExpr.Parameter(typeof(T), "a");
        var b = LinqExpr.Parameter(typeof(T), "b");
        LinqExpr body = LinqExpr.Constant(true);
        for (int i = columns.Count - 1; i >= 0; i--)
        {
            var field = RowTypes.FieldOf(typeof(T), columns[i]);
            var comparer = typeof(EqualityComparer<>).MakeGenericType(field.FieldType);
            var equal = LinqExpr.Call(LinqExpr.Property(null, comparer, "Default"), comparer.GetMethod("Equals", [field.FieldType, field.FieldType])!,
                LinqExpr.Field(a, field), LinqExpr.Field(b, field));
            body = LinqExpr.AndAlso(equal, body);
        }
        return LinqExpr.Lambda<Func<T, T, bool>>(body, a, b).Compile();
    }

    /// <summary>The input row, plus the row number as the last column when the output has it.</summary>
    private static Func<TIn, long, TOut> OutputRow<TIn, TOut>(RankPlan rank)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var number = LinqExpr.Parameter(typeof(long), "rowNumber");
        if (!rank.OutputRank) return LinqExpr.Lambda<Func<TIn, long, TOut>>(row, row, number).Compile();
        var result = LinqExpr.Variable(typeof(TOut), "result");
        var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))) };
        for (int c = 0; c < rank.Input.Schema.Count; c++)
            body.Add(LinqExpr.Assign(LinqExpr.Field(result, RowTypes.FieldOf(typeof(TOut), c)), LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), c))));
        body.Add(LinqExpr.Assign(LinqExpr.Field(result, RowTypes.FieldOf(typeof(TOut), rank.Input.Schema.Count)), number));
        body.Add(result);
        return LinqExpr.Lambda<Func<TIn, long, TOut>>(LinqExpr.Block([result], body), row, number).Compile();
    }

    /// <summary>
    /// The ORDER BY as one compiled comparison: typed per column (no boxing), NULLs first or last as ordered, strings
    /// by ordinal (as Flink's binary string comparison).
    /// </summary>
    internal static Comparison<T> Comparison<T>(IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> order)
    {
        var a = LinqExpr.Parameter(typeof(T), "a");
        var b = LinqExpr.Parameter(typeof(T), "b");
        var c = LinqExpr.Variable(typeof(int), "c");
        var ret = LinqExpr.Label(typeof(int));
        var body = new List<LinqExpr>();
        foreach (var (column, descending, nullsFirst) in order)
        {
            var field = RowTypes.FieldOf(typeof(T), column);
            var type = field.FieldType;
            MethodInfo method;
            if (type == typeof(string)) method = typeof(RankTranslator).GetMethod(nameof(CompareStrings), BindingFlags.NonPublic | BindingFlags.Static)!;
            else if (Nullable.GetUnderlyingType(type) is { } underlying)
                method = typeof(RankTranslator).GetMethod(nameof(CompareNullable), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(underlying);
            else if (type.IsValueType) method = typeof(RankTranslator).GetMethod(nameof(CompareValues), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
            else method = typeof(RankTranslator).GetMethod(nameof(CompareObjects), BindingFlags.NonPublic | BindingFlags.Static)!;
            var args = new List<LinqExpr> { LinqExpr.Field(a, field), LinqExpr.Field(b, field) };
            if (method.GetParameters().Length == 4) { args.Add(LinqExpr.Constant(descending)); args.Add(LinqExpr.Constant(nullsFirst)); }
            else args.Add(LinqExpr.Constant(descending));
            if (method.GetParameters()[0].ParameterType != type) args[0] = LinqExpr.Convert(args[0], method.GetParameters()[0].ParameterType);
            if (method.GetParameters()[1].ParameterType != type) args[1] = LinqExpr.Convert(args[1], method.GetParameters()[1].ParameterType);
            body.Add(LinqExpr.Assign(c, LinqExpr.Call(method, args)));
            body.Add(LinqExpr.IfThen(LinqExpr.NotEqual(c, LinqExpr.Constant(0)), LinqExpr.Return(ret, c)));
        }
        body.Add(LinqExpr.Label(ret, LinqExpr.Constant(0)));
        return LinqExpr.Lambda<Comparison<T>>(LinqExpr.Block([c], body), a, b).Compile();
    }

    private static int CompareValues<TValue>(TValue x, TValue y, bool descending)
    {
        int c = Comparer<TValue>.Default.Compare(x, y);
        return descending ? -c : c;
    }

    private static int CompareNullable<TValue>(TValue? x, TValue? y, bool descending, bool nullsFirst) where TValue : struct
    {
        if (!x.HasValue || !y.HasValue) return x.HasValue == y.HasValue ? 0 : !x.HasValue == nullsFirst ? -1 : 1;
        int c = Comparer<TValue>.Default.Compare(x.GetValueOrDefault(), y.GetValueOrDefault());
        return descending ? -c : c;
    }

    private static int CompareStrings(string? x, string? y, bool descending, bool nullsFirst)
    {
        if (x is null || y is null) return x is null && y is null ? 0 : (x is null) == nullsFirst ? -1 : 1;
        int c = string.CompareOrdinal(x, y);
        return descending ? -c : c;
    }

    private static int CompareObjects(object? x, object? y, bool descending, bool nullsFirst)
    {
        if (x is null || y is null) return x is null && y is null ? 0 : (x is null) == nullsFirst ? -1 : 1;
        int c = Comparer<object>.Default.Compare(x, y);
        return descending ? -c : c;
    }
}
