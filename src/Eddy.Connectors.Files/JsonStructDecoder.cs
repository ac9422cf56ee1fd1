using System.Reflection;
using System.Reflection.Emit;
using System.Text;
using System.Text.Json;

namespace Eddy.Connectors;

/// <summary>
/// Decodes one JSON object straight into a row struct (<see cref="RowTypes.For"/>: a field <c>cN</c> per column), with
/// the same rules as <see cref="JsonRowDecoder"/> but without a generic <see cref="Row"/>, an <c>object</c> per value
/// or a string per field name. Numbers, booleans and strings are read into their fields directly; other types (dates,
/// decimals, arrays, maps, rows, numbers given as strings) go through <see cref="JsonRowDecoder"/>'s value reader.
/// A missing field leaves its field at its default (null, or 0 for a NOT NULL column, as the row conversion does).
/// </summary>
public sealed class JsonStructDecoder<T> where T : struct
{
    private delegate void ColumnReader(ref T row, int index, ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column[] columns);

    private readonly Column[] columns;
    private readonly byte[][] names;
    private readonly bool failOnMissingField;
    private readonly ColumnReader readColumn;

    public JsonStructDecoder(Schema schema, bool failOnMissingField = false)
    {
        this.failOnMissingField = failOnMissingField;
        columns = schema.Columns.ToArray();
        names = columns.Select(c => Encoding.UTF8.GetBytes(c.Name)).ToArray();
        readColumn = Compile(columns);
    }

    /// <exception cref="RecordFormatException">The bytes are not a JSON object or a value does not fit its column.</exception>
    public void Decode(ReadOnlySpan<byte> json, out T row)
    {
        row = default;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new RecordFormatException($"expected a JSON object, got {JsonRowDecoder.Describe(ref reader, json)}");
            ulong seen = 0;
            bool[]? seenMany = failOnMissingField && columns.Length > 64 ? new bool[columns.Length] : null;
            int hint = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int index = JsonRowDecoder.FindColumn(ref reader, names, ref hint);
                reader.Read();
                if (index < 0)
                {
                    reader.Skip();
                    continue;
                }
                readColumn(ref row, index, ref reader, json, columns);
                if (seenMany is not null) seenMany[index] = true;
                else if (index < 64) seen |= 1UL << index;
            }
            if (reader.Read()) throw new RecordFormatException("unexpected content after the JSON object");
            if (failOnMissingField)
            {
                for (int i = 0; i < columns.Length; i++)
                {
                    bool present = seenMany is not null ? seenMany[i] : (seen & (1UL << i)) != 0;
                    if (!present) throw new RecordFormatException($"column '{columns[i].Name}' is missing");
                }
            }
        }
        catch (JsonException e)
        {
            throw new RecordFormatException($"invalid JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader checks a string's bytes only when it is read as text: invalid UTF-8 surfaces here.
            throw JsonRowDecoder.ReadFailure(e, json);
        }
    }

    /// <summary>
    /// One method for all columns: a jump table on the column index, each case reading the value with the reader for
    /// its field's type and storing it into the field (no delegate or virtual call per column).
    /// </summary>
    private static ColumnReader Compile(Column[] columns)
    {
        var method = new DynamicMethod($"ReadJsonInto{typeof(T).Name}", typeof(void),
            [typeof(T).MakeByRefType(), typeof(int), typeof(Utf8JsonReader).MakeByRefType(), typeof(ReadOnlySpan<byte>), typeof(Column[])],
            typeof(JsonStructDecoder<T>).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        var cases = columns.Select(_ => il.DefineLabel()).ToArray();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Switch, cases);
        il.Emit(OpCodes.Ret);
        for (int i = 0; i < columns.Length; i++)
        {
            var field = RowTypes.FieldOf(typeof(T), i);
            var expected = RowTypes.FieldType(columns[i].Type);
            if (field.FieldType != expected)
                throw new ArgumentException($"column '{columns[i].Name}': the row struct's field is a {field.FieldType}, the column needs {expected}");
            il.MarkLabel(cases[i]);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldarg_2);
            il.Emit(OpCodes.Ldarg_3);
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Ldc_I4, i);
            il.Emit(OpCodes.Ldelem_Ref);
            il.Emit(OpCodes.Call, JsonFieldReaders.For(field.FieldType));
            il.Emit(OpCodes.Stfld, field);
            il.Emit(OpCodes.Ret);
        }
        return method.CreateDelegate<ColumnReader>();
    }
}

/// <summary>Reads the JSON value at the reader as one field type (the typed cases of <see cref="JsonRowDecoder"/>).</summary>
internal static class JsonFieldReaders
{
    public static MethodInfo For(Type fieldType)
    {
        string? name = fieldType == typeof(long) ? nameof(Int64)
            : fieldType == typeof(long?) ? nameof(NullableInt64)
            : fieldType == typeof(int) ? nameof(Int32)
            : fieldType == typeof(int?) ? nameof(NullableInt32)
            : fieldType == typeof(double) ? nameof(Double)
            : fieldType == typeof(double?) ? nameof(NullableDouble)
            : fieldType == typeof(bool) ? nameof(Boolean)
            : fieldType == typeof(bool?) ? nameof(NullableBoolean)
            : fieldType == typeof(string) ? nameof(String)
            : null;
        return name is not null
            ? typeof(JsonFieldReaders).GetMethod(name, BindingFlags.Public | BindingFlags.Static)!
            : typeof(JsonFieldReaders).GetMethod(nameof(Any), BindingFlags.Public | BindingFlags.Static)!.MakeGenericMethod(fieldType);
    }

    public static long Int64(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long l) ? l : Any<long>(ref reader, json, column);

    public static long? NullableInt64(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long l) ? l : Any<long?>(ref reader, json, column);

    public static int Int32(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int v) ? v : Any<int>(ref reader, json, column);

    public static int? NullableInt32(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int v) ? v : Any<int?>(ref reader, json, column);

    public static double Double(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) =>
        reader.TokenType == JsonTokenType.Number ? reader.GetDouble() : Any<double>(ref reader, json, column);

    public static double? NullableDouble(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) =>
        reader.TokenType == JsonTokenType.Number ? reader.GetDouble() : Any<double?>(ref reader, json, column);

    public static bool Boolean(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => Any<bool>(ref reader, json, column),
    };

    public static bool? NullableBoolean(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => Any<bool?>(ref reader, json, column),
    };

    public static string? String(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString() : Any<string?>(ref reader, json, column);

    /// <summary>Everything else, and the cases above that need checks or text parsing (errors name the column).</summary>
    public static TField Any<TField>(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Column column)
    {
        var value = JsonRowDecoder.ReadValue(ref reader, json, column.Type, column.Name);
        return value is null ? default! : (TField)value;
    }
}
