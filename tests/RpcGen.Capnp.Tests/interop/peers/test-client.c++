// Interop peer: calls TestService (interop/test.capnp) on a server with the C++ reference
// implementation, one scenario per argument, printing "PASS <name>" or "FAIL <name>: <why>".
// Usage: test-client <server address> <scenario>...

#include "test.capnp.h"
#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <kj/debug.h>
#include <iostream>

namespace {

struct Flags {
  bool callbackDestroyed = false;
  bool counterDestroyed = false;
  uint32_t callbacksDestroyed = 0;
};

class CallbackImpl final: public Callback::Server {
public:
  explicit CallbackImpl(Flags& flags): flags(flags) {}
  ~CallbackImpl() noexcept(false) {
    flags.callbackDestroyed = true;
    ++flags.callbacksDestroyed;
  }

  kj::Promise<void> notify(NotifyContext context) override {
    context.getResults().setReply(kj::str("cpp got ", context.getParams().getMessage()));
    return kj::READY_NOW;
  }

private:
  Flags& flags;
};

class CounterImpl final: public Counter::Server {
public:
  CounterImpl(uint64_t start, Flags& flags): value(start), flags(flags) {}
  ~CounterImpl() noexcept(false) { flags.counterDestroyed = true; }

  kj::Promise<void> increment(IncrementContext context) override {
    context.getResults().setValue(++value);
    return kj::READY_NOW;
  }

private:
  uint64_t value;
  Flags& flags;
};

struct Scenario {
  TestService::Client service;
  kj::WaitScope& waitScope;
  Flags flags;

  capnp::Response<TestService::StatsResults> stats() {
    return service.statsRequest().send().wait(waitScope);
  }

  // Round trips until `condition` holds: each one lets queued messages (Release, Finish) arrive.
  template <typename Condition>
  void eventually(Condition condition, const char* what) {
    for (int i = 0; i < 2000; ++i) {
      if (condition()) return;
      service.echoRequest().send().wait(waitScope);
    }
    KJ_FAIL_REQUIRE("condition never became true", what);
  }

  void echo() {
    auto request = service.echoRequest();
    request.setText("h\xc3\xa9llo from C++");
    KJ_REQUIRE(request.send().wait(waitScope).getText() == "h\xc3\xa9llo from C++");
    auto add = service.addRequest();
    add.setA(40);
    add.setB(2);
    KJ_REQUIRE(add.send().wait(waitScope).getSum() == 42);
  }

  void pipeline() {
    // Three dependent calls, all sent before any of them returns.
    auto first = service.selfRequest().send();
    auto second = first.getService().selfRequest().send();
    auto third = second.getService().echoRequest();
    third.setText("chain");
    KJ_REQUIRE(third.send().wait(waitScope).getText() == "chain");

    auto newCounter = service.newCounterRequest();
    newCounter.setStart(10);
    auto counter = newCounter.send().getCounter();
    auto a = counter.incrementRequest().send();
    auto b = counter.incrementRequest().send();
    KJ_REQUIRE(a.wait(waitScope).getValue() == 11);
    KJ_REQUIRE(b.wait(waitScope).getValue() == 12);
  }

  void callback() {
    {
      Callback::Client callback = kj::heap<CallbackImpl>(flags);
      auto request = service.callBackRequest();
      request.setCallback(callback);
      request.setMessage("ping");
      auto reply = request.send().wait(waitScope);
      KJ_REQUIRE(reply.getReply() == "cpp got ping", reply.getReply());
    }
    eventually([this]() { return flags.callbackDestroyed; }, "the C# side released our callback");
  }

  void promise() {
    // A capability sent while still a promise; the C# side's call on it waits until it resolves.
    auto paf = kj::newPromiseAndFulfiller<Callback::Client>();
    Callback::Client pending = kj::mv(paf.promise);
    auto request = service.callBackRequest();
    request.setCallback(pending);
    request.setMessage("later");
    auto reply = request.send();
    service.echoRequest().send().wait(waitScope);  // the call is now queued on the promise
    paf.fulfiller->fulfill(kj::heap<CallbackImpl>(flags));
    KJ_REQUIRE(reply.wait(waitScope).getReply() == "cpp got later");
  }

  void embargo() {
    // Our own counter, sent to C# and returned: a call pipelined through C# and a later direct
    // call must arrive in the order they were made.
    Counter::Client local = kj::heap<CounterImpl>(100, flags);
    auto request = service.echoCapRequest();
    request.setCap(local);
    auto echoed = request.send();
    auto roundTripped = echoed.getCap();
    auto viaPeer = roundTripped.incrementRequest().send();
    echoed.wait(waitScope);
    auto direct = roundTripped.incrementRequest().send();
    KJ_REQUIRE(viaPeer.wait(waitScope).getValue() == 101);
    KJ_REQUIRE(direct.wait(waitScope).getValue() == 102);
  }

  void errors() {
    const kj::Exception::Type types[] = {
      kj::Exception::Type::FAILED, kj::Exception::Type::OVERLOADED,
      kj::Exception::Type::DISCONNECTED, kj::Exception::Type::UNIMPLEMENTED,
    };
    for (uint16_t kind = 0; kind < 4; ++kind) {
      auto request = service.failRequest();
      auto message = kj::str("boom ", kind);
      request.setMessage(message);
      request.setKind(kind);
      KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { request.send().wait(waitScope); })) {
        KJ_REQUIRE(e->getType() == types[kind], e->getType(), kind);
        KJ_REQUIRE(e->getDescription().findFirst('b') != nullptr, e->getDescription());
        KJ_REQUIRE(kj::StringPtr(e->getDescription()).endsWith(message), e->getDescription());
      } else {
        KJ_FAIL_REQUIRE("fail() returned normally", kind);
      }
    }
  }

  void cancel() {
    uint32_t cancelledBefore = stats().getBlocksCancelled();
    {
      auto blocked = service.blockRequest().send();
      eventually([this]() { return stats().getBlocksStarted() > 0; }, "block() started");
    }  // dropping the promise sends Finish
    eventually([&]() { return stats().getBlocksCancelled() > cancelledBefore; }, "block() was cancelled");
  }

  void release() {
    uint32_t destroyedBefore = stats().getCountersDestroyed();
    {
      auto request = service.newCounterRequest();
      request.setStart(0);
      auto counter = request.send().wait(waitScope).getCounter();
      KJ_REQUIRE(counter.incrementRequest().send().wait(waitScope).getValue() == 1);
    }
    eventually([&]() { return stats().getCountersDestroyed() > destroyedBefore; }, "the C# counter was released");

    flags.counterDestroyed = false;
    {
      Counter::Client mine = kj::heap<CounterImpl>(0, flags);
      auto hold = service.holdRequest();
      hold.setCap(mine);
      hold.send().wait(waitScope);
    }
    for (int i = 0; i < 20; ++i) service.echoRequest().send().wait(waitScope);
    KJ_REQUIRE(!flags.counterDestroyed, "released while C# still holds it");
    service.dropHeldRequest().send().wait(waitScope);
    eventually([this]() { return flags.counterDestroyed; }, "C# released the held counter");
  }

  void callbacks() {
    // Twenty callbacks, one per call, each used by the server during its call only: the server
    // releases each when its call returns (a tap on the wire counts the release messages).
    uint32_t before = flags.callbacksDestroyed;
    for (int i = 0; i < 20; ++i) {
      auto request = service.callBackRequest();
      request.setCallback(kj::heap<CallbackImpl>(flags));
      auto message = kj::str("call ", i);
      request.setMessage(message);
      auto reply = request.send().wait(waitScope);
      KJ_REQUIRE(reply.getReply() == kj::str("cpp got ", message), reply.getReply());
    }
    eventually([&]() { return flags.callbacksDestroyed - before == 20; }, "the server released all 20 callbacks");
  }

  void dropCounter() {
    // A counter obtained through a pipelined promise, called, then dropped: the client releases it.
    {
      auto request = service.newCounterRequest();
      request.setStart(5);
      auto counter = request.send().getCounter();
      KJ_REQUIRE(counter.incrementRequest().send().wait(waitScope).getValue() == 6);
    }
    service.echoRequest().send().wait(waitScope);
  }

  void disconnect() {
    auto blocked = service.blockRequest().send();
    eventually([this]() { return stats().getBlocksStarted() > 0; }, "block() started");
    std::cout << "BLOCKING" << std::endl;
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { blocked.wait(waitScope); })) {
      KJ_REQUIRE(e->getType() == kj::Exception::Type::DISCONNECTED, e->getType(), e->getDescription());
    } else {
      KJ_FAIL_REQUIRE("block() returned normally");
    }
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " ADDRESS SCENARIO..." << std::endl;
    return 2;
  }

  capnp::EzRpcClient client(argv[1]);
  auto& waitScope = client.getWaitScope();
  Scenario scenario { client.getMain<TestService>(), waitScope, {} };
  int failures = 0;
  for (int i = 2; i < argc; ++i) {
    kj::StringPtr name = argv[i];
    auto error = kj::runCatchingExceptions([&]() {
      if (name == "echo") scenario.echo();
      else if (name == "pipeline") scenario.pipeline();
      else if (name == "callback") scenario.callback();
      else if (name == "promise") scenario.promise();
      else if (name == "embargo") scenario.embargo();
      else if (name == "errors") scenario.errors();
      else if (name == "cancel") scenario.cancel();
      else if (name == "release") scenario.release();
      else if (name == "disconnect") scenario.disconnect();
      else if (name == "callbacks") scenario.callbacks();
      else if (name == "drop-counter") scenario.dropCounter();
      else KJ_FAIL_REQUIRE("unknown scenario", name);
    });
    KJ_IF_MAYBE(e, error) {
      ++failures;
      std::cout << "FAIL " << name.cStr() << ": " << kj::str(*e).cStr() << std::endl;
    } else {
      std::cout << "PASS " << name.cStr() << std::endl;
    }
  }
  return failures == 0 ? 0 : 1;
}
