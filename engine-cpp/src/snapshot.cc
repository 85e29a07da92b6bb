#include "hft/engine/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "hft/engine/byte_codec.h"
#include "hft/engine/crc32c.h"

namespace hft::engine {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxBookHead = 4 + 3 * 41 + 8 * 8;  // definition, statistics, order count
constexpr size_t kMaxOrder = 8 * 8 + 6;

// Appends encodings to a growing buffer, making room for the largest encoding of each piece.
class SnapshotBuffer {
 public:
  ByteWriter reserve(size_t most) {
    bytes_.resize(used_ + most);
    return ByteWriter(bytes_.data() + used_);
  }
  void commit(const ByteWriter& w) { used_ = static_cast<size_t>(w.position() - bytes_.data()); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return used_; }

 private:
  std::vector<uint8_t> bytes_;
  size_t used_ = 0;
};

std::string snapshot_name(Sequence sequence) { return "snapshot-" + std::to_string(sequence) + ".bin"; }

// The sequence in a snapshot file name, or nothing when the name is not a snapshot's.
std::optional<Sequence> snapshot_sequence(const std::string& name) {
  constexpr std::string_view prefix = "snapshot-", suffix = ".bin";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  Sequence sequence = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), sequence);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return sequence;
}

IoResult write_file_synced(const std::string& path, const uint8_t* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoResult::failed("create snapshot", errno);
  IoResult result;
  while (size > 0 && result.ok()) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno != EINTR) result = IoResult::failed("write snapshot", errno);
    if (n > 0) data += n, size -= static_cast<size_t>(n);
  }
  if (result.ok() && ::fsync(fd) != 0) result = IoResult::failed("sync snapshot", errno);
  ::close(fd);
  return result;
}

IoResult sync_directory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoResult::failed("open snapshot directory", errno);
  const IoResult result = ::fsync(fd) == 0 ? IoResult{} : IoResult::failed("sync snapshot directory", errno);
  ::close(fd);
  return result;
}

struct BookImage {
  DefineInstrument definition;
  Price last_trade_price = 0;
  uint64_t trades = 0;
  Quantity volume = 0;
  std::vector<Order> orders;
};

// Checks what the engine relies on but the checksum cannot prove: values each field may hold.
bool plausible(const Order& o) {
  if (o.id == 0 || o.side < Side::Buy || o.side > Side::Sell || o.type < OrderType::Limit || o.type > OrderType::StopLimit) return false;
  if (o.tif < TimeInForce::GTC || o.tif > TimeInForce::DAY || o.stp > SelfTradePrevention::CancelBoth) return false;
  if (o.leaves <= 0 || o.leaves > o.quantity || o.display < 0) return false;
  if (o.state == OrderState::PendingTrigger) return is_stop(o.type) && o.leaves == o.quantity;
  return o.state == OrderState::Resting && !is_market(o.type) && o.visible > 0 && o.visible <= o.leaves && o.price > 0;
}

}  // namespace

SnapshotWritten write_snapshot(const MatchingEngine& engine, const std::string& directory) {
  SnapshotBuffer buffer;
  ByteWriter head = buffer.reserve(8 + 4 + 4 + 3 * 8 + 4);
  for (char c : kSnapshotMagic) head.put(static_cast<uint8_t>(c));
  head.put(kSnapshotVersion), head.put(uint32_t{0});
  head.put(engine.last_sequence()), head.put(engine.next_order_id()), head.put(engine.next_trade_id());
  const std::vector<InstrumentId> instruments = engine.instruments();
  head.put(static_cast<uint32_t>(instruments.size()));
  buffer.commit(head);
  for (InstrumentId id : instruments) {
    const OrderBook& book = *engine.book(id);
    const DefineInstrument& d = book.definition();
    const std::vector<const Order*> orders = engine.orders_of(id);
    ByteWriter w = buffer.reserve(kMaxBookHead);
    w.put(d.id), w.put(d.symbol), w.put(d.tick_size), w.put(d.lot_size);
    w.put(d.min_quantity), w.put(d.max_quantity), w.put(d.band_low), w.put(d.band_high);
    w.put(book.last_trade_price()), w.put(book.trades()), w.put(book.volume()), w.put(static_cast<uint64_t>(orders.size()));
    buffer.commit(w);
    for (const Order* o : orders) {
      ByteWriter ow = buffer.reserve(kMaxOrder);
      ow.put(o->id), ow.put(o->account), ow.put(o->price), ow.put(o->stop_price), ow.put(o->quantity), ow.put(o->leaves);
      ow.put(o->display), ow.put(o->visible), ow.put(o->side), ow.put(o->type), ow.put(o->tif), ow.put(o->stp);
      ow.put(o->state), ow.put(o->post_only);
      buffer.commit(ow);
    }
  }
  ByteWriter tail = buffer.reserve(4);
  tail.put(crc32c(buffer.data(), buffer.size()));
  buffer.commit(tail);

  SnapshotWritten written;
  std::error_code ec;
  fs::create_directories(directory, ec);
  const std::string final_path = (fs::path(directory) / snapshot_name(engine.last_sequence())).string();
  const std::string temp_path = final_path + ".tmp";
  written.result = write_file_synced(temp_path, buffer.data(), buffer.size());
  if (written.result.ok() && ::rename(temp_path.c_str(), final_path.c_str()) != 0) written.result = IoResult::failed("rename snapshot", errno);
  if (written.result.ok()) written.result = sync_directory(directory);
  if (written.result.ok()) written.path = final_path;
  return written;
}

std::string load_snapshot(const std::string& path, MatchingEngine& engine) {
  if (engine.last_sequence() != 0 || !engine.instruments().empty()) return "the engine is not empty";
  std::vector<uint8_t> data;
  {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) return "cannot read: " + ec.message();
    data.resize(size);
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) return "cannot open";
    const size_t got = std::fread(data.data(), 1, data.size(), file);
    std::fclose(file);
    if (got != data.size()) return "short read";
  }
  if (data.size() < 8 + 4 + 4 + 24 + 4 + 4 || std::memcmp(data.data(), kSnapshotMagic, 8) != 0) return "not a snapshot, or cut short";
  uint32_t stored = 0;
  std::memcpy(&stored, data.data() + data.size() - 4, 4);
  if (crc32c(data.data(), data.size() - 4) != stored) return "checksum mismatch";

  ByteReader r(data.data() + 8, data.size() - 12);
  uint32_t version = 0, reserved = 0, book_count = 0;
  Sequence last_sequence = 0;
  OrderId next_order_id = 0;
  TradeId next_trade_id = 0;
  if (!r.get(version) || version != kSnapshotVersion || !r.get(reserved)) return "another format version";
  if (!r.get(last_sequence) || !r.get(next_order_id) || !r.get(next_trade_id) || !r.get(book_count)) return "cut short in its counters";
  // Parse and check everything before touching the engine, so a bad file leaves it empty.
  std::vector<BookImage> books(std::min<size_t>(book_count, r.remaining()));
  if (books.size() != book_count) return "more books than bytes";
  std::unordered_set<OrderId> ids;
  for (BookImage& b : books) {
    DefineInstrument& d = b.definition;
    uint64_t order_count = 0;
    if (!r.get(d.id) || !r.get(d.symbol) || !r.get(d.tick_size) || !r.get(d.lot_size) || !r.get(d.min_quantity) || !r.get(d.max_quantity) ||
        !r.get(d.band_low) || !r.get(d.band_high) || !r.get(b.last_trade_price) || !r.get(b.trades) || !r.get(b.volume) || !r.get(order_count))
      return "cut short in a book";
    if (!engine.owns(d.symbol.view())) return "instrument " + std::string(d.symbol.view()) + " is not in this engine's shard";
    if (order_count > r.remaining() / kMaxOrder) return "more orders than bytes";
    b.orders.resize(order_count);
    for (Order& o : b.orders) {
      if (!r.get(o.id) || !r.get(o.account) || !r.get(o.price) || !r.get(o.stop_price) || !r.get(o.quantity) || !r.get(o.leaves) ||
          !r.get(o.display) || !r.get(o.visible) || !r.get(o.side) || !r.get(o.type) || !r.get(o.tif) || !r.get(o.stp) || !r.get(o.state) ||
          !r.get(o.post_only))
        return "cut short in an order";
      o.instrument = d.id;
      if (!plausible(o) || o.id >= next_order_id || !ids.insert(o.id).second) return "order " + std::to_string(o.id) + " is not a valid open order";
    }
  }
  if (r.remaining() != 0) return "bytes after the last book";

  engine.restore_counters(last_sequence, next_order_id, next_trade_id);
  for (const BookImage& b : books) engine.restore_book(b.definition, b.last_trade_price, b.trades, b.volume);
  for (const BookImage& b : books)
    for (const Order& o : b.orders) engine.restore_order(o);
  return {};
}

std::vector<std::string> list_snapshots(const std::string& directory) {
  std::vector<std::pair<Sequence, std::string>> found;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, ec))
    if (const auto sequence = snapshot_sequence(entry.path().filename().string())) found.emplace_back(*sequence, entry.path().string());
  std::sort(found.rbegin(), found.rend());
  std::vector<std::string> paths;
  for (auto& [sequence, path] : found) paths.push_back(std::move(path));
  return paths;
}

void prune_snapshots(const std::string& directory, size_t keep) {
  const std::vector<std::string> found = list_snapshots(directory);
  std::error_code ec;
  for (size_t i = keep; i < found.size(); ++i) fs::remove(found[i], ec);
}

}  // namespace hft::engine
