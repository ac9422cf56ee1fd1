using Eddy.Sql.Functions;
using Eddy.Sql.Functions.Builtin;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Planning;

// Value construction and the predicates with their own syntax that build on it: ROW(...) / (a, b), JSON_OBJECT,
// JSON_ARRAY, JSON_EXISTS, BETWEEN SYMMETRIC and OVERLAPS.
public sealed partial class Binder
{
    /// <summary>ROW(a, b) or (a, b): a ROW whose fields are named EXPR$0, EXPR$1, ... as Flink names them.</summary>
    private BoundExpr BindRow(RowConstructor row, Scope scope, GroupContext? group)
    {
        if (row.Fields.Count == 0) throw Error(row, "a ROW needs at least one field");
        var fields = row.Fields.Select(f => Bind(f, scope, group)).ToList();
        if (fields.FirstOrDefault(f => f.Type.Kind == TypeKind.Null) is not null)
            throw Error(row, "a ROW field of untyped NULL: CAST it to a type");
        var type = DataType.RowOf(fields.Select((f, i) => new Column($"EXPR${i}", f.Type)).ToArray()).NotNull();
        return new Call("ROW", typeof(Binder).GetMethod(nameof(MakeRow))!, fields, type);
    }

    public static Row MakeRow(params object?[] fields) => Row.Of(fields);

    /// <summary>
    /// BETWEEN: ASYMMETRIC is low &lt;= v AND v &lt;= high; SYMMETRIC is either order of the bounds, as Calcite rewrites it
    /// ((low &lt;= v AND v &lt;= high) OR (high &lt;= v AND v &lt;= low)), NULLs following three-valued logic.
    /// </summary>
    private BoundExpr BindBetween(BetweenExpr between, Scope scope, GroupContext? group)
    {
        var value = Bind(between.Operand, scope, group);
        var lowBound = Bind(between.Low, scope, group);
        var highBound = Bind(between.High, scope, group);
        BoundExpr Within(BoundExpr low, BoundExpr high) => new Binary(BinaryOp.And,
            Compare(BinaryOp.GreaterOrEqual, value, low, between), Compare(BinaryOp.LessOrEqual, value, high, between), DataType.Boolean);
        var test = Within(lowBound, highBound);
        if (between.Symmetric) test = new Binary(BinaryOp.Or, test, Within(highBound, lowBound), DataType.Boolean);
        return between.Negated ? new Unary(UnaryOp.Not, test, DataType.Boolean) : test;
    }

    /// <summary>
    /// (s0, e0) OVERLAPS (s1, e1), as Calcite converts it: an interval end is start + interval, each period is put in
    /// order (s &lt;= e), then e0 &gt;= s1 AND e1 &gt;= s0.
    /// </summary>
    private BoundExpr BindOverlaps(OverlapsExpr overlaps, Scope scope, GroupContext? group)
    {
        (BoundExpr Start, BoundExpr End) Period(RowConstructor period)
        {
            var start = Bind(period.Fields[0], scope, group);
            var end = Bind(period.Fields[1], scope, group);
            if (!(TypeRules.IsTimestamp(start.Type) || start.Type.Kind is TypeKind.Date or TypeKind.Time))
                throw Error(period.Fields[0], $"OVERLAPS takes periods of DATE, TIME or TIMESTAMP values, got {start.Type}");
            if (end is IntervalExpr interval)
            {
                end = start.Type.Kind switch
                {
                    TypeKind.Date => AddIntervalToDate(start, interval, period.Fields[1]),
                    TypeKind.Time when interval.Months == 0 => new Call("+", typeof(Binder).GetMethod(nameof(AddToTime))!,
                        [start, new Literal(interval.Millis, DataType.BigInt)], start.Type with { Nullable = true }),
                    TypeKind.Time => throw Error(period.Fields[1], "a TIME period cannot last months"),
                    _ => AddInterval(start, interval),
                };
            }
            else if (end.Type.Kind != start.Type.Kind && end.Type.Kind != TypeKind.Null)
                throw Error(period.Fields[1], $"the end of an OVERLAPS period must be a {start.Type} or an interval, got {end.Type}");
            // s <= e ? (s, e) : (e, s)
            var ordered = Compare(BinaryOp.LessOrEqual, start, end, period);
            var type = start.Type with { Nullable = true };
            return (new CaseWhen([(ordered, start)], CastIfNeeded(end, type), type), new CaseWhen([(ordered, CastIfNeeded(end, type))], start, type));
        }
        var (s0, e0) = Period(overlaps.Left);
        var (s1, e1) = Period(overlaps.Right);
        return new Binary(BinaryOp.And, Compare(BinaryOp.GreaterOrEqual, e0, s1, overlaps), Compare(BinaryOp.GreaterOrEqual, e1, s0, overlaps), DataType.Boolean);
    }

    /// <summary>TIME + an interval of days to seconds: wraps around midnight, as Flink's TIME arithmetic.</summary>
    public static TimeOnly? AddToTime(TimeOnly? time, long millis) => time?.Add(TimeSpan.FromMilliseconds(millis % 86_400_000));

    /// <summary>JSON_EXISTS(json, path [TRUE | FALSE | UNKNOWN | ERROR ON ERROR]); FALSE ON ERROR when not written.</summary>
    private BoundExpr BindJsonExists(JsonExistsExpr exists, Scope scope, GroupContext? group)
    {
        var json = Bind(exists.Json, scope, group);
        if (!(TypeRules.IsString(json.Type) || json.Type.Kind == TypeKind.Null)) throw Error(exists.Json, $"JSON_EXISTS takes a character string, got {json.Type}");
        int onError = exists.OnError switch
        {
            null or JsonExistsBehavior.False => 0,
            JsonExistsBehavior.True => 1,
            JsonExistsBehavior.Unknown => 2,
            _ => 3,
        };
        return new Call("JSON_EXISTS", typeof(SqlFunctions).GetMethod(nameof(SqlFunctions.JsonExists))!,
            [CastIfNeeded(json, DataType.String), JsonPath(exists.Path, scope, group), new Literal(onError, DataType.Int)], DataType.Boolean);
    }

    /// <summary>JSON_OBJECT: keys are string literals; NULL ON NULL unless ABSENT ON NULL is written.</summary>
    private BoundExpr BindJsonObject(JsonObjectExpr obj, Scope scope, GroupContext? group)
    {
        var keys = new List<string>();
        foreach (var entry in obj.Entries)
        {
            if (entry.Key is not StringLiteral key) throw Error(entry.Key, "a JSON_OBJECT key must be a string literal (as Flink requires)");
            if (keys.Contains(key.Value)) throw Error(entry.Key, $"JSON_OBJECT has the key '{key.Value}' twice");
            keys.Add(key.Value);
        }
        var values = obj.Entries.Select(e => JsonValueOf(e.Value, scope, group)).ToList();
        return JsonConstruction("JSON_OBJECT", nameof(JsonFunctions.JsonObject), [.. keys], values, obj.AbsentOnNull);
    }

    /// <summary>JSON_ARRAY: ABSENT ON NULL unless NULL ON NULL is written.</summary>
    private BoundExpr BindJsonArray(JsonArrayExpr array, Scope scope, GroupContext? group) =>
        JsonConstruction("JSON_ARRAY", nameof(JsonFunctions.JsonArray), null,
            array.Elements.Select(e => JsonValueOf(e, scope, group)).ToList(), !array.NullOnNull);

    private BoundExpr JsonValueOf(Expr value, Scope scope, GroupContext? group)
    {
        var bound = Bind(value, scope, group);
        if (JsonFunctions.Unsupported(bound.Type) is { } why) throw Error(value, $"a JSON value of {bound.Type}: {why}");
        return bound;
    }

    private static Call JsonConstruction(string name, string method, string[]? keys, List<BoundExpr> values, bool absentOnNull)
    {
        // A value that is itself a JSON_OBJECT or JSON_ARRAY call is inserted as JSON, not as a string (Flink's rule).
        var raw = values.Select(v => v is Call { Name: "JSON_OBJECT" or "JSON_ARRAY" }).ToArray();
        var construction = new JsonFunctions.Construction(keys, values.Select(v => v.Type).ToArray(), raw, absentOnNull);
        return new Call(name, typeof(JsonFunctions).GetMethod(method)!, [new Literal(construction, DataType.NullType), .. values], DataType.String.NotNull());
    }
}
