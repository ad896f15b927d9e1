@0xd4c8b3a2f1e09876;
# The protocol of the --capnp benchmarks. The C# side has it twice: generated from the contract
# Capnp/IBenchNode.cs (same interface id, ordinals and field order), and hand-written for the
# low-level API in Capnp/BenchProtocol.cs. Params and results are the one-pointer structs the
# generator makes of a C# method (a parameter, a result); field names do not travel. The layout:
# Small is 3 data words (id bits 0-31, flag bit 32, value word 1, timestamp word 2) and one pointer
# (name). The interface id is fixed so the C# constants do not depend on the file id.

# The same five fields as the message transport's SmallMessage (tests/RpcGen.Benchmarks/Contracts).
struct Small {
  id @0 :Int32;
  name @1 :Text;
  value @2 :Float64;
  timestamp @3 :Int64;
  flag @4 :Bool;
}

# A node in a chain: the bootstrap is node 0, next() returns node depth+1, read() returns the depth.
interface BenchNode @0xe3a1c2b4d5f60718 {
  echoSmall @0 (message :Small) -> (result :Small);
  next @1 () -> (node :BenchNode);
  read @2 () -> (depth :Int64);
  # The same as next; the C# contract (Capnp/IBenchNode.cs) awaits it as Task<IBenchNode> NextAsync().
  nextAwaited @3 () -> (node :BenchNode);
  # Release latency: a node whose destruction the server counts (C#: whose disposal), and a call that
  # returns once no such node is alive, i.e. once the server has taken the release of the last one.
  nextTracked @4 () -> (node :BenchNode);
  waitDropped @5 () -> ();
}
