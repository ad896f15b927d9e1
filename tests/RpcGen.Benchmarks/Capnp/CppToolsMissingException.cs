namespace RpcGen.Benchmarks.Capnp;

/// <summary>The Cap'n Proto C++ tools are not installed, so the C++ peers cannot be built; the message says which (<see cref="CppBenchPrograms.InstallHint"/> installs them).</summary>
public sealed class CppToolsMissingException(string message) : Exception(message);
