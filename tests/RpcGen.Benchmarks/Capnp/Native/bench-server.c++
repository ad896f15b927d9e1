// Serves BenchNode (bench.capnp) with the C++ reference implementation for the --capnp benchmarks.
// Usage: bench-server ADDRESS   e.g. "unix:/tmp/x.sock" or "127.0.0.1:0"
// Prints "LISTENING <port>" once bound, then serves until stdin closes or ten minutes pass.

#include "bench.capnp.h"
#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <iostream>

namespace {

// The nodes nextTracked() made that are still alive, and a waitDropped() call waiting for none.
struct Tracker {
  uint32_t alive = 0;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> waiter;
};

class BenchNodeImpl final: public BenchNode::Server {
public:
  BenchNodeImpl(int64_t depth, Tracker& tracker, bool tracked = false): depth(depth), tracker(tracker), tracked(tracked) {
    if (tracked) ++tracker.alive;
  }

  ~BenchNodeImpl() noexcept(false) {
    if (tracked && --tracker.alive == 0) {
      KJ_IF_MAYBE(waiter, tracker.waiter) {
        (*waiter)->fulfill();
      }
      tracker.waiter = nullptr;
    }
  }

  kj::Promise<void> echoSmall(EchoSmallContext context) override {
    auto params = context.getParams().getMessage();
    auto results = context.getResults().initResult();
    results.setId(params.getId());
    results.setName(params.getName());
    results.setValue(params.getValue());
    results.setTimestamp(params.getTimestamp());
    results.setFlag(params.getFlag());
    return kj::READY_NOW;
  }

  kj::Promise<void> next(NextContext context) override {
    context.getResults().setNode(kj::heap<BenchNodeImpl>(depth + 1, tracker));
    return kj::READY_NOW;
  }

  kj::Promise<void> nextAwaited(NextAwaitedContext context) override {
    context.getResults().setNode(kj::heap<BenchNodeImpl>(depth + 1, tracker));
    return kj::READY_NOW;
  }

  kj::Promise<void> nextTracked(NextTrackedContext context) override {
    context.getResults().setNode(kj::heap<BenchNodeImpl>(depth + 1, tracker, true));
    return kj::READY_NOW;
  }

  kj::Promise<void> waitDropped(WaitDroppedContext context) override {
    if (tracker.alive == 0) return kj::READY_NOW;
    auto paf = kj::newPromiseAndFulfiller<void>();
    tracker.waiter = kj::mv(paf.fulfiller);
    return kj::mv(paf.promise);
  }

  kj::Promise<void> read(ReadContext context) override {
    context.getResults().setDepth(depth);
    return kj::READY_NOW;
  }

private:
  int64_t depth;
  Tracker& tracker;
  bool tracked;
};

kj::Promise<void> readUntilEof(kj::AsyncInputStream& input, kj::ArrayPtr<char> buffer) {
  return input.tryRead(buffer.begin(), 1, buffer.size()).then([&input, buffer](size_t n) -> kj::Promise<void> {
    if (n == 0) return kj::READY_NOW;
    return readUntilEof(input, buffer);
  });
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ADDRESS" << std::endl;
    return 2;
  }

  Tracker tracker;
  capnp::EzRpcServer server(kj::heap<BenchNodeImpl>(0, tracker), argv[1]);
  auto& waitScope = server.getWaitScope();
  uint port = server.getPort().wait(waitScope);
  std::cout << "LISTENING " << port << std::endl;

  // Bounded lifetime: the harness closes our stdin when it is done (or dies, which closes it too).
  auto input = server.getLowLevelIoProvider().wrapInputFd(0);
  char buffer[256];
  readUntilEof(*input, kj::arrayPtr(buffer, sizeof(buffer)))
      .exclusiveJoin(server.getIoProvider().getTimer().afterDelay(600 * kj::SECONDS))
      .wait(waitScope);
  return 0;
}
