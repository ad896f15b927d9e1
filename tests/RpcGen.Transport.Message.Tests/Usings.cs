global using System.Threading.Channels;
global using RpcGen.Links;
