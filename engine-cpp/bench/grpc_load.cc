// gRPC load client: drives hft.v1.EngineService/OrderFlow on a running hft-engine over loopback
// and reports commands per second and the acknowledgement latency of every command, from just
// before the Write of its batch to the return of the Read that brought its ack (steady_clock).
// An ack is sent only once its command is durable, so the latency includes the journal's group
// commit and fdatasync.
//
// Closed loop by default (--window batches in flight per stream). With --rate=N (commands per
// second over all streams) the load is open: each stream sends its batches at their scheduled
// times from one thread and reads the acks on another, and a command's latency runs from its
// scheduled send time, so a slow answer never delays the next send (no coordinated omission).
//
// It first defines its instruments, then each stream (own thread, own channel, own TCP
// connection) sends a bounded flow: passive limit orders a few ticks around a fixed mid, cancels
// of its own resting orders (by the order ids the acks returned), and aggressive IOC orders that
// trade. Every stream owns a disjoint set of instruments and accounts, so every fill it causes is
// visible in its own acks, which arrive in sequence order: each ack is checked exactly (a cancel
// may be refused only because the order was filled while the cancel was in flight).
//
// Exit status: 0 on success, 1 on an RPC or protocol error, 2 on bad arguments, 3 when some
// command had an unexpected outcome (printed).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hft/v1/engine_service.grpc.pb.h"
#include "percentiles.h"

namespace hft::engine::bench {
namespace {

namespace v1 = hft::v1;
using Clock = std::chrono::steady_clock;
// gRPC deadlines are system_clock time points; every measurement uses steady_clock.
using Deadline = std::chrono::system_clock::time_point;

// Ids and symbols (LOAD-1000, ...) of its own, away from the ones a development engine defines
// (BTC-USD is 1): the load never lands on someone else's book, and a clash is INSTRUMENT_CONFLICT.
constexpr uint32_t kFirstInstrument = 1000;
constexpr uint64_t kFirstAccount = 100'000;
constexpr uint32_t kAccountsPerStream = 16;
constexpr int64_t kMid = 10'000;
// Each stream keeps between this many and twice as many resting orders per instrument it owns
// (the replay benchmark's rule, with smaller books so that a short run reaches its steady state):
// cancels then meet books of a realistic depth.
constexpr size_t kOpenOrdersPerInstrument = 1'000;

struct Options {
  std::string target = "127.0.0.1:50051";
  uint32_t streams = 1;
  uint32_t batch = 1;
  uint64_t commands = 200'000;
  uint32_t window = 1;
  uint32_t instruments = 8;
  uint64_t seed = 1;
  uint32_t timeout_s = 600;
  uint64_t rate = 0;  // commands/s over all streams; 0 = closed loop
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "usage: grpc_load [--target=127.0.0.1:50051] [--streams=N] [--batch=N] [--commands=N] [--window=N] [--instruments=N]\n"
               "                 [--seed=N] [--timeout-s=N] [--rate=COMMANDS_PER_S]\n%s\n",
               problem);
  std::exit(2);
}

// A load generator pointed at a shared engine would flood it: only loopback targets are accepted.
bool loopback(std::string_view target) {
  std::string_view host, port;
  if (target.starts_with('[')) {
    const size_t close = target.find(']');
    if (close == std::string_view::npos || target.substr(close + 1, 1) != ":") return false;
    host = target.substr(1, close - 1);
    port = target.substr(close + 2);
  } else {
    const size_t colon = target.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  const unsigned long number = std::stoul(std::string(port));
  return number >= 1 && number <= 65535 && (host == "127.0.0.1" || host == "localhost" || host == "::1");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string_view::npos) usage(("arguments are --flag=value, got " + std::string(arg)).c_str());
    const std::string_view name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    const auto number = [&](uint64_t min) {
      char* end = nullptr;
      const std::string text(value);
      const uint64_t n = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || text[0] == '-' || n < min) usage(("--" + std::string(name) + ": expected a whole number >= " + std::to_string(min)).c_str());
      return n;
    };
    if (name == "target") o.target = value;
    else if (name == "streams") o.streams = static_cast<uint32_t>(number(1));
    else if (name == "batch") o.batch = static_cast<uint32_t>(number(1));
    else if (name == "commands") o.commands = number(1);
    else if (name == "window") o.window = static_cast<uint32_t>(number(1));
    else if (name == "instruments") o.instruments = static_cast<uint32_t>(number(1));
    else if (name == "seed") o.seed = number(0);
    else if (name == "timeout-s") o.timeout_s = static_cast<uint32_t>(number(1));
    else if (name == "rate") o.rate = number(1);
    else usage(("unknown flag: " + std::string(arg)).c_str());
  }
  if (!loopback(o.target)) usage(("--target must be 127.0.0.1, localhost or [::1] with a port, got " + o.target).c_str());
  if (o.instruments < o.streams) usage("--instruments must be at least --streams: every stream owns its own instruments");
  if (o.commands < o.streams) usage("--commands must be at least --streams");
  return o;
}

std::shared_ptr<grpc::Channel> connect(const Options& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);  // one response may carry the acks of several batches
  // Channels with equal arguments would share one subchannel, i.e. one TCP connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), args);
}

std::string describe(const grpc::Status& status) { return std::to_string(status.error_code()) + " " + status.error_message(); }

struct Tally {
  uint64_t passive = 0, cancels = 0, aggressive = 0, trades = 0;
  std::map<v1::RejectReason, uint64_t> expected_rejects, unexpected_rejects;
  uint64_t unexpected_outcomes = 0;  // accepted, but not what the flow implies (see Stream::check)

  void add(const Tally& o) {
    passive += o.passive, cancels += o.cancels, aggressive += o.aggressive, trades += o.trades;
    for (const auto& [r, n] : o.expected_rejects) expected_rejects[r] += n;
    for (const auto& [r, n] : o.unexpected_rejects) unexpected_rejects[r] += n;
    unexpected_outcomes += o.unexpected_outcomes;
  }
};

struct StreamResult {
  uint64_t acked = 0;
  Clock::time_point first_send, last_ack;
  std::vector<uint64_t> latency_ns;
  Tally tally;
  std::string error;  // empty on success
};

class Stream {
 public:
  Stream(const Options& options, uint32_t index, uint64_t commands)
      : options_(options), index_(index), commands_(commands), rng_(options.seed * 1'000'003 + index) {
    for (uint32_t i = index; i < options.instruments; i += options.streams) instruments_.push_back(kFirstInstrument + i);
    target_open_ = kOpenOrdersPerInstrument * instruments_.size();
    result_.latency_ns.reserve(commands);
  }

  // Connects, waits at `start` so all streams begin together, then sends and checks its flow.
  StreamResult run(std::latch& start, Deadline deadline) {
    const std::shared_ptr<grpc::Channel> channel = connect(options_);
    const bool connected = channel->WaitForConnected(std::min(deadline, std::chrono::system_clock::now() + std::chrono::seconds(10)));
    start.arrive_and_wait();
    if (!connected) return fail("cannot connect to " + options_.target);
    const auto stub = v1::EngineService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(deadline);
    const auto stream = stub->OrderFlow(&context);
    if (options_.rate > 0) return run_paced(*stream);

    v1::OrderFlowRequest request;
    v1::OrderFlowResponse response;
    uint64_t sent = 0;
    std::deque<uint32_t> unacked_batches;  // commands still unacknowledged per batch, oldest first
    result_.first_send = Clock::now();
    while (result_.acked < commands_) {
      // Pipelining: keep up to --window batches in flight.
      while (sent < commands_ && unacked_batches.size() < options_.window) {
        request.Clear();  // keeps the allocated command messages for reuse
        const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(options_.batch, commands_ - sent));
        for (uint32_t i = 0; i < n; ++i) next(*request.add_commands());
        const Clock::time_point at = Clock::now();
        for (auto it = in_flight_.end() - n; it != in_flight_.end(); ++it) it->sent = at;
        if (!stream->Write(request)) return fail("write failed: " + describe(stream->Finish()));
        unacked_batches.push_back(n);
        sent += n;
      }
      if (!stream->Read(&response)) {
        const grpc::Status status = stream->Finish();
        return fail("the stream ended after " + std::to_string(result_.acked) + " acks (" + std::to_string(sent) + " commands sent, " +
                    std::to_string(commands_) + " planned): " + (status.ok() ? "OK" : describe(status)));
      }
      const Clock::time_point received = Clock::now();
      for (const v1::CommandAck& ack : response.acks()) {
        if (in_flight_.empty()) return fail("an ack for correlation id " + std::to_string(ack.correlation_id()) + " that was never sent");
        const Sent& s = in_flight_.front();
        if (ack.correlation_id() != s.correlation_id)
          return fail("ack out of order: correlation id " + std::to_string(ack.correlation_id()) + ", expected " + std::to_string(s.correlation_id));
        if (ack.sequence() <= last_sequence_)
          return fail("ack sequence " + std::to_string(ack.sequence()) + " after " + std::to_string(last_sequence_));
        last_sequence_ = ack.sequence();
        result_.latency_ns.push_back(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(received - s.sent).count()));
        check(ack, s);
        in_flight_.pop_front();
        if (--unacked_batches.front() == 0) unacked_batches.pop_front();
        ++result_.acked;
      }
      result_.last_ack = received;
    }
    stream->WritesDone();
    if (stream->Read(&response)) return fail("more acks than commands");
    if (const grpc::Status status = stream->Finish(); !status.ok()) return fail("the stream finished with " + describe(status));
    return std::move(result_);
  }

 private:
  using ReaderWriter = grpc::ClientReaderWriter<v1::OrderFlowRequest, v1::OrderFlowResponse>;

  // Open loop: this thread writes each batch at its scheduled time, a second one reads the acks.
  // The flow's state (in flight, resting orders) is shared between them under `mutex_`.
  StreamResult run_paced(ReaderWriter& stream) {
    const double per_stream = static_cast<double>(options_.rate) / options_.streams;
    result_.first_send = Clock::now();
    std::string read_error;
    std::thread reader([&] { read_error = read_acks(stream); });
    v1::OrderFlowRequest request;
    std::string write_error;
    for (uint64_t sent = 0; sent < commands_;) {
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(options_.batch, commands_ - sent));
      const auto due = result_.first_send + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(sent) * 1e9 / per_stream));
      std::this_thread::sleep_until(due);
      {
        const std::lock_guard lock(mutex_);
        request.Clear();
        for (uint32_t i = 0; i < n; ++i) next(*request.add_commands());
        for (auto it = in_flight_.end() - n; it != in_flight_.end(); ++it) it->sent = due;
      }
      if (!stream.Write(request)) {
        write_error = "write failed";
        break;
      }
      sent += n;
    }
    stream.WritesDone();
    reader.join();
    if (!read_error.empty()) return fail(read_error);
    if (!write_error.empty()) return fail(write_error + ": " + describe(stream.Finish()));
    if (const grpc::Status status = stream.Finish(); !status.ok()) return fail("the stream finished with " + describe(status));
    return std::move(result_);
  }

  // The reader of run_paced: every ack until all commands are acknowledged, then the stream's end.
  std::string read_acks(ReaderWriter& stream) {
    v1::OrderFlowResponse response;
    while (result_.acked < commands_) {
      if (!stream.Read(&response)) return "the stream ended after " + std::to_string(result_.acked) + " acks of " + std::to_string(commands_);
      const Clock::time_point received = Clock::now();
      const std::lock_guard lock(mutex_);
      for (const v1::CommandAck& ack : response.acks()) {
        if (in_flight_.empty()) return "an ack for correlation id " + std::to_string(ack.correlation_id()) + " that was never sent";
        const Sent& s = in_flight_.front();
        if (ack.correlation_id() != s.correlation_id)
          return "ack out of order: correlation id " + std::to_string(ack.correlation_id()) + ", expected " + std::to_string(s.correlation_id);
        if (ack.sequence() <= last_sequence_) return "ack sequence " + std::to_string(ack.sequence()) + " after " + std::to_string(last_sequence_);
        last_sequence_ = ack.sequence();
        result_.latency_ns.push_back(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(received - s.sent).count()));
        check(ack, s);
        in_flight_.pop_front();
        ++result_.acked;
      }
      result_.last_ack = received;
    }
    if (stream.Read(&response)) return "more acks than commands";
    return "";
  }

  enum class Kind : uint8_t { Passive, Aggressive, Cancel };
  struct Sent {
    uint64_t correlation_id;
    Kind kind;
    uint64_t order_id;  // the cancel's target
    uint64_t account;
    Clock::time_point sent;
  };
  struct Live {
    uint64_t order_id;
    uint64_t account;
  };

  StreamResult fail(std::string error) {
    result_.error = "stream " + std::to_string(index_) + ": " + std::move(error);
    return std::move(result_);
  }

  uint32_t pick(uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_); }
  uint64_t pick_account() { return kFirstAccount + uint64_t{index_} * kAccountsPerStream + pick(0, kAccountsPerStream - 1); }

  // Next command: 5% aggressive, about 38% cancels and the rest passive, with cancels turned into
  // passive orders while the books are thin and the other way round once they are deep.
  void next(v1::EngineCommand& command) {
    const uint64_t correlation_id = (uint64_t{index_} << 48) | ++correlations_;
    command.set_correlation_id(correlation_id);
    const uint32_t roll = pick(0, 99);
    Kind kind = roll < 5 ? Kind::Aggressive : roll < 43 ? Kind::Cancel : Kind::Passive;
    if (kind != Kind::Aggressive) kind = live_.size() < target_open_ ? Kind::Passive : live_.size() > 2 * target_open_ ? Kind::Cancel : kind;
    uint64_t target = 0, account = 0;
    if (kind == Kind::Cancel) {
      ++result_.tally.cancels;
      const Live order = take_live(pick(0, static_cast<uint32_t>(live_.size() - 1)));
      cancelling_[order.order_id] = false;
      target = order.order_id;
      account = order.account;
      v1::CancelOrder* cancel = command.mutable_cancel_order();
      cancel->set_account_id(order.account);
      cancel->set_order_id(order.order_id);
    } else {
      v1::NewOrder* order = command.mutable_new_order();
      account = pick_account();
      order->set_account_id(account);
      order->set_instrument_id(instruments_[pick(0, static_cast<uint32_t>(instruments_.size() - 1))]);
      order->set_client_order_id("L" + std::to_string(correlation_id));
      const bool buy = pick(0, 1) == 1;
      order->set_side(buy ? v1::SIDE_BUY : v1::SIDE_SELL);
      if (kind == Kind::Passive) {
        ++result_.tally.passive;
        // Queue 0..20 ticks behind the touch, never across the mid: a passive order always rests.
        const int64_t behind = std::min<uint32_t>(20, std::geometric_distribution<uint32_t>(0.3)(rng_));
        order->set_type(v1::ORDER_TYPE_LIMIT);
        order->set_time_in_force(pick(0, 9) ? v1::TIME_IN_FORCE_GTC : v1::TIME_IN_FORCE_DAY);
        order->set_price_ticks(buy ? kMid - 1 - behind : kMid + 1 + behind);
        order->set_quantity_lots(pick(1, 100));
      } else {
        ++result_.tally.aggressive;
        // A market order one time in five, otherwise a limit a few ticks through the mid.
        const bool market = pick(0, 4) == 0;
        order->set_type(market ? v1::ORDER_TYPE_MARKET : v1::ORDER_TYPE_LIMIT);
        order->set_time_in_force(v1::TIME_IN_FORCE_IOC);
        if (!market) order->set_price_ticks(buy ? kMid + pick(1, 5) : kMid - pick(1, 5));
        order->set_quantity_lots(pick(1, 50));
        order->set_self_trade_prevention(v1::SELF_TRADE_PREVENTION_CANCEL_RESTING);
      }
    }
    in_flight_.push_back({correlation_id, kind, target, account, {}});
  }

  Live take_live(size_t i) {
    const Live order = live_[i];
    live_[i] = live_.back();
    live_index_[live_[i].order_id] = i;
    live_.pop_back();
    live_index_.erase(order.order_id);
    return order;
  }

  // An order of this stream stopped resting (filled, or cancelled by self-trade prevention).
  void gone(uint64_t order_id) {
    if (const auto it = live_index_.find(order_id); it != live_index_.end())
      take_live(it->second);
    else if (const auto c = cancelling_.find(order_id); c != cancelling_.end())
      c->second = true;
  }

  void reject(const v1::CommandAck& ack, bool expected) {
    ++(expected ? result_.tally.expected_rejects : result_.tally.unexpected_rejects)[ack.reject_reason()];
  }

  // Checks one ack against what the flow implies, and learns the orders it left resting.
  void check(const v1::CommandAck& ack, const Sent& s) {
    if (s.kind == Kind::Cancel) {
      const auto it = cancelling_.find(s.order_id);
      const bool filled_meanwhile = it->second;
      cancelling_.erase(it);
      if (ack.reject_reason() != v1::REJECT_REASON_UNSPECIFIED)
        reject(ack, filled_meanwhile && ack.reject_reason() == v1::REJECT_REASON_UNKNOWN_ORDER);
      else if (filled_meanwhile)
        ++result_.tally.unexpected_outcomes;  // cancelled an order an earlier ack reported gone
      return;
    }
    if (ack.reject_reason() != v1::REJECT_REASON_UNSPECIFIED || ack.order_id() == 0) {
      reject(ack, false);  // every new order of this flow is valid
      return;
    }
    bool rests = s.kind == Kind::Passive;
    for (const v1::EngineEvent& e : ack.events()) {
      if (e.has_trade()) {
        ++result_.tally.trades;
        if (e.trade().maker_remaining_lots() == 0) gone(e.trade().maker_order_id());
        if (e.trade().taker_order_id() == ack.order_id() && e.trade().taker_remaining_lots() == 0) rests = false;
      } else if (e.has_order_cancelled()) {
        if (e.order_cancelled().order_id() == ack.order_id())
          rests = false;
        else
          gone(e.order_cancelled().order_id());
      }
    }
    if (s.kind == Kind::Passive && !rests) ++result_.tally.unexpected_outcomes;  // a passive order never crosses
    if (rests) {
      live_index_[ack.order_id()] = live_.size();
      live_.push_back({ack.order_id(), s.account});
    }
  }

  const Options& options_;
  const uint32_t index_;
  const uint64_t commands_;
  std::mt19937_64 rng_;
  std::vector<uint32_t> instruments_;
  size_t target_open_ = 0;
  uint64_t correlations_ = 0;
  uint64_t last_sequence_ = 0;
  std::deque<Sent> in_flight_;
  std::vector<Live> live_;
  std::unordered_map<uint64_t, size_t> live_index_;
  std::unordered_map<uint64_t, bool> cancelling_;  // in-flight cancels: true once their order was reported gone
  std::mutex mutex_;                                // the writer and reader threads of run_paced
  StreamResult result_;
};

// Defines the instruments in one batch on a stream of its own; an empty string when all were accepted.
std::string define_instruments(v1::EngineService::Stub& stub, const Options& options, Deadline deadline) {
  grpc::ClientContext context;
  context.set_deadline(deadline);
  const auto stream = stub.OrderFlow(&context);
  v1::OrderFlowRequest request;
  for (uint32_t i = 0; i < options.instruments; ++i) {
    v1::EngineCommand* command = request.add_commands();
    command->set_correlation_id(i + 1);
    v1::DefineInstrument* d = command->mutable_define_instrument();
    d->set_instrument_id(kFirstInstrument + i);
    d->set_symbol("LOAD-" + std::to_string(kFirstInstrument + i));
    d->set_tick_size("0.01");
    d->set_lot_size("1");
    d->set_min_quantity_lots(1);
    d->set_max_quantity_lots(1'000'000);
    d->set_price_band_low_ticks(1);
    d->set_price_band_high_ticks(1'000'000);
  }
  if (!stream->Write(request)) return "cannot send the instrument definitions: " + describe(stream->Finish());
  stream->WritesDone();
  v1::OrderFlowResponse response;
  uint32_t acked = 0;
  std::string problem;
  while (stream->Read(&response)) {
    for (const v1::CommandAck& ack : response.acks()) {
      ++acked;
      if (ack.reject_reason() != v1::REJECT_REASON_UNSPECIFIED && problem.empty())
        problem = "instrument " + std::to_string(kFirstInstrument + ack.correlation_id() - 1) + " refused: " + v1::RejectReason_Name(ack.reject_reason()) +
                  " (" + ack.reject_message() + ")";
    }
  }
  if (const grpc::Status status = stream->Finish(); !status.ok()) return "defining the instruments: " + describe(status);
  if (acked != options.instruments) return "defining the instruments: " + std::to_string(acked) + " acks for " + std::to_string(options.instruments);
  return problem;
}

// The engine's last applied sequence, to cross-check that it sequenced every command sent.
bool last_sequence(v1::EngineService::Stub& stub, uint64_t& sequence) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetStatsResponse stats;
  if (!stub.GetStats(&context, v1::GetStatsRequest(), &stats).ok()) return false;
  sequence = stats.last_sequence();
  return true;
}

void print_rejections(const char* what, const std::map<v1::RejectReason, uint64_t>& rejects) {
  std::printf("  %s:", what);
  if (rejects.empty()) std::printf(" none");
  for (const auto& [reason, n] : rejects) std::printf(" %s %llu", v1::RejectReason_Name(reason).c_str(), static_cast<unsigned long long>(n));
  std::printf("\n");
}

}  // namespace
}  // namespace hft::engine::bench

int main(int argc, char** argv) {
  using namespace hft::engine::bench;
  const Options options = parse(argc, argv);
  const Deadline deadline = std::chrono::system_clock::now() + std::chrono::seconds(options.timeout_s);

  const std::shared_ptr<grpc::Channel> channel = connect(options);
  if (!channel->WaitForConnected(std::min(deadline, std::chrono::system_clock::now() + std::chrono::seconds(10)))) {
    std::fprintf(stderr, "grpc_load: cannot connect to %s\n", options.target.c_str());
    return 1;
  }
  const auto stub = v1::EngineService::NewStub(channel);
  uint64_t sequence_before = 0, sequence_after = 0;
  if (!last_sequence(*stub, sequence_before)) {
    std::fprintf(stderr, "grpc_load: GetStats failed on %s\n", options.target.c_str());
    return 1;
  }
  if (const std::string problem = define_instruments(*stub, options, deadline); !problem.empty()) {
    std::fprintf(stderr, "grpc_load: %s\n", problem.c_str());
    return 1;
  }
  std::printf("grpc_load: %s, %u stream(s), batch %u, %s, %llu commands, %u instruments (ids %u..%u), seed %llu\n",
              options.target.c_str(), options.streams, options.batch,
              options.rate > 0 ? ("open loop at " + std::to_string(options.rate) + " commands/s").c_str() : ("window " + std::to_string(options.window)).c_str(),
              static_cast<unsigned long long>(options.commands), options.instruments, kFirstInstrument, kFirstInstrument + options.instruments - 1,
              static_cast<unsigned long long>(options.seed));

  std::latch start(options.streams);
  std::vector<StreamResult> results(options.streams);
  std::vector<std::thread> threads;
  for (uint32_t s = 0; s < options.streams; ++s) {
    const uint64_t commands = options.commands / options.streams + (s < options.commands % options.streams ? 1 : 0);
    threads.emplace_back([&, s, commands] { results[s] = Stream(options, s, commands).run(start, deadline); });
  }
  for (std::thread& t : threads) t.join();

  bool failed = false;
  for (const StreamResult& r : results) {
    if (r.error.empty()) continue;
    std::fprintf(stderr, "grpc_load: %s\n", r.error.c_str());
    failed = true;
  }
  if (failed) return 1;

  uint64_t acked = 0;
  Clock::time_point first = results[0].first_send, last = results[0].last_ack;
  std::vector<uint64_t> latency_ns;
  latency_ns.reserve(options.commands);
  Tally tally;
  for (const StreamResult& r : results) {
    acked += r.acked;
    first = std::min(first, r.first_send);
    last = std::max(last, r.last_ack);
    latency_ns.insert(latency_ns.end(), r.latency_ns.begin(), r.latency_ns.end());
    tally.add(r.tally);
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  const double total = static_cast<double>(acked);
  std::printf("  sent: passive %.1f%%, cancel %.1f%%, aggressive %.1f%%; %llu trades\n", 100 * static_cast<double>(tally.passive) / total,
              100 * static_cast<double>(tally.cancels) / total, 100 * static_cast<double>(tally.aggressive) / total,
              static_cast<unsigned long long>(tally.trades));
  std::printf("  %llu commands acknowledged in %.3f s = %.1f k commands/s\n", static_cast<unsigned long long>(acked), seconds, total / seconds / 1e3);
  print_percentiles(options.rate > 0 ? "ack latency (scheduled send -> ack read)" : "ack latency (send -> ack read)", std::move(latency_ns), 1e3, "us", 1);
  print_rejections("expected rejections (cancel of an order filled meanwhile)", tally.expected_rejects);
  print_rejections("UNEXPECTED rejections", tally.unexpected_rejects);
  if (tally.unexpected_outcomes > 0)
    std::printf("  UNEXPECTED outcomes (a passive order that did not rest, or a cancel of a filled order that succeeded): %llu\n",
                static_cast<unsigned long long>(tally.unexpected_outcomes));

  // Another client on the same engine would also move the sequence: a difference is a warning.
  const uint64_t expected = options.instruments + acked;
  if (!last_sequence(*stub, sequence_after)) {
    std::fprintf(stderr, "grpc_load: GetStats failed after the run\n");
    return 1;
  }
  std::printf("  engine sequence %llu -> %llu: %llu sequenced, %s\n", static_cast<unsigned long long>(sequence_before),
              static_cast<unsigned long long>(sequence_after), static_cast<unsigned long long>(sequence_after - sequence_before),
              sequence_after - sequence_before == expected ? "as sent" : ("WARNING: sent " + std::to_string(expected)).c_str());
  return tally.unexpected_rejects.empty() && tally.unexpected_outcomes == 0 ? 0 : 3;
}
