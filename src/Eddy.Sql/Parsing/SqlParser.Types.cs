namespace Eddy.Sql.Parsing;

// Data types (INT, ROW<...>, TIMESTAMP(3) WITH LOCAL TIME ZONE, ...).
public sealed partial class SqlParser
{
    // ------------------------------------------------------------------------------------------------------------
    // Data types
    // ------------------------------------------------------------------------------------------------------------

    private TypeSpec DataTypeSpec()
    {
        int start = p;
        var type = DataTypeRule();
        return new TypeSpec(type) { Span = S(start) };
    }

    private DataType DataTypeRule()
    {
        Enter();
        try
        {
            return DataTypeCore();
        }
        finally
        {
            depth--;
        }
    }

    private DataType DataTypeCore()
    {
        var t = Cur;
        if (t.Kind != TokenKind.Word) throw Fail("a data type", TypeNames);
        DataType type;
        switch (t.Keyword)
        {
            case Keyword.STRING:
                Advance();
                type = DataType.String;
                break;
            case Keyword.VARCHAR:
                Advance();
                type = new DataType(TypeKind.String, Precision: OptionalLength(0));
                break;
            case Keyword.CHAR or Keyword.CHARACTER:
                Advance();
                if (Accept(Keyword.VARYING)) type = new DataType(TypeKind.String, Precision: OptionalLength(0));
                else type = new DataType(TypeKind.Char, Precision: OptionalLength(DataTypes.DefaultCharLength));
                break;
            case Keyword.BOOLEAN:
                Advance();
                type = DataType.Boolean;
                break;
            case Keyword.TINYINT:
                Advance();
                type = DataType.TinyInt;
                break;
            case Keyword.SMALLINT:
                Advance();
                type = DataType.SmallInt;
                break;
            case Keyword.INT or Keyword.INTEGER:
                Advance();
                type = DataType.Int;
                break;
            case Keyword.BIGINT:
                Advance();
                type = DataType.BigInt;
                break;
            case Keyword.FLOAT or Keyword.REAL:
                Advance();
                type = DataType.Float;
                break;
            case Keyword.DOUBLE:
                Advance();
                Accept(Keyword.PRECISION);
                type = DataType.Double;
                break;
            case Keyword.DECIMAL or Keyword.DEC or Keyword.NUMERIC:
            {
                Advance();
                int precision = DataTypes.DefaultDecimalPrecision, scale = 0;
                if (AcceptSymbol("("))
                {
                    precision = ExpectInt("a precision");
                    if (AcceptSymbol(",")) scale = ExpectInt("a scale");
                    ExpectSymbol(")");
                }
                type = DataType.Decimal(precision, scale);
                break;
            }
            case Keyword.DATE:
                Advance();
                type = DataType.Date;
                break;
            case Keyword.TIME:
                Advance();
                type = new DataType(TypeKind.Time, Precision: OptionalLength(DataTypes.DefaultTimePrecision));
                AcceptWithoutTimeZone();
                break;
            case Keyword.TIMESTAMP:
            {
                Advance();
                int precision = OptionalLength(DataTypes.DefaultTimestampPrecision);
                if (AcceptWithoutTimeZone())
                {
                    type = new DataType(TypeKind.Timestamp, Precision: precision);
                }
                else if (Is(Keyword.WITH))
                {
                    Advance();
                    if (!Accept(Keyword.LOCAL))
                        throw Fail("LOCAL (Flink supports TIMESTAMP WITH LOCAL TIME ZONE, not WITH TIME ZONE)", ["LOCAL"]);
                    Expect(Keyword.TIME);
                    Expect(Keyword.ZONE);
                    type = new DataType(TypeKind.TimestampLtz, Precision: precision);
                }
                else
                {
                    type = new DataType(TypeKind.Timestamp, Precision: precision);
                }
                break;
            }
            case Keyword.TIMESTAMP_LTZ:
                Advance();
                type = new DataType(TypeKind.TimestampLtz, Precision: OptionalLength(DataTypes.DefaultTimestampPrecision));
                break;
            case Keyword.BYTES:
                Advance();
                type = new DataType(TypeKind.Binary);
                break;
            case Keyword.VARBINARY:
                Advance();
                type = new DataType(TypeKind.Binary, Precision: OptionalLength(0));
                break;
            case Keyword.BINARY:
                Advance();
                type = new DataType(TypeKind.Binary, Precision: OptionalLength(1));
                break;
            case Keyword.ARRAY:
            {
                Advance();
                ExpectSymbol("<");
                var element = DataTypeRule();
                ExpectSymbol(">");
                type = DataType.ArrayOf(element);
                break;
            }
            case Keyword.MAP:
            {
                Advance();
                ExpectSymbol("<");
                var key = DataTypeRule();
                ExpectSymbol(",");
                var value = DataTypeRule();
                ExpectSymbol(">");
                type = DataType.MapOf(key, value);
                break;
            }
            case Keyword.ROW:
            {
                Advance();
                string close;
                if (AcceptSymbol("<")) close = ">";
                else if (AcceptSymbol("(")) close = ")";
                else throw Fail("'<' or '('");
                var fields = new List<Column>();
                if (!IsSymbol(close))
                {
                    do
                    {
                        var fieldName = IdentifierRule("a field name");
                        var fieldType = DataTypeRule();
                        if (Accept(Keyword.COMMENT)) ExpectString("a comment string");
                        fields.Add(new Column(fieldName.Value, fieldType));
                    }
                    while (AcceptSymbol(","));
                }
                ExpectSymbol(close);
                type = new DataType(TypeKind.Row, Fields: fields.ToArray());
                break;
            }
            default:
                throw Fail("a data type", TypeNames);
        }
        if (Is(Keyword.NOT) && PeekAt(1).Is(Keyword.NULL))
        {
            Advance();
            Advance();
            type = type.NotNull();
        }
        else if (Is(Keyword.NULL) && !PeekAt(1).Is(Keyword.ON))
        {
            Advance(); // explicit NULL; "RETURNING INT NULL ON ERROR" leaves NULL to the JSON clause
        }
        return type;
    }

    private int OptionalLength(int defaultValue)
    {
        if (!AcceptSymbol("(")) return defaultValue;
        int n = ExpectInt("a length or precision");
        ExpectSymbol(")");
        return n;
    }

    private bool AcceptWithoutTimeZone()
    {
        if (!Is(Keyword.WITHOUT)) return false;
        Advance();
        Expect(Keyword.TIME);
        Expect(Keyword.ZONE);
        return true;
    }
}
