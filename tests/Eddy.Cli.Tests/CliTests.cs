using System.CommandLine;
using Eddy.Cli;

namespace Eddy.Tests;

public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Version_prints_the_version()
    {
        var (code, output, _) = Run("version");
        Assert.Equal(0, code);
        Assert.StartsWith("eddy 0.1.0 (.NET 10.", output);
    }

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var path in Walk(Program.BuildCommand(TextWriter.Null, TextWriter.Null), "")) data.Add(path);
        return data;
    }

    private static IEnumerable<string> Walk(Command command, string prefix)
    {
        foreach (var sub in command.Subcommands)
        {
            var path = (prefix + " " + sub.Name).Trim();
            yield return path;
            foreach (var p in Walk(sub, path)) yield return p;
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_command_has_help(string command)
    {
        var (code, output, _) = Run([.. command.Split(' '), "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
        Assert.Contains($"{command} [options]", output);
    }

    [Fact]
    public void An_unknown_command_is_an_error_that_names_it()
    {
        var (code, _, err) = Run("frobnicate");
        Assert.NotEqual(0, code);
        Assert.Contains("frobnicate", err);
    }
}
