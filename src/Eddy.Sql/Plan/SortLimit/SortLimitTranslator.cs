using Eddy.Runtime;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.SortLimit;

/// <summary>ORDER BY / LIMIT: one <see cref="SortLimitOperator{T}"/> at parallelism 1 after a rebalance.</summary>
internal static class SortLimitTranslator
{
    public static object Translate(SortLimitPlan sort, JobTranslator job) =>
        TypedStep.Make<IStep>(typeof(Step<>), RowTypes.For(sort.Schema)).Translate(job.Translate(sort.Input), sort);

    private interface IStep
    {
        object Translate(object input, SortLimitPlan sort);
    }

    private sealed class Step<T> : IStep
    {
        public object Translate(object input, SortLimitPlan sort)
        {
            var comparer = sort.Order.Count == 0 ? null : RowComparer<T>(sort.Order);
            return ((DataStream<T>)input).Rebalance().Transform("SortLimit", () => new SortLimitOperator<T>(comparer, sort.Limit, sort.Offset), parallelism: 1);
        }
    }

    private static IComparer<T> RowComparer<T>(IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> order)
    {
        var getters = order.Select(o =>
        {
            var row = LinqExpr.Parameter(typeof(T), "row");
            var field = LinqExpr.Field(row, RowTypes.FieldOf(typeof(T), o.Column));
            return (Get: LinqExpr.Lambda<Func<T, object?>>(LinqExpr.Convert(field, typeof(object)), row).Compile(), o.Descending, o.NullsFirst);
        }).ToList();
        return Comparer<T>.Create((a, b) =>
        {
            foreach (var (get, desc, nullsFirst) in getters)
            {
                var x = get(a);
                var y = get(b);
                int c;
                if (x is null || y is null) c = x is null && y is null ? 0 : (x is null) == nullsFirst ? -1 : 1;
                else
                {
                    c = x is string sx ? string.CompareOrdinal(sx, (string)y) : Comparer<object>.Default.Compare(x, y);
                    if (desc) c = -c;
                }
                if (c != 0) return c;
            }
            return 0;
        });
    }
}
