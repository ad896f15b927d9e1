using System.CommandLine;
using System.Diagnostics;

namespace RpcGen.Tool;

/// <summary>
/// <c>rpcgen capnp import SCHEMA --namespace X [--out FILE] [--import-path DIR]</c>: compiles the schema
/// with <c>capnp compile -o-</c> (which writes its <c>CodeGeneratorRequest</c> to stdout) and writes the
/// C# contract <see cref="CapnpContractImporter"/> makes of it.
/// </summary>
internal static class CapnpImportCommand
{
    private static readonly TimeSpan CompileTimeout = TimeSpan.FromMinutes(2);

    public static Command Create()
    {
        var import = new Command("import", "Write a C# contract (pinned ids and ordinals) for a .capnp schema; needs the capnp compiler on PATH.");
        var schema = new Argument<string>("SCHEMA") { Description = "The .capnp file." };
        var ns = new Option<string>("--namespace") { Description = "The C# namespace of the contract.", Required = true };
        var output = new Option<string?>("--out") { Description = "The .cs file to write (stdout unless given)." };
        var importPath = new Option<string[]>("--import-path", "-I") { Description = "Directories capnp searches for imports, as its own -I." };
        import.Arguments.Add(schema);
        import.Options.Add(ns);
        import.Options.Add(output);
        import.Options.Add(importPath);
        import.SetAction(result => CommandRunner.Run(() => Import(result.GetValue(schema)!, result.GetValue(ns)!, result.GetValue(output), result.GetValue(importPath) ?? [])));
        return import;
    }

    private static int Import(string schema, string @namespace, string? output, string[] importPath)
    {
        if (!File.Exists(schema))
        {
            throw new IOException($"No schema file '{schema}'.");
        }

        var (nodes, fileId, fileName) = CapnpSchemaNodes.Read(Compile(schema, importPath));
        var contract = CapnpContractImporter.Import(nodes, fileId, fileName, @namespace);
        return CommandRunner.Write(contract, output);
    }

    /// <summary>The <c>CodeGeneratorRequest</c> <c>capnp compile -o-</c> writes for <paramref name="schema"/>.</summary>
    private static byte[] Compile(string schema, string[] importPath)
    {
        var info = new ProcessStartInfo("capnp")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(schema)),
        };
        info.ArgumentList.Add("compile");
        info.ArgumentList.Add("-o-");
        foreach (var directory in importPath)
        {
            info.ArgumentList.Add("-I" + Path.GetFullPath(directory));
        }

        info.ArgumentList.Add(Path.GetFileName(schema));
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("Could not start capnp.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Could not run the capnp compiler ({ex.Message}); install it (apt-get install capnproto) or put it on PATH.", ex);
        }

        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            using var request = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(request);
            if (!process.WaitForExit(CompileTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"capnp compile did not finish within {CompileTimeout.TotalSeconds:0} s.");
            }

            copy.GetAwaiter().GetResult();
            if (process.ExitCode != 0)
            {
                throw new FormatException($"capnp compile failed:\n{error.GetAwaiter().GetResult().Trim()}");
            }

            return request.ToArray();
        }
    }
}
