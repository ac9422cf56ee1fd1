using System.Globalization;
using System.Text;

namespace Eddy.Sql.Parsing;

/// <summary>Helpers for <see cref="DataType"/> values produced by the parser.</summary>
public static class DataTypes
{
    /// <summary>Flink's default precisions when none is written.</summary>
    public const int DefaultTimestampPrecision = 6;
    public const int DefaultTimePrecision = 0;
    public const int DefaultDecimalPrecision = 10;
    public const int DefaultCharLength = 1;

    /// <summary>Compares two types by value, including ROW fields (which <see cref="DataType"/>'s own equality compares by reference).</summary>
    public static bool StructurallyEqual(DataType? a, DataType? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        if (a.Kind != b.Kind || a.Nullable != b.Nullable || a.Precision != b.Precision || a.Scale != b.Scale) return false;
        if (!StructurallyEqual(a.Element, b.Element) || !StructurallyEqual(a.Value, b.Value)) return false;
        if (a.Fields is null || b.Fields is null) return a.Fields is null && b.Fields is null;
        if (a.Fields.Count != b.Fields.Count) return false;
        for (int i = 0; i < a.Fields.Count; i++)
        {
            if (a.Fields[i].Name != b.Fields[i].Name || !StructurallyEqual(a.Fields[i].Type, b.Fields[i].Type)) return false;
        }
        return true;
    }

    /// <summary>
    /// The type in Flink DDL syntax, e.g. <c>VARCHAR(10)</c>, <c>TIMESTAMP(3) WITH LOCAL TIME ZONE</c> is printed as
    /// <c>TIMESTAMP_LTZ(3)</c>. A <see cref="TypeKind.String"/> with precision 0 is <c>STRING</c>, otherwise
    /// <c>VARCHAR(n)</c>; <see cref="TypeKind.Binary"/> likewise is <c>BYTES</c> or <c>VARBINARY(n)</c>.
    /// </summary>
    public static string ToSql(DataType type)
    {
        var sb = new StringBuilder();
        Append(sb, type);
        return sb.ToString();
    }

    internal static void Append(StringBuilder sb, DataType t)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (t.Kind)
        {
            case TypeKind.String:
                if (t.Precision == 0) sb.Append("STRING");
                else sb.Append("VARCHAR(").Append(t.Precision.ToString(inv)).Append(')');
                break;
            case TypeKind.Char: sb.Append("CHAR(").Append(t.Precision.ToString(inv)).Append(')'); break;
            case TypeKind.Binary:
                if (t.Precision == 0) sb.Append("BYTES");
                else sb.Append("VARBINARY(").Append(t.Precision.ToString(inv)).Append(')');
                break;
            case TypeKind.Boolean: sb.Append("BOOLEAN"); break;
            case TypeKind.TinyInt: sb.Append("TINYINT"); break;
            case TypeKind.SmallInt: sb.Append("SMALLINT"); break;
            case TypeKind.Int: sb.Append("INT"); break;
            case TypeKind.BigInt: sb.Append("BIGINT"); break;
            case TypeKind.Float: sb.Append("FLOAT"); break;
            case TypeKind.Double: sb.Append("DOUBLE"); break;
            case TypeKind.Decimal:
                sb.Append("DECIMAL(").Append(t.Precision.ToString(inv)).Append(", ").Append(t.Scale.ToString(inv)).Append(')');
                break;
            case TypeKind.Date: sb.Append("DATE"); break;
            case TypeKind.Time: sb.Append("TIME(").Append(t.Precision.ToString(inv)).Append(')'); break;
            case TypeKind.Timestamp: sb.Append("TIMESTAMP(").Append(t.Precision.ToString(inv)).Append(')'); break;
            case TypeKind.TimestampLtz: sb.Append("TIMESTAMP_LTZ(").Append(t.Precision.ToString(inv)).Append(')'); break;
            case TypeKind.Array:
                sb.Append("ARRAY<");
                Append(sb, t.Element!);
                sb.Append('>');
                break;
            case TypeKind.Map:
                sb.Append("MAP<");
                Append(sb, t.Element!);
                sb.Append(", ");
                Append(sb, t.Value!);
                sb.Append('>');
                break;
            case TypeKind.Row:
                sb.Append("ROW<");
                for (int i = 0; i < t.Fields!.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    SqlPrinter.AppendIdentifier(sb, t.Fields[i].Name);
                    sb.Append(' ');
                    Append(sb, t.Fields[i].Type);
                }
                sb.Append('>');
                break;
            default:
                throw new NotSupportedException(t.Kind.ToString());
        }
        if (!t.Nullable) sb.Append(" NOT NULL");
    }
}
