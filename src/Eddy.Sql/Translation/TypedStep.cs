namespace Eddy.Sql.Translation;

/// <summary>
/// Closes a node's generic translation over the row types of a plan, which exist only at run time (row structs made
/// per schema): <c>TypedStep.Make&lt;IStep&gt;(typeof(Step&lt;,&gt;), inputRow, outputRow).Run(...)</c> instantiates
/// the generic class once and calls it through its non-generic interface, so that everything inside is typed code.
/// </summary>
internal static class TypedStep
{
    public static TStep Make<TStep>(Type openGeneric, params Type[] typeArguments) where TStep : class =>
        (TStep)Activator.CreateInstance(openGeneric.MakeGenericType(typeArguments))!;

    /// <summary>The row type of a translated relation (a <c>DataStream&lt;TRow&gt;</c>).</summary>
    public static Type RowTypeOf(object stream)
    {
        for (var t = stream.GetType(); t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(DataStream<>)) return t.GetGenericArguments()[0];
        throw new InvalidOperationException($"{stream.GetType().Name} is not a DataStream");
    }
}
