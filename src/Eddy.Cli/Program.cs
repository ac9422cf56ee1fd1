using System.CommandLine;

namespace Eddy.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // Ctrl-C and SIGTERM cancel the running command (a job stops cleanly and reports); a second Ctrl-C kills.
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (stop.IsCancellationRequested) return;
            e.Cancel = true;
            stop.Cancel();
        };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
        return Run(args, Console.Out, Console.Error, stop.Token);
    }

    /// <summary>Runs a command line with the given writers (tests capture them).</summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancel = default)
    {
        var parsed = BuildCommand(stdout, stderr).Parse(args);
        if (UnknownOption(parsed) is { } unknown)
        {
            stderr.WriteLine(unknown);
            return 2;
        }
        return parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null }, cancel)
            .GetAwaiter().GetResult();
    }

    private static readonly string[] SetKeys =
        ["parallelism.default", "pipeline.name", "execution.checkpointing.interval", "execution.runtime-mode", "table.exec.source.idle-timeout"];

    /// <summary>"unknown option '--paralelism' for 'eddy run'; did you mean ...?" for the first option-like token no option took.</summary>
    internal static string? UnknownOption(ParseResult parsed)
    {
        if (parsed.Errors.Count == 0) return null;
        var token = parsed.UnmatchedTokens.FirstOrDefault(t => t.StartsWith('-') && t.Length > 1);
        if (token is null) return null;
        var command = parsed.CommandResult.Command;
        var names = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct().ToList();
        string name = token.Split('=', 2)[0];
        string suggestion = Eddy.Sql.SqlErrors.Suggest(name, names.Where(n => n.StartsWith("--", StringComparison.Ordinal)));
        if (suggestion.Length == 0 && names.Contains("--set"))
        {
            // Job options are not flags: '--paralelism 3' most likely meant the parallelism.default option.
            string bare = name.TrimStart('-');
            var key = SetKeys.FirstOrDefault(k => Eddy.Sql.SqlErrors.Suggest(bare, [k.Split('.')[0], k]).Length > 0);
            if (key is not null) suggestion = $"; did you mean '--set {key}=...'?";
        }
        string path = string.Join(' ', Ancestry(parsed.CommandResult).Prepend("eddy").Distinct());
        return $"error: unknown option '{name}' for '{path}'"
            + (suggestion.Length > 0 ? suggestion : $"; its options are {string.Join(", ", names.Where(n => n.StartsWith("--", StringComparison.Ordinal)))}")
            + $" (see '{path} --help')";

        static IEnumerable<string> Ancestry(System.CommandLine.Parsing.CommandResult result)
        {
            var names = new List<string>();
            for (System.CommandLine.Parsing.SymbolResult? r = result; r is System.CommandLine.Parsing.CommandResult c; r = c.Parent)
                if (c.Parent is not null) names.Insert(0, c.Command.Name);
            return names;
        }
    }

    internal static RootCommand BuildCommand(TextWriter stdout, TextWriter stderr)
    {
        var connectors = EddyConnectors.Create();
        var root = new RootCommand("Eddy: stream processing for .NET, Flink-compatible. Run 'eddy <command> --help' for details.");
        root.Subcommands.Add(VersionCommand.Create(stdout));
        root.Subcommands.Add(DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(SqlCommands.Run(connectors, stdout, stderr));
        root.Subcommands.Add(SqlCommands.Explain(connectors, stdout, stderr));
        root.Subcommands.Add(WorkerCommand.Create(connectors, stdout, stderr));
        root.Subcommands.Add(SqlShell.Create(connectors, stdout, stderr));
        root.Subcommands.Add(GenerateCommand.Create(stdout, stderr));
        root.Subcommands.Add(BenchCommand.Create(connectors, stdout, stderr));
        root.Subcommands.Add(KafkaCommand.Create(stdout, stderr));
        root.Subcommands.Add(ProduceCommand.Create(stdout, stderr));
        root.Subcommands.Add(ServerCommands.Server(connectors, stdout, stderr));
        root.Subcommands.Add(ServerCommands.Submit(stdout, stderr));
        root.Subcommands.Add(ServerCommands.List(stdout, stderr));
        root.Subcommands.Add(ServerCommands.Cancel(stdout, stderr));
        root.Subcommands.Add(ServerCommands.Status(stdout, stderr));
        root.Subcommands.Add(ServerCommands.Savepoint(stdout, stderr));
        root.Subcommands.Add(ServerCommands.Stop(stdout, stderr));
        return root;
    }
}

internal static class VersionCommand
{
    public static string Text
    {
        get
        {
            var asm = typeof(Program).Assembly.GetName();
            return $"eddy {asm.Version?.ToString(3)} (.NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription})";
        }
    }

    public static Command Create(TextWriter stdout)
    {
        var command = new Command("version", "Print Eddy's version and the runtime it runs on.");
        command.SetAction(_ =>
        {
            stdout.WriteLine(Text);
            return 0;
        });
        return command;
    }
}
