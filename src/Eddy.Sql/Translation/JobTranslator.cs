using System.Linq.Expressions;
using System.Reflection;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Codegen;
using Eddy.Sql.Connectors;
using Eddy.Sql.Operators;
using Eddy.Sql.Planning;
using Eddy.Windows;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Translation;

/// <summary>
/// Turns logical plans into a job on the typed runtime: every relation becomes a <see cref="DataStream{T}"/> of a
/// row struct made for its schema, every expression a compiled delegate, every aggregation the runtime's window
/// or keyed operators. Scans of one table within a job are read once and shared.
/// </summary>
public sealed partial class JobTranslator(StreamEnvironment env, ConnectorContext connectors)
{
    private readonly Dictionary<TableDef, object> scans = new(ReferenceEqualityComparer.Instance);

    public StreamEnvironment Environment => env;

    /// <summary>
    /// Batch mode (<c>execution.runtime-mode</c> = 'batch'): as in Flink, watermarks are ignored: rows keep their event
    /// times, no row is late, and every window fires at the end of the input.
    /// </summary>
    public bool BatchMode { get; init; }

    /// <summary>Adds a sink plan (and everything it reads) to the job.</summary>
    public void AddSink(SinkPlan sink)
    {
        var input = Translate(sink.Input);
        Invoke(nameof(TranslateSink), [RowTypes.For(sink.Input.Schema)], input, sink);
    }

    /// <summary>Adds a query whose rows go to <paramref name="sink"/> as generic rows (queries run from the CLI or tests).</summary>
    public void AddQuery(LogicalPlan plan, Sink<Row> sink, string name)
    {
        var input = Translate(plan);
        Invoke(nameof(ToRowSink), [RowTypes.For(plan.Schema)], input, plan.Schema, sink, name);
    }

    private object Translate(LogicalPlan plan)
    {
        DeepStack.Ensure();
        var rowType = RowTypes.For(plan.Schema);
        // Remote calls run in an async operator between two Calcs (see AsyncLookupSplit).
        if (plan is CalcPlan withRemote && AsyncLookupSplit.TrySplit(withRemote) is { } split) return Translate(split);
        // A Calc over a Calc runs as one (and may then fuse with a scan or aggregation below).
        if (plan is CalcPlan outer && CalcMerge.TryMerge(outer) is { } merged) return Translate(merged);
        switch (plan)
        {
            case CalcPlan { Input: ScanPlan fusedScan } fusedCalc when scanUses.GetValueOrDefault(fusedScan.Table) == 1:
                // The only reader of this table: the scan's loop evaluates the Calc (no batch of scan rows in between).
                return Invoke(nameof(TranslateScan), [RowTypes.For(fusedScan.Decoded), RowTypes.For(fusedScan.Schema), rowType], fusedScan, fusedCalc, null, false);
            case ScanPlan scan:
                if (!scans.TryGetValue(scan.Table, out var stream))
                {
                    stream = Invoke(nameof(TranslateScan), [RowTypes.For(scan.Decoded), rowType, rowType], scan, null, null, false);
                    scans[scan.Table] = stream;
                }
                return stream;
            case CalcPlan { Filter: null, Input: AggregatePlan { Window: not null } windowAgg } calc:
            {
                // The projection over a window aggregation runs inside its result builder (see ResultBuilder).
                var compiler = new AggregateCompiler(windowAgg.Aggregates);
                var accType = compiler.IsCountStarOnly ? typeof(long) : compiler.AccumulatorType;
                var input = TranslateAggregateInput(windowAgg, out var inputType);
                return Invoke(nameof(TranslateWindowAggregate), [inputType, KeyType(windowAgg.Keys), accType, rowType],
                    input, windowAgg, compiler, calc);
            }
            case CalcPlan calc:
                return Invoke(nameof(TranslateCalc), [RowTypes.For(calc.Input.Schema), rowType], Translate(calc.Input), calc);
            case AggregatePlan agg:
            {
                var input = TranslateAggregateInput(agg, out var inputType);
                var keyType = KeyType(agg.Keys);
                var compiler = new AggregateCompiler(agg.Aggregates);
                string method = agg.Window is null ? nameof(TranslateGroupAggregate) : nameof(TranslateWindowAggregate);
                // A windowed lone COUNT(*) counts into a plain long (see TranslateWindowAggregate).
                var accType = agg.Window is not null && compiler.IsCountStarOnly ? typeof(long) : compiler.AccumulatorType;
                object?[] args = agg.Window is null ? [input, agg, compiler] : [input, agg, compiler, null];
                return Invoke(method, [inputType, keyType, accType, rowType], args);
            }
            case AsyncLookupPlan lookup:
                return Invoke(nameof(TranslateAsyncLookup), [RowTypes.For(lookup.Input.Schema), rowType], Translate(lookup.Input), lookup);
            case LookupJoinPlan lookupJoin:
                return TranslateLookupJoinPlan(lookupJoin);
            case CorrelatePlan correlate:
            {
                var element = UserFunctions.TableElementType(correlate.Function.Method)!;
                return Invoke(nameof(TranslateCorrelate), [RowTypes.For(correlate.Input.Schema), element, rowType], Translate(correlate.Input), correlate);
            }
            case UnionPlan union:
                return Invoke(nameof(TranslateUnion), [rowType], union.Parts.Select(Translate).ToList());
            case ValuesPlan values:
                return Invoke(nameof(TranslateValues), [rowType], values);
            case SortLimitPlan sort:
                return Invoke(nameof(TranslateSort), [rowType], Translate(sort.Input), sort);
            default:
                throw new NotSupportedException($"cannot run {plan.GetType().Name} yet");
        }
    }

    /// <summary>
    /// The input stream of an aggregation, and its row type. A window aggregation reading a scan that nothing else
    /// reads (window time comes from the records' timestamps) has the scan compute only the columns it reads: when
    /// those are physical columns, it reads the connector's rows as they are (same column indexes); over a Calc
    /// (e.g. a window TVF's projection) fused with the scan, the Calc computes only those columns.
    /// </summary>
    private object TranslateAggregateInput(AggregatePlan agg, out Type inputType)
    {
        var aggInput = agg.Input;
        while (aggInput is CalcPlan c && CalcMerge.TryMerge(c) is { } m) aggInput = m;
        inputType = RowTypes.For(agg.Input.Schema);
        // Late rows go to their table whole: the input keeps every column (no narrowing to what the aggregation reads).
        if (agg.Window is not { } window || agg.LateData is not null) return Translate(aggInput);
        if (aggInput is ScanPlan scan && scanUses.GetValueOrDefault(scan.Table) == 1 && window.TimeColumn == scan.RowtimeIndex)
        {
            var readers = AggregateReaders(agg);
            var used = ExpressionCompiler.ReferencedColumns(scan.Schema.Count, readers, null);
            bool narrow = used.Select((u, c) => !u || (c < scan.Decoded.Count && scan.Projections[c] is InputRef r && r.Index == c
                && scan.Decoded[c].Type == scan.Schema[c].Type)).All(x => x);
            if (narrow) inputType = RowTypes.For(scan.Decoded);
            return Invoke(nameof(TranslateScan), [RowTypes.For(scan.Decoded), inputType, inputType], scan, null, readers, narrow);
        }
        if (aggInput is CalcPlan { Input: ScanPlan calcScan } calc && scanUses.GetValueOrDefault(calcScan.Table) == 1
            && calc.Projections[window.TimeColumn] is InputRef { Index: var timeIndex } && timeIndex == calcScan.RowtimeIndex)
        {
            return Invoke(nameof(TranslateScan), [RowTypes.For(calcScan.Decoded), RowTypes.For(calcScan.Schema), inputType],
                calcScan, calc, AggregateReaders(agg), false);
        }
        return Translate(aggInput);
    }

    private object Invoke(string method, Type[] typeArguments, params object?[] args)
    {
        var m = typeof(JobTranslator).GetMethod(method, BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)!.MakeGenericMethod(typeArguments);
        try
        {
            return m.Invoke(this, args)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>
    /// Reads <paramref name="scan"/>'s table into rows of <typeparamref name="TScan"/>, or, with
    /// <paramref name="calc"/> (the filter and projection right above a scan that nothing else reads), straight into
    /// the Calc's rows <typeparamref name="TRow"/>: then the source's conversion loop evaluates the Calc too.
    /// </summary>
    private DataStream<TRow> TranslateScan<TDecoded, TScan, TRow>(ScanPlan scan, CalcPlan? calc, IReadOnlyList<BoundExpr>? readers, bool narrow)
    {
        var connector = TableConnectors.Find(scan.Table);
        bool identity = typeof(TDecoded) == typeof(TScan) && scan.Projections.Select((p, i) => p is InputRef r && r.Index == i).All(x => x);
        // Narrow: the only reader reads physical columns only, so it reads the decoded rows themselves; the rowtime
        // (maybe computed) is evaluated over them for the records' timestamps.
        var projections = identity || narrow ? null : scan.Projections;
        var rowtimeOverInput = narrow && !identity && scan.RowtimeIndex is { } nrt ? scan.Projections[nrt] : null;
        int? rowtime = scan.RowtimeIndex;
        string rowtimeName = rowtime is { } rtc ? $"{scan.Table.Name}.{scan.Schema[rtc].Name}" : "";
        (IReadOnlyList<BoundExpr>, BoundExpr?, Schema)? fusedCalc = calc is null ? null : (calc.Projections, calc.Filter, calc.Schema);
        Source<TRow> rows;
        // Converting sources write event times in their loop; only a connector's own rows need an assigner.
        bool converted = true;
        if (connector is ITypedTableConnector typed && typed.CreateTypedSource<TDecoded>(scan.Table, scan.Decoded, connectors) is { } direct)
        {
            // The connector makes row structs itself: no generic row, no boxing per record.
            if (projections is null && calc is null && rowtimeOverInput is null)
            {
                rows = (Source<TRow>)(object)direct;
                converted = false;
            }
            else
            {
                var convert = ExpressionCompiler.CompileConvertBatch<TDecoded, TDecoded, TScan, TRow>(projections, scan.Schema, null, rowtime, rowtimeName, EventTimeOf, fusedCalc, readers, rowtimeOverInput);
                rows = new ConvertingSource<TDecoded, TRow>(direct, convert);
            }
        }
        else
        {
            var source = connector.CreateSource(scan.Table, scan.Decoded, connectors);
            var fromRow = RowTypes.FromRow<TDecoded>(scan.Decoded);
            var convert = ExpressionCompiler.CompileConvertBatch<Row, TDecoded, TScan, TRow>(projections, scan.Schema, fromRow, rowtime, rowtimeName, EventTimeOf, fusedCalc, readers, rowtimeOverInput);
            rows = new ConvertingSource<Row, TRow>(source, convert);
        }
        var strategy = WatermarkStrategy<TRow>.NoWatermarks();
        if (rowtime is { } rt)
        {
            var assigner = converted ? null : RowtimeOf<TRow>(rt, scan.Schema[rt].Name, scan.Table.Name);
            // Batch mode: event times without watermarks; the input's end (the final watermark) closes every window.
            // SQL's watermark is max(rowtime) - delay (no extra millisecond as in the DataStream API's bound).
            strategy = BatchMode
                ? strategy with { TimestampAssigner = assigner }
                : new WatermarkStrategy<TRow>
                {
                    Kind = WatermarkKind.BoundedOutOfOrderness,
                    OutOfOrdernessMs = scan.WatermarkDelayMs!.Value - 1,
                    TimestampAssigner = assigner,
                };
        }
        return env.FromSource(rows, strategy, $"Source: {scan.Table.Name}");
    }

    /// <summary>Every expression an aggregation evaluates over its input rows.</summary>
    private static List<BoundExpr> AggregateReaders(AggregatePlan agg)
    {
        var readers = new List<BoundExpr>(agg.Keys);
        foreach (var call in agg.Aggregates)
        {
            if (call.Argument is not null) readers.Add(call.Argument);
            if (call.Filter is not null) readers.Add(call.Filter);
        }
        return readers;
    }

    /// <summary>How many times each table is scanned by the plans of this job (see <see cref="Prepare"/>).</summary>
    private readonly Dictionary<TableDef, int> scanUses = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Tells the translator every plan of the job before any is added, so that a scan read by only one query can
    /// take that query's filter and projection into its conversion loop (a shared scan cannot).
    /// </summary>
    public void Prepare(IEnumerable<LogicalPlan> plans)
    {
        void Count(LogicalPlan plan)
        {
            if (plan is ScanPlan scan) scanUses[scan.Table] = scanUses.GetValueOrDefault(scan.Table) + 1;
            foreach (var input in plan.Inputs) Count(input);
        }
        foreach (var plan in plans) Count(plan);
    }

    /// <summary>The epoch-ms event time of a rowtime value (of any of its representations), failing on NULL.</summary>
    private static LinqExpr EventTimeOf(LinqExpr value, string column)
    {
        var method = typeof(JobTranslator).GetMethod(nameof(ToEventTime), BindingFlags.NonPublic | BindingFlags.Static, [value.Type, typeof(string)])!;
        return LinqExpr.Call(method, value, LinqExpr.Constant(column));
    }

    /// <summary>Reads a rowtime field as epoch ms; a NULL rowtime fails the job with the column named, as Flink does.</summary>
    private static Func<TRow, long> RowtimeOf<TRow>(int column, string name, string table)
    {
        var row = LinqExpr.Parameter(typeof(TRow), "row");
        var field = LinqExpr.Field(row, RowTypes.FieldOf(typeof(TRow), column));
        return LinqExpr.Lambda<Func<TRow, long>>(EventTimeOf(field, $"{table}.{name}"), row).Compile();
    }

    // NOT NULL rowtimes: no test. (The column name is unused but keeps the overloads alike for EventTimeOf.)
    private static long ToEventTime(DateTime value, string column) => EventTime.FromDateTime(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static long ToEventTime(DateTimeOffset value, string column) => value.ToUnixTimeMilliseconds();

    private static long ToEventTime(DateTime? value, string column) =>
        value is { } v ? EventTime.FromDateTime(DateTime.SpecifyKind(v, DateTimeKind.Utc))
            : throw new InvalidDataException($"the rowtime column '{column}' is NULL: event time must be known for every row (filter or COALESCE it)");

    private static long ToEventTime(DateTimeOffset? value, string column) =>
        value is { } v ? v.ToUnixTimeMilliseconds()
            : throw new InvalidDataException($"the rowtime column '{column}' is NULL: event time must be known for every row (filter or COALESCE it)");

    private DataStream<TOut> TranslateCalc<TIn, TOut>(DataStream<TIn> input, CalcPlan calc)
    {
        var function = ExpressionCompiler.CompileBatchFunction<TIn, TOut>(calc.Projections, calc.Filter, calc.Schema);
        return input.Transform("Calc", () => new CalcOperator<TIn, TOut>(function));
    }

    private static Type KeyType(IReadOnlyList<BoundExpr> keys)
    {
        var types = keys.Select(KeyFieldType).ToArray();
        return types.Length switch
        {
            0 => typeof(ValueTuple),
            // One NOT NULL key hashes as its plain type, with no tuple around it (as a typed job's KeyBy(e => e.Key)).
            1 when IsPlainKey(keys) => types[0],
            > 7 => throw new NotSupportedException("Eddy groups by at most 7 keys"),
            _ => Type.GetType($"System.ValueTuple`{types.Length}")!.MakeGenericType(types),
        };
    }

    /// <summary>NOT NULL keys hash and compare as their plain CLR type; nullable ones as their nullable representation.</summary>
    private static Type KeyFieldType(BoundExpr key) => key.Type.Nullable ? ExpressionCompiler.ValueType(key.Type) : key.Type.ClrType;

    /// <summary>A single NOT NULL key is its own key type (never null: dictionaries accept it).</summary>
    private static bool IsPlainKey(IReadOnlyList<BoundExpr> keys) => keys.Count == 1 && !keys[0].Type.Nullable;

    private static Func<TIn, TKey> KeySelector<TIn, TKey>(IReadOnlyList<BoundExpr> keys)
    {
        // A NOT NULL column as the key: an emitted field getter, which the operators' JIT can inline.
        if (IsPlainKey(keys) && keys[0] is InputRef keyColumn && RowTypes.FieldOf(typeof(TIn), keyColumn.Index).FieldType == typeof(TKey))
            return RowTypes.FieldGetter<TIn, TKey>(keyColumn.Index);
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        LinqExpr body = keys.Count == 0
            ? LinqExpr.Default(typeof(TKey))
            : IsPlainKey(keys) ? ExpressionCompiler.CompileRaw(keys[0], row) is var raw && raw.Type == typeof(TKey) ? raw : LinqExpr.Convert(raw, typeof(TKey))
            : LinqExpr.New(typeof(TKey).GetConstructors()[0], keys.Select(k =>
            {
                var value = ExpressionCompiler.CompileRaw(k, row);
                var type = KeyFieldType(k);
                return value.Type == type ? value : LinqExpr.Convert(value, type);
            }));
        return LinqExpr.Lambda<Func<TIn, TKey>>(body, row).Compile();
    }

    /// <summary>
    /// Builds the output row of an aggregation: keys, window columns (when windowed), aggregate results. With
    /// <paramref name="then"/> (a projection without filter right above the aggregation) the builder also applies its
    /// projections, so that <typeparamref name="TOut"/> is the projection's row: one function per result instead of a
    /// result row, a batch and another pass.
    /// </summary>
    private static LambdaExpression ResultBuilder<TKey, TAcc, TOut>(AggregatePlan plan, AggregateCompiler compiler, bool windowed, CalcPlan? then = null)
    {
        var key = LinqExpr.Parameter(typeof(TKey), "key");
        var window = LinqExpr.Parameter(typeof(TimeWindow), "window");
        var acc = LinqExpr.Parameter(typeof(TAcc), "acc");
        var rowType = then is null ? typeof(TOut) : RowTypes.For(plan.Schema);
        var result = LinqExpr.Variable(rowType, "result");
        var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(rowType)) };
        int column = 0;
        // With a projection above, only the columns it reads are computed (the others stay default in the local row).
        var needed = then is null ? null : ExpressionCompiler.ReferencedColumns(plan.Schema.Count, then.Projections, null);
        void Set(LinqExpr value)
        {
            if (needed is not null && !needed[column])
            {
                column++;
                return;
            }
            var field = RowTypes.FieldOf(rowType, column++);
            body.Add(LinqExpr.Assign(LinqExpr.Field(result, field), value.Type == field.FieldType ? value : LinqExpr.Convert(value, field.FieldType)));
        }
        if (IsPlainKey(plan.Keys)) Set(key);
        else for (int k = 0; k < plan.Keys.Count; k++) Set(LinqExpr.Field(key, $"Item{k + 1}"));
        if (windowed)
        {
            var toDateTime = typeof(EventTime).GetMethod(nameof(EventTime.ToDateTime))!;
            DateTimeFromMs(LinqExpr.Property(window, nameof(TimeWindow.Start)));
            DateTimeFromMs(LinqExpr.Property(window, nameof(TimeWindow.End)));
            DateTimeFromMs(LinqExpr.Property(window, nameof(TimeWindow.MaxTimestamp)));
            void DateTimeFromMs(LinqExpr ms) => Set(LinqExpr.Call(typeof(JobTranslator).GetMethod(nameof(WallClock), BindingFlags.NonPublic | BindingFlags.Static)!, ms));
        }
        for (int a = 0; a < plan.Aggregates.Count; a++) Set(compiler.Result(a, acc));
        var variables = new List<ParameterExpression> { result };
        if (then is null)
        {
            body.Add(result);
        }
        else
        {
            var projected = LinqExpr.Variable(typeof(TOut), "projected");
            variables.Add(projected);
            body.Add(LinqExpr.Assign(projected, LinqExpr.Default(typeof(TOut))));
            for (int c = 0; c < then.Projections.Count; c++)
            {
                var field = RowTypes.FieldOf(typeof(TOut), c);
                body.Add(LinqExpr.Assign(LinqExpr.Field(projected, field),
                    ExpressionCompiler.CompileField(then.Projections[c], result, field.FieldType, then.Schema[c].Name)));
            }
            body.Add(projected);
        }
        var block = LinqExpr.Block(variables, body);
        return windowed
            ? LinqExpr.Lambda<Func<TKey, TimeWindow, TAcc, TOut>>(block, key, window, acc)
            : LinqExpr.Lambda<Func<TKey, TAcc, TOut>>(block, key, acc);
    }

    // Straight from ticks: this runs three times per window result.
    private static DateTime WallClock(long ms) => new(DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Unspecified);

    private DataStream<TOut> TranslateWindowAggregate<TIn, TKey, TAcc, TOut>(DataStream<TIn> input, AggregatePlan plan, AggregateCompiler compiler, CalcPlan? then)
        where TKey : notnull
    {
        var keySelector = KeySelector<TIn, TKey>(plan.Keys);
        var build = (Func<TKey, TimeWindow, TAcc, TOut>)ResultBuilder<TKey, TAcc, TOut>(plan, compiler, windowed: true, then).Compile();
        var w = plan.Window!;
        var size = TimeSpan.FromMilliseconds(w.Size);
        var offset = TimeSpan.FromMilliseconds(w.Offset);
        WindowAssigner<TimeWindow> assigner = w.ProcessingTime ? w.Kind switch
        {
            WindowKind.Tumble => TumblingProcessingTimeWindows.Of(size, offset),
            WindowKind.Hop => SlidingProcessingTimeWindows.Of(size, TimeSpan.FromMilliseconds(w.Slide), offset),
            _ => throw new NotSupportedException($"{w.Kind} windows on processing time"),
        } : w.Kind switch
        {
            WindowKind.Tumble => TumblingEventTimeWindows.Of(size, offset),
            WindowKind.Hop => SlidingEventTimeWindows.Of(size, TimeSpan.FromMilliseconds(w.Slide), offset),
            WindowKind.Cumulate => CumulativeEventTimeWindows.Of(size, TimeSpan.FromMilliseconds(w.Slide), offset),
            _ => EventTimeSessionWindows.WithGap(TimeSpan.FromMilliseconds(w.Gap)),
        };
        var windowed = input.KeyBy(keySelector).Window(assigner);
        if (!w.ProcessingTime && plan.AllowedLatenessMs > 0) windowed.AllowedLateness(TimeSpan.FromMilliseconds(plan.AllowedLatenessMs));
        OutputTag<TIn>? lateTag = null;
        if (!w.ProcessingTime && plan.LateData is { } late)
        {
            lateTag = new OutputTag<TIn>($"late-data:{late.Table.Name}");
            windowed.SideOutputLateData(lateTag);
        }
        string name = $"WindowAggregate({w})";
        DataStream<TOut> result;
        if (typeof(TAcc) == typeof(long))
        {
            // COUNT(*) alone: the runtime's counting struct, inlined by the operator as in a typed job's Count().
            var count = (Func<TKey, TimeWindow, long, TOut>)(object)build;
            result = windowed.Aggregate<CountAggregate<TIn>, long, long, TOut>(default, count, name);
        }
        else
        {
            result = windowed.Aggregate<CompiledAggregate<TIn, TAcc>, TAcc, TAcc, TOut>(compiler.Compile<TIn, TAcc>(), build, name);
        }
        if (lateTag is not null) AddLateDataSink(result.GetSideOutput(lateTag), plan);
        return result;
    }

    /// <summary>The late rows of a window aggregation, projected onto its late-data table's columns, into that table.</summary>
    private void AddLateDataSink<TIn>(DataStream<TIn> lateRows, AggregatePlan plan)
    {
        var late = plan.LateData!;
        var schema = late.Table.SinkSchema;
        var calc = new CalcPlan(plan.Input, late.Projections, null, schema, null);
        var rowType = RowTypes.For(schema);
        var projected = Invoke(nameof(TranslateCalc), [typeof(TIn), rowType], lateRows, calc);
        Invoke(nameof(TranslateSink), [rowType], projected, new SinkPlan(late.Table, calc));
    }

    private DataStream<TOut> TranslateGroupAggregate<TIn, TKey, TAcc, TOut>(DataStream<TIn> input, AggregatePlan plan, AggregateCompiler compiler)
        where TKey : notnull
    {
        var keySelector = KeySelector<TIn, TKey>(plan.Keys);
        var aggregate = compiler.Compile<TIn, TAcc>();
        var build = (Func<TKey, TAcc, TOut>)ResultBuilder<TKey, TAcc, TOut>(plan, compiler, windowed: false).Compile();
        bool updates = plan.Aggregates.Count > 0;
        return input.KeyBy(keySelector).Process(() => new GroupAggregateFunction<TIn, TKey, TAcc, TOut>(aggregate, build, updates, finalOnly: plan.FinalOnly),
            updates ? "GroupAggregate" : "Distinct");
    }

    private static DataStream<TOut> TranslateCorrelate<TIn, TElem, TOut>(DataStream<TIn> input, CorrelatePlan plan)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var f = plan.Function;
        var parameters = f.Method.GetParameters();
        var args = parameters.Select((p, i) =>
        {
            var value = ExpressionCompiler.Compile(f.Args[i], row);
            return value.Type == p.ParameterType ? value : (LinqExpr)LinqExpr.Convert(value, p.ParameterType);
        }).ToArray();
        LinqExpr invoke = f.Method.IsStatic ? LinqExpr.Call(f.Method, args) : LinqExpr.Call(LinqExpr.Constant(f.Target, f.Method.DeclaringType!), f.Method, args);
        var call = LinqExpr.Lambda<Func<TIn, IEnumerable<TElem>?>>(LinqExpr.Convert(invoke, typeof(IEnumerable<TElem>)), row).Compile();

        var element = LinqExpr.Parameter(typeof(TElem), "element");
        var result = LinqExpr.Variable(typeof(TOut), "result");
        LambdaExpression Builder(bool withElement)
        {
            var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))) };
            int leftCount = plan.Input.Schema.Count;
            for (int i = 0; i < leftCount; i++)
                body.Add(LinqExpr.Assign(LinqExpr.Field(result, RowTypes.FieldOf(typeof(TOut), i)), LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), i))));
            if (withElement)
            {
                var columns = UserFunctions.TableColumns(typeof(TElem));
                for (int c = 0; c < columns.Count; c++)
                {
                    var field = RowTypes.FieldOf(typeof(TOut), leftCount + c);
                    LinqExpr value = columns[c].Member switch
                    {
                        FieldInfo fi => LinqExpr.Field(element, fi),
                        PropertyInfo pi => LinqExpr.Property(element, pi),
                        _ => element,
                    };
                    body.Add(LinqExpr.Assign(LinqExpr.Field(result, field), value.Type == field.FieldType ? value : LinqExpr.Convert(value, field.FieldType)));
                }
            }
            body.Add(result);
            var block = LinqExpr.Block([result], body);
            return withElement ? LinqExpr.Lambda<Func<TIn, TElem, TOut>>(block, row, element) : LinqExpr.Lambda<Func<TIn, TOut>>(block, row);
        }
        var build = (Func<TIn, TElem, TOut>)Builder(true).Compile();
        var empty = plan.LeftOuter ? (Func<TIn, TOut>)Builder(false).Compile() : null;
        return input.Transform("Correlate", () => new CorrelateOperator<TIn, TElem, TOut>(call, build, empty));
    }

    private static DataStream<T> TranslateUnion<T>(List<object> parts)
    {
        var streams = parts.Cast<DataStream<T>>().ToList();
        return streams[0].Union([.. streams.Skip(1)]);
    }

    private DataStream<T> TranslateValues<T>(ValuesPlan values)
    {
        var fromRow = RowTypes.FromRow<T>(values.Schema);
        var rows = values.Rows.Select(r => fromRow(new Row(RowKind.Insert, r))).ToList();
        return env.FromCollection(rows, name: "Values").SetParallelism(1);
    }

    private static DataStream<T> TranslateSort<T>(DataStream<T> input, SortLimitPlan sort)
    {
        var comparer = sort.Order.Count == 0 ? null : RowComparer<T>(sort.Order);
        return input.Rebalance().Transform("SortLimit", () => new SortLimitOperator<T>(comparer, sort.Limit, sort.Offset), parallelism: 1);
    }

    private static IComparer<T> RowComparer<T>(IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> order)
    {
        var getters = order.Select(o =>
        {
            var row = LinqExpr.Parameter(typeof(T), "row");
            var field = LinqExpr.Field(row, RowTypes.FieldOf(typeof(T), o.Column));
            return (Get: LinqExpr.Lambda<Func<T, object?>>(LinqExpr.Convert(field, typeof(object)), row).Compile(), o.Descending, o.NullsFirst);
        }).ToList();
        return Comparer<T>.Create((a, b) =>
        {
            foreach (var (get, desc, nullsFirst) in getters)
            {
                var x = get(a);
                var y = get(b);
                int c;
                if (x is null || y is null) c = x is null && y is null ? 0 : (x is null) == nullsFirst ? -1 : 1;
                else
                {
                    c = x is string sx ? string.CompareOrdinal(sx, (string)y) : Comparer<object>.Default.Compare(x, y);
                    if (desc) c = -c;
                }
                if (c != 0) return c;
            }
            return 0;
        });
    }

    private object TranslateSink<TRow>(DataStream<TRow> input, SinkPlan sink)
    {
        int? sinkParallelism = null;
        if (sink.Table.Options.TryGetValue("sink.parallelism", out var p))
        {
            if (!int.TryParse(p, out int parallelism) || parallelism < 1)
                throw new ConnectorOptionException(sink.Table.Name, "sink.parallelism", $"expected a positive whole number, got '{p}'");
            sinkParallelism = parallelism;
        }
        // As Flink does for a sink with its own parallelism and a primary key: the input is hashed by the key, so each
        // key's changes reach one subtask, in order (a rebalance would let two subtasks apply them out of order).
        if (sinkParallelism is not null && sink.Table.PrimaryKey.Count > 0)
        {
            var keys = sink.Table.PrimaryKey.Select(name =>
            {
                int i = sink.Table.SinkSchema.RequireIndex(name);
                var column = sink.Input.Schema[i];
                return (BoundExpr)new InputRef(i, column.Name, column.Type);
            }).ToList();
            input = (DataStream<TRow>)Invoke(nameof(KeyBySinkKey), [typeof(TRow), KeyType(keys)], input, keys);
        }
        var connector = TableConnectors.Find(sink.Table);
        var name = $"Sink: {sink.Table.Name}";
        var stream = connector is ITypedTableConnector typed && typed.CreateTypedSink<TRow>(sink.Table, sink.Table.SinkSchema, connectors) is { } direct
            ? input.SinkTo(direct, name)
            : ToRowSink(input, sink.Table.SinkSchema, connector.CreateSink(sink.Table, sink.Table.SinkSchema, connectors), name);
        if (sinkParallelism is { } n) stream.SetParallelism(n);
        return stream;
    }

    private static DataStream<TRow> KeyBySinkKey<TRow, TKey>(DataStream<TRow> input, IReadOnlyList<BoundExpr> keys) where TKey : notnull =>
        input.KeyBy(KeySelector<TRow, TKey>(keys));

    private static DataStream<NoOutput> ToRowSink<TRow>(DataStream<TRow> input, Schema schema, Sink<Row> sink, string name)
    {
        var toRow = RowTypes.ToRow<TRow>(schema);
        return input.SinkTo(new RowConvertingSink<TRow>(sink, toRow), name);
    }
}

/// <summary>Feeds a row-based connector sink from a stream of row structs, keeping each record's kind.</summary>
public sealed class RowConvertingSink<T>(Sink<Row> inner, Func<T, RowKind, Row> toRow) : Sink<T>
{
    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(inner.CreateWriter(context), toRow);

    // The conversion holds nothing: a checkpoint and its commit are the wrapped writer's (an exactly-once sink's
    // staged transaction), not a flush.
    private sealed class Writer(SinkWriter<Row> writer, Func<T, RowKind, Row> toRow) : ForwardingSinkWriter<T, Row>(writer)
    {
        public override void Write(Batch<T> batch)
        {
            var rows = BatchPool<Row>.Rent();
            for (int i = 0; i < batch.Count; i++)
            {
                var kind = batch.KindAt(i);
                rows.Add(toRow(batch.Values[i], kind), batch.Timestamps[i], kind);
            }
            Inner.Write(rows);
            BatchPool<Row>.Return(rows);
        }
    }
}
