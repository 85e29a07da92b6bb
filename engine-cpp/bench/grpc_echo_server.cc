// The C++ gRPC ceiling for the engine over gRPC: a bare EngineService that acknowledges each
// OrderFlowRequest at once, on the stream's own thread, with the acks the engine would send for
// a book that never trades (OrderAccepted plus the BookLevelChanged of the order's level for a new
// order, OrderCancelled for a cancel, InstrumentDefined for a definition): the same messages of
// about the same size, without sequencing, journal or matching. GetStats reports the commands
// sequenced so far, so grpc_load's end-of-run check holds against it too.
//
//   grpc_echo_server --listen=127.0.0.1:50152
// Prints "listening on <address>" once it serves; SIGTERM or SIGINT stops it.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "hft/v1/engine_service.grpc.pb.h"

namespace {

namespace v1 = hft::v1;

std::atomic<uint64_t> sequence{0};
std::atomic<uint64_t> order_ids{0};

void acknowledge(const v1::EngineCommand& command, v1::CommandAck& ack) {
  ack.set_correlation_id(command.correlation_id());
  ack.set_sequence(++sequence);
  *ack.mutable_timestamp() = google::protobuf::util::TimeUtil::GetCurrentTime();
  switch (command.command_case()) {
    case v1::EngineCommand::kNewOrder: {
      const v1::NewOrder& order = command.new_order();
      const uint64_t id = ++order_ids;
      ack.set_order_id(id);
      v1::OrderAccepted* accepted = ack.add_events()->mutable_order_accepted();
      accepted->set_order_id(id);
      *accepted->mutable_order() = order;
      accepted->set_status(v1::ORDER_STATUS_NEW);
      v1::BookLevelChanged* level = ack.add_events()->mutable_book_level_changed();
      level->set_instrument_id(order.instrument_id());
      level->set_side(order.side());
      level->set_price_ticks(order.price_ticks());
      level->set_quantity_lots(order.quantity_lots());
      level->set_order_count(1);
      break;
    }
    case v1::EngineCommand::kCancelOrder: {
      v1::OrderCancelled* cancelled = ack.add_events()->mutable_order_cancelled();
      cancelled->set_order_id(command.cancel_order().order_id());
      cancelled->set_account_id(command.cancel_order().account_id());
      cancelled->set_reason(v1::CANCEL_REASON_USER_REQUESTED);
      cancelled->set_cancelled_lots(1);
      break;
    }
    case v1::EngineCommand::kDefineInstrument:
      *ack.add_events()->mutable_instrument_defined()->mutable_instrument() = command.define_instrument();
      break;
    default:
      break;
  }
}

class EchoService final : public v1::EngineService::Service {
 public:
  grpc::Status OrderFlow(grpc::ServerContext*, grpc::ServerReaderWriter<v1::OrderFlowResponse, v1::OrderFlowRequest>* stream) override {
    v1::OrderFlowRequest request;
    v1::OrderFlowResponse response;
    while (stream->Read(&request)) {
      response.Clear();
      for (const v1::EngineCommand& command : request.commands()) acknowledge(command, *response.add_acks());
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*, v1::GetStatsResponse* response) override {
    response->set_last_sequence(sequence.load());
    response->set_durable_sequence(sequence.load());
    response->set_commands_total(sequence.load());
    return grpc::Status::OK;
  }
};

// Only a loopback address: the echo is a benchmark's peer, never a server for others.
bool loopback(std::string_view address) {
  return address.starts_with("127.0.0.1:") || address.starts_with("localhost:") || address.starts_with("[::1]:");
}

std::atomic<bool> stopping{false};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:50152";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--listen=")) {
      listen = arg.substr(9);
    } else {
      std::fprintf(stderr, "usage: grpc_echo_server [--listen=127.0.0.1:PORT]\nunknown argument: %s\n", argv[i]);
      return 2;
    }
  }
  if (!loopback(listen)) {
    std::fprintf(stderr, "grpc_echo_server: --listen must be a loopback address with a port, got %s\n", listen.c_str());
    return 2;
  }
  EchoService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  const std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "grpc_echo_server: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("listening on %s\n", listen.c_str());
  std::fflush(stdout);
  std::signal(SIGTERM, [](int) { stopping = true; });
  std::signal(SIGINT, [](int) { stopping = true; });
  while (!stopping) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
