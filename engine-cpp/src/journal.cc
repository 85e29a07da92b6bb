#include "hft/engine/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "hft/engine/clock.h"
#include "hft/engine/command_codec.h"
#include "hft/engine/crc32c.h"

namespace hft::engine {

namespace {

constexpr size_t kMaxRecord = kRecordHeaderSize + kMaxEncodedCommand;
constexpr size_t kReadBuffer = 1 << 20;

void header_bytes(uint8_t* out) {
  std::memcpy(out, kJournalMagic, 8);
  const uint32_t version = kJournalVersion, reserved = 0;
  std::memcpy(out + 8, &version, 4);
  std::memcpy(out + 12, &reserved, 4);
}

uint32_t record_checksum(uint32_t length, const uint8_t* payload) {
  return crc32c(payload, length, crc32c(&length, sizeof length));
}

IoResult write_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoResult::failed("write journal", errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

// Writes every buffer, in order, however the kernel splits the writes (IOV_MAX buffers at most per call).
IoResult writev_all(int fd, iovec* iov, size_t count) {
  while (count > 0) {
    const ssize_t n = ::writev(fd, iov, static_cast<int>(std::min<size_t>(count, IOV_MAX)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoResult::failed("write journal", errno);
    }
    if (n == 0) return IoResult::failed("write journal", EIO);
    size_t done = static_cast<size_t>(n);
    for (; count > 0 && done >= iov->iov_len; ++iov, --count) done -= iov->iov_len;
    if (count > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + done;
      iov->iov_len -= done;
    }
  }
  return {};
}

}  // namespace

std::string IoResult::message() const { return ok() ? "ok" : std::string(operation) + ": " + std::strerror(error); }

std::string_view to_string(JournalTail tail) {
  switch (tail) {
    case JournalTail::Clean: return "clean end";
    case JournalTail::TornHeader: return "torn file header";
    case JournalTail::TornRecordHeader: return "torn record header";
    case JournalTail::BadLength: return "bad record length";
    case JournalTail::TornRecord: return "torn record";
    case JournalTail::ChecksumMismatch: return "checksum mismatch";
    case JournalTail::Undecodable: return "undecodable record";
    case JournalTail::SequenceGap: return "sequence gap";
  }
  return "unknown tail";
}

// ------------------------------------------------------------------------------------ groups
JournalGroup::JournalGroup(size_t expected_records)
    : buffer_(std::make_unique<uint8_t[]>(std::max<size_t>(expected_records, 1) * kMaxRecord)),
      capacity_(std::max<size_t>(expected_records, 1) * kMaxRecord) {}

void JournalGroup::append(const Command& command) {
  if (capacity_ - bytes_ < kMaxRecord) {
    auto grown = std::make_unique<uint8_t[]>(capacity_ * 2);
    std::memcpy(grown.get(), buffer_.get(), bytes_);
    buffer_ = std::move(grown);
    capacity_ *= 2;
  }
  uint8_t* record = buffer_.get() + bytes_;
  const uint32_t length = static_cast<uint32_t>(encode_command(command, record + kRecordHeaderSize));
  const uint32_t checksum = record_checksum(length, record + kRecordHeaderSize);
  std::memcpy(record, &length, 4);
  std::memcpy(record + 4, &checksum, 4);
  bytes_ += kRecordHeaderSize + length;
  records_ += 1;
  last_sequence_ = command.sequence;
}

void JournalGroup::clear() {
  bytes_ = 0;
  records_ = 0;
  last_sequence_ = 0;
}

// ------------------------------------------------------------------------------------ writer
JournalWriter::JournalWriter(JournalOptions options) : options_(options), group_(std::max<uint32_t>(options.group_commit_records, 1)) {
  if (options_.group_commit_records == 0) options_.group_commit_records = 1;
}

JournalWriter::~JournalWriter() { close(); }

IoResult JournalWriter::open(const std::string& path) {
  if (fd_ >= 0) return IoResult::failed("open journal (already open)", EBUSY);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return IoResult::failed("open journal", errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return failure_ = IoResult::failed("stat journal", errno);
  uint8_t expected[kJournalHeaderSize];
  header_bytes(expected);
  if (st.st_size == 0) {
    failure_ = write_all(fd_, expected, sizeof expected);
    if (failure_.ok() && ::fdatasync(fd_) != 0) failure_ = IoResult::failed("sync journal", errno);
    stats_.bytes = kJournalHeaderSize;
    return failure_;
  }
  uint8_t header[kJournalHeaderSize];
  if (st.st_size < static_cast<off_t>(kJournalHeaderSize) || ::pread(fd_, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
      std::memcmp(header, expected, sizeof header) != 0)
    return failure_ = IoResult::failed("open journal (not a journal of this format)", EINVAL);
  stats_.bytes = static_cast<uint64_t>(st.st_size);
  return {};
}

IoResult JournalWriter::append(const Command& command) {
  if (!failure_.ok()) return failure_;
  if (fd_ < 0) return IoResult::failed("append to journal (not open)", EBADF);
  group_.append(command);
  stats_.records += 1;
  if (group_.records() == 1) oldest_pending_ns_ = monotonic_ns();
  if (group_.records() >= options_.group_commit_records) return commit_own_group();
  // Reading the clock costs about as much as encoding a record, so the age is checked on every
  // 16th record; poll() covers a group that stops growing.
  if (group_.records() % 16 == 0) return poll();
  return {};
}

IoResult JournalWriter::poll() {
  if (group_.records() > 0 && monotonic_ns() - oldest_pending_ns_ >= int64_t{options_.group_commit_micros} * 1000) return commit_own_group();
  return failure_;
}

IoResult JournalWriter::flush() { return group_.records() > 0 ? commit_own_group() : failure_; }

IoResult JournalWriter::commit_own_group() {
  const JournalGroup* group = &group_;
  const IoResult result = write_and_sync({&group, 1});
  if (result.ok()) group_.clear();
  return result;
}

IoResult JournalWriter::commit(std::span<const JournalGroup* const> groups) {
  if (fd_ < 0) return IoResult::failed("commit journal (not open)", EBADF);
  const IoResult result = write_and_sync(groups);
  if (result.ok())
    for (const JournalGroup* g : groups) stats_.records += g->records();
  return result;
}

IoResult JournalWriter::write_and_sync(std::span<const JournalGroup* const> groups) {
  if (!failure_.ok()) return failure_;
  iov_.clear();
  size_t bytes = 0;
  Sequence last = durable_sequence_;
  for (const JournalGroup* g : groups) {
    if (g->records() == 0) continue;
    iov_.push_back({const_cast<uint8_t*>(g->data()), g->bytes()});
    bytes += g->bytes();
    last = g->last_sequence();
  }
  if (bytes == 0) return {};
  const int64_t started = monotonic_ns();
  failure_ = writev_all(fd_, iov_.data(), iov_.size());
  if (!failure_.ok()) return failure_;
  if (options_.sync) {
    const int64_t written = monotonic_ns();
    if (::fdatasync(fd_) != 0) return failure_ = IoResult::failed("sync journal", errno);
    stats_.last_sync_ns = monotonic_ns() - written;
    if (stats_.last_sync_ns > stats_.max_sync_ns) stats_.max_sync_ns = stats_.last_sync_ns;
    stats_.syncs += 1;
  }
  stats_.commit_ns += monotonic_ns() - started;
  stats_.bytes += bytes;
  durable_sequence_ = last;
  return {};
}

IoResult JournalWriter::close() {
  if (fd_ < 0) return failure_;
  const IoResult flushed = flush();
  ::close(fd_);
  fd_ = -1;
  return flushed;
}

// ------------------------------------------------------------------------------------ reader
JournalReader::JournalReader() : buffer_(std::make_unique<uint8_t[]>(kReadBuffer)) {}

JournalReader::~JournalReader() {
  if (fd_ >= 0) ::close(fd_);
}

IoResult JournalReader::open(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return error_ = IoResult::failed("open journal", errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return error_ = IoResult::failed("stat journal", errno);
  file_bytes_ = static_cast<uint64_t>(st.st_size);
  if (file_bytes_ == 0) return {};  // created, header never written: an empty journal
  uint8_t expected[kJournalHeaderSize];
  header_bytes(expected);
  const bool whole = fill(kJournalHeaderSize);
  if (!error_.ok()) return error_;
  const size_t have = end_ - begin_;
  if (std::memcmp(buffer_.get(), expected, whole ? kJournalHeaderSize : have) != 0)
    return error_ = IoResult::failed("open journal (not a journal of this format)", EINVAL);
  if (!whole) {
    tail_ = JournalTail::TornHeader;
    return {};
  }
  begin_ += kJournalHeaderSize;
  valid_bytes_ = kJournalHeaderSize;
  return {};
}

bool JournalReader::fill(size_t n) {
  if (end_ - begin_ >= n) return true;
  std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  while (end_ < n && !eof_) {
    const ssize_t got = ::read(fd_, buffer_.get() + end_, kReadBuffer - end_);
    if (got < 0) {
      if (errno == EINTR) continue;
      error_ = IoResult::failed("read journal", errno);
      return false;
    }
    if (got == 0) eof_ = true;
    end_ += static_cast<size_t>(got);
  }
  return end_ >= n;
}

bool JournalReader::next(Command& command) {
  if (fd_ < 0 || tail_ != JournalTail::Clean || !error_.ok() || valid_bytes_ == 0) return false;
  if (!fill(kRecordHeaderSize)) {
    if (error_.ok() && end_ > begin_) tail_ = JournalTail::TornRecordHeader;
    return false;
  }
  uint32_t length, checksum;
  std::memcpy(&length, buffer_.get() + begin_, 4);
  std::memcpy(&checksum, buffer_.get() + begin_ + 4, 4);
  if (length < kMinEncodedCommand || length > kMaxEncodedCommand) {
    tail_ = JournalTail::BadLength;
    return false;
  }
  if (!fill(kRecordHeaderSize + length)) {
    if (error_.ok()) tail_ = JournalTail::TornRecord;
    return false;
  }
  const uint8_t* payload = buffer_.get() + begin_ + kRecordHeaderSize;
  Command decoded;
  if (record_checksum(length, payload) != checksum) {
    tail_ = JournalTail::ChecksumMismatch;
  } else if (!decode_command(payload, length, decoded)) {
    tail_ = JournalTail::Undecodable;
  } else if (records_ > 0 && decoded.sequence != last_sequence_ + 1) {
    tail_ = JournalTail::SequenceGap;
  }
  if (tail_ != JournalTail::Clean) return false;
  command = decoded;
  begin_ += kRecordHeaderSize + length;
  valid_bytes_ += kRecordHeaderSize + length;
  records_ += 1;
  last_sequence_ = decoded.sequence;
  return true;
}

IoResult truncate_journal(const std::string& path, uint64_t valid_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return IoResult::failed("open journal to truncate", errno);
  IoResult result;
  if (::ftruncate(fd, static_cast<off_t>(valid_bytes)) != 0)
    result = IoResult::failed("truncate journal", errno);
  else if (::fsync(fd) != 0)
    result = IoResult::failed("sync truncated journal", errno);
  ::close(fd);
  return result;
}

}  // namespace hft::engine
