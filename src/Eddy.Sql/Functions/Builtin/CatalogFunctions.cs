using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>Flink's catalog and type-introspection functions, answered when the statement is planned.</summary>
public static class CatalogFunctions
{
    internal static IEnumerable<BuiltinFunction> All() =>
    [
        new("CURRENT_DATABASE", FunctionGroup.Catalog, c =>
        {
            c.Arity(0, 0);
            return new Literal(c.CurrentDatabase, DataType.String.NotNull());
        }),
        new("TYPEOF", FunctionGroup.Conversion, BindTypeOf),
    ];

    /// <summary>
    /// TYPEOF(input [, force_serializable]): Flink's summary (or serializable) string of the input's type. Eddy's types
    /// do not keep all of Flink's detail for expressions (string lengths, nullability through functions), so TYPEOF takes
    /// a literal, whose Flink type is known exactly: INT / BIGINT / DECIMAL(p, s) / DOUBLE / BOOLEAN / DATE NOT NULL,
    /// CHAR(n) NOT NULL for a string, NULL for NULL.
    /// </summary>
    private static BoundExpr BindTypeOf(BuiltinCall c)
    {
        c.Arity(1, 2);
        bool serializable = false;
        if (c.Count == 2)
        {
            if (c.Args[1] is not Literal { Value: bool or null } flag) throw c.FailAt(1, "TYPEOF takes a BOOLEAN literal as force_serializable");
            serializable = flag.Value is true;
        }
        var arg = c.Args[0] is Unary { Op: UnaryOp.Negate, Operand: Literal { Value: not null } inner } ? inner : c.Args[0];
        if (arg is not Literal literal)
            throw c.FailAt(0, "TYPEOF is supported for literals only: Eddy's types of other expressions do not carry all of Flink's detail (lengths, nullability)");
        string type = literal.Value switch
        {
            null when literal.Type.Kind == TypeKind.Null => "NULL",
            string s when s.Length == 0 && serializable => throw c.FailAt(0, "TYPEOF of '' with force_serializable: Flink's CHAR(0) has no serializable form"),
            string s => $"CHAR({s.Length}) NOT NULL",
            int => "INT NOT NULL",
            long => "BIGINT NOT NULL",
            bool => "BOOLEAN NOT NULL",
            double => "DOUBLE NOT NULL",
            decimal when literal.Type.Kind == TypeKind.Decimal => $"DECIMAL({literal.Type.Precision}, {literal.Type.Scale}) NOT NULL",
            DateOnly => "DATE NOT NULL",
            _ => throw c.FailAt(0, $"TYPEOF of a {literal.Type} literal is not supported (its Flink precision is not kept)"),
        };
        return new Literal(type, DataType.String.NotNull());
    }
}
