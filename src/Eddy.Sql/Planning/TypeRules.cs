namespace Eddy.Sql.Planning;

/// <summary>Implicit type promotion, as Flink's planner: numeric widening, strings with strings, timestamps alike.</summary>
public static class TypeRules
{
    private static int NumericRank(TypeKind k) => k switch
    {
        TypeKind.TinyInt => 1,
        TypeKind.SmallInt => 2,
        TypeKind.Int => 3,
        TypeKind.BigInt => 4,
        TypeKind.Decimal => 5,
        TypeKind.Float => 6,
        TypeKind.Double => 7,
        _ => 0,
    };

    public static bool IsString(DataType t) => t.Kind is TypeKind.String or TypeKind.Char;

    public static bool IsTimestamp(DataType t) => t.Kind is TypeKind.Timestamp or TypeKind.TimestampLtz;

    /// <summary>The type both operands convert to, or null when they cannot meet.</summary>
    public static DataType? Common(DataType a, DataType b)
    {
        if (a.Kind == TypeKind.Null) return b with { Nullable = true };
        if (b.Kind == TypeKind.Null) return a with { Nullable = true };
        bool nullable = a.Nullable || b.Nullable;
        if (a.Kind == b.Kind)
        {
            return a.Kind switch
            {
                TypeKind.Decimal => DataType.Decimal(Math.Max(a.Precision, b.Precision), Math.Max(a.Scale, b.Scale)) with { Nullable = nullable },
                TypeKind.Timestamp or TypeKind.TimestampLtz => a with { Precision = Math.Max(a.Precision, b.Precision), Nullable = nullable },
                _ => a with { Nullable = nullable },
            };
        }
        if (IsString(a) && IsString(b)) return DataType.String with { Nullable = nullable };
        int ra = NumericRank(a.Kind), rb = NumericRank(b.Kind);
        if (ra > 0 && rb > 0)
        {
            var wider = ra >= rb ? a : b;
            // DECIMAL with an integer stays DECIMAL wide enough for both.
            if (wider.Kind == TypeKind.Decimal) return DataType.Decimal(Math.Max(wider.Precision, 19), wider.Scale) with { Nullable = nullable };
            return wider with { Nullable = nullable };
        }
        if (IsTimestamp(a) && IsTimestamp(b)) return DataType.TimestampLtz3 with { Nullable = nullable };
        return null;
    }

    /// <summary>Whether a value of <paramref name="from"/> may be written into a column of <paramref name="to"/> (with an implicit cast).</summary>
    public static bool IsAssignable(DataType from, DataType to)
    {
        if (from.Kind == TypeKind.Null || from.Kind == to.Kind) return true;
        if (IsString(from) && IsString(to)) return true;
        if (NumericRank(from.Kind) > 0 && NumericRank(to.Kind) > 0) return true;
        if (IsTimestamp(from) && IsTimestamp(to)) return true;
        return false;
    }
}
