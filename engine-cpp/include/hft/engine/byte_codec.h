// Field-by-field little-endian encoding for the journal and snapshots. Files never depend on
// struct padding or layout, and a reader checks every length before it reads.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>

#include "hft/engine/types.h"

namespace hft::engine {

static_assert(std::endian::native == std::endian::little, "the encodings store the host's little-endian bytes");

// Writes into memory the caller has sized (the largest encoding of each thing is known).
class ByteWriter {
 public:
  explicit ByteWriter(uint8_t* at) : at_(at) {}

  template <typename T>
  void put(T value) {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>);
    std::memcpy(at_, &value, sizeof(T));
    at_ += sizeof(T);
  }
  template <size_t N>
  void put(const FixedString<N>& text) {
    put(text.length);
    std::memcpy(at_, text.bytes, text.length);
    at_ += text.length;
  }
  template <typename T>
  void put(const std::optional<T>& value) {
    put(static_cast<uint8_t>(value.has_value()));
    if (value) put(*value);
  }
  uint8_t* position() const { return at_; }

 private:
  uint8_t* at_;
};

// Reads from a bounded range; every get fails (returns false) rather than read past the end or
// accept a value its type cannot hold.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : at_(data), end_(data + size) {}

  template <typename T>
  bool get(T& value) {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>);
    if (remaining() < sizeof(T)) return false;
    if constexpr (std::is_same_v<T, bool>) {
      if (*at_ > 1) return false;
    }
    std::memcpy(&value, at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  template <size_t N>
  bool get(FixedString<N>& text) {
    uint8_t length = 0;
    if (!get(length) || length > N || remaining() < length) return false;
    text = FixedString<N>{};
    text.length = length;
    std::memcpy(text.bytes, at_, length);
    at_ += length;
    return true;
  }
  template <typename T>
  bool get(std::optional<T>& value) {
    bool present = false;
    if (!get(present)) return false;
    value.reset();
    if (!present) return true;
    T inner{};
    if (!get(inner)) return false;
    value = inner;
    return true;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - at_); }

 private:
  const uint8_t* at_;
  const uint8_t* end_;
};

}  // namespace hft::engine
