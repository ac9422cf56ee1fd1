using Eddy.Runtime;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Values;

/// <summary>VALUES: a bounded collection source at parallelism 1.</summary>
internal static class ValuesTranslator
{
    public static object Translate(ValuesPlan values, JobTranslator job) =>
        TypedStep.Make<IStep>(typeof(Step<>), RowTypes.For(values.Schema)).Translate(values, job.Environment);

    private interface IStep
    {
        object Translate(ValuesPlan values, StreamEnvironment env);
    }

    private sealed class Step<T> : IStep
    {
        public object Translate(ValuesPlan values, StreamEnvironment env)
        {
            var fromRow = RowTypes.FromRow<T>(values.Schema);
            var rows = values.Rows.Select(r => fromRow(new Row(RowKind.Insert, r))).ToList();
            return env.FromCollection(rows, name: "Values").SetParallelism(1);
        }
    }
}
