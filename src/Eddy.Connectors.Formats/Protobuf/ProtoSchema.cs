using System.Globalization;
using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Eddy.Connectors.Formats.Protobuf;

/// <summary>
/// How the columns of a ROW (or a table) lie in a protobuf message, checked once against Flink's type mapping:
/// string → STRING/CHAR/VARCHAR, bytes → BYTES/BINARY/VARBINARY, bool → BOOLEAN, (s/u)int32, (s)fixed32 → INT,
/// (s/u)int64, (s)fixed64 → BIGINT, float → FLOAT, double → DOUBLE, enum → STRING/CHAR/VARCHAR (the value's name) or
/// TINYINT/SMALLINT/INT/BIGINT (its number), message → ROW, repeated → ARRAY, map → MAP. Columns are found by the
/// field's name in the .proto file.
/// </summary>
internal sealed class ProtoMessagePlan
{
    public required MessageDescriptor Descriptor { get; init; }

    public required ProtoFieldPlan[] Columns { get; init; }

    /// <summary>The column of each field number (−1: not read), for numbers up to <see cref="DenseLimit"/>.</summary>
    public required int[] ColumnByNumber { get; init; }

    /// <summary>The columns of field numbers above the dense table.</summary>
    public required Dictionary<int, int> ColumnBySparseNumber { get; init; }

    /// <summary>Whether an absent field reads as its default value, not NULL (Flink: always for proto3).</summary>
    public required bool ReadDefaults { get; init; }

    /// <summary>The columns by field number: the order a generated builder writes them in.</summary>
    public required ProtoFieldPlan[] WriteOrder { get; init; }

    public const int DenseLimit = 256;

    public int ColumnOf(int fieldNumber) =>
        fieldNumber < ColumnByNumber.Length ? ColumnByNumber[fieldNumber] : ColumnBySparseNumber.GetValueOrDefault(fieldNumber, -1);

    public static ProtoMessagePlan Build(MessageDescriptor message, IReadOnlyList<Column> columns, bool readDefaults, string path)
    {
        var plans = new ProtoFieldPlan[columns.Count];
        int maxDense = 0;
        for (int i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            var field = message.FindFieldByName(column.Name)
                ?? throw new FormatOptionException("protobuf.message-class-name",
                    $"column '{path}{column.Name}' is not a field of protobuf message {message.FullName}; its fields: {string.Join(", ", message.Fields.InDeclarationOrder().Select(f => f.Name))}");
            plans[i] = ProtoFieldPlan.Build(field, column.Type, readDefaults, path + column.Name, i);
            if (field.FieldNumber < DenseLimit) maxDense = Math.Max(maxDense, field.FieldNumber + 1);
        }
        var dense = new int[maxDense];
        Array.Fill(dense, -1);
        var sparse = new Dictionary<int, int>();
        foreach (var plan in plans)
        {
            if (plan.Field.FieldNumber < DenseLimit) dense[plan.Field.FieldNumber] = plan.Column;
            else sparse[plan.Field.FieldNumber] = plan.Column;
        }
        foreach (var plan in plans)
        {
            if (plan.Field.RealContainingOneof is not { } oneof) continue;
            int[] later = [.. plans.Where(p => p.Column > plan.Column && p.Field.RealContainingOneof == oneof).Select(p => p.Column)];
            if (later.Length > 0) plan.LaterInOneof = later;
        }
        return new ProtoMessagePlan
        {
            Descriptor = message, Columns = plans, ColumnByNumber = dense, ColumnBySparseNumber = sparse, ReadDefaults = readDefaults,
            WriteOrder = [.. plans.OrderBy(p => p.Field.FieldNumber)],
        };
    }

    /// <summary>A message whose fields are all absent, as a row (the default instance: NULLs, or defaults with <see cref="ReadDefaults"/>).</summary>
    public Row EmptyRow() => ProtoRowDecoder.Finish(this, new object?[Columns.Length]);
}

/// <summary>What one column reads from its field.</summary>
internal sealed class ProtoFieldPlan
{
    public required FieldDescriptor Field { get; init; }

    public required int Column { get; init; }

    public required DataType Type { get; init; }

    public required string Path { get; init; }

    /// <summary>Of a message field, or of a repeated message's elements.</summary>
    public ProtoMessagePlan? Message { get; init; }

    /// <summary>Of a map field: the entry's key (number 1) and value (number 2).</summary>
    public ProtoFieldPlan? MapKey { get; init; }

    public ProtoFieldPlan? MapValue { get; init; }

    /// <summary>An enum read as its name (else as its number).</summary>
    public bool EnumAsName { get; init; }

    /// <summary>The declared default (proto2 <c>[default = ...]</c>) or the type's, for a singular scalar; null otherwise.</summary>
    public object? ScalarDefault { get; init; }

    public bool IsList => Field.IsRepeated && !Field.IsMap;

    /// <summary>For a field of a real oneof: the columns after this one in the same oneof (a builder keeps the last one set).</summary>
    public int[]? LaterInOneof { get; set; }

    /// <summary>Whether the field's values may come packed (a repeated number, bool or enum).</summary>
    public bool Packable => Field.IsRepeated && Field.FieldType is not (FieldType.String or FieldType.Bytes or FieldType.Message or FieldType.Group);

    public static ProtoFieldPlan Build(FieldDescriptor field, DataType type, bool readDefaults, string path, int column)
    {
        if (field.IsMap)
        {
            if (type.Kind != TypeKind.Map) throw Mismatch(path, field, type, "MAP");
            var entry = field.MessageType;
            var key = Build(entry.FindFieldByNumber(1), type.Element!, readDefaults, path + ".key", 0);
            var value = Build(entry.FindFieldByNumber(2), type.Value!, readDefaults, path + ".value", 1);
            return new ProtoFieldPlan { Field = field, Column = column, Type = type, Path = path, MapKey = key, MapValue = value };
        }
        if (field.IsRepeated)
        {
            if (type.Kind != TypeKind.Array) throw Mismatch(path, field, type, "ARRAY");
            var element = Element(field, type.Element!, readDefaults, path);
            return new ProtoFieldPlan
            {
                Field = field, Column = column, Type = type, Path = path, Message = element.Message, EnumAsName = element.EnumAsName,
            };
        }
        var single = Element(field, type, readDefaults, path);
        return new ProtoFieldPlan
        {
            Field = field, Column = column, Type = type, Path = path, Message = single.Message, EnumAsName = single.EnumAsName,
            ScalarDefault = field.FieldType == FieldType.Message ? null : Default(field, type, single.EnumAsName, path),
        };
    }

    /// <summary>The mapping of one value of the field (an element, for a repeated field).</summary>
    private static (ProtoMessagePlan? Message, bool EnumAsName) Element(FieldDescriptor field, DataType type, bool readDefaults, string path)
    {
        switch (field.FieldType)
        {
            case FieldType.Message:
                if (type.Kind != TypeKind.Row) throw Mismatch(path, field, type, "ROW");
                return (ProtoMessagePlan.Build(field.MessageType, type.Fields!, readDefaults, path + "."), false);
            case FieldType.Group:
                throw new FormatOptionException("protobuf.message-class-name", $"column '{path}': protobuf groups are not supported by Eddy");
            case FieldType.Enum:
                if (type.Kind is TypeKind.String or TypeKind.Char) return (null, true);
                if (type.Kind is TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt) return (null, false);
                throw Mismatch(path, field, type, "STRING, CHAR, VARCHAR, TINYINT, SMALLINT, INT or BIGINT");
            default:
                var expected = Expected(field.FieldType);
                if (!expected.Contains(type.Kind)) throw Mismatch(path, field, type, string.Join(" or ", expected.Select(Sql)));
                return (null, false);
        }
    }

    private static TypeKind[] Expected(FieldType t) => t switch
    {
        FieldType.String => [TypeKind.String, TypeKind.Char],
        FieldType.Bytes => [TypeKind.Binary],
        FieldType.Bool => [TypeKind.Boolean],
        FieldType.Int32 or FieldType.SInt32 or FieldType.UInt32 or FieldType.Fixed32 or FieldType.SFixed32 => [TypeKind.Int],
        FieldType.Int64 or FieldType.SInt64 or FieldType.UInt64 or FieldType.Fixed64 or FieldType.SFixed64 => [TypeKind.BigInt],
        FieldType.Float => [TypeKind.Float],
        FieldType.Double => [TypeKind.Double],
        _ => [],
    };

    private static string Sql(TypeKind k) => k switch
    {
        TypeKind.String => "STRING",
        TypeKind.Char => "CHAR",
        TypeKind.Binary => "BYTES",
        TypeKind.Boolean => "BOOLEAN",
        TypeKind.Int => "INT",
        TypeKind.BigInt => "BIGINT",
        TypeKind.Float => "FLOAT",
        TypeKind.Double => "DOUBLE",
        _ => k.ToString().ToUpperInvariant(),
    };

    private static FormatOptionException Mismatch(string path, FieldDescriptor field, DataType type, string expected) =>
        new("protobuf.message-class-name",
            $"column '{path}' is {type}, but protobuf field {field.FullName} is {(field.IsMap ? "a map" : field.IsRepeated ? "repeated " + field.FieldType : field.FieldType.ToString())}: Flink's mapping needs {expected}");

    /// <summary>The value an absent singular scalar reads as with read-default-values: proto2's declared default, else the type's.</summary>
    private static object Default(FieldDescriptor field, DataType type, bool enumAsName, string path)
    {
        var proto = field.ToProto();
        string? declared = proto.HasDefaultValue ? proto.DefaultValue : null;
        try
        {
            switch (field.FieldType)
            {
                case FieldType.String:
                    return declared ?? "";
                case FieldType.Bytes:
                    return declared is null ? Array.Empty<byte>() : Unescape(declared);
                case FieldType.Bool:
                    return declared is not null && bool.Parse(declared);
                case FieldType.Float:
                    return declared is null ? 0f : (float)Floating(declared);
                case FieldType.Double:
                    return declared is null ? 0d : Floating(declared);
                case FieldType.Enum:
                    var value = declared is null ? field.EnumType.Values[0] : field.EnumType.FindValueByName(declared);
                    return EnumValue(value.Number, value.Name, type, enumAsName);
                default:
                    long number = declared is null ? 0 : long.Parse(declared, NumberStyles.Integer, CultureInfo.InvariantCulture);
                    // Boxed apart: a conditional of int and long would widen the int.
                    return type.Kind == TypeKind.Int ? (object)(int)number : number;
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FormatOptionException("protobuf.message-class-name", $"column '{path}': the default value '{declared}' of {field.FullName} cannot be read: {e.Message}");
        }
    }

    internal static object EnumValue(int number, string name, DataType type, bool asName) =>
        asName ? name : type.Kind switch
        {
            TypeKind.TinyInt => (object)(sbyte)number,
            TypeKind.SmallInt => (short)number,
            TypeKind.Int => number,
            _ => (long)number,
        };

    private static double Floating(string text) => text switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    /// <summary>protoc writes a bytes default C-escaped (<c>\n</c>, <c>\\</c>, octal <c>\ooo</c>).</summary>
    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '\\' || i + 1 == text.Length)
            {
                bytes.Add((byte)c);
                continue;
            }
            char e = text[++i];
            switch (e)
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case '\\' or '\'' or '"' or '?': bytes.Add((byte)e); break;
                case >= '0' and <= '7':
                    int value = 0, digits = 0;
                    while (digits < 3 && i < text.Length && text[i] is >= '0' and <= '7')
                    {
                        value = value * 8 + (text[i] - '0');
                        i++;
                        digits++;
                    }
                    i--;
                    bytes.Add((byte)value);
                    break;
                default: throw new FormatException($"escape \\{e}");
            }
        }
        return [.. bytes];
    }
}

/// <summary>Finds the message: a generated C# class (<c>protobuf.message-class-name</c>) or a descriptor set file (Eddy's <c>protobuf.descriptor-file</c> + <c>protobuf.message-name</c>).</summary>
internal static class ProtoDescriptors
{
    public static MessageDescriptor Resolve(FormatContext context)
    {
        string? className = context.Option("protobuf.message-class-name");
        string? file = context.Option("protobuf.descriptor-file");
        string? messageName = context.Option("protobuf.message-name");
        if (className is not null && file is not null)
            throw new FormatOptionException(context.OptionKey("protobuf.descriptor-file"), "'protobuf.message-class-name' and 'protobuf.descriptor-file' exclude each other");
        if (className is not null)
        {
            if (messageName is not null) throw new FormatOptionException(context.OptionKey("protobuf.message-name"), "only with 'protobuf.descriptor-file'");
            return FromClass(context, className);
        }
        if (file is not null)
        {
            if (messageName is null) throw new FormatOptionException(context.OptionKey("protobuf.message-name"), "required with 'protobuf.descriptor-file': the message's full name (package.Message)");
            return FromFile(context, file, messageName);
        }
        throw new FormatOptionException(context.OptionKey("protobuf.message-class-name"),
            "required: a generated C# message class (from an assembly added with ADD JAR), or Eddy's 'protobuf.descriptor-file' with 'protobuf.message-name'");
    }

    private static MessageDescriptor FromClass(FormatContext context, string className)
    {
        var type = context.FindType(className)
            ?? throw new FormatOptionException(context.OptionKey("protobuf.message-class-name"),
                $"class '{className}' was not found in the added jars nor in Eddy (ADD JAR loads the assembly that holds it; a nested message class is named Outer+Types+Inner)");
        var property = type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static);
        if (!typeof(IMessage).IsAssignableFrom(type) || property?.GetValue(null) is not MessageDescriptor descriptor)
            throw new FormatOptionException(context.OptionKey("protobuf.message-class-name"), $"class '{className}' is not a protobuf message class generated by protoc for C#");
        return descriptor;
    }

    private static MessageDescriptor FromFile(FormatContext context, string path, string messageName)
    {
        string key = context.OptionKey("protobuf.descriptor-file");
        FileDescriptorSet set;
        try
        {
            set = FileDescriptorSet.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatOptionException(key, $"cannot read '{path}': {e.Message}");
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FormatOptionException(key, $"'{path}' is not a descriptor set (protoc --descriptor_set_out --include_imports): {e.Message}");
        }
        IReadOnlyList<FileDescriptor> files;
        try
        {
            files = FileDescriptor.BuildFromByteStrings(set.File.Select(f => f.ToByteString()));
        }
        catch (Exception e) when (e is ArgumentException or DescriptorValidationException)
        {
            throw new FormatOptionException(key, $"'{path}': {e.Message} (write it with protoc's --include_imports)");
        }
        var all = files.SelectMany(f => f.MessageTypes).SelectMany(Nested).ToList();
        return all.FirstOrDefault(m => m.FullName == messageName)
            ?? throw new FormatOptionException(context.OptionKey("protobuf.message-name"),
                $"'{path}' has no message '{messageName}'; it has {string.Join(", ", all.Select(m => m.FullName))}");
    }

    private static IEnumerable<MessageDescriptor> Nested(MessageDescriptor m) => m.NestedTypes.SelectMany(Nested).Prepend(m);
}

/// <summary>The syntax a .proto file declares (Flink decides presence by it; the library's own property is deprecated in favour of editions' features).</summary>
internal enum ProtoSyntax { Proto2, Proto3, Editions }

internal static class ProtoSyntaxes
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<FileDescriptor, object> Known = [];

    public static ProtoSyntax Of(FileDescriptor file) => (ProtoSyntax)Known.GetValue(file, f => f.ToProto().Syntax switch
    {
        "" or "proto2" => ProtoSyntax.Proto2,
        "proto3" => ProtoSyntax.Proto3,
        _ => ProtoSyntax.Editions,
    });
}
