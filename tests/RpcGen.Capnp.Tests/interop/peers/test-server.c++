// Interop peer: serves TestService (interop/test.capnp) with the C++ reference implementation.
// Usage: test-server <bind address>   e.g. "unix:/tmp/x.sock" or "127.0.0.1:0"
// Prints "LISTENING <port>" once bound, then serves until stdin closes or two minutes pass.

#include "test.capnp.h"
#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <kj/debug.h>
#include <iostream>

namespace {

struct Stats {
  uint32_t countersDestroyed = 0;
  uint32_t blocksCancelled = 0;
  uint32_t blocksStarted = 0;
};

class CounterImpl final: public Counter::Server {
public:
  CounterImpl(uint64_t start, Stats& stats): value(start), stats(stats) {}
  ~CounterImpl() noexcept(false) { ++stats.countersDestroyed; }

  kj::Promise<void> increment(IncrementContext context) override {
    context.getResults().setValue(++value);
    return kj::READY_NOW;
  }

private:
  uint64_t value;
  Stats& stats;
};

class TestServiceImpl final: public TestService::Server {
public:
  explicit TestServiceImpl(Stats& counts): counts(counts) {}

  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setText(context.getParams().getText());
    return kj::READY_NOW;
  }

  kj::Promise<void> add(AddContext context) override {
    auto params = context.getParams();
    context.getResults().setSum(params.getA() + params.getB());
    return kj::READY_NOW;
  }

  kj::Promise<void> newCounter(NewCounterContext context) override {
    context.getResults().setCounter(kj::heap<CounterImpl>(context.getParams().getStart(), counts));
    return kj::READY_NOW;
  }

  kj::Promise<void> callBack(CallBackContext context) override {
    auto params = context.getParams();
    auto request = params.getCallback().notifyRequest();
    request.setMessage(params.getMessage());
    return request.send().then([context](capnp::Response<Callback::NotifyResults>&& response) mutable {
      context.getResults().setReply(response.getReply());
    });
  }

  kj::Promise<void> fail(FailContext context) override {
    auto params = context.getParams();
    kj::Exception::Type type = kj::Exception::Type::FAILED;
    switch (params.getKind()) {
      case 1: type = kj::Exception::Type::OVERLOADED; break;
      case 2: type = kj::Exception::Type::DISCONNECTED; break;
      case 3: type = kj::Exception::Type::UNIMPLEMENTED; break;
    }
    return kj::Exception(type, __FILE__, __LINE__, kj::str(params.getMessage()));
  }

  kj::Promise<void> block(BlockContext context) override {
    // Before Cap'n Proto 1.0 a call is only cancelled on Finish if it allows it.
    context.allowCancellation();
    ++counts.blocksStarted;
    Stats* s = &counts;
    return kj::Promise<void>(kj::NEVER_DONE).attach(kj::defer([s]() { ++s->blocksCancelled; }));
  }

  kj::Promise<void> echoCap(EchoCapContext context) override {
    context.getResults().setCap(context.getParams().getCap());
    return kj::READY_NOW;
  }

  kj::Promise<void> hold(HoldContext context) override {
    held = context.getParams().getCap();
    return kj::READY_NOW;
  }

  kj::Promise<void> dropHeld(DropHeldContext context) override {
    held = nullptr;
    return kj::READY_NOW;
  }

  kj::Promise<void> stats(StatsContext context) override {
    auto results = context.getResults();
    results.setCountersDestroyed(counts.countersDestroyed);
    results.setBlocksCancelled(counts.blocksCancelled);
    results.setBlocksStarted(counts.blocksStarted);
    return kj::READY_NOW;
  }

  kj::Promise<void> self(SelfContext context) override {
    context.getResults().setService(thisCap());
    return kj::READY_NOW;
  }

private:
  Stats& counts;
  kj::Maybe<Counter::Client> held;
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

  Stats stats;
  capnp::EzRpcServer server(kj::heap<TestServiceImpl>(stats), argv[1]);
  auto& waitScope = server.getWaitScope();
  uint port = server.getPort().wait(waitScope);
  std::cout << "LISTENING " << port << std::endl;

  // Bounded lifetime: stop when the test closes our stdin (or dies), or after two minutes.
  auto input = server.getLowLevelIoProvider().wrapInputFd(0);
  char buffer[256];
  readUntilEof(*input, kj::arrayPtr(buffer, sizeof(buffer)))
      .exclusiveJoin(server.getIoProvider().getTimer().afterDelay(120 * kj::SECONDS))
      .wait(waitScope);
  return 0;
}
