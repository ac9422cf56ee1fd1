using System.Globalization;
using System.Reflection;
using Eddy.Functions.Geo;
using Eddy.Sql.Codegen;
using Eddy.Sql.Functions;
using Eddy.Sql.Functions.Builtin;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Planning;

/// <summary>An interval literal's value while binding: fixed milliseconds or months (INTERVAL '1' MONTH).</summary>
public sealed record IntervalExpr(long Millis, int Months) : BoundExpr(DataType.BigInt);

public sealed partial class Binder
{
    /// <summary>A built-in or user aggregate function call (not an OVER window).</summary>
    public bool IsAggregate(FunctionCall call) =>
        call.Over is null && (BuiltinFunctions.Aggregates.Contains(call.UpperName) || catalog.Functions.TryGetAggregate(call.UpperName, out _));

    /// <summary><paramref name="node"/>, or the located error when the stack is nearly used up (see <see cref="DeepStack"/>).</summary>
    private T WithStack<T>(T node) where T : SqlNode =>
        System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack() ? node : throw DeepStack.TooDeep(node.Span, context);

    /// <summary>Binds an expression over <paramref name="scope"/>; inside an aggregation, <paramref name="group"/> rewrites it.</summary>
    public BoundExpr Bind(Expr e, Scope scope, GroupContext? group = null)
    {
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw DeepStack.TooDeep(e.Span, context);
        if (group is not null && group.TryRewrite(e, this, out var rewritten)) return rewritten;
        switch (e)
        {
            case Parsing.ColumnRef c:
                return BindColumn(c, scope, group);
            case NumericLiteral n:
                return BindNumber(n);
            case StringLiteral s:
                return new Literal(s.Value, DataType.String.NotNull());
            case BooleanLiteral b:
                return new Literal(b.Value, DataType.Boolean.NotNull());
            case NullLiteral:
                return new Literal(null, DataType.NullType);
            case IntervalLiteral i:
                return BindInterval(i);
            case TypedLiteral t:
                return BindTypedLiteral(t);
            case UnaryExpr u:
            {
                var operand = Bind(u.Operand, scope, group);
                return u.Operator switch
                {
                    UnaryOperator.Not => new Unary(UnaryOp.Not, RequireBoolean(operand, u.Operand), DataType.Boolean),
                    UnaryOperator.Negate => operand is IntervalExpr iv ? new IntervalExpr(-iv.Millis, -iv.Months)
                        : new Unary(UnaryOp.Negate, RequireNumeric(operand, u.Operand), operand.Type),
                    _ => RequireNumeric(operand, u.Operand),
                };
            }
            case BinaryExpr b:
                return BindBinary(b, scope, group);
            case IsExpr i:
            {
                var operand = Bind(i.Operand, scope, group);
                var op = (i.Predicate, i.Negated) switch
                {
                    (IsPredicate.Null, false) or (IsPredicate.Unknown, false) => UnaryOp.IsNull,
                    (IsPredicate.Null, true) or (IsPredicate.Unknown, true) => UnaryOp.IsNotNull,
                    (IsPredicate.True, false) => UnaryOp.IsTrue,
                    (IsPredicate.True, true) => UnaryOp.IsNotTrue,
                    (IsPredicate.False, false) => UnaryOp.IsFalse,
                    _ => UnaryOp.IsNotFalse,
                };
                return new Unary(op, operand, DataType.Boolean.NotNull());
            }
            case InListExpr inList:
            {
                var value = Bind(inList.Operand, scope, group);
                var items = inList.Values.Select(v => Bind(v, scope, group)).ToList();
                var type = items.Aggregate(value.Type, (t, i) => TypeRules.Common(t, i.Type)
                    ?? throw Error(inList, $"IN list mixes {t} and {i.Type}"));
                if (items.All(i => i is Literal))
                    return new InList(CastIfNeeded(value, type), items.Select(i => CastIfNeeded(i, type)).ToList(), inList.Negated, DataType.Boolean);
                BoundExpr any = items.Select(i => (BoundExpr)Compare(BinaryOp.Equal, value, i, inList))
                    .Aggregate((a, b) => new Binary(BinaryOp.Or, a, b, DataType.Boolean));
                return inList.Negated ? new Unary(UnaryOp.Not, any, DataType.Boolean) : any;
            }
            case LikeExpr like:
            {
                var value = RequireString(Bind(like.Operand, scope, group), like.Operand);
                if (like.Pattern is not StringLiteral pattern) throw Error(like.Pattern, "LIKE needs a string literal pattern");
                char? escape = like.Escape is StringLiteral { Value.Length: 1 } esc ? esc.Value[0]
                    : like.Escape is null ? null : throw Error(like.Escape, "ESCAPE takes one character");
                System.Text.RegularExpressions.Regex regex;
                try
                {
                    regex = like.SimilarTo ? SqlOps.SimilarToRegex(pattern.Value, escape) : SqlOps.LikeToRegex(pattern.Value, escape);
                }
                catch (ArgumentException ex)
                {
                    throw Error(like.Pattern, ex.Message);
                }
                var method = typeof(SqlOps).GetMethod(nameof(SqlOps.Like))!;
                BoundExpr call = new Call(like.SimilarTo ? "SIMILAR TO" : "LIKE", method, [value, new Literal(regex, new DataType(TypeKind.Null))], DataType.Boolean);
                return like.Negated ? new Unary(UnaryOp.Not, call, DataType.Boolean) : call;
            }
            case BetweenExpr between:
                return BindBetween(between, scope, group);
            case OverlapsExpr overlaps:
                return BindOverlaps(overlaps, scope, group);
            case RowConstructor row:
                return BindRow(row, scope, group);
            case JsonExistsExpr exists:
                return BindJsonExists(exists, scope, group);
            case JsonObjectExpr jsonObject:
                return BindJsonObject(jsonObject, scope, group);
            case JsonArrayExpr jsonArray:
                return BindJsonArray(jsonArray, scope, group);
            case CaseExpr caseExpr:
                return BindCase(caseExpr, scope, group);
            case CastExpr cast:
            {
                var operand = Bind(cast.Operand, scope, group);
                var target = cast.Type.Type;
                if (operand.Type.Kind == TypeKind.Null) return new Literal(null, target);
                if (!CanCast(operand.Type, target)) throw Error(cast, $"cannot cast {operand.Type} to {target}");
                if (target.Kind == TypeKind.Decimal) return CastToDecimal(operand, target, cast.Try);
                return new Cast(operand, target with { Nullable = true }, cast.Try);
            }
            case FunctionCall call:
                if (call.Over is null && BuiltinFunctions.AggregatesNotImplemented.Contains(call.UpperName) && !catalog.Functions.Contains(call.UpperName))
                    throw Error(call, $"unknown function '{call.Name}': Flink's aggregate function {call.UpperName} is not implemented by Eddy");
                if (IsAggregate(call))
                    throw Error(call, $"aggregate function {call.UpperName} is not allowed here (only in SELECT or HAVING of a grouped query)");
                return BindFunction(call, scope, group);
            case ExtractExpr extract:
            {
                var source = RequireTemporal(Bind(extract.Source, scope, group), extract.Source);
                return new Call("EXTRACT", Method(nameof(SqlFunctions.Extract)),
                    [new Literal(extract.Unit, DataType.NullType), AsTimestamp(source)], DataType.BigInt);
            }
            case FloorCeilExpr fc:
            {
                var source = RequireTemporal(Bind(fc.Operand, scope, group), fc.Operand);
                BoundExpr rounded = new Call(fc.Ceiling ? "CEIL" : "FLOOR", Method(fc.Ceiling ? nameof(SqlFunctions.Ceil) : nameof(SqlFunctions.Floor)),
                    [AsTimestamp(source), new Literal(fc.Unit, DataType.NullType)], DataType.Timestamp3);
                // Flink keeps the operand's type: FLOOR(date TO MONTH) is a DATE (a DATE rounded to a unit below a day is itself).
                if (source.Type.Kind == TypeKind.Date)
                    return fc.Unit is Parsing.TimeUnit.Hour or Parsing.TimeUnit.Minute or Parsing.TimeUnit.Second or Parsing.TimeUnit.Millisecond
                        ? source : new Cast(rounded, DataType.Date, false);
                return rounded;
            }
            case TimestampDiffExpr diff:
                return new Call("TIMESTAMPDIFF", Method(nameof(SqlFunctions.TimestampDiff)),
                [
                    new Literal(diff.Unit, DataType.NullType),
                    AsTimestamp(RequireTemporal(Bind(diff.Start, scope, group), diff.Start)),
                    AsTimestamp(RequireTemporal(Bind(diff.End, scope, group), diff.End)),
                ], DataType.Int);
            case TrimExpr trim:
            {
                var source = RequireString(Bind(trim.Source, scope, group), trim.Source);
                BoundExpr chars = trim.Characters is null ? new Literal(" ", DataType.String) : RequireString(Bind(trim.Characters, scope, group), trim.Characters);
                return new Call("TRIM", Method(nameof(SqlFunctions.Trim)),
                    [source, new Literal(trim.Mode != TrimMode.Trailing, DataType.Boolean), new Literal(trim.Mode != TrimMode.Leading, DataType.Boolean), chars],
                    DataType.String);
            }
            case JsonValueExpr jv:
            {
                if (jv.OnEmpty is { Kind: not JsonBehaviorKind.Null } || jv.OnError is { Kind: not JsonBehaviorKind.Null })
                    throw Error(jv, "JSON_VALUE supports NULL ON EMPTY / NULL ON ERROR (the default) only, for now");
                BoundExpr value = new Call("JSON_VALUE", Method(nameof(SqlFunctions.JsonValue)),
                    [ToStringExpr(Bind(jv.Json, scope, group)), JsonPath(jv.Path, scope, group)], DataType.String);
                return jv.Returning is { } rt ? new Cast(value, rt.Type with { Nullable = true }, Try: true) : value;
            }
            case JsonQueryExpr jq:
            {
                if (jq.Wrapper != JsonWrapper.Without || jq.OnEmpty is not (null or JsonQueryBehaviorKind.Null) || jq.OnError is not (null or JsonQueryBehaviorKind.Null))
                    throw Error(jq, "JSON_QUERY supports WITHOUT ARRAY WRAPPER and NULL ON EMPTY / ERROR (the defaults) only, for now");
                return new Call("JSON_QUERY", Method(nameof(SqlFunctions.JsonQuery)),
                    [ToStringExpr(Bind(jq.Json, scope, group)), JsonPath(jq.Path, scope, group)], DataType.String);
            }
            case Subscript sub:
            {
                var target = Bind(sub.Target, scope, group);
                var index = Bind(sub.Index, scope, group);
                return target.Type.Kind switch
                {
                    TypeKind.Array => new Call("[]", Method(nameof(SqlFunctions.ArrayElement)), [target, CastIfNeeded(index, DataType.Int)],
                        target.Type.Element! with { Nullable = true }),
                    TypeKind.Map => new Call("[]", Method(nameof(SqlFunctions.MapValue)), [target, CastIfNeeded(index, target.Type.Element!)],
                        target.Type.Value! with { Nullable = true }),
                    _ => throw Error(sub, $"only an ARRAY or a MAP takes [...]; this is {target.Type}"),
                };
            }
            case FieldAccess fa:
                return RowField(Bind(fa.Target, scope, group), fa.Field);
            case IsDistinctFromExpr distinct:
            {
                var l = Bind(distinct.Left, scope, group);
                var r = Bind(distinct.Right, scope, group);
                var type = TypeRules.Common(l.Type, r.Type) ?? throw Error(distinct, $"cannot compare {l.Type} with {r.Type}");
                BoundExpr same = new Call("IS NOT DISTINCT FROM", typeof(SqlOps).GetMethod(nameof(SqlOps.NotDistinct))!,
                    [CastIfNeeded(l, type), CastIfNeeded(r, type)], DataType.Boolean.NotNull());
                return distinct.Negated ? same : new Unary(UnaryOp.Not, same, DataType.Boolean.NotNull());
            }
            case TimestampAddExpr add:
            {
                var amount = Bind(add.Amount, scope, group);
                var ts = Bind(add.Timestamp, scope, group);
                if (!TypeRules.IsTimestamp(ts.Type)) throw Error(add.Timestamp, $"TIMESTAMPADD of {ts.Type} is not supported yet (a TIMESTAMP or TIMESTAMP_LTZ is)");
                if (amount.Type.Kind is not (TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt or TypeKind.Null))
                    throw Error(add.Amount, $"TIMESTAMPADD takes an integer amount, got {amount.Type}");
                var method = ts.Type.Kind == TypeKind.TimestampLtz ? Method(nameof(SqlFunctions.TimestampAddLtz)) : Method(nameof(SqlFunctions.TimestampAdd));
                return new Call("TIMESTAMPADD", method, [new Literal(add.Unit, DataType.NullType), CastIfNeeded(amount, DataType.BigInt), ts], ts.Type with { Nullable = true });
            }
            case ArrayConstructor array:
            {
                var items = array.Elements.Select(x => Bind(x, scope, group)).ToList();
                if (items.Count == 0) throw Error(array, "ARRAY[] needs at least one element");
                var type = items.Select(i => i.Type).Aggregate((a, b) => TypeRules.Common(a, b) ?? throw Error(array, $"ARRAY[...] mixes {a} and {b}"));
                if (type.Kind == TypeKind.Null) throw Error(array, "ARRAY[...] of untyped NULLs: CAST them to a type");
                return new Call("ARRAY", typeof(CollectionFunctions).GetMethod(nameof(CollectionFunctions.MakeArray))!,
                    items.Select(i => CastIfNeeded(i, type)).ToList(), DataType.ArrayOf(type with { Nullable = items.Any(i => i.Type.Nullable) }).NotNull());
            }
            case MapConstructor map:
            {
                var items = map.KeysAndValues.Select(x => Bind(x, scope, group)).ToList();
                DataType Common(IEnumerable<BoundExpr> xs) => xs.Select(i => i.Type).Aggregate((a, b) => TypeRules.Common(a, b) ?? throw Error(map, $"MAP[...] mixes {a} and {b}"));
                var keyType = Common(items.Where((_, i) => i % 2 == 0));
                var valueType = Common(items.Where((_, i) => i % 2 == 1));
                if (keyType.Kind == TypeKind.Null || valueType.Kind == TypeKind.Null) throw Error(map, "MAP[...] of untyped NULLs: CAST them to a type");
                return new Call("MAP", typeof(CollectionFunctions).GetMethod(nameof(CollectionFunctions.MakeMap))!,
                    items.Select((x, i) => CastIfNeeded(x, i % 2 == 0 ? keyType : valueType)).ToList(), DataType.MapOf(keyType, valueType).NotNull());
            }
            case IsJsonExpr isJson:
            {
                var value = Bind(isJson.Operand, scope, group);
                if (!(TypeRules.IsString(value.Type) || value.Type.Kind == TypeKind.Null)) throw Error(isJson.Operand, $"IS JSON takes a character string, got {value.Type}");
                BoundExpr test = new Call("IS JSON", Method(nameof(SqlFunctions.IsJson)),
                    [CastIfNeeded(value, DataType.String), new Literal((int)(isJson.Type ?? JsonType.Value), DataType.Int)], DataType.Boolean.NotNull());
                return isJson.Negated ? new Unary(UnaryOp.Not, test, DataType.Boolean.NotNull()) : test;
            }
            case PositionExpr pos:
                return new Call("POSITION", Method(nameof(SqlFunctions.Position)),
                    [RequireString(Bind(pos.Needle, scope, group), pos.Needle), RequireString(Bind(pos.Haystack, scope, group), pos.Haystack)], DataType.Int);
            case SubqueryExpr or InSubqueryExpr or ExistsExpr:
                throw SubqueryHere(e);
            default:
                throw Error(e, $"{Describe(e)} is not supported by Eddy yet");
        }
    }

    private static string Describe(SqlNode node) => node switch
    {
        SubqueryExpr or InSubqueryExpr or ExistsExpr => "a subquery in an expression",
        FunctionCall { Over: not null } => "an OVER window aggregate",
        _ => node.GetType().Name,
    };

    private BoundExpr RowField(BoundExpr target, Identifier field)
    {
        if (target.Type.Kind != TypeKind.Row) throw Error(field, $"'{field.Value}' is not a field: {target.Type} has no fields");
        var fields = target.Type.Fields!;
        int i = fields.ToList().FindIndex(f => string.Equals(f.Name, field.Value, StringComparison.OrdinalIgnoreCase));
        if (i < 0) throw Error(field, $"{target.Type} has no field '{field.Value}'" + SqlErrors.Suggest(field.Value, fields.Select(f => f.Name)));
        return new Call(".", Method(nameof(SqlFunctions.RowField)), [target, new Literal(i, DataType.Int)], fields[i].Type with { Nullable = true });
    }

    private BoundExpr BindColumn(Parsing.ColumnRef c, Scope scope, GroupContext? group)
    {
        var names = c.Names;
        // row_column.field or alias.row_column.field: a ROW column followed by field names.
        int fieldsFrom = names.Count >= 3 && scope.HasQualifier(names[0].Value) && scope.Find(names[0].Value, names[1].Value).Any() ? 2
            : names.Count >= 2 && !scope.HasQualifier(names[0].Value) && scope.Find(null, names[0].Value).Any() ? 1
            : 0;
        if (fieldsFrom > 0)
        {
            BoundExpr value = BindColumn(new Parsing.ColumnRef(new(names.Take(fieldsFrom).ToList())) { Span = c.Span }, scope, group);
            for (int n = fieldsFrom; n < names.Count; n++) value = RowField(value, names[n]);
            return value;
        }
        string? qualifier = names.Count >= 2 ? names[^2].Value : null;
        string name = names[^1].Value;
        var matches = scope.Find(qualifier, name).ToList();
        if (group is not null && matches.Count > 0)
            throw Error(c, $"column '{name}' is neither grouped (GROUP BY) nor inside an aggregate function");
        if (matches.Count == 0 && enclosingScope?.Find(qualifier, name).Any() == true)
        {
            throw Error(c, $"'{string.Join(".", names.Select(x => x.Value))}' is a column of the enclosing query: Eddy supports correlated subqueries only as IN or EXISTS "
                + "of the form SELECT value FROM t WHERE <conditions on the outer row> (no GROUP BY, aggregates or set operations)");
        }
        if (matches.Count == 0 && qualifier is not null && !scope.HasQualifier(qualifier))
            throw Error(c, $"unknown table or alias '{qualifier}'" + SqlErrors.Suggest(qualifier, scope.Columns.Select(x => x.Qualifier).OfType<string>().Distinct()));
        if (matches.Count == 0)
        {
            if (group is not null && group.InputScope.Find(qualifier, name).Any())
                throw Error(c, $"column '{name}' is neither grouped (GROUP BY) nor inside an aggregate function");
            throw Error(c, $"unknown column '{name}'" + SqlErrors.Suggest(name, scope.Columns.Select(x => x.Name)));
        }
        if (matches.Count > 1) throw Error(c, $"column '{name}' is ambiguous: qualify it with a table alias");
        var col = matches[0];
        return new InputRef(col.Index, col.Name, col.Type);
    }

    private static BoundExpr BindNumber(NumericLiteral n)
    {
        switch (n.Kind)
        {
            case NumericKind.Integer:
                if (int.TryParse(n.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int i)) return new Literal(i, DataType.Int.NotNull());
                if (long.TryParse(n.Text, NumberStyles.None, CultureInfo.InvariantCulture, out long l)) return new Literal(l, DataType.BigInt.NotNull());
                return new Literal(decimal.Parse(n.Text, CultureInfo.InvariantCulture), DataType.Decimal(38, 0).NotNull());
            case NumericKind.Decimal:
            {
                var d = decimal.Parse(n.Text, CultureInfo.InvariantCulture);
                int dot = n.Text.IndexOf('.');
                int scale = dot < 0 ? 0 : n.Text.Length - dot - 1;
                int precision = Math.Max(n.Text.Count(char.IsAsciiDigit), 1);
                return new Literal(d, DataType.Decimal(precision, scale).NotNull());
            }
            default:
                return new Literal(double.Parse(n.Text, CultureInfo.InvariantCulture), DataType.Double.NotNull());
        }
    }

    private IntervalExpr BindInterval(IntervalLiteral i)
    {
        var text = i.Value.Trim();
        bool negative = text.StartsWith('-');
        if (negative) text = text[1..];
        var q = i.Qualifier;
        long Unit(Parsing.TimeUnit u) => u switch
        {
            Parsing.TimeUnit.Millisecond => 1,
            Parsing.TimeUnit.Second => 1000,
            Parsing.TimeUnit.Minute => 60_000,
            Parsing.TimeUnit.Hour => 3_600_000,
            Parsing.TimeUnit.Day => 86_400_000,
            Parsing.TimeUnit.Week => 7 * 86_400_000L,
            _ => throw Error(i, $"interval unit {u} is not supported here"),
        };
        if (q.Start is Parsing.TimeUnit.Year or Parsing.TimeUnit.Month or Parsing.TimeUnit.Quarter)
        {
            int months;
            if (q.Start == Parsing.TimeUnit.Year && q.End == Parsing.TimeUnit.Month)
            {
                // 'y-m', as Flink reads INTERVAL '2-10' YEAR TO MONTH (34 months); the months part is 0..11.
                var parts = text.Split('-');
                if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int years)
                    || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int rest) || rest > 11)
                    throw Error(i, $"cannot read interval '{i.Value}' as YEAR TO MONTH (expected 'years-months', months 0 to 11)");
                months = checked(years * 12 + rest);
            }
            else if (q.End is not null && q.End != q.Start)
                throw Error(i, $"INTERVAL {q.Start} TO {q.End} is not a valid interval qualifier");
            else if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int amount))
                throw Error(i, $"'{i.Value}' is not a whole number of {q.Start}");
            else
                months = q.Start switch { Parsing.TimeUnit.Year => 12, Parsing.TimeUnit.Quarter => 3, _ => 1 } * amount;
            return new IntervalExpr(0, negative ? -months : months);
        }
        long ms;
        if (q.End is null)
        {
            if (!decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount))
                throw Error(i, $"'{i.Value}' is not a number of {q.Start}");
            ms = (long)(amount * Unit(q.Start));
        }
        else
        {
            // 'd h:m:s' forms: split on separators and read from the start unit downwards.
            var parts = text.Split([' ', ':'], StringSplitOptions.RemoveEmptyEntries);
            Parsing.TimeUnit[] order = [Parsing.TimeUnit.Day, Parsing.TimeUnit.Hour, Parsing.TimeUnit.Minute, Parsing.TimeUnit.Second];
            int start = Array.IndexOf(order, q.Start);
            if (start < 0 || start + parts.Length > order.Length) throw Error(i, $"cannot read interval '{i.Value}' as {q.Start} TO {q.End}");
            ms = 0;
            for (int p = 0; p < parts.Length; p++)
            {
                if (!decimal.TryParse(parts[p], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var part))
                    throw Error(i, $"cannot read interval '{i.Value}' as {q.Start} TO {q.End}");
                ms += (long)(part * Unit(order[start + p]));
            }
        }
        return new IntervalExpr(negative ? -ms : ms, 0);
    }

    private BoundExpr BindTypedLiteral(TypedLiteral t)
    {
        try
        {
            return t.Kind switch
            {
                TypedLiteralKind.Date => new Literal(DateOnly.ParseExact(t.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture), DataType.Date.NotNull()),
                TypedLiteralKind.Time => new Literal(TimeOnly.Parse(t.Value, CultureInfo.InvariantCulture), DataType.Time.NotNull()),
                TypedLiteralKind.Timestamp => new Literal(SqlFunctions.ParseTimestamp(t.Value) ?? throw new FormatException(), DataType.Timestamp3.NotNull()),
                _ => new Literal(new DateTimeOffset(DateTime.SpecifyKind(SqlFunctions.ParseTimestamp(t.Value) ?? throw new FormatException(), DateTimeKind.Utc)),
                    DataType.TimestampLtz3.NotNull()),
            };
        }
        catch (FormatException)
        {
            throw Error(t, $"'{t.Value}' is not a valid {t.Kind} literal");
        }
    }

    private BoundExpr BindBinary(BinaryExpr b, Scope scope, GroupContext? group)
    {
        var l = Bind(b.Left, scope, group);
        var r = Bind(b.Right, scope, group);
        switch (b.Operator)
        {
            case BinaryOperator.And or BinaryOperator.Or:
                return new Binary(b.Operator == BinaryOperator.And ? BinaryOp.And : BinaryOp.Or,
                    RequireBoolean(l, b.Left), RequireBoolean(r, b.Right), DataType.Boolean);
            case BinaryOperator.Concat:
                return new Call("||", Method(nameof(SqlFunctions.Concat)), [ToStringExpr(l), ToStringExpr(r)], DataType.String);
            case BinaryOperator.Equal: return Compare(BinaryOp.Equal, l, r, b);
            case BinaryOperator.NotEqual: return Compare(BinaryOp.NotEqual, l, r, b);
            case BinaryOperator.Less: return Compare(BinaryOp.Less, l, r, b);
            case BinaryOperator.LessOrEqual: return Compare(BinaryOp.LessOrEqual, l, r, b);
            case BinaryOperator.Greater: return Compare(BinaryOp.Greater, l, r, b);
            case BinaryOperator.GreaterOrEqual: return Compare(BinaryOp.GreaterOrEqual, l, r, b);
        }
        // Timestamp ± interval.
        if ((b.Operator is BinaryOperator.Add or BinaryOperator.Subtract) && TypeRules.IsTimestamp(l.Type) && r is IntervalExpr iv)
            return AddInterval(l, b.Operator == BinaryOperator.Add ? iv : new IntervalExpr(-iv.Millis, -iv.Months));
        if (b.Operator == BinaryOperator.Add && TypeRules.IsTimestamp(r.Type) && l is IntervalExpr iv2)
            return AddInterval(r, iv2);
        // Date ± interval: whole days and months stay a DATE.
        if ((b.Operator is BinaryOperator.Add or BinaryOperator.Subtract) && l.Type.Kind == TypeKind.Date && r is IntervalExpr div)
            return AddIntervalToDate(l, b.Operator == BinaryOperator.Add ? div : new IntervalExpr(-div.Millis, -div.Months), b);
        if (b.Operator == BinaryOperator.Add && r.Type.Kind == TypeKind.Date && l is IntervalExpr div2)
            return AddIntervalToDate(r, div2, b);
        if (l is IntervalExpr a && r is IntervalExpr c && b.Operator is BinaryOperator.Add or BinaryOperator.Subtract)
            return b.Operator == BinaryOperator.Add ? new IntervalExpr(a.Millis + c.Millis, a.Months + c.Months) : new IntervalExpr(a.Millis - c.Millis, a.Months - c.Months);
        RequireNumeric(l, b.Left);
        RequireNumeric(r, b.Right);
        var type = TypeRules.Common(l.Type, r.Type) ?? throw Error(b, $"cannot combine {l.Type} and {r.Type}");
        if (b.Operator == BinaryOperator.Divide && type.Kind is not (TypeKind.Float or TypeKind.Double or TypeKind.Decimal))
            type = type with { };
        var op = b.Operator switch
        {
            BinaryOperator.Add => BinaryOp.Add,
            BinaryOperator.Subtract => BinaryOp.Subtract,
            BinaryOperator.Multiply => BinaryOp.Multiply,
            BinaryOperator.Divide => BinaryOp.Divide,
            _ => BinaryOp.Modulo,
        };
        if (type.Kind == TypeKind.Decimal && op != BinaryOp.Modulo) return DecimalArithmetic(op, l, r, type, b);
        if (type.Kind is TypeKind.TinyInt or TypeKind.SmallInt)
        {
            // .NET has no byte/short arithmetic: compute in INT and narrow back, wrapping around as Java's (byte)/(short) do in Flink.
            var wide = new Binary(op, CastIfNeeded(l, DataType.Int), CastIfNeeded(r, DataType.Int), DataType.Int);
            return new Cast(wide, type with { Nullable = true }, Try: false);
        }
        return new Binary(op, CastIfNeeded(l, type), CastIfNeeded(r, type), type with { Nullable = true });
    }

    private BoundExpr AddInterval(BoundExpr timestamp, IntervalExpr interval)
    {
        var method = timestamp.Type.Kind == TypeKind.TimestampLtz
            ? Method(nameof(SqlFunctions.AddIntervalLtz))
            : Method(nameof(SqlFunctions.AddInterval));
        return new Call("+", method, [timestamp, new Literal(interval.Millis, DataType.BigInt), new Literal(interval.Months, DataType.Int)], timestamp.Type);
    }

    internal Binary Compare(BinaryOp op, BoundExpr l, BoundExpr r, SqlNode at)
    {
        var type = TypeRules.Common(l.Type, r.Type);
        if (type is null)
        {
            // Flink compares a string with a timestamp by casting the string; other mixes are errors.
            if (TypeRules.IsString(l.Type) && TypeRules.IsTimestamp(r.Type)) type = r.Type;
            else if (TypeRules.IsString(r.Type) && TypeRules.IsTimestamp(l.Type)) type = l.Type;
            else throw Error(at, $"cannot compare {l.Type} with {r.Type}");
        }
        // Flink compares ROWs field by field with SQL's NULL rules; Eddy does not implement that yet.
        if (type.Kind == TypeKind.Row) throw Error(at, $"comparing ROW values ({type}) is not supported by Eddy yet");
        return new Binary(op, CastIfNeeded(l, type), CastIfNeeded(r, type), DataType.Boolean);
    }

    public static BoundExpr CastIfNeeded(BoundExpr e, DataType type)
    {
        if (e.Type.Kind == type.Kind && (e.Type.Kind != TypeKind.Decimal || e.Type.Scale == type.Scale)) return e;
        if (e is Literal { Value: null }) return new Literal(null, type with { Nullable = true });
        // A value widened to DECIMAL(p, s) carries s places (COALESCE(CAST(NULL AS DECIMAL(5, 2)), 1) is 1.00).
        if (type.Kind == TypeKind.Decimal && e.Type.Kind is not (TypeKind.Double or TypeKind.Float))
            return new Call("CAST", typeof(SqlCasts).GetMethod(nameof(SqlCasts.ToScale))!,
                [new Cast(e, type with { Nullable = true }, Try: false), new Literal(type.Scale, DataType.Int)], type with { Nullable = true });
        return new Cast(e, type with { Nullable = true }, Try: false);
    }

    private static bool CanCast(DataType from, DataType to) =>
        from.Kind == to.Kind || TypeRules.IsString(from) || TypeRules.IsString(to) || TypeRules.IsAssignable(from, to)
        || (from.Kind, to.Kind) is (TypeKind.Timestamp, TypeKind.Date) or (TypeKind.Date, TypeKind.Timestamp)
        || (from.Kind == TypeKind.Boolean && to.IsNumeric);

    private BoundExpr BindCase(CaseExpr c, Scope scope, GroupContext? group)
    {
        var operand = c.Operand is null ? null : Bind(c.Operand, scope, group);
        var branches = new List<(BoundExpr When, BoundExpr Then)>();
        foreach (var w in c.Whens)
        {
            var cond = Bind(w.Condition, scope, group);
            var when = operand is null ? RequireBoolean(cond, w.Condition) : Compare(BinaryOp.Equal, operand, cond, w);
            branches.Add((when, Bind(w.Result, scope, group)));
        }
        var otherwise = c.Else is null ? null : Bind(c.Else, scope, group);
        var type = branches.Select(b => b.Then.Type).Concat(otherwise is null ? [] : [otherwise.Type])
            .Aggregate((a, b) => TypeRules.Common(a, b) ?? throw Error(c, $"CASE branches mix {a} and {b}"));
        if (type.Kind == TypeKind.Null) type = DataType.String;
        return new CaseWhen(branches.Select(b => (b.When, CastIfNeeded(b.Then, type))).ToList(),
            otherwise is null ? null : CastIfNeeded(otherwise, type), type with { Nullable = true });
    }

    private static MethodInfo Method(string name, params Type[] types) =>
        types.Length == 0 ? typeof(SqlFunctions).GetMethod(name) ?? throw new MissingMethodException(name)
            : typeof(SqlFunctions).GetMethod(name, types) ?? throw new MissingMethodException(name);

    internal BoundExpr RequireBoolean(BoundExpr e, SqlNode at) =>
        e.Type.Kind is TypeKind.Boolean or TypeKind.Null ? e : throw Error(at, $"expected a BOOLEAN expression, got {e.Type}");

    internal BoundExpr RequireNumeric(BoundExpr e, SqlNode at) =>
        e.Type.IsNumeric || e.Type.Kind == TypeKind.Null ? e : throw Error(at, $"expected a numeric expression, got {e.Type}");

    private BoundExpr RequireString(BoundExpr e, SqlNode at) =>
        TypeRules.IsString(e.Type) || e.Type.Kind == TypeKind.Null ? e : throw Error(at, $"expected a STRING expression, got {e.Type}");

    private BoundExpr RequireTemporal(BoundExpr e, SqlNode at) =>
        TypeRules.IsTimestamp(e.Type) || e.Type.Kind is TypeKind.Date or TypeKind.Null ? e : throw Error(at, $"expected a TIMESTAMP or DATE expression, got {e.Type}");

    private static BoundExpr AsTimestamp(BoundExpr e) => e.Type.Kind == TypeKind.Timestamp ? e : new Cast(e, DataType.Timestamp3, false);

    private static BoundExpr ToStringExpr(BoundExpr e) => TypeRules.IsString(e.Type) ? e : new Cast(e, DataType.String, false);

    /// <summary>Built-in and user scalar functions.</summary>
    private BoundExpr BindFunction(FunctionCall call, Scope scope, GroupContext? group)
    {
        string name = call.UpperName;
        if (call.Over is not null) return BindOverCall(call);
        var args = call.Arguments.Select(a => Bind(a, scope, group)).ToList();
        if (catalog.Functions.Contains(name)) return BindUserFunction(call, name, args);
        if (GeoSqlFunctions.IsGeoFunction(name)) return BindGeo(call, name, args);
        if (BuiltinFunctions.TryGet(name, out var builtin))
            return builtin.Bind(new BuiltinCall(call, args, (node, message) => Error(node, message))
            {
                CurrentDatabase = catalog.CurrentDatabase, Parallelism = Parallelism, Binder = this, BindOther = e => Bind(e, scope, group),
                WatermarkRowtime = group is null ? watermarkRowtime : null,
            });
        if (BuiltinFunctions.IsNotSupported(name)) throw Error(call, BuiltinFunctions.NotSupportedMessage(name));
        throw Error(call, $"unknown function '{call.Name}'" + SqlErrors.Suggest(name, BuiltinFunctions.AllNames.Concat(catalog.Functions.Names)));
    }

    private BoundExpr BindGeo(FunctionCall call, string name, List<BoundExpr> args)
    {
        if (args.Count != 1) throw Error(call, $"{name} takes 1 argument (an IP address), got {args.Count}");
        try
        {
            return catalog.Geo.Bind(name, ToStringExpr(RequireString(args[0], call.Arguments[0])));
        }
        catch (Exception e) when (e is ArgumentException or GeoDatabaseMissingException or InvalidDataException or IOException)
        {
            throw Error(call, e.Message);
        }
    }

    internal static bool ParametersFit(MethodInfo m, BoundExpr[] args)
    {
        var ps = m.GetParameters();
        for (int i = 0; i < args.Length && i < ps.Length; i++)
        {
            if (ps[i].IsDefined(typeof(ParamArrayAttribute))) return true;
            var want = Nullable.GetUnderlyingType(ps[i].ParameterType) ?? ps[i].ParameterType;
            if (args[i].Type.Kind == TypeKind.Null) continue;
            if (want != args[i].Type.ClrType && !(want == typeof(object))) return false;
        }
        return true;
    }

    private BoundExpr BindUserFunction(FunctionCall call, string name, List<BoundExpr> args)
    {
        if (catalog.Functions.TryGetAsync(name, out var asyncFunction)) return BindAsyncUserFunction(call, name, args, asyncFunction);
        foreach (var (method, target) in catalog.Functions.Overloads(name))
        {
            if (Catalog.UserFunctions.TableElementType(method) is not null) continue;
            var ps = method.GetParameters();
            if (ps.Length != args.Count) continue;
            if (!ps.Select((p, i) => (p, i)).All(x =>
                    (Nullable.GetUnderlyingType(x.p.ParameterType) ?? x.p.ParameterType) == args[x.i].Type.ClrType
                    || x.p.ParameterType == typeof(object) || args[x.i].Type.Kind == TypeKind.Null))
                continue;
            var resultType = SqlTypeOf(method.ReturnType) ?? throw Error(call, $"function {name} returns {method.ReturnType.Name}, which has no SQL type");
            return new UserCall(name, method, target, args, resultType) { Location = Location(call), Span = call.Span };
        }
        throw Error(call, $"no overload of user function {name} takes ({string.Join(", ", args.Select(a => a.Type))})");
    }

    /// <summary>
    /// A call of a user's async scalar function: an <see cref="AsyncCall"/> that the planner runs in an async operator
    /// before the Calc using it, with the <c>table.exec.async-scalar.*</c> options and job parameters SET so far.
    /// </summary>
    private BoundExpr BindAsyncUserFunction(FunctionCall call, string name, List<BoundExpr> args, Catalog.UserAsyncFunction function)
    {
        foreach (var eval in function.Evals)
        {
            var types = Catalog.UserAsyncFunction.ArgumentTypes(eval);
            if (types.Length != args.Count) continue;
            if (!types.Select((t, i) => (t, i)).All(x =>
                    (Nullable.GetUnderlyingType(x.t) ?? x.t) == args[x.i].Type.ClrType || x.t == typeof(object) || args[x.i].Type.Kind == TypeKind.Null))
                continue;
            var resultClr = Catalog.UserAsyncFunction.ResultType(eval)!;
            if (Catalog.UserFunctions.TableElementType(resultClr) is not null)
                throw Error(call, $"{name} is an async table function: call it in FROM ..., LATERAL TABLE({name}(...))");
            var resultType = SqlTypeOf(resultClr) ?? throw Error(call, $"async function {name} returns Task<{resultClr.Name}>, and {resultClr.Name} has no SQL type");
            var jobOptions = catalog.JobOptions();
            Functions.AsyncScalarOptions options;
            try
            {
                options = Functions.AsyncScalarOptions.From(jobOptions, SqlSession.ParseDuration);
            }
            catch (FormatException e)
            {
                throw Error(call, e.Message);
            }
            var spec = Functions.UserAsyncCallFunction.Spec(function, eval, options, new Dictionary<string, string>(jobOptions, StringComparer.Ordinal));
            return new AsyncCall(name, args, spec, resultType with { Nullable = true }) { Location = Location(call), Span = call.Span };
        }
        throw Error(call, $"no overload of async function {name} takes ({string.Join(", ", args.Select(a => a.Type))})");
    }

    /// <summary>The SQL type of a CLR return type of a user function.</summary>
    public static DataType? SqlTypeOf(Type clr)
    {
        var t = Nullable.GetUnderlyingType(clr) ?? clr;
        if (t == typeof(string)) return DataType.String;
        if (t == typeof(bool)) return DataType.Boolean;
        if (t == typeof(int)) return DataType.Int;
        if (t == typeof(long)) return DataType.BigInt;
        if (t == typeof(short)) return DataType.SmallInt;
        if (t == typeof(sbyte)) return DataType.TinyInt;
        if (t == typeof(double)) return DataType.Double;
        if (t == typeof(float)) return DataType.Float;
        if (t == typeof(decimal)) return DataType.Decimal(38, 18);
        if (t == typeof(DateTime)) return DataType.Timestamp3;
        if (t == typeof(DateTimeOffset)) return DataType.TimestampLtz3;
        if (t == typeof(DateOnly)) return DataType.Date;
        return null;
    }

    /// <summary>Flink's DECIMAL precision of an integer type (LogicalTypeMerging).</summary>
    private static (int Precision, int Scale) DecimalShape(DataType t) => t.Kind switch
    {
        TypeKind.TinyInt => (3, 0),
        TypeKind.SmallInt => (5, 0),
        TypeKind.Int => (10, 0),
        TypeKind.BigInt => (19, 0),
        _ => (t.Precision, t.Scale),
    };

    /// <summary>Flink's adjustPrecisionScale: above 38 digits the scale gives way, down to 6.</summary>
    private static (int Precision, int Scale) AdjustDecimal(int precision, int scale) =>
        precision <= 38 ? (precision, scale) : (38, Math.Max(38 - (precision - scale), Math.Min(scale, 6)));

    /// <summary>
    /// DECIMAL + - * / typed as Flink's LogicalTypeMerging (findAdditionDecimalType, findMultiplicationDecimalType,
    /// findDivisionDecimalType); the result is rounded HALF_UP to that scale and NULL when it overflows the precision.
    /// </summary>
    private BoundExpr DecimalArithmetic(BinaryOp op, BoundExpr l, BoundExpr r, DataType common, SqlNode at)
    {
        var (p1, s1) = DecimalShape(l.Type);
        var (p2, s2) = DecimalShape(r.Type);
        var (p, s) = op switch
        {
            BinaryOp.Add or BinaryOp.Subtract => AdjustDecimal(Math.Max(p1 - s1, p2 - s2) + Math.Max(s1, s2) + 1, Math.Max(s1, s2)),
            BinaryOp.Multiply => AdjustDecimal(p1 + p2, s1 + s2),
            _ => AdjustDecimal(p1 - s1 + s2 + Math.Max(6, s1 + p2 + 1), Math.Max(6, s1 + p2 + 1)),
        };
        // .NET's decimal holds 28 digits: a result type needing more could not be computed exactly.
        if (p > 28) throw Error(at, $"DECIMAL arithmetic with a result of DECIMAL({p}, {s}) needs more than the 28 digits Eddy computes exactly");
        var result = DataType.Decimal(p, s);
        BoundExpr exact = op == BinaryOp.Divide
            ? new Call("/", typeof(SqlCasts).GetMethod(nameof(SqlCasts.DivideDecimal))!,
                [CastIfNeeded(l, common), CastIfNeeded(r, common), new Literal(s, DataType.Int)], result)
            : new Binary(op, CastIfNeeded(l, common), CastIfNeeded(r, common), common with { Nullable = true });
        return new Call("DECIMAL", typeof(SqlCasts).GetMethod(nameof(SqlCasts.ToDecimal))!,
            [exact, new Literal(p, DataType.Int), new Literal(s, DataType.Int)], result);
    }

    /// <summary>CAST to DECIMAL(p, s): HALF_UP to s places, NULL when the value needs more than p digits (as Flink).</summary>
    private static BoundExpr CastToDecimal(BoundExpr operand, DataType target, bool tryCast)
    {
        BoundExpr p = new Literal(target.Precision, DataType.Int), s = new Literal(target.Scale, DataType.Int);
        var decimalType = target with { Nullable = true };
        if (operand.Type.Kind is TypeKind.Double or TypeKind.Float)
            return new Call("CAST", typeof(SqlCasts).GetMethod(nameof(SqlCasts.DoubleToDecimal))!, [CastIfNeeded(operand, DataType.Double), p, s], decimalType);
        return new Call("CAST", typeof(SqlCasts).GetMethod(nameof(SqlCasts.ToDecimal))!, [new Cast(operand, decimalType, tryCast), p, s], decimalType);
    }

    /// <summary>ROUND(x [, d]) keeps x's type (Flink's ROUND): integers round to tens with negative d, DECIMAL to Flink's round type.</summary>
    internal BoundExpr BindRound(FunctionCall call, BoundExpr value, BoundExpr? digitsArg)
    {
        int? literalDigits = digitsArg switch
        {
            null => 0,
            Literal { Value: int d } => d,
            Unary { Op: UnaryOp.Negate, Operand: Literal { Value: int n } } => -n,
            _ => null,
        };
        BoundExpr digits = digitsArg is null ? new Literal(0, DataType.Int) : CastIfNeeded(digitsArg, DataType.Int);
        switch (value.Type.Kind)
        {
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt:
                return new Call("ROUND", Method(nameof(SqlFunctions.RoundLong)), [CastIfNeeded(value, DataType.BigInt), digits], value.Type with { Nullable = true });
            case TypeKind.Decimal:
            {
                // Flink's findRoundDecimalType needs the digits at planning.
                if (literalDigits is not { } r) throw Error(call, "ROUND of a DECIMAL needs a literal number of digits");
                int p = value.Type.Precision, s = value.Type.Scale;
                var (rp, rs) = r >= s ? (p, s) : r < 0 ? (Math.Min(38, 1 + p - s), 0) : (1 + p - s + r, r);
                var round = new Call("ROUND", Method(nameof(SqlFunctions.RoundDecimal)), [value, digits], DataType.Decimal(rp, rs));
                return new Call("ROUND", typeof(SqlCasts).GetMethod(nameof(SqlCasts.ToDecimal))!,
                    [round, new Literal(rp, DataType.Int), new Literal(rs, DataType.Int)], DataType.Decimal(rp, rs));
            }
            case TypeKind.Float:
                return new Cast(new Call("ROUND", Method(nameof(SqlFunctions.Round)), [CastIfNeeded(value, DataType.Double), digits], DataType.Double), DataType.Float, false);
            default:
                return new Call("ROUND", Method(nameof(SqlFunctions.Round)), [CastIfNeeded(value, DataType.Double), digits], DataType.Double);
        }
    }

    /// <summary>
    /// A JSON path argument: Flink takes a string literal, and one Eddy cannot follow exactly (wildcards, filters, ...)
    /// is refused here rather than giving a different answer at run time.
    /// </summary>
    private BoundExpr JsonPath(Expr path, Scope scope, GroupContext? group)
    {
        if (path is not StringLiteral literal) throw Error(path, "a JSON path must be a string literal");
        if (SqlFunctions.JsonPathProblem(literal.Value) is { } problem) throw Error(path, problem);
        return Bind(path, scope, group);
    }

    private BoundExpr AddIntervalToDate(BoundExpr date, IntervalExpr interval, SqlNode at)
    {
        // Flink keeps DATE for DATE ± interval; a part of a day would be dropped, which Eddy does not imitate.
        if (interval.Millis % 86_400_000 != 0) throw Error(at, "DATE ± an interval of hours, minutes or seconds is not supported: CAST the DATE to TIMESTAMP first");
        return new Call("+", Method(nameof(SqlFunctions.AddIntervalDate)),
            [date, new Literal(interval.Millis / 86_400_000, DataType.BigInt), new Literal(interval.Months, DataType.Int)], date.Type with { Nullable = true });
    }
}

/// <summary>A call of a user function, possibly an instance method on <see cref="Target"/>.</summary>
public sealed record UserCall(string Name, MethodInfo Method, object? Target, IReadOnlyList<BoundExpr> Args, DataType Type) : BoundExpr(Type)
{
    /// <summary>Where the call is written (<c>file:line:column</c>), for the error when the function throws; null for built-ins.</summary>
    public string? Location { get; init; }

    /// <summary>The call's position, for the error when the function cannot run where it stands.</summary>
    public Parsing.SourceSpan? Span { get; init; }
}
