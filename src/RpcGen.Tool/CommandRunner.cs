using System.Security.Cryptography;

namespace RpcGen.Tool;

/// <summary>What every command shares: failures as one line on stderr, output to a file or stdout.</summary>
internal static class CommandRunner
{
    /// <summary>Runs a command's action, turning the failures a user can cause into one line on stderr and exit code 1.</summary>
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or FormatException or InvalidOperationException or BadImageFormatException)
        {
            Console.Error.WriteLine("rpcgen: " + ex.Message);
            return 1;
        }
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/>, or to stdout when it is null; returns exit code 0.</summary>
    public static int Write(string text, string? path)
    {
        if (path is null)
        {
            Console.Out.Write(text);
        }
        else
        {
            File.WriteAllText(path, text);
            Console.Error.WriteLine($"wrote {path}");
        }

        return 0;
    }
}
