using Parquet;
using Parquet.Schema;

namespace Eddy.Connectors;

/// <summary>
/// Flink's parquet type mapping for the scalar types Eddy writes and reads: BOOLEAN, SMALLINT (INT32 INT_16), INT,
/// BIGINT, FLOAT, DOUBLE, DECIMAL(p, s), STRING (UTF8), BYTES, DATE, TIMESTAMP and TIMESTAMP_LTZ (INT96, as Flink
/// writes them by default). Every column is optional (nullable); a file's required columns are read too.
/// </summary>
internal static class ParquetColumns
{
    public static DataField Field(Column column) => column.Type.Kind switch
    {
        TypeKind.Boolean => new DataField<bool?>(column.Name),
        TypeKind.SmallInt => new DataField<short?>(column.Name),
        TypeKind.Int => new DataField<int?>(column.Name),
        TypeKind.BigInt => new DataField<long?>(column.Name),
        TypeKind.Float => new DataField<float?>(column.Name),
        TypeKind.Double => new DataField<double?>(column.Name),
        TypeKind.Decimal => new DecimalDataField(column.Name, column.Type.Precision, column.Type.Scale, isNullable: true),
        TypeKind.String or TypeKind.Char => new DataField<string>(column.Name, true),
        TypeKind.Binary => new DataField<byte[]>(column.Name, true),
        TypeKind.Date => new DataField<DateOnly?>(column.Name),
        TypeKind.Timestamp or TypeKind.TimestampLtz => new DateTimeDataField(column.Name, DateTimeFormat.Impala, isNullable: true),
        _ => throw Unsupported(column),
    };

    public static ArgumentException Unsupported(Column column) =>
        new($"the parquet format of Eddy cannot hold column '{column.Name}' of type {column.Type} (it writes and reads BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL, STRING, BYTES, DATE, TIMESTAMP, TIMESTAMP_LTZ)");

    /// <summary>Fails at planning for a column the format cannot hold.</summary>
    public static void Check(IEnumerable<Column> columns)
    {
        foreach (var c in columns) Field(c);
    }

    public static CompressionMethod Compression(string name) => name switch
    {
        "UNCOMPRESSED" => CompressionMethod.None,
        "GZIP" => CompressionMethod.Gzip,
        "ZSTD" => CompressionMethod.Zstd,
        _ => CompressionMethod.Snappy,
    };

    /// <summary>About what a value takes in a row group, to size row groups by <c>parquet.block.size</c>.</summary>
    public static long EstimatedSize(object? value) => value switch
    {
        null => 1,
        string s => 4 + s.Length,
        byte[] b => 4 + b.Length,
        decimal => 16,
        DateTime or DateTimeOffset => 12,
        _ => 8,
    };
}

/// <summary>
/// Writes one part file in Parquet: rows are buffered per column and written as a row group when their estimated size
/// reaches <c>parquet.block.size</c>, and when the part closes (<see cref="Complete"/> writes the footer).
/// </summary>
internal sealed class ParquetPartEncoder : IFilePartWriter
{
    private readonly Column[] columns;
    private readonly int[] fields;
    private readonly DataField[] dataFields;
    private readonly List<object?>[] buffered;
    private readonly long blockSize;
    private readonly ParquetWriter writer;
    private long estimate;

    public ParquetPartEncoder(FileConnectorOptions options, Column[] columns, int[] fields, Stream file)
    {
        this.columns = columns;
        this.fields = fields;
        dataFields = fields.Select(f => ParquetColumns.Field(columns[f])).ToArray();
        buffered = fields.Select(_ => new List<object?>()).ToArray();
        blockSize = options.ParquetBlockSize;
        writer = ParquetWriter.CreateAsync(new ParquetSchema(dataFields), file,
            new ParquetOptions { CompressionMethod = ParquetColumns.Compression(options.ParquetCompression) }).GetAwaiter().GetResult();
    }

    /// <summary>Rows buffered for the next row group, by estimated size (the part's size is the file's plus this).</summary>
    public long Buffered => estimate;

    public void Write(Row row)
    {
        for (int i = 0; i < fields.Length; i++)
        {
            var v = row[fields[i]];
            buffered[i].Add(v);
            estimate += ParquetColumns.EstimatedSize(v);
        }
        if (estimate >= blockSize) WriteRowGroup();
    }

    private void WriteRowGroup()
    {
        if (buffered[0].Count == 0) return;
        using (var group = writer.CreateRowGroup())
        {
            for (int i = 0; i < fields.Length; i++) WriteColumn(group, dataFields[i], columns[fields[i]].Type.Kind, buffered[i]);
            group.CompleteValidate();
        }
        foreach (var b in buffered) b.Clear();
        estimate = 0;
    }

    private static void WriteColumn(ParquetRowGroupWriter group, DataField field, TypeKind kind, List<object?> values)
    {
        switch (kind)
        {
            case TypeKind.Boolean: Typed<bool>(group, field, values, v => (bool)v); break;
            case TypeKind.SmallInt: Typed<short>(group, field, values, v => (short)v); break;
            case TypeKind.Int: Typed<int>(group, field, values, v => (int)v); break;
            case TypeKind.BigInt: Typed<long>(group, field, values, v => (long)v); break;
            case TypeKind.Float: Typed<float>(group, field, values, v => (float)v); break;
            case TypeKind.Double: Typed<double>(group, field, values, v => (double)v); break;
            case TypeKind.Decimal: Typed<decimal>(group, field, values, v => (decimal)v); break;
            case TypeKind.Date: Typed<DateOnly>(group, field, values, v => (DateOnly)v); break;
            case TypeKind.Timestamp or TypeKind.TimestampLtz:
                Typed<DateTime>(group, field, values, v => v is DateTimeOffset o ? o.UtcDateTime : (DateTime)v);
                break;
            case TypeKind.String or TypeKind.Char:
                group.WriteAsync(field, values.Select(v => (string?)v).ToArray()!).GetAwaiter().GetResult();
                break;
            default:
                group.WriteAsync(field, values.Select(v => (byte[]?)v).ToArray()!).GetAwaiter().GetResult();
                break;
        }
    }

    private static void Typed<T>(ParquetRowGroupWriter group, DataField field, List<object?> values, Func<object, T> convert) where T : struct
    {
        var array = new T?[values.Count];
        for (int i = 0; i < array.Length; i++) array[i] = values[i] is { } v ? convert(v) : null;
        group.WriteAsync<T>(field, new ReadOnlyMemory<T?>(array)).GetAwaiter().GetResult();
    }

    /// <summary>Writes the last row group and the footer; the caller flushes and closes the file.</summary>
    public void Complete()
    {
        WriteRowGroup();
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}

/// <summary>Reads a Parquet file a row group at a time into rows of the table's columns (matched by name).</summary>
internal sealed class ParquetRowReader : IFileRowReader
{
    private readonly Column[] columns;
    private readonly FileStream stream;
    private readonly ParquetReader reader;
    private readonly DataField[] fileFields;
    private object?[][] groupValues = [];
    private int group = -1;
    private int row;
    private int rowsInGroup;

    public ParquetRowReader(string path, Column[] columns)
    {
        this.columns = columns;
        stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            reader = ParquetReader.CreateAsync(stream, new ParquetOptions { UseDateOnlyTypeForDates = true }).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not IOException)
        {
            stream.Dispose();
            throw new FileParseException(path, 0, $"not a Parquet file: {e.Message}");
        }
        var all = reader.Schema.GetDataFields();
        fileFields = columns.Select(c => all.FirstOrDefault(f => f.Name == c.Name)
            ?? throw new FileParseException(path, 0, $"the Parquet file has no column '{c.Name}' (it has {string.Join(", ", all.Select(f => f.Name))})")).ToArray();
        for (int i = 0; i < columns.Length; i++)
        {
            var expected = ParquetColumns.Field(columns[i]).ClrType;
            if (fileFields[i].ClrType != expected)
                throw new FileParseException(path, 0, $"column '{columns[i].Name}' is {fileFields[i].ClrType.Name} in the Parquet file, which does not map to {columns[i].Type}");
        }
    }

    /// <summary>Rows read so far (the checkpoint position within the file).</summary>
    public long Position { get; private set; }

    /// <summary>The next row, or false at the end of the file.</summary>
    public bool TryRead(out object?[] values)
    {
        while (row >= rowsInGroup)
        {
            if (group + 1 >= reader.RowGroupCount)
            {
                values = [];
                return false;
            }
            LoadGroup(++group);
        }
        values = new object?[columns.Length];
        for (int c = 0; c < columns.Length; c++) values[c] = groupValues[c][row];
        row++;
        Position++;
        return true;
    }

    public bool Skip()
    {
        if (!TryRead(out _)) return false;
        return true;
    }

    private void LoadGroup(int index)
    {
        var rg = reader.OpenRowGroupReader(index);
        rowsInGroup = (int)rg.RowCount;
        row = 0;
        groupValues = new object?[columns.Length][];
        for (int c = 0; c < columns.Length; c++) groupValues[c] = ReadColumn(rg, fileFields[c], columns[c].Type.Kind, rowsInGroup);
    }

    private static object?[] ReadColumn(ParquetRowGroupReader rg, DataField field, TypeKind kind, int count) => kind switch
    {
        TypeKind.Boolean => Typed<bool>(rg, field, count, v => v),
        TypeKind.SmallInt => Typed<short>(rg, field, count, v => v),
        TypeKind.Int => Typed<int>(rg, field, count, v => v),
        TypeKind.BigInt => Typed<long>(rg, field, count, v => v),
        TypeKind.Float => Typed<float>(rg, field, count, v => v),
        TypeKind.Double => Typed<double>(rg, field, count, v => v),
        TypeKind.Decimal => Typed<decimal>(rg, field, count, v => v),
        TypeKind.Date => Typed<DateOnly>(rg, field, count, v => v),
        TypeKind.Timestamp => Typed<DateTime>(rg, field, count, v => DateTime.SpecifyKind(v, DateTimeKind.Unspecified)),
        TypeKind.TimestampLtz => Typed<DateTime>(rg, field, count, v => new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc))),
        TypeKind.String or TypeKind.Char => Strings(rg, field, count),
        _ => Bytes(rg, field, count),
    };

    private static object?[] Typed<T>(ParquetRowGroupReader rg, DataField field, int count, Func<T, object> box) where T : struct
    {
        var result = new object?[count];
        if (field.IsNullable)
        {
            var values = new T?[count];
            rg.ReadAsync<T>(field, values.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < count; i++) result[i] = values[i] is { } v ? box(v) : null;
        }
        else
        {
            var values = new T[count];
            rg.ReadAsync<T>(field, values.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < count; i++) result[i] = box(values[i]);
        }
        return result;
    }

    private static object?[] Strings(ParquetRowGroupReader rg, DataField field, int count)
    {
        var values = new string?[count];
        rg.ReadAsync(field, values.AsMemory()).GetAwaiter().GetResult();
        return values;
    }

    private static object?[] Bytes(ParquetRowGroupReader rg, DataField field, int count)
    {
        var values = new byte[]?[count];
        rg.ReadAsync(field, values.AsMemory()).GetAwaiter().GetResult();
        return values;
    }

    public void Dispose()
    {
        reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        stream.Dispose();
    }
}
