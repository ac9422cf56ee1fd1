using System.CommandLine;
using System.Text;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;

namespace Eddy.Cli;

/// <summary>
/// <c>eddy sql</c>: an interactive prompt like Flink's SQL client. Statements end with ';'. DDL and SET apply at
/// once, INSERTs run in the background, and a SELECT shows its result as a table that updates while rows arrive
/// (Ctrl-C stops a running query and returns to the prompt).
/// </summary>
internal static class SqlShell
{
    public static Command Create(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr)
    {
        var init = new Option<FileInfo?>("--init", "-i") { Description = "A SQL file to run first (table definitions, SET)." };
        var set = new Option<string[]>("--set", "-s") { Description = "Set an option (repeatable): --set parallelism.default=2" };
        var udf = SqlCommands.UdfOption();
        var command = new Command("sql", "Open an interactive SQL prompt: CREATE TABLE, SET, SHOW TABLES, DESCRIBE, SELECT, INSERT.") { init, set, udf };
        command.SetAction(async (result, cancel) =>
        {
            var session = SqlCommands.NewSession(connectors, stdout, stderr, result.GetValue(set), out int code, result.GetValue(udf));
            if (session is null) return code;
            // Piped input is a script, as Flink's SQL client runs one: results stream as changelog rows (tableau mode) and
            // the first error ends it with a non-zero exit code.
            bool piped = Console.IsInputRedirected;
            var shell = new Shell(session, Console.In, stdout, stderr) { Tableau = piped, StopOnError = piped };
            if (result.GetValue(init) is { } file && !await shell.RunText(File.ReadAllText(file.FullName), file.Name, cancel)) return 1;
            return await shell.Loop(cancel);
        });
        return command;
    }

    internal sealed class Shell(SqlSession session, TextReader input, TextWriter stdout, TextWriter stderr)
    {
        private readonly List<JobExecution> background = [];
        private CancellationTokenSource? running;

        /// <summary>
        /// Streaming query results print as their changelog while rows arrive (Flink's tableau result mode: an <c>op</c>
        /// column with +I/-U/+U/-D), instead of a table that the changes are applied to. Batch results stay a table.
        /// </summary>
        public bool Tableau { get; init; }

        /// <summary>The first failing statement ends the loop, which then returns 1 (a piped script).</summary>
        public bool StopOnError { get; init; }

        public async Task<int> Loop(CancellationToken cancel)
        {
            bool interactive = !Console.IsInputRedirected;
            ConsoleCancelEventHandler? onCancel = null;
            if (interactive)
            {
                // Ctrl-C stops the running query, not the shell.
                onCancel = (_, e) =>
                {
                    if (running is { } r)
                    {
                        e.Cancel = true;
                        r.Cancel();
                    }
                };
                Console.CancelKeyPress += onCancel;
                stdout.WriteLine("Eddy SQL — statements end with ';'. HELP; lists what you can do, QUIT; leaves.");
            }
            bool failed = false;
            try
            {
                var buffer = new StringBuilder();
                while (!cancel.IsCancellationRequested)
                {
                    if (interactive) stdout.Write(buffer.Length == 0 ? "Eddy SQL> " : "> ");
                    var line = await input.ReadLineAsync(cancel);
                    if (line is null) break;
                    buffer.AppendLine(line);
                    var text = buffer.ToString().Trim();
                    if (!text.EndsWith(';')) continue;
                    buffer.Clear();
                    var word = text.TrimEnd(';').Trim().ToUpperInvariant();
                    if (word is "QUIT" or "EXIT") break;
                    if (word == "HELP")
                    {
                        stdout.WriteLine("CREATE TABLE ... WITH (...); CREATE VIEW; SET 'key' = 'value'; SHOW TABLES; DESCRIBE t; "
                            + "SELECT ... (shown as a table); INSERT INTO ... (runs in the background); EXPLAIN ...; QUIT;");
                        continue;
                    }
                    if (!await RunText(text, null, cancel))
                    {
                        failed = true;
                        if (StopOnError) break;
                    }
                }
                return failed && StopOnError ? 1 : 0;
            }
            finally
            {
                if (onCancel is not null) Console.CancelKeyPress -= onCancel;
                foreach (var job in background) job.Cancel();
            }
        }

        public async Task<bool> RunText(string text, string? fileName, CancellationToken cancel)
        {
            IReadOnlyList<SqlJob> jobs;
            MaterializedTable? table = null;
            TableauSink? tableau = null;
            session.QuerySink = schema => Tableau && !session.BatchMode
                ? tableau = new TableauSink(schema, stdout)
                : table = new MaterializedTable(schema);
            try
            {
                jobs = session.Execute(text, fileName);
            }
            catch (Exception e) when (e is SqlParseException or ConnectorOptionException or IOException or InvalidOperationException
                or ArgumentException or FormatException)
            {
                stderr.WriteLine($"[ERROR] {e.Message}");
                return false;
            }
            bool ok = true;
            foreach (var job in jobs)
            {
                if (job.Plans is [Sql.Plan.TableSink.SinkPlan, ..])
                {
                    var execution = job.Environment.Start(job.Name);
                    background.Add(execution);
                    stdout.WriteLine($"[INFO] Job '{job.Name}' is running in the background.");
                    continue;
                }
                if (tableau is not null)
                {
                    ok &= await Stream(job, tableau, cancel);
                    continue;
                }
                var view = table!;
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                running = stop;
                var query = job.Environment.Start(job.Name);
                using (stop.Token.Register(query.Cancel))
                {
                    bool live = !Console.IsOutputRedirected;
                    while (!query.Completion.IsCompleted)
                    {
                        await Task.WhenAny(query.Completion, Task.Delay(1000, CancellationToken.None));
                        if (live && view.Changed) Render(view, clear: true);
                    }
                }
                running = null;
                var outcome = await query.Completion;
                Render(view, clear: !Console.IsOutputRedirected && view.Rendered);
                stdout.WriteLine(outcome.Status switch
                {
                    JobStatus.Finished => $"{view.Count} row(s) in set",
                    JobStatus.Cancelled => $"query stopped; {view.Count} row(s) shown",
                    _ => $"[ERROR] {SqlCommands.Describe(outcome.Failure!)}",
                });
                ok &= outcome.Status != JobStatus.Failed;
            }
            return ok;
        }

        /// <summary>Runs a query whose rows the tableau sink prints as they arrive; false when it failed.</summary>
        private async Task<bool> Stream(SqlJob job, TableauSink sink, CancellationToken cancel)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            running = stop;
            sink.WriteHeader();
            var query = job.Environment.Start(job.Name);
            JobResult outcome;
            using (stop.Token.Register(query.Cancel))
            {
                outcome = await query.Completion;
            }
            running = null;
            sink.WriteFooter(outcome.Status switch
            {
                JobStatus.Finished => $"Received a total of {sink.Count} row{(sink.Count == 1 ? "" : "s")}",
                JobStatus.Cancelled => $"Query terminated, received a total of {sink.Count} row{(sink.Count == 1 ? "" : "s")}",
                _ => null,
            });
            if (outcome.Status == JobStatus.Failed)
            {
                stderr.WriteLine($"[ERROR] {SqlCommands.Describe(outcome.Failure!)}");
                return false;
            }
            return true;
        }

        private void Render(MaterializedTable view, bool clear)
        {
            if (clear) stdout.Write("\u001b[2J\u001b[H");
            stdout.Write(view.Format());
        }
    }

    /// <summary>Applies a changelog (+I/-U/+U/-D) to a table of rows, as the SQL client's table mode shows results.</summary>
    internal sealed class MaterializedTable(Schema schema) : Sink<Row>
    {
        private readonly List<Row> rows = [];
        private volatile bool changed;

        public bool Changed => changed;

        public bool Rendered { get; private set; }

        public int Count
        {
            get
            {
                lock (rows) return rows.Count;
            }
        }

        public override SinkWriter<Row> CreateWriter(SinkWriterContext context) => new Writer(this);

        private sealed class Writer(MaterializedTable table) : SinkWriter<Row>
        {
            public override void Write(Batch<Row> batch)
            {
                lock (table.rows)
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        var row = batch.Values[i].WithKind(RowKind.Insert);
                        if (batch.KindAt(i).IsAccumulate()) table.rows.Add(row);
                        else
                        {
                            int at = table.rows.IndexOf(row);
                            if (at >= 0) table.rows.RemoveAt(at);
                        }
                    }
                    table.changed = true;
                }
            }
        }

        public string Format()
        {
            List<string[]> cells;
            lock (rows)
            {
                cells = rows.Select(r => Enumerable.Range(0, r.Arity).Select(i => Cell(r[i])).ToArray()).ToList();
                changed = false;
            }
            Rendered = true;
            var headers = schema.Columns.Select(c => c.Name).ToArray();
            var widths = headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
            var sb = new StringBuilder();
            string rule = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
            sb.AppendLine(rule);
            sb.AppendLine("| " + string.Join(" | ", headers.Select((h, i) => h.PadRight(widths[i]))) + " |");
            sb.AppendLine(rule);
            foreach (var c in cells) sb.AppendLine("| " + string.Join(" | ", c.Select((v, i) => v.PadRight(widths[i]))) + " |");
            sb.AppendLine(rule);
            return sb.ToString();
        }

        private static string Cell(object? value) => Row.FormatForClient(value);
    }
}
