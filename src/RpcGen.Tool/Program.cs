using System.CommandLine;
using RpcGen.Tool;

var root = KeysCommand.CreateRoot();
root.Subcommands.Add(CapnpCommand.Create());
return root.Parse(args).Invoke();
