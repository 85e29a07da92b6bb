#include "hft/engine/snapshot.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace hft::engine {

namespace fs = std::filesystem;

namespace {

constexpr char kSnapshotMagic[8] = {'H', 'F', 'T', 'S', 'N', 'A', 'P', '1'};
constexpr uint32_t kSnapshotVersion = 1;

class Writer {
 public:
  template <typename T>
  void put(const T& value) {
    const char* bytes = reinterpret_cast<const char*>(&value);
    data.insert(data.end(), bytes, bytes + sizeof(T));
  }
  std::vector<char> data;
};

class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  bool get(T& value) {
    if (size_ - at_ < sizeof(T)) return false;
    std::memcpy(static_cast<void*>(&value), data_ + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }

 private:
  const char* data_;
  size_t size_;
  size_t at_ = 0;
};

std::vector<std::pair<Sequence, fs::path>> snapshots_newest_first(const std::string& directory) {
  std::vector<std::pair<Sequence, fs::path>> found;
  if (!fs::exists(directory)) return found;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("snapshot-", 0) == 0 && name.size() > 13 && name.substr(name.size() - 4) == ".bin")
      found.emplace_back(std::strtoull(name.c_str() + 9, nullptr, 10), entry.path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return found;
}

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) throw std::runtime_error("cannot fsync " + path);
  ::close(fd);
}

}  // namespace

std::string journal_path(const std::string& directory) { return (fs::path(directory) / "journal.log").string(); }

std::string write_snapshot(const MatchingEngine& engine, const std::string& directory) {
  Writer w;
  w.data.insert(w.data.end(), kSnapshotMagic, kSnapshotMagic + 8);
  w.put(kSnapshotVersion);
  w.put(static_cast<uint32_t>(sizeof(LiveOrder)));
  w.put(engine.last_sequence());
  w.put(engine.next_order_id());
  w.put(engine.next_trade_id());
  w.put(static_cast<uint32_t>(engine.books().size()));
  for (const auto& [id, book] : engine.books()) {
    w.put(book.definition);
    w.put(book.last_trade_price);
    w.put(book.trades);
    w.put(book.volume);
    std::vector<const LiveOrder*> orders;
    for (Side side : {Side::Buy, Side::Sell})
      for (const LevelView& level : engine.levels(id, side))
        for (const LiveOrder* o : engine.level_orders(id, side, level.price)) orders.push_back(o);
    for (uint32_t slot : book.stops) orders.push_back(engine.order(engine.stop_order_id(slot)));
    w.put(static_cast<uint64_t>(orders.size()));
    for (const LiveOrder* o : orders) w.put(*o);
  }
  const uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(w.data.data()), static_cast<uInt>(w.data.size())));
  w.put(crc);

  fs::create_directories(directory);
  const fs::path final_path = fs::path(directory) / ("snapshot-" + std::to_string(engine.last_sequence()) + ".bin");
  const fs::path temp_path = fs::path(directory) / ("snapshot-" + std::to_string(engine.last_sequence()) + ".tmp");
  {
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    out.write(w.data.data(), static_cast<std::streamsize>(w.data.size()));
    if (!out) throw std::runtime_error("cannot write snapshot " + temp_path.string());
  }
  fsync_path(temp_path.string(), O_RDONLY);
  fs::rename(temp_path, final_path);
  fsync_path(directory, O_RDONLY | O_DIRECTORY);
  return final_path.string();
}

bool load_snapshot(const std::string& path, MatchingEngine& engine, std::string& problem) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 8 + 4 + 4 + 4 || std::memcmp(data.data(), kSnapshotMagic, 8) != 0) {
    problem = "not a snapshot or truncated";
    return false;
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + data.size() - 4, 4);
  if (static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size() - 4))) != stored_crc) {
    problem = "checksum mismatch";
    return false;
  }
  Reader r(data.data() + 8, data.size() - 12);
  uint32_t version = 0, order_size = 0, books = 0;
  Sequence last_sequence = 0;
  OrderId next_order_id = 0;
  TradeId next_trade_id = 0;
  if (!r.get(version) || version != kSnapshotVersion || !r.get(order_size) || order_size != sizeof(LiveOrder)) {
    problem = "written by another format version";
    return false;
  }
  if (!r.get(last_sequence) || !r.get(next_order_id) || !r.get(next_trade_id) || !r.get(books)) {
    problem = "truncated counters";
    return false;
  }
  // Parse everything before touching the engine, so a bad file leaves it empty.
  struct Book {
    InstrumentDefinition def;
    Price last;
    uint64_t trades;
    Quantity volume;
    std::vector<LiveOrder> orders;
  };
  std::vector<Book> parsed(books);
  for (Book& b : parsed) {
    uint64_t count = 0;
    if (!r.get(b.def) || !r.get(b.last) || !r.get(b.trades) || !r.get(b.volume) || !r.get(count)) {
      problem = "truncated book";
      return false;
    }
    b.orders.resize(count);
    for (LiveOrder& o : b.orders)
      if (!r.get(o)) {
        problem = "truncated order list";
        return false;
      }
  }
  engine.restore_counters(last_sequence, next_order_id, next_trade_id);
  for (const Book& b : parsed) engine.restore_book(b.def, b.last, b.trades, b.volume);
  for (const Book& b : parsed)
    for (const LiveOrder& o : b.orders) engine.restore_order(o);
  return true;
}

RecoveryReport recover(MatchingEngine& engine, const std::string& directory,
                       const std::function<void(const Command&, const EventBuffer&)>& on_replayed) {
  RecoveryReport report;
  fs::create_directories(directory);
  for (const auto& [sequence, path] : snapshots_newest_first(directory)) {
    std::string problem;
    if (load_snapshot(path.string(), engine, problem)) {
      report.snapshot_path = path.string();
      report.snapshot_sequence = sequence;
      break;
    }
    report.skipped_snapshots.push_back(path.string() + ": " + problem);
  }
  const std::string journal = journal_path(directory);
  if (fs::exists(journal)) {
    EventBuffer events;
    JournalScan scan = read_journal(journal, [&](const Command& command) {
      if (command.sequence <= engine.last_sequence()) return;
      events.clear();
      engine.apply(command, events);
      ++report.replayed_commands;
      if (on_replayed) on_replayed(command, events);
    });
    if (!scan.tail_problem.empty()) {
      report.journal_tail_problem = scan.tail_problem + " (" + std::to_string(scan.file_bytes - scan.valid_bytes) + " bytes cut)";
      truncate_journal(journal, scan.valid_bytes);
    }
    if (scan.records > 0 && scan.last_sequence < report.snapshot_sequence)
      throw std::runtime_error("journal ends at sequence " + std::to_string(scan.last_sequence) + " before the snapshot's " +
                               std::to_string(report.snapshot_sequence));
  }
  report.last_sequence = engine.last_sequence();
  return report;
}

void prune_snapshots(const std::string& directory, size_t keep) {
  auto found = snapshots_newest_first(directory);
  for (size_t i = keep; i < found.size(); ++i) fs::remove(found[i].second);
}

}  // namespace hft::engine
