using System.Reflection;
using Eddy.Runtime;
using Eddy.Sql.Planning;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Translation;

public sealed partial class JobTranslator
{
    private DataStream<TOut> TranslateAsyncLookup<TIn, TOut>(DataStream<TIn> input, AsyncLookupPlan plan)
    {
        var arguments = plan.Calls.Select(c => RowTypes.FieldGetter<TIn, string>(c.ArgumentColumn)).ToArray();
        var factories = plan.Calls.Select(c => c.Call.Function.Factory).ToArray();
        var timeoutValues = plan.Calls.Select(c => c.Call.Function.TimeoutValue).ToArray();
        var combine = Combiner<TIn, TOut>(plan.Input.Schema.Count, plan.Calls.Count);
        var codec = RowStateCodec<TIn>.TryCreate();
        var options = plan.Calls[0].Call.Function.Options;
        return input.Transform("AsyncLookup", () => new AsyncWaitOperator<TIn, TOut>(
            () => new RowAsyncLookup<TIn, TOut>(arguments, factories.Select(f => f()).ToArray(), combine, timeoutValues),
            options, codec is null ? null : codec.Write, codec is null ? null : codec.Read));
    }

    /// <summary><c>(row, results) => new TOut { c0 = row.c0, ..., cN = (T)results[0], ... }</c>.</summary>
    private static Func<TIn, object?[], TOut> Combiner<TIn, TOut>(int inputColumns, int results)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var values = LinqExpr.Parameter(typeof(object[]), "results");
        var output = LinqExpr.Variable(typeof(TOut), "output");
        var body = new List<LinqExpr> { LinqExpr.Assign(output, LinqExpr.Default(typeof(TOut))) };
        for (int i = 0; i < inputColumns; i++)
            body.Add(LinqExpr.Assign(LinqExpr.Field(output, RowTypes.FieldOf(typeof(TOut), i)), LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), i))));
        for (int j = 0; j < results; j++)
        {
            var field = RowTypes.FieldOf(typeof(TOut), inputColumns + j);
            body.Add(LinqExpr.Assign(LinqExpr.Field(output, field),
                LinqExpr.Convert(LinqExpr.ArrayIndex(values, LinqExpr.Constant(j)), field.FieldType)));
        }
        body.Add(output);
        return LinqExpr.Lambda<Func<TIn, object?[], TOut>>(LinqExpr.Block([output], body), row, values).Compile();
    }

    /// <summary>The remote calls of one row, started together; the row goes on with their results.</summary>
    private sealed class RowAsyncLookup<TIn, TOut>(
        Func<TIn, string>[] arguments, IAsyncFunction<string?, object?>[] functions, Func<TIn, object?[], TOut> combine, object?[] timeoutValues)
        : IAsyncFunction<TIn, TOut>
    {
        public async Task<TOut> InvokeAsync(TIn input, CancellationToken cancellation)
        {
            var results = new object?[functions.Length];
            if (functions.Length == 1)
            {
                results[0] = await functions[0].InvokeAsync(arguments[0](input), cancellation).ConfigureAwait(false);
                return combine(input, results);
            }
            var calls = new Task<object?>[functions.Length];
            for (int i = 0; i < calls.Length; i++) calls[i] = functions[i].InvokeAsync(arguments[i](input), cancellation);
            for (int i = 0; i < calls.Length; i++) results[i] = await calls[i].ConfigureAwait(false);
            return combine(input, results);
        }

        public TOut Timeout(TIn input) => combine(input, (object?[])timeoutValues.Clone());
    }
}

/// <summary>
/// Writes and reads a row struct field by field for checkpoints (in-flight rows of an async lookup). Rows with
/// fields of other types (arrays, maps, nested rows) have no codec: their async operator keeps no state.
/// </summary>
internal sealed class RowStateCodec<T>
{
    private readonly FieldInfo[] fields;

    private RowStateCodec(FieldInfo[] fields) => this.fields = fields;

    public static RowStateCodec<T>? TryCreate()
    {
        var fields = typeof(T).GetFields(BindingFlags.Public | BindingFlags.Instance).OrderBy(f => int.Parse(f.Name[1..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return fields.All(f => Supported(Nullable.GetUnderlyingType(f.FieldType) ?? f.FieldType)) ? new RowStateCodec<T>(fields) : null;
    }

    private static bool Supported(Type t) =>
        t == typeof(string) || t == typeof(bool) || t == typeof(sbyte) || t == typeof(short) || t == typeof(int) || t == typeof(long)
        || t == typeof(float) || t == typeof(double) || t == typeof(decimal) || t == typeof(DateTime) || t == typeof(DateTimeOffset)
        || t == typeof(DateOnly) || t == typeof(TimeOnly);

    public void Write(BinaryWriter w, T row)
    {
        object boxed = row!;
        foreach (var f in fields)
        {
            var v = f.GetValue(boxed);
            w.Write(v is not null);
            switch (v)
            {
                case null: break;
                case string s: w.Write(s); break;
                case bool b: w.Write(b); break;
                case sbyte b: w.Write(b); break;
                case short x: w.Write(x); break;
                case int x: w.Write(x); break;
                case long x: w.Write(x); break;
                case float x: w.Write(x); break;
                case double x: w.Write(x); break;
                case decimal x: w.Write(x); break;
                case DateTime x: w.Write(x.Ticks); w.Write((byte)x.Kind); break;
                case DateTimeOffset x: w.Write(x.UtcTicks); break;
                case DateOnly x: w.Write(x.DayNumber); break;
                case TimeOnly x: w.Write(x.Ticks); break;
            }
        }
    }

    public T Read(BinaryReader r)
    {
        object boxed = default(T)!;
        foreach (var f in fields)
        {
            if (!r.ReadBoolean()) continue;
            var t = Nullable.GetUnderlyingType(f.FieldType) ?? f.FieldType;
            object v = t == typeof(string) ? r.ReadString()
                : t == typeof(bool) ? r.ReadBoolean()
                : t == typeof(sbyte) ? r.ReadSByte()
                : t == typeof(short) ? r.ReadInt16()
                : t == typeof(int) ? r.ReadInt32()
                : t == typeof(long) ? r.ReadInt64()
                : t == typeof(float) ? r.ReadSingle()
                : t == typeof(double) ? r.ReadDouble()
                : t == typeof(decimal) ? r.ReadDecimal()
                : t == typeof(DateTime) ? new DateTime(r.ReadInt64(), (DateTimeKind)r.ReadByte())
                : t == typeof(DateTimeOffset) ? new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero)
                : t == typeof(DateOnly) ? DateOnly.FromDayNumber(r.ReadInt32())
                : new TimeOnly(r.ReadInt64());
            f.SetValue(boxed, v);
        }
        return (T)boxed;
    }
}
