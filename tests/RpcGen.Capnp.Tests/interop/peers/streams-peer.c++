// Interop peer for Cap'n Proto streams, built from the schema RpcGen generates for IStreams (as
// streams.capnp). Every stream is a sink with `write @0 (…) -> stream` and `end @1`; this peer
// writes with StreamingRequest (C++ flow control) and serves sinks that RpcGen writes to.
// Usage: streams-peer client ADDRESS   calls an RpcGen server and prints one line per stream
//        streams-peer server ADDRESS   serves Streams, prints "LISTENING <port>", runs until stdin closes

#include "streams.capnp.h"
#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <kj/debug.h>
#include <iostream>
#include <cstdint>

namespace {

uint8_t pattern(uint64_t position) { return static_cast<uint8_t>((position * 31) ^ (position >> 11)); }

// FNV-1a over the bytes, as a short stand-in for a hash in the printed lines.
struct Fnv {
  uint64_t value = 14695981039346656037ull;
  void add(kj::ArrayPtr<const kj::byte> bytes) {
    for (auto b : bytes) { value ^= b; value *= 1099511628211ull; }
  }
};

// A streamed result RpcGen writes to C++: counts and sums the readings.
class ReadingsSinkImpl final : public ReadingsSink::Server {
public:
  ReadingsSinkImpl(int& count, double& total, bool& ended) : count(count), total(total), ended(ended) {}
  kj::Promise<void> write(WriteContext context) override {
    auto item = context.getParams().getItem();
    KJ_REQUIRE(item.getLabel() == kj::str("sensor-", item.getSensor()), "unexpected label");
    ++count;
    total += item.getValue();
    return kj::READY_NOW;
  }
  kj::Promise<void> end(EndContext context) override {
    ended = true;
    return kj::READY_NOW;
  }
private:
  int& count;
  double& total;
  bool& ended;
};

// Bytes RpcGen writes to C++: checks them against the pattern.
class DownloadSinkImpl final : public DownloadSink::Server {
public:
  DownloadSinkImpl(uint64_t& length, uint64_t& wrong, bool& ended) : length(length), wrong(wrong), ended(ended) {}
  kj::Promise<void> write(WriteContext context) override {
    for (auto b : context.getParams().getBytes()) {
      if (b != pattern(length)) ++wrong;
      ++length;
    }
    return kj::READY_NOW;
  }
  kj::Promise<void> end(EndContext context) override {
    ended = true;
    return kj::READY_NOW;
  }
private:
  uint64_t& length;
  uint64_t& wrong;
  bool& ended;
};

// A streamed parameter RpcGen writes to a C++ server; end answers with the summary.
class UploadSinkImpl final : public UploadReadingsSink::Server {
public:
  explicit UploadSinkImpl(kj::String name) : name(kj::mv(name)) {}
  kj::Promise<void> write(WriteContext context) override {
    ++count;
    total += context.getParams().getItem().getValue();
    return kj::READY_NOW;
  }
  kj::Promise<void> end(EndContext context) override {
    auto summary = context.getResults().initSummary();
    summary.setName(name);
    summary.setCount(count);
    summary.setTotal(total);
    return kj::READY_NOW;
  }
private:
  kj::String name;
  int count = 0;
  double total = 0;
};

class StoreSinkImpl final : public StoreContentSink::Server {
public:
  explicit StoreSinkImpl(kj::String name) : name(kj::mv(name)) {}
  kj::Promise<void> write(WriteContext context) override {
    auto bytes = context.getParams().getBytes();
    length += bytes.size();
    hash.add(bytes);
    return kj::READY_NOW;
  }
  kj::Promise<void> end(EndContext context) override {
    context.getResults().setResult(kj::str(name, ":", length, ":", kj::hex(hash.value)));
    return kj::READY_NOW;
  }
private:
  kj::String name;
  uint64_t length = 0;
  Fnv hash;
};

kj::Promise<void> writeReadings(ReadingsSink::Client sink, int i, int count) {
  if (i == count) return sink.endRequest().send().ignoreResult();
  auto request = sink.writeRequest();
  auto item = request.initItem();
  item.setSensor(i);
  item.setValue(i * 0.5);
  item.setLabel(kj::str("sensor-", i));
  return request.send().then([sink, i, count]() mutable { return writeReadings(kj::mv(sink), i + 1, count); });
}

kj::Promise<void> writeBytes(DownloadSink::Client sink, uint64_t position, uint64_t length) {
  if (position == length) return sink.endRequest().send().ignoreResult();
  auto request = sink.writeRequest();
  auto size = kj::min(length - position, uint64_t(65536));
  auto bytes = request.initBytes(size);
  for (uint64_t i = 0; i < size; i++) bytes[i] = pattern(position + i);
  return request.send().then([sink, position, size, length]() mutable { return writeBytes(kj::mv(sink), position + size, length); });
}

class StreamsImpl final : public Streams::Server {
protected:
  kj::Promise<void> readings(ReadingsContext context) override {
    auto params = context.getParams();
    return writeReadings(params.getSink(), 0, params.getCount());
  }
  kj::Promise<void> upload(UploadContext context) override {
    context.getResults().setReadings(kj::heap<UploadSinkImpl>(kj::str(context.getParams().getName())));
    return kj::READY_NOW;
  }
  kj::Promise<void> download(DownloadContext context) override {
    auto params = context.getParams();
    return writeBytes(params.getSink(), 0, params.getLength());
  }
  kj::Promise<void> store(StoreContext context) override {
    context.getResults().setContent(kj::heap<StoreSinkImpl>(kj::str(context.getParams().getName())));
    return kj::READY_NOW;
  }
};

kj::Promise<void> readUntilEof(kj::AsyncInputStream& input, kj::ArrayPtr<char> buffer) {
  return input.tryRead(buffer.begin(), 1, buffer.size()).then([&input, buffer](size_t n) -> kj::Promise<void> {
    if (n == 0) return kj::READY_NOW;
    return readUntilEof(input, buffer);
  });
}

int runClient(const char* address) {
  capnp::EzRpcClient client(address);
  auto& waitScope = client.getWaitScope();
  auto streams = client.getMain<Streams>();

  // A streamed parameter: the sink is pipelined on upload's answer; each send() waits for window room.
  auto upload = streams.uploadRequest();
  upload.setName("cpp");
  auto sink = upload.send().getReadings();
  for (int i = 0; i < 500; i++) {
    auto write = sink.writeRequest();
    auto item = write.initItem();
    item.setSensor(i);
    item.setValue(i);
    item.setLabel("c");
    write.send().wait(waitScope);
  }
  auto summary = sink.endRequest().send().wait(waitScope).getSummary();
  std::cout << "upload " << summary.getName().cStr() << " " << summary.getCount() << " " << summary.getTotal() << std::endl;

  // Bytes up: 3 MiB + 7 of the pattern in 64 KiB writes.
  auto store = streams.storeRequest();
  store.setName("blob");
  auto content = store.send().getContent();
  const uint64_t stored = (3u << 20) + 7;
  for (uint64_t position = 0; position < stored;) {
    auto write = content.writeRequest();
    auto size = kj::min(stored - position, uint64_t(65536));
    auto bytes = write.initBytes(size);
    for (uint64_t i = 0; i < size; i++) bytes[i] = pattern(position + i);
    write.send().wait(waitScope);
    position += size;
  }
  std::cout << "store " << content.endRequest().send().wait(waitScope).getResult().cStr() << std::endl;

  // A streamed result: RpcGen writes into our sink, ends it, then answers.
  int count = 0;
  double total = 0;
  bool ended = false;
  auto readings = streams.readingsRequest();
  readings.setCount(300);
  readings.setSink(kj::heap<ReadingsSinkImpl>(count, total, ended));
  readings.send().wait(waitScope);
  std::cout << "readings " << count << " " << total << " " << (ended ? "ended" : "open") << std::endl;

  // Bytes down.
  uint64_t length = 0, wrong = 0;
  bool downloaded = false;
  auto download = streams.downloadRequest();
  download.setLength((5u << 20) + 123);
  download.setSink(kj::heap<DownloadSinkImpl>(length, wrong, downloaded));
  download.send().wait(waitScope);
  std::cout << "download " << length << " " << wrong << " " << (downloaded ? "ended" : "open") << std::endl;
  return 0;
}

int runServer(const char* address) {
  capnp::EzRpcServer server(kj::heap<StreamsImpl>(), address);
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

}  // namespace

int main(int argc, const char* argv[]) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " client|server ADDRESS" << std::endl;
    return 2;
  }

  return kj::StringPtr(argv[1]) == "client" ? runClient(argv[2]) : runServer(argv[2]);
}
