global using RpcGen.Transport.Message;
