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
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancel = default) =>
        BuildCommand(stdout, stderr).Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null }, cancel)
            .GetAwaiter().GetResult();

    internal static RootCommand BuildCommand(TextWriter stdout, TextWriter stderr)
    {
        Eddy.Connectors.Postgres.PostgresConnectors.Register();
        Eddy.Connectors.Kafka.KafkaTableConnector.Register();
        Eddy.Connectors.Nexmark.NexmarkTableConnector.Register();
        var root = new RootCommand("Eddy: stream processing for .NET, Flink-compatible. Run 'eddy <command> --help' for details.");
        root.Subcommands.Add(VersionCommand.Create(stdout));
        root.Subcommands.Add(DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(SqlCommands.Run(stdout, stderr));
        root.Subcommands.Add(SqlCommands.Explain(stdout, stderr));
        root.Subcommands.Add(SqlShell.Create(stdout, stderr));
        root.Subcommands.Add(GenerateCommand.Create(stdout, stderr));
        root.Subcommands.Add(BenchCommand.Create(stdout, stderr));
        root.Subcommands.Add(KafkaCommand.Create(stdout, stderr));
        root.Subcommands.Add(ProduceCommand.Create(stdout, stderr));
        root.Subcommands.Add(ServerCommands.Server(stdout, stderr));
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
