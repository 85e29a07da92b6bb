// OrderFlow: batches of commands in, batches of durable acknowledgements out.
#include <deque>

#include "engine_service.h"
#include "proto_mapping.h"

namespace hft::engine::server {

namespace v1 = hft::v1;

namespace {

class OrderFlowReactor final : public grpc::ServerBidiReactor<v1::OrderFlowRequest, v1::OrderFlowResponse> {
 public:
  explicit OrderFlowReactor(Pipeline& pipeline) : pipeline_(pipeline), channel_(std::make_shared<Channel>(this)), request_arena_(arena_options()) {
    next_read();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(channel_->mutex);
      read_done_ = true;
      maybe_finish_locked();
      return;
    }
    std::vector<Submission> batch;
    batch.reserve(static_cast<size_t>(request_->commands_size()));
    for (const v1::EngineCommand& wire : request_->commands()) {
      Submission& s = batch.emplace_back();
      s.correlation_id = wire.correlation_id();
      s.channel = channel_;
      s.refused = to_command(wire, s.command, s.refusal);
      s.has_body = wire.command_case() != hft::v1::EngineCommand::COMMAND_NOT_SET;
    }
    const size_t count = batch.size();
    {
      std::lock_guard lock(channel_->mutex);
      outstanding_ += count;
    }
    if (!pipeline_.submit(std::move(batch))) {
      // Draining: the commands taken before this batch are still being acknowledged, so the
      // stream ends (UNAVAILABLE) only once their acks are written, not now.
      std::lock_guard lock(channel_->mutex);
      outstanding_ -= count;
      read_done_ = true;
      end_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down; commands of this batch were not taken");
      maybe_finish_locked();
      return;
    }
    next_read();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(channel_->mutex);
    channel_->queue.pop_front();
    if (!ok) {
      finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stream broke while writing acknowledgements"));
      return;
    }
    if (!channel_->queue.empty())
      StartWrite(channel_->queue.front().get());
    else
      channel_->writing = false;
    maybe_finish_locked();
  }

  void OnCancel() override {
    std::lock_guard lock(channel_->mutex);
    finish_locked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(channel_->mutex);
      channel_->reactor = nullptr;
    }
    delete this;
  }

 private:
  // Acks arrive on the journal thread; the reactor may be gone by then.
  struct Channel final : AckChannel {
    explicit Channel(OrderFlowReactor* r) : reactor(r) {}
    void deliver(std::shared_ptr<v1::OrderFlowResponse> acks) override {
      std::lock_guard lock(mutex);
      if (reactor == nullptr) return;
      reactor->outstanding_ -= static_cast<size_t>(acks->acks_size());
      if (reactor->finished_) return;
      queue.push_back(std::move(acks));
      if (!writing) {
        writing = true;
        reactor->StartWrite(queue.front().get());
      }
    }
    std::mutex mutex;
    OrderFlowReactor* reactor;
    std::deque<std::shared_ptr<v1::OrderFlowResponse>> queue;  // the front is being written
    bool writing = false;
  };

  // A batch of a thousand commands parses into a few thousand messages: on an arena that is
  // emptied before each read they cost a few block allocations instead of one malloc each.
  static google::protobuf::ArenaOptions arena_options() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 4 << 10;
    options.max_block_size = 64 << 10;
    return options;
  }
  void next_read() {
    request_arena_.Reset();
    request_ = google::protobuf::Arena::CreateMessage<v1::OrderFlowRequest>(&request_arena_);
    StartRead(request_);
  }

  void maybe_finish_locked() {
    if (read_done_ && outstanding_ == 0 && !channel_->writing) finish_locked(end_status_);
  }
  void finish_locked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  Pipeline& pipeline_;
  std::shared_ptr<Channel> channel_;
  google::protobuf::Arena request_arena_;
  v1::OrderFlowRequest* request_ = nullptr;  // on request_arena_
  size_t outstanding_ = 0;
  bool read_done_ = false;
  // OK when the client half-closed; UNAVAILABLE when a batch was refused because of a drain.
  grpc::Status end_status_ = grpc::Status::OK;
  bool finished_ = false;
};

}  // namespace

grpc::ServerBidiReactor<v1::OrderFlowRequest, v1::OrderFlowResponse>* EngineServiceImpl::OrderFlow(grpc::CallbackServerContext*) {
  return new OrderFlowReactor(pipeline_);
}

}  // namespace hft::engine::server
