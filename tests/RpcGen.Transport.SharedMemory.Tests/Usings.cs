global using RpcGen.Transport.Message;
global using RpcGen.Transport.SharedMemory.TestHost;
