// The command journal: an append-only file, one checksummed record per sequenced command.
//
//   file   = header record*
//   header = magic "HFTJRNL\0" (8 bytes) | format version u32 (2) | reserved u32 (0)
//   record = payload length u32 | CRC-32C of (length bytes, payload) u32 | payload
//   payload = the command as command_codec.h encodes it (17..128 bytes)
//
// The writer commits in groups: records wait in memory until the group holds N records or its
// oldest record is T microseconds old (noticed by the next append that checks, or by poll()),
// then one write() and one fdatasync() make the whole group durable, and durable_sequence() says
// up to where. A caller that commits on a thread of its own (group_commit.h) fills JournalGroups
// itself and hands them to commit(). The reader stops at the first record that is
// not whole and valid (a torn or corrupt tail, which a crash mid-write leaves), says why, and
// never hands out such a record; truncate_journal() then cuts the file back to its last whole
// record. All outcomes are values: nothing here throws.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hft/engine/commands.h"

namespace hft::engine {

inline constexpr char kJournalMagic[8] = {'H', 'F', 'T', 'J', 'R', 'N', 'L', '\0'};
inline constexpr uint32_t kJournalVersion = 2;
inline constexpr size_t kJournalHeaderSize = 16;
inline constexpr size_t kRecordHeaderSize = 8;

// The outcome of a file operation: success, or the operation that failed and its errno.
struct IoResult {
  int error = 0;
  const char* operation = "";
  bool ok() const { return error == 0; }
  std::string message() const;
  static IoResult failed(const char* operation, int error) { return {error, operation}; }
};

struct JournalOptions {
  uint32_t group_commit_records = 1024;  // a group is made durable once it holds this many records...
  uint32_t group_commit_micros = 200;    // ...or once its oldest record has waited this long (µs)
  bool sync = true;                      // false only for benchmarks that measure everything else
};

struct JournalStats {
  uint64_t records = 0;  // appended (or committed) since open
  uint64_t bytes = 0;    // file size, header included, once flushed
  uint64_t syncs = 0;
  int64_t commit_ns = 0;  // total time in write() and fdatasync()
  int64_t last_sync_ns = 0;
  int64_t max_sync_ns = 0;
};

// Records encoded for the journal and not yet written, in sequence order. It grows as needed and
// keeps its capacity across clear(), so a reused group allocates only when it outgrows itself.
class JournalGroup {
 public:
  explicit JournalGroup(size_t expected_records = 64);
  JournalGroup(const JournalGroup&) = delete;
  JournalGroup& operator=(const JournalGroup&) = delete;

  // Encodes the command as one record (length, checksum, payload).
  void append(const Command& command);
  void clear();

  size_t records() const { return records_; }
  size_t bytes() const { return bytes_; }
  const uint8_t* data() const { return buffer_.get(); }
  Sequence last_sequence() const { return last_sequence_; }  // 0 when empty

 private:
  std::unique_ptr<uint8_t[]> buffer_;
  size_t capacity_ = 0;
  size_t bytes_ = 0;
  size_t records_ = 0;
  Sequence last_sequence_ = 0;
};

// Appends records and makes them durable in groups. Not thread-safe: one thread owns it.
class JournalWriter {
 public:
  explicit JournalWriter(JournalOptions options = {});
  ~JournalWriter();  // flushes what waits, as close() does, ignoring a failure
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Creates the journal with its header, or opens an existing one to append after its last
  // record (recovery has already cut any torn tail). Refuses a file that is not a journal.
  IoResult open(const std::string& path);
  // Adds a command to the group; commits the group when it is full, or old enough (checked on
  // every 16th record). Commands must come in sequence order. After a failure every call fails:
  // the disk can no longer be trusted.
  IoResult append(const Command& command);
  // Commits the group if its oldest record has waited the configured time; call when idle.
  IoResult poll();
  // Commits whatever waits.
  IoResult flush();
  // Flushes and closes.
  IoResult close();
  // Writes the groups, in order, with one writev() and makes them durable with one fdatasync();
  // then durable_sequence() is the last group's last sequence. For a caller that fills its own
  // groups: not to be mixed with append() on the same writer.
  IoResult commit(std::span<const JournalGroup* const> groups);

  // Every command up to this sequence is on disk.
  Sequence durable_sequence() const { return durable_sequence_; }
  size_t pending_records() const { return group_.records(); }
  const JournalStats& stats() const { return stats_; }

 private:
  IoResult commit_own_group();
  IoResult write_and_sync(std::span<const JournalGroup* const> groups);

  JournalOptions options_;
  int fd_ = -1;
  JournalGroup group_;  // what append() collected, sized for a full group up front
  int64_t oldest_pending_ns_ = 0;
  Sequence durable_sequence_ = 0;
  std::vector<iovec> iov_;
  IoResult failure_;
  JournalStats stats_;
};

// Why a reader stopped.
enum class JournalTail : uint8_t {
  Clean,             // the file ends after a whole record (or is empty)
  TornHeader,        // the file header itself is incomplete: nothing was ever committed
  TornRecordHeader,  // fewer bytes left than a record header
  BadLength,         // a length no record can have (zeroed or overwritten bytes)
  TornRecord,        // the payload is cut short
  ChecksumMismatch,  // the bytes are not the ones written
  Undecodable,       // the checksum holds but the payload is not a command
  SequenceGap,       // not the sequence after the previous record
};
std::string_view to_string(JournalTail tail);

// Reads a journal's records in order, buffered.
class JournalReader {
 public:
  JournalReader();
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // Opens the file and checks its header. A missing file is an error (ENOENT); a file whose
  // header is not a journal's is an error (EINVAL), so a foreign file is never truncated.
  IoResult open(const std::string& path);
  // Reads the next whole, valid record; false when there is none (see tail() and error()).
  bool next(Command& command);

  JournalTail tail() const { return tail_; }
  IoResult error() const { return error_; }  // a read failure, as opposed to a bad tail
  uint64_t valid_bytes() const { return valid_bytes_; }  // header + the whole records read
  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t records() const { return records_; }
  Sequence last_sequence() const { return last_sequence_; }

 private:
  // Makes at least `n` unread bytes available unless the file ends first; false then.
  bool fill(size_t n);

  int fd_ = -1;
  std::unique_ptr<uint8_t[]> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  JournalTail tail_ = JournalTail::Clean;
  IoResult error_;
  uint64_t valid_bytes_ = 0;
  uint64_t file_bytes_ = 0;
  uint64_t records_ = 0;
  Sequence last_sequence_ = 0;
};

// Cuts the journal to `valid_bytes` (what a reader reported) and syncs it.
IoResult truncate_journal(const std::string& path, uint64_t valid_bytes);

}  // namespace hft::engine
