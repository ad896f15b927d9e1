using System.CommandLine;
using RpcGen.Tool;

return KeysCommand.CreateRoot().Parse(args).Invoke();
