using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Connectors;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Scan;

/// <summary>A table's rows from its connector, converted to row structs (and maybe filtered and projected) in the source's loop.</summary>
internal static class ScanTranslator
{
    /// <summary>A plain scan: shared by every reader of the table in the job (the table is read once).</summary>
    public static object Translate(ScanPlan scan, JobTranslator job)
    {
        var row = RowTypes.For(scan.Schema);
        return job.SharedScan(scan.Table, () => Read(job, scan, null, null, false, row, row));
    }

    /// <summary>
    /// Reads <paramref name="scan"/>'s table into rows of <paramref name="scanRow"/>, or, with <paramref name="calc"/>
    /// (the filter and projection right above a scan that nothing else reads), straight into the Calc's rows
    /// <paramref name="outputRow"/>: then the source's conversion loop evaluates the Calc too.
    /// </summary>
    public static object Read(JobTranslator job, ScanPlan scan, CalcPlan? calc, IReadOnlyList<BoundExpr>? readers, bool narrow, Type scanRow, Type outputRow) =>
        TypedStep.Make<IStep>(typeof(Step<,,>), RowTypes.For(scan.Decoded), scanRow, outputRow).Read(job, scan, calc, readers, narrow);

    private interface IStep
    {
        object Read(JobTranslator job, ScanPlan scan, CalcPlan? calc, IReadOnlyList<BoundExpr>? readers, bool narrow);
    }

    private sealed class Step<TDecoded, TScan, TRow> : IStep
    {
        public object Read(JobTranslator job, ScanPlan scan, CalcPlan? calc, IReadOnlyList<BoundExpr>? readers, bool narrow) =>
            TranslateScan<TDecoded, TScan, TRow>(job, scan, calc, readers, narrow);
    }

    private static DataStream<TRow> TranslateScan<TDecoded, TScan, TRow>(JobTranslator job, ScanPlan scan, CalcPlan? calc, IReadOnlyList<BoundExpr>? readers, bool narrow)
    {
        var connector = job.Registry.Find(scan.Table);
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
        var direct = scan.Nested is { } nested
            ? ((INestedProjectionConnector)connector).CreateProjectedSource<TDecoded>(scan.Table, nested.Physical, nested.Paths, job.Connectors)
                ?? throw new InvalidOperationException($"connector '{connector.Name}' refused the projected source it offers")
            : connector is ITypedTableConnector typed ? typed.CreateTypedSource<TDecoded>(scan.Table, scan.Decoded, job.Connectors) : null;
        if (direct is not null)
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
            var source = connector.CreateSource(scan.Table, scan.Decoded, job.Connectors);
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
            strategy = job.BatchMode
                ? strategy with { TimestampAssigner = assigner }
                : new WatermarkStrategy<TRow>
                {
                    Kind = WatermarkKind.BoundedOutOfOrderness,
                    OutOfOrdernessMs = scan.WatermarkDelayMs!.Value - 1,
                    TimestampAssigner = assigner,
                };
        }
        return job.Environment.FromSource(rows, strategy, $"Source: {scan.Table.Name}");
    }

    /// <summary>The epoch-ms event time of a rowtime value (of any of its representations), failing on NULL.</summary>
    private static LinqExpr EventTimeOf(LinqExpr value, string column)
    {
        Delegate toEventTime = value.Type switch
        {
            var t when t == typeof(DateTime) => (Func<DateTime, string, long>)ToEventTime,
            var t when t == typeof(DateTimeOffset) => (Func<DateTimeOffset, string, long>)ToEventTime,
            var t when t == typeof(DateTime?) => (Func<DateTime?, string, long>)ToEventTime,
            var t when t == typeof(DateTimeOffset?) => (Func<DateTimeOffset?, string, long>)ToEventTime,
            var t => throw new NotSupportedException($"a rowtime of type {t.Name}"),
        };
        return LinqExpr.Call(toEventTime.Method, value, LinqExpr.Constant(column));
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
}
