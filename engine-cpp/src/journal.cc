#include "hft/engine/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace hft::engine {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void write_all(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write journal", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

uint32_t checksum(const void* data, size_t size) {
  return static_cast<uint32_t>(crc32(0L, static_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

void header_bytes(char* out) {
  std::memcpy(out, kJournalMagic, 8);
  const uint32_t version = kJournalVersion, command_size = sizeof(Command);
  std::memcpy(out + 8, &version, 4);
  std::memcpy(out + 12, &command_size, 4);
}

}  // namespace

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

JournalWriter::JournalWriter(const std::string& path, JournalOptions options) : options_(options) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot open journal", path);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat journal", path);
  if (st.st_size == 0) {
    char header[kJournalHeaderSize];
    header_bytes(header);
    write_all(fd_, header, sizeof header, path);
    if (::fdatasync(fd_) != 0) fail("cannot sync journal", path);
    bytes_ = kJournalHeaderSize;
  } else {
    bytes_ = static_cast<uint64_t>(st.st_size);
  }
  buffer_.reserve(options_.group_commit_records * (kJournalRecordHeaderSize + sizeof(Command)));
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

bool JournalWriter::append(const Command& command) {
  if (buffer_.empty()) oldest_pending_ns_ = monotonic_ns();
  const uint32_t length = sizeof(Command);
  const uint32_t crc = checksum(&command, sizeof(Command));
  const size_t at = buffer_.size();
  buffer_.resize(at + kJournalRecordHeaderSize + sizeof(Command));
  std::memcpy(buffer_.data() + at, &length, 4);
  std::memcpy(buffer_.data() + at + 4, &crc, 4);
  std::memcpy(buffer_.data() + at + 8, &command, sizeof(Command));
  buffered_last_ = command.sequence;
  return buffer_.size() >= options_.group_commit_records * (kJournalRecordHeaderSize + sizeof(Command));
}

Sequence JournalWriter::flush() {
  if (buffer_.empty()) return durable_sequence_;
  write_all(fd_, buffer_.data(), buffer_.size(), "journal");
  if (options_.sync) {
    const int64_t started = monotonic_ns();
    if (::fdatasync(fd_) != 0) fail("cannot sync journal", "journal");
    last_sync_ns_ = monotonic_ns() - started;
  }
  bytes_ += buffer_.size();
  buffer_.clear();
  durable_sequence_ = buffered_last_;
  return durable_sequence_;
}

JournalScan read_journal(const std::string& path, const std::function<void(const Command&)>& visit) {
  JournalScan scan;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open journal", path);
  struct stat st {};
  ::fstat(fd, &st);
  scan.file_bytes = static_cast<uint64_t>(st.st_size);

  std::vector<char> data(scan.file_bytes);
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got < kJournalHeaderSize) {
    if (got == 0) return scan;  // created but never written: empty
    throw std::runtime_error("journal " + path + " is shorter than its header");
  }
  char expected[kJournalHeaderSize];
  header_bytes(expected);
  if (std::memcmp(data.data(), expected, kJournalHeaderSize) != 0)
    throw std::runtime_error("journal " + path + " has a foreign header (not this format version or command layout)");

  size_t at = kJournalHeaderSize;
  scan.valid_bytes = at;
  Command command;
  while (at < got) {
    if (got - at < kJournalRecordHeaderSize) {
      scan.tail_problem = "torn record header at byte " + std::to_string(at);
      break;
    }
    uint32_t length, crc;
    std::memcpy(&length, data.data() + at, 4);
    std::memcpy(&crc, data.data() + at + 4, 4);
    if (length != sizeof(Command)) {
      scan.tail_problem = "bad record length " + std::to_string(length) + " at byte " + std::to_string(at);
      break;
    }
    if (got - at - kJournalRecordHeaderSize < length) {
      scan.tail_problem = "torn record at byte " + std::to_string(at);
      break;
    }
    const char* payload = data.data() + at + kJournalRecordHeaderSize;
    if (checksum(payload, length) != crc) {
      scan.tail_problem = "checksum mismatch at byte " + std::to_string(at);
      break;
    }
    std::memcpy(&command, payload, sizeof(Command));
    if (scan.records > 0 && command.sequence != scan.last_sequence + 1) {
      scan.tail_problem = "sequence " + std::to_string(command.sequence) + " follows " + std::to_string(scan.last_sequence) + " at byte " +
                          std::to_string(at);
      break;
    }
    if (scan.records == 0) scan.first_sequence = command.sequence;
    scan.last_sequence = command.sequence;
    ++scan.records;
    visit(command);
    at += kJournalRecordHeaderSize + length;
    scan.valid_bytes = at;
  }
  return scan;
}

void truncate_journal(const std::string& path, uint64_t valid_bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open journal", path);
  if (::ftruncate(fd, static_cast<off_t>(valid_bytes)) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot truncate journal", path);
  }
  ::close(fd);
}

}  // namespace hft::engine
