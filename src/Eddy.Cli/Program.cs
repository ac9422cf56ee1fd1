using System.CommandLine;

namespace Eddy.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs a command line with the given writers (tests capture them).</summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        BuildCommand(stdout, stderr).Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });

    internal static RootCommand BuildCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Eddy: stream processing for .NET, Flink-compatible. Run 'eddy <command> --help' for details.");
        root.Subcommands.Add(VersionCommand.Create(stdout));
        root.Subcommands.Add(DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(SqlCommands.Run(stdout, stderr));
        root.Subcommands.Add(SqlCommands.Explain(stdout, stderr));
        root.Subcommands.Add(SqlShell.Create(stdout, stderr));
        root.Subcommands.Add(GenerateCommand.Create(stdout, stderr));
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
