using System.Text;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>The <c>capnp</c> command-line tool, the reference this implementation is checked against.</summary>
internal static class CapnpTool
{
    public const string InstallHint = "apt-get install -y capnproto libcapnp-dev g++ pkg-config";

    public static string InteropDirectory => Path.Combine(AppContext.BaseDirectory, "interop");

    public static string Executable => ExternalTool.Require("capnp", InstallHint);

    /// <summary><c>capnp encode</c>: text to framed binary (optionally packed or split into segments).</summary>
    public static async Task<byte[]> EncodeAsync(string schema, string type, string text, bool packed = false, int? segmentSize = null)
    {
        var args = new List<string> { "encode" };
        if (packed)
        {
            args.Add("--packed");
        }

        if (segmentSize is { } size)
        {
            args.Add($"--segment-size={size}");
        }

        args.Add(schema);
        args.Add(type);
        var result = await ExternalTool.RunCheckedAsync(Executable, args, System.Text.Encoding.UTF8.GetBytes(text), InteropDirectory);
        return result.Stdout;
    }

    /// <summary><c>capnp decode --short</c>: framed binary to one line of text.</summary>
    public static async Task<string> DecodeAsync(string schema, string type, byte[] message, bool packed = false)
    {
        var args = new List<string> { "decode", "--short" };
        if (packed)
        {
            args.Add("--packed");
        }

        args.Add(schema);
        args.Add(type);
        var result = await ExternalTool.RunCheckedAsync(Executable, args, message, InteropDirectory);
        return result.StdoutText.Trim();
    }

    /// <summary><c>capnp convert binary:canonical</c>.</summary>
    public static async Task<byte[]> CanonicalizeAsync(byte[] message)
    {
        var result = await ExternalTool.RunCheckedAsync(Executable, ["convert", "binary:canonical"], message, InteropDirectory);
        return result.Stdout;
    }

    /// <summary><c>capnp compile -ocapnp</c>: the schema echoed back with every field's offset.</summary>
    public static async Task<CompiledSchema> CompileAsync(string schemaPath)
    {
        var result = await ExternalTool.RunCheckedAsync(Executable, ["compile", "-ocapnp", "-I/usr/include", schemaPath], workingDirectory: Path.GetDirectoryName(schemaPath));
        return CompiledSchema.Parse(result.StdoutText);
    }

    /// <summary>Writes schema text to a file of its own (named by its content) and returns the path.</summary>
    public static async Task<string> WriteSchemaAsync(string schemaText)
    {
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(schemaText)))[..16];
        var directory = Path.Combine(Path.GetTempPath(), "rpcgen-capnp-schemas");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"s{hash.ToLowerInvariant()}.capnp");
        var temporary = path + "." + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(temporary, schemaText);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary><see cref="CompileAsync"/> of schema text.</summary>
    public static async Task<CompiledSchema> CompileTextAsync(string schemaText) => await CompileAsync(await WriteSchemaAsync(schemaText));
}
