using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class TypeTests
{
    private static DataType T(string sql) => SqlParser.ParseDataType(sql).Type;

    public static TheoryData<string, DataType> Scalars => new()
    {
        { "STRING", DataType.String },
        { "VARCHAR", DataType.String },
        { "VARCHAR(20)", new DataType(TypeKind.String, Precision: 20) },
        { "CHARACTER VARYING(5)", new DataType(TypeKind.String, Precision: 5) },
        { "CHAR", new DataType(TypeKind.Char, Precision: 1) },
        { "CHAR(3)", new DataType(TypeKind.Char, Precision: 3) },
        { "BOOLEAN", DataType.Boolean },
        { "TINYINT", DataType.TinyInt },
        { "SMALLINT", DataType.SmallInt },
        { "INT", DataType.Int },
        { "integer", DataType.Int },
        { "BIGINT", DataType.BigInt },
        { "FLOAT", DataType.Float },
        { "DOUBLE", DataType.Double },
        { "DOUBLE PRECISION", DataType.Double },
        { "DECIMAL", DataType.Decimal(10, 0) },
        { "DECIMAL(12)", DataType.Decimal(12, 0) },
        { "DECIMAL(12, 4)", DataType.Decimal(12, 4) },
        { "DEC(5,1)", DataType.Decimal(5, 1) },
        { "NUMERIC(38, 18)", DataType.Decimal(38, 18) },
        { "DATE", DataType.Date },
        { "TIME", new DataType(TypeKind.Time, Precision: 0) },
        { "TIME(3)", new DataType(TypeKind.Time, Precision: 3) },
        { "TIME(3) WITHOUT TIME ZONE", new DataType(TypeKind.Time, Precision: 3) },
        { "TIMESTAMP", new DataType(TypeKind.Timestamp, Precision: 6) },
        { "TIMESTAMP(3)", DataType.Timestamp3 },
        { "TIMESTAMP(3) WITHOUT TIME ZONE", DataType.Timestamp3 },
        { "TIMESTAMP WITHOUT TIME ZONE", new DataType(TypeKind.Timestamp, Precision: 6) },
        { "TIMESTAMP_LTZ", new DataType(TypeKind.TimestampLtz, Precision: 6) },
        { "TIMESTAMP_LTZ(3)", DataType.TimestampLtz3 },
        { "TIMESTAMP(3) WITH LOCAL TIME ZONE", DataType.TimestampLtz3 },
        { "TIMESTAMP WITH LOCAL TIME ZONE", new DataType(TypeKind.TimestampLtz, Precision: 6) },
        { "BYTES", new DataType(TypeKind.Binary) },
        { "VARBINARY(16)", new DataType(TypeKind.Binary, Precision: 16) },
        { "BINARY(4)", new DataType(TypeKind.Binary, Precision: 4) },
        { "INT NOT NULL", DataType.Int.NotNull() },
        { "STRING NULL", DataType.String },
        { "ARRAY<INT>", DataType.ArrayOf(DataType.Int) },
        { "ARRAY<STRING NOT NULL> NOT NULL", DataType.ArrayOf(DataType.String.NotNull()).NotNull() },
        { "MAP<STRING, BIGINT>", DataType.MapOf(DataType.String, DataType.BigInt) },
        { "MAP<STRING, ARRAY<INT>>", DataType.MapOf(DataType.String, DataType.ArrayOf(DataType.Int)) },
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    public void Maps_to_DataType(string sql, DataType expected)
    {
        var actual = T(sql);
        Assert.True(DataTypes.StructurallyEqual(expected, actual), $"{sql}: expected {expected}, got {actual}");
    }

    [Fact]
    public void Row_types_in_both_syntaxes()
    {
        var expected = DataType.RowOf(new Column("a", DataType.Int), new Column("b c", DataType.ArrayOf(DataType.String)));
        Assert.True(DataTypes.StructurallyEqual(expected, T("ROW<a INT, `b c` ARRAY<STRING>>")));
        Assert.True(DataTypes.StructurallyEqual(expected, T("ROW(a INT, `b c` ARRAY<STRING>)")));
        Assert.True(DataTypes.StructurallyEqual(expected, T("ROW<a INT COMMENT 'x', `b c` ARRAY<STRING>>")));
        var nested = T("ROW<r ROW<x DOUBLE NOT NULL>, m MAP<STRING, ROW<y INT>>> NOT NULL");
        Assert.False(nested.Nullable);
        Assert.Equal(TypeKind.Row, nested.Fields![0].Type.Kind);
        Assert.False(nested.Fields[0].Type.Fields![0].Type.Nullable);
        Assert.Equal(TypeKind.Row, nested.Fields[1].Type.Value!.Kind);
    }

    [Fact]
    public void Type_specs_compare_structurally()
    {
        Assert.Equal(SqlParser.ParseDataType("ROW<a INT>"), SqlParser.ParseDataType("ROW(a INT)"));
        Assert.NotEqual(SqlParser.ParseDataType("ROW<a INT>"), SqlParser.ParseDataType("ROW<b INT>"));
        Assert.Equal(SqlParser.ParseDataType("VARCHAR"), SqlParser.ParseDataType("STRING"));
        Assert.NotEqual(SqlParser.ParseDataType("VARCHAR(3)"), SqlParser.ParseDataType("STRING"));
    }

    [Theory]
    [InlineData("VARCHAR(20)", "VARCHAR(20)")]
    [InlineData("VARCHAR", "STRING")]
    [InlineData("TIMESTAMP(3) WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(3)")]
    [InlineData("TIMESTAMP", "TIMESTAMP(6)")]
    [InlineData("DEC", "DECIMAL(10, 0)")]
    [InlineData("ROW(a INT NOT NULL, `from` STRING)", "ROW<a INT NOT NULL, `from` STRING>")]
    [InlineData("MAP<STRING, ARRAY<BYTES>> NOT NULL", "MAP<STRING, ARRAY<BYTES>> NOT NULL")]
    public void Prints_types(string sql, string printed)
    {
        var spec = SqlParser.ParseDataType(sql);
        Assert.Equal(printed, spec.ToSql());
        Assert.Equal(spec, SqlParser.ParseDataType(printed));
    }

    [Fact]
    public void Cast_targets_use_the_same_types()
    {
        var c = P.Expr<CastExpr>("CAST(x AS DECIMAL(5, 2) NOT NULL)");
        Assert.Equal(DataType.Decimal(5, 2).NotNull(), c.Type.Type);
        Assert.False(c.Try);
        var t = P.Expr<CastExpr>("TRY_CAST(s AS ARRAY<INT>)");
        Assert.True(t.Try);
        Assert.Equal(new TypeSpec(DataType.ArrayOf(DataType.Int)), t.Type);
    }
}
