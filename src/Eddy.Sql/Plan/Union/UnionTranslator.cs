using Eddy.Runtime;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Union;

/// <summary>UNION ALL: the runtime's union of the parts' streams (all of the union's row type).</summary>
internal static class UnionTranslator
{
    public static object Translate(UnionPlan union, JobTranslator job) =>
        TypedStep.Make<IStep>(typeof(Step<>), RowTypes.For(union.Schema)).Translate(union.Parts.Select(job.Translate).ToList());

    private interface IStep
    {
        object Translate(List<object> parts);
    }

    private sealed class Step<T> : IStep
    {
        public object Translate(List<object> parts)
        {
            var streams = parts.Cast<DataStream<T>>().ToList();
            return streams[0].Union([.. streams.Skip(1)]);
        }
    }
}
