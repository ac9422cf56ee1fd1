using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan;

/// <summary>
/// A relational operator with its output schema. The binder builds these from the syntax tree, the rules
/// (<c>Planning/Rules</c>) rewrite them, and each node translates itself into runtime operators
/// (<see cref="Translate"/>, implemented in the node's folder under <c>Plan/</c>). Updating (changelog) output is
/// tracked so that append-only sinks can refuse it.
/// </summary>
public abstract record LogicalPlan(Schema Schema)
{
    /// <summary>True when the output has updates or deletes (-U/+U/-D), not only inserts.</summary>
    public virtual bool IsUpdating => false;

    /// <summary>
    /// The kinds of rows the output can carry, as Flink's EXPLAIN CHANGELOG_MODE names them: I (+I), UB (-U), UA (+U),
    /// D (-D); NONE for a sink.
    /// </summary>
    public virtual string ChangelogMode => IsUpdating ? "I,UB,UA,D" : "I";

    /// <summary>The index of the event-time attribute (rowtime) column, if the output has one.</summary>
    public virtual int? Rowtime => null;

    /// <summary>The index of a processing-time attribute (a <c>PROCTIME()</c> column), if the output has one.</summary>
    public virtual int? Proctime => null;

    public abstract IEnumerable<LogicalPlan> Inputs { get; }

    public abstract string Describe();

    /// <summary>This node over other inputs (in the order of <see cref="Inputs"/>): how a rule rewrites below a node it leaves alone.</summary>
    public abstract LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs);

    /// <summary>
    /// Adds this node to the job and returns its output, a <see cref="DataStream{T}"/> of row structs. The
    /// node translates its inputs through <see cref="JobTranslator.Translate"/> and closes its generic row types once
    /// (<see cref="TypedStep"/>).
    /// </summary>
    internal abstract object Translate(JobTranslator job);
}

public static class PlanPrinter
{
    /// <summary>The plan as a tree, one node a line; with <paramref name="changelogMode"/> each node ends with its <c>changelogMode=[...]</c>.</summary>
    public static string Print(LogicalPlan plan, bool changelogMode = false)
    {
        var sb = new System.Text.StringBuilder();
        void Walk(LogicalPlan p, int depth)
        {
            DeepStack.Ensure();
            string line = p.Describe();
            if (changelogMode && !line.Contains("changelogMode=", StringComparison.Ordinal))
            {
                line = line.EndsWith(')')
                    ? line[..^1] + (line.EndsWith("()", StringComparison.Ordinal) ? "" : ", ") + $"changelogMode=[{p.ChangelogMode}])"
                    : line + $"(changelogMode=[{p.ChangelogMode}])";
            }
            sb.Append(' ', depth * 2).Append(depth == 0 ? "" : "+- ").AppendLine(line);
            foreach (var i in p.Inputs) Walk(i, depth + 1);
        }
        Walk(plan, 0);
        return sb.ToString();
    }
}
