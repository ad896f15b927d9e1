@0xb1c2d3e4f5a6b7c8;
# The protocol the interop peers speak: one service with a method per behaviour under test.

interface Counter {
  increment @0 () -> (value :UInt64);
}

interface Callback {
  notify @0 (message :Text) -> (reply :Text);
}

interface TestService {
  echo @0 (text :Text) -> (text :Text);
  add @1 (a :Int64, b :Int64) -> (sum :Int64);
  newCounter @2 (start :UInt64) -> (counter :Counter);
  callBack @3 (callback :Callback, message :Text) -> (reply :Text);
  fail @4 (message :Text, kind :UInt16) -> ();
  block @5 () -> ();
  echoCap @6 (cap :Counter) -> (cap :Counter);
  hold @7 (cap :Counter) -> ();
  dropHeld @8 () -> ();
  stats @9 () -> (countersDestroyed :UInt32, blocksCancelled :UInt32, blocksStarted :UInt32);
  self @10 () -> (service :TestService);
}
