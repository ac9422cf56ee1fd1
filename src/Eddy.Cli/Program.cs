namespace Eddy.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["version"] or ["--version"])
        {
            Console.WriteLine($"eddy {typeof(Program).Assembly.GetName().Version}");
            return 0;
        }
        Console.Error.WriteLine("usage: eddy version");
        return 2;
    }
}
