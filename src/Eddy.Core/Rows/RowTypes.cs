using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using System.Reflection.Emit;

namespace Eddy;

/// <summary>
/// Makes a CLR struct per schema at run time, one public field per column, so that SQL jobs run on the same typed
/// operators as C# jobs: rows sit inline in batch arrays (no object per row, no boxing of numbers), and compiled
/// expressions read fields directly. Nullable value columns become <see cref="Nullable{T}"/> fields.
/// </summary>
public static class RowTypes
{
    private static readonly ModuleBuilder Module = AssemblyBuilder
        .DefineDynamicAssembly(new AssemblyName("Eddy.RowTypes"), AssemblyBuilderAccess.Run)
        .DefineDynamicModule("Eddy.RowTypes");

    private static readonly ConcurrentDictionary<string, Type> Cache = new();
    private static int counter;

    /// <summary>The struct type for <paramref name="schema"/> (the same type for equal column names and types).</summary>
    public static Type For(Schema schema)
    {
        string signature = string.Join("|", schema.Columns.Select(c => $"{c.Name}:{FieldType(c.Type).FullName}"));
        return Cache.GetOrAdd(signature, _ => Emit(schema));
    }

    /// <summary>A struct with public fields <c>c0..cN</c> of the given CLR types (accumulators, keys).</summary>
    public static Type ForFields(IReadOnlyList<Type> fieldTypes)
    {
        string signature = "clr|" + string.Join("|", fieldTypes.Select(t => t.AssemblyQualifiedName));
        return Cache.GetOrAdd(signature, _ =>
        {
            lock (Module)
            {
                var tb = Module.DefineType($"Fields{Interlocked.Increment(ref counter)}",
                    TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.SequentialLayout, typeof(ValueType));
                for (int i = 0; i < fieldTypes.Count; i++) tb.DefineField($"c{i}", fieldTypes[i], FieldAttributes.Public);
                return tb.CreateType();
            }
        });
    }

    /// <summary>The CLR type of a column's field: the SQL type's representation, nullable for value types.</summary>
    public static Type FieldType(DataType type)
    {
        var clr = type.ClrType;
        return clr.IsValueType && type.Nullable ? typeof(Nullable<>).MakeGenericType(clr) : clr;
    }

    /// <summary>Field names are the column names made safe; <see cref="FieldOf"/> maps a column index to its field.</summary>
    public static FieldInfo FieldOf(Type rowType, int column) =>
        rowType.GetField($"c{column}") ?? throw new ArgumentOutOfRangeException(nameof(column));

    private static readonly ConcurrentDictionary<(Type, int), Delegate> Getters = new();

    /// <summary>
    /// <c>row => row.cN</c> as a static method of an emitted type (not a dynamic method): the JIT can inline it where
    /// it is called through a delegate (guarded devirtualization), as it does for a C# lambda, e.g. a key selector
    /// inside a window operator. One per row type and column.
    /// </summary>
    public static Func<TRow, TField> FieldGetter<TRow, TField>(int column)
    {
        var getter = Getters.GetOrAdd((typeof(TRow), column), _ =>
        {
            var field = FieldOf(typeof(TRow), column);
            if (field.FieldType != typeof(TField)) throw new ArgumentException($"column {column} is a {field.FieldType}, not a {typeof(TField)}");
            lock (Module)
            {
                var tb = Module.DefineType($"Get{Interlocked.Increment(ref counter)}",
                    TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract, typeof(object));
                var mb = tb.DefineMethod("Get", MethodAttributes.Public | MethodAttributes.Static, typeof(TField), [typeof(TRow)]);
                var il = mb.GetILGenerator();
                il.Emit(OpCodes.Ldarga_S, (byte)0);
                il.Emit(OpCodes.Ldfld, field);
                il.Emit(OpCodes.Ret);
                var type = tb.CreateType();
                return type.GetMethod("Get")!.CreateDelegate<Func<TRow, TField>>();
            }
        });
        return (Func<TRow, TField>)getter;
    }

    private static readonly ConcurrentDictionary<Type, string[]> ColumnNames = new();

    /// <summary>The column names of a row struct made by <see cref="For"/> (null for other types): for error messages.</summary>
    public static IReadOnlyList<string>? ColumnNamesOf(Type rowType) => ColumnNames.TryGetValue(rowType, out var names) ? names : null;

    private static Type Emit(Schema schema)
    {
        var type = EmitStruct(schema);
        ColumnNames[type] = schema.Columns.Select(c => c.Name).ToArray();
        return type;
    }

    private static Type EmitStruct(Schema schema)
    {
        lock (Module)
        {
            var tb = Module.DefineType($"Row{Interlocked.Increment(ref counter)}",
                TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.SequentialLayout, typeof(ValueType));
            var fields = new FieldBuilder[schema.Count];
            for (int i = 0; i < schema.Count; i++)
            {
                fields[i] = tb.DefineField($"c{i}", FieldType(schema[i].Type), FieldAttributes.Public);
            }
            EmitEquality(tb, fields);
            return tb.CreateType();
        }
    }

    // ValueType's own GetHashCode hashes only the first non-null field of a struct holding references (and its Equals
    // goes through reflection): rows kept in hash tables (join state, deduplication) that share their first column,
    // e.g. all bids of one auction, would all collide. Every field counts here; equality stays field by field.
    private static void EmitEquality(TypeBuilder tb, FieldBuilder[] fields)
    {
        const MethodAttributes overrides = MethodAttributes.Public | MethodAttributes.Virtual | MethodAttributes.HideBySig;

        var hash = tb.DefineMethod(nameof(GetHashCode), overrides, typeof(int), Type.EmptyTypes);
        var il = hash.GetILGenerator();
        var code = il.DeclareLocal(typeof(HashCode));
        var add = typeof(HashCode).GetMethods().Single(m => m.Name == nameof(HashCode.Add) && m.GetParameters().Length == 1);
        foreach (var f in fields)
        {
            il.Emit(OpCodes.Ldloca_S, code);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldfld, f);
            il.Emit(OpCodes.Call, add.MakeGenericMethod(f.FieldType));
        }
        il.Emit(OpCodes.Ldloca_S, code);
        il.Emit(OpCodes.Call, typeof(HashCode).GetMethod(nameof(HashCode.ToHashCode))!);
        il.Emit(OpCodes.Ret);
        tb.DefineMethodOverride(hash, typeof(object).GetMethod(nameof(GetHashCode))!);

        var equals = tb.DefineMethod(nameof(Equals), overrides, typeof(bool), [typeof(object)]);
        il = equals.GetILGenerator();
        var other = il.DeclareLocal(tb.MakeByRefType());
        var no = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Isinst, tb);
        il.Emit(OpCodes.Brfalse, no);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Unbox, tb);
        il.Emit(OpCodes.Stloc, other);
        foreach (var f in fields)
        {
            var comparer = typeof(EqualityComparer<>).MakeGenericType(f.FieldType);
            il.Emit(OpCodes.Call, comparer.GetProperty(nameof(EqualityComparer<int>.Default))!.GetGetMethod()!);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldfld, f);
            il.Emit(OpCodes.Ldloc, other);
            il.Emit(OpCodes.Ldfld, f);
            il.Emit(OpCodes.Callvirt, comparer.GetMethod(nameof(EqualityComparer<int>.Equals), [f.FieldType, f.FieldType])!);
            il.Emit(OpCodes.Brfalse, no);
        }
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(no);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Ret);
        tb.DefineMethodOverride(equals, typeof(object).GetMethod(nameof(Equals), [typeof(object)])!);
    }

    /// <summary>Compiled conversion from a generic <see cref="Row"/> to the row struct (for row-based connectors).</summary>
    public static Func<Row, T> FromRow<T>(Schema schema)
    {
        var row = Expression.Parameter(typeof(Row), "row");
        var result = Expression.Variable(typeof(T), "r");
        var body = new List<Expression> { Expression.Assign(result, Expression.Default(typeof(T))) };
        var indexer = typeof(Row).GetProperty("Item")!;
        for (int i = 0; i < schema.Count; i++)
        {
            var field = FieldOf(typeof(T), i);
            var value = Expression.Property(row, indexer, Expression.Constant(i));
            Expression converted = field.FieldType.IsValueType && Nullable.GetUnderlyingType(field.FieldType) is null
                ? Expression.Condition(Expression.Equal(value, Expression.Constant(null)),
                    Expression.Default(field.FieldType), Expression.Unbox(value, field.FieldType))
                : Expression.Convert(value, field.FieldType);
            body.Add(Expression.Assign(Expression.Field(result, field), converted));
        }
        body.Add(result);
        return Expression.Lambda<Func<Row, T>>(Expression.Block([result], body), row).Compile();
    }

    /// <summary>Compiled conversion from the row struct to a generic <see cref="Row"/> (for row-based sinks).</summary>
    public static Func<T, RowKind, Row> ToRow<T>(Schema schema)
    {
        var value = Expression.Parameter(typeof(T), "value");
        var kind = Expression.Parameter(typeof(RowKind), "kind");
        var fields = Enumerable.Range(0, schema.Count)
            .Select(i => (Expression)Expression.Convert(Expression.Field(value, FieldOf(typeof(T), i)), typeof(object)));
        var array = Expression.NewArrayInit(typeof(object), fields);
        var ctor = typeof(Row).GetConstructor([typeof(RowKind), typeof(object?[])])!;
        return Expression.Lambda<Func<T, RowKind, Row>>(Expression.New(ctor, kind, array), value, kind).Compile();
    }
}
