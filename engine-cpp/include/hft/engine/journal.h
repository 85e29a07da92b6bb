// The command journal: an append-only file of length-prefixed, checksummed records, one per
// sequenced command. A command is durable once the batch holding it has been fdatasync'ed.
//
//   file   = header record*
//   header = "HFTJRNL1" (8 bytes) | format version u32 | sizeof(Command) u32
//   record = payload length u32 | CRC-32 of payload u32 | payload (a Command's bytes)
//
// Little-endian, this machine's layout: the journal is read by the same build that wrote it
// (the header's command size guards against a layout change).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hft/engine/types.h"

namespace hft::engine {

inline constexpr char kJournalMagic[8] = {'H', 'F', 'T', 'J', 'R', 'N', 'L', '1'};
inline constexpr uint32_t kJournalVersion = 1;
inline constexpr size_t kJournalHeaderSize = 16;
inline constexpr size_t kJournalRecordHeaderSize = 8;

struct JournalOptions {
  // Flush when this many records are buffered...
  size_t group_commit_records = 4096;
  // ...or when the oldest buffered record has waited this long (microseconds).
  int64_t group_commit_delay_us = 200;
  // fdatasync after each flush; off only for benchmarks that measure the rest.
  bool sync = true;
};

// Appends commands and makes them durable in groups. Not thread-safe: the matching thread owns it.
class JournalWriter {
 public:
  // Opens (creating when missing) the journal at `path` for appending after its last whole record.
  JournalWriter(const std::string& path, JournalOptions options);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Buffers one command (sequence already assigned). Returns true when a flush is due by size.
  bool append(const Command& command);
  // Writes and syncs everything buffered; returns the last durable sequence.
  Sequence flush();
  bool has_pending() const { return !buffer_.empty(); }
  int64_t oldest_pending_ns() const { return oldest_pending_ns_; }
  Sequence durable_sequence() const { return durable_sequence_; }
  uint64_t bytes() const { return bytes_; }
  // Duration of the last fdatasync, nanoseconds.
  int64_t last_sync_ns() const { return last_sync_ns_; }
  const JournalOptions& options() const { return options_; }

 private:
  int fd_ = -1;
  JournalOptions options_;
  std::vector<char> buffer_;
  Sequence buffered_last_ = 0;
  Sequence durable_sequence_ = 0;
  uint64_t bytes_ = 0;
  int64_t oldest_pending_ns_ = 0;
  int64_t last_sync_ns_ = 0;
};

struct JournalScan {
  uint64_t records = 0;
  Sequence first_sequence = 0;
  Sequence last_sequence = 0;
  uint64_t valid_bytes = 0;     // header + whole records
  uint64_t file_bytes = 0;
  std::string tail_problem;     // empty when the file ends on a whole, valid record
};

// Reads every whole, valid record in order, calling `visit` for each; stops at the first torn or
// corrupt record and says why in `tail_problem`. Throws std::runtime_error when the file cannot
// be opened or its header is not a journal's.
JournalScan read_journal(const std::string& path, const std::function<void(const Command&)>& visit);

// Cuts the file after its last whole, valid record (what read_journal reported as valid).
void truncate_journal(const std::string& path, uint64_t valid_bytes);

int64_t monotonic_ns();
int64_t wall_clock_ns();

}  // namespace hft::engine
