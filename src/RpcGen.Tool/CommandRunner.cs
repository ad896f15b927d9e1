using System.Security.Cryptography;

namespace RpcGen.Tool;

/// <summary>Runs a command's action, turning the failures a user can cause into one line on stderr and exit code 1.</summary>
internal static class CommandRunner
{
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
}
