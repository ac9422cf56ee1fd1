using System.Linq.Expressions;
using System.Reflection;
using Npgsql;
using Npgsql.Replication.PgOutput;

namespace Eddy.Connectors.Postgres.Cdc;

/// <summary>
/// Reads PostgreSQL values straight into the planner's row struct <typeparamref name="T"/> (<see cref="RowTypes.For"/>
/// of the table's decoded columns): one typed reader per column, compiled field stores, no <see cref="Row"/> and no
/// boxed value per change. The values are those of the generic path (<see cref="CdcValues"/>), field by field.
/// </summary>
internal sealed class CdcRowCodec<T> where T : struct
{
    private delegate void Store<in TValue>(ref T row, TValue value);

    private delegate bool FieldsEqual(in T a, in T b);

    private delegate void CopyField(ref T to, in T from);

    private delegate void ClearField(ref T row);

    /// <summary>Reads one column's value (pgoutput's binary value, or a snapshot row's) into its field.</summary>
    private abstract class ColumnReader
    {
        public abstract ValueTask Read(ReplicationValue value, CdcRowCodec<T> codec, CancellationToken ct);

        public abstract void Read(NpgsqlDataReader reader, int ordinal, ref T row);
    }

    /// <summary>A column read as <typeparamref name="TRead"/> (Npgsql's type for it) and stored as <typeparamref name="TValue"/>.</summary>
    private sealed class ColumnReader<TRead, TValue>(Store<TValue> store, Func<TRead, TValue> convert) : ColumnReader
    {
        public override ValueTask Read(ReplicationValue value, CdcRowCodec<T> codec, CancellationToken ct)
        {
            var pending = value.Get<TRead>(ct);
            if (!pending.IsCompletedSuccessfully) return ReadLater(pending, codec);
            store(ref codec.Current, convert(pending.Result));
            return ValueTask.CompletedTask;
        }

        // A value that spans network reads (large text or bytes): the rare path, with its state machine.
        private async ValueTask ReadLater(ValueTask<TRead> pending, CdcRowCodec<T> codec)
        {
            var read = await pending.ConfigureAwait(false);
            store(ref codec.Current, convert(read));
        }

        public override void Read(NpgsqlDataReader reader, int ordinal, ref T row) => store(ref row, convert(reader.GetFieldValue<TRead>(ordinal)));
    }

    private readonly CdcField[] fields;
    private readonly ColumnReader?[] readers;
    private readonly ClearField?[] setNull;
    private readonly CopyField?[] copies;
    private readonly FieldsEqual[] keyEquals;
    private readonly Store<DateTimeOffset>? storeOpTs;

    /// <summary>The metadata names filled in: every change starts from it.</summary>
    private readonly T template;

    /// <summary>The row being read from the replication stream (a field, so that typed stores can write into it across awaits).</summary>
    public T Current;

    /// <summary>The previous image while a full update is read (its unchanged TOASTed values come from it).</summary>
    public T Before;

    /// <param name="keyFields">the fields of the primary key (an update that changes them is a delete and an insert).</param>
    public CdcRowCodec(CdcField[] fields, int[] keyFields, PostgresCdcOptions options)
    {
        this.fields = fields;
        readers = new ColumnReader?[fields.Length];
        setNull = new ClearField?[fields.Length];
        copies = new CopyField?[fields.Length];
        template = default;
        for (int f = 0; f < fields.Length; f++)
        {
            var field = RowTypes.FieldOf(typeof(T), f);
            switch (fields[f].Source)
            {
                case CdcFieldSource.Column:
                    readers[f] = Reader(fields[f].Kind, field);
                    setNull[f] = NullStore(field);
                    copies[f] = Copy(field);
                    break;
                case CdcFieldSource.OpTs:
                    storeOpTs = Setter<DateTimeOffset>(field);
                    break;
                default:
                    Setter<string>(field)(ref template, CdcValues.Metadata(fields[f].Source, options));
                    break;
            }
        }
        keyEquals = [.. keyFields.Select(k => KeyEquals(RowTypes.FieldOf(typeof(T), k)))];
    }

    /// <summary>Starts a change of the replication stream in <see cref="Current"/>: the names, and op_ts.</summary>
    public void Start(DateTimeOffset opTs)
    {
        Current = template;
        storeOpTs?.Invoke(ref Current, opTs);
    }

    /// <summary>Field <paramref name="f"/> of <see cref="Current"/> is NULL.</summary>
    public void SetNull(int f) => setNull[f]!(ref Current);

    /// <summary>Field <paramref name="f"/> of <see cref="Current"/> takes <see cref="Before"/>'s value (an unchanged TOASTed value).</summary>
    public void CopyFromBefore(int f) => copies[f]!(ref Current, in Before);

    /// <summary>Reads pgoutput's value of column field <paramref name="f"/> into <see cref="Current"/>.</summary>
    public ValueTask Read(int f, ReplicationValue value, CancellationToken ct) => readers[f]!.Read(value, this, ct);

    /// <summary>A snapshot row (columns in field order, metadata skipped) as a row struct; op_ts is 0 as Flink CDC has it.</summary>
    public T ReadSnapshotRow(NpgsqlDataReader rows)
    {
        var row = template;
        storeOpTs?.Invoke(ref row, DateTimeOffset.UnixEpoch);
        int column = 0;
        for (int f = 0; f < fields.Length; f++)
        {
            if (readers[f] is not { } reader) continue;
            if (rows.IsDBNull(column)) setNull[f]!(ref row);
            else reader.Read(rows, column, ref row);
            column++;
        }
        return row;
    }

    /// <summary>Whether the primary key is the same in both images (-U/+U), or changed (-D/+I), as Debezium reads it.</summary>
    public bool SameKey(in T before, in T after)
    {
        foreach (var equal in keyEquals)
            if (!equal(in before, in after)) return false;
        return true;
    }

    private static ColumnReader Reader(CdcValueKind kind, FieldInfo field) => kind switch
    {
        CdcValueKind.Int16 => Same<short>(field),
        CdcValueKind.Int32 => Same<int>(field),
        CdcValueKind.Int64 => Same<long>(field),
        CdcValueKind.Float32 => Same<float>(field),
        CdcValueKind.Float64 => Same<double>(field),
        CdcValueKind.Decimal => Same<decimal>(field),
        CdcValueKind.Boolean => Same<bool>(field),
        CdcValueKind.Date => Same<DateOnly>(field),
        CdcValueKind.Time => Same<TimeOnly>(field),
        CdcValueKind.Timestamp => Same<DateTime>(field),
        CdcValueKind.TimestampTz => new ColumnReader<DateTime, DateTimeOffset>(Setter<DateTimeOffset>(field), CdcValues.FromUtc),
        CdcValueKind.Text => Same<string>(field),
        CdcValueKind.Bytes => Same<byte[]>(field),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static ColumnReader<TValue, TValue> Same<TValue>(FieldInfo field) => new(Setter<TValue>(field), static v => v);

    /// <summary><c>(ref T row, v) => row.cN = v</c>, lifted to the field's nullable type where it is one.</summary>
    private static Store<TValue> Setter<TValue>(FieldInfo field)
    {
        var row = Expression.Parameter(typeof(T).MakeByRefType(), "row");
        var value = Expression.Parameter(typeof(TValue), "value");
        Expression converted = field.FieldType == typeof(TValue) ? value : Expression.Convert(value, field.FieldType);
        return Expression.Lambda<Store<TValue>>(Expression.Assign(Expression.Field(row, field), converted), row, value).Compile();
    }

    /// <summary><c>(ref T row) => row.cN = default</c>: NULL (a NOT NULL value type's default, as the generic path converts a null).</summary>
    private static ClearField NullStore(FieldInfo field)
    {
        var row = Expression.Parameter(typeof(T).MakeByRefType(), "row");
        return Expression.Lambda<ClearField>(Expression.Assign(Expression.Field(row, field), Expression.Default(field.FieldType)), row).Compile();
    }

    private static CopyField Copy(FieldInfo field)
    {
        var to = Expression.Parameter(typeof(T).MakeByRefType(), "to");
        var from = Expression.Parameter(typeof(T).MakeByRefType(), "from");
        return Expression.Lambda<CopyField>(Expression.Assign(Expression.Field(to, field), Expression.Field(from, field)), to, from).Compile();
    }

    /// <summary>Key fields compare as their values (<see cref="object.Equals(object, object)"/> on the generic path), bytes by content.</summary>
    private static FieldsEqual KeyEquals(FieldInfo field)
    {
        var a = Expression.Parameter(typeof(T).MakeByRefType(), "a");
        var b = Expression.Parameter(typeof(T).MakeByRefType(), "b");
        object comparer = field.FieldType == typeof(byte[]) ? BytesEquality.Instance
            : typeof(EqualityComparer<>).MakeGenericType(field.FieldType).GetProperty(nameof(EqualityComparer<int>.Default))!.GetValue(null)!;
        var equals = typeof(IEqualityComparer<>).MakeGenericType(field.FieldType).GetMethod(nameof(IEqualityComparer<int>.Equals))!;
        var call = Expression.Call(Expression.Constant(comparer, equals.DeclaringType!), equals, Expression.Field(a, field), Expression.Field(b, field));
        return Expression.Lambda<FieldsEqual>(call, a, b).Compile();
    }

    private sealed class BytesEquality : IEqualityComparer<byte[]>
    {
        public static readonly BytesEquality Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x is null || y is null ? x is null && y is null : x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
