// Objects of one type in fixed-size chunks that never move, named by a 32-bit slot. Released slots
// are reused most-recent first (their memory is still hot). The pool allocates only when every
// slot is taken, one chunk at a time, so steady-state acquire and release never touch the heap
// and never copy existing objects.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace hft::engine {

inline constexpr uint32_t kNoSlot = UINT32_MAX;

template <typename T, uint32_t ChunkBits = 12>
class SlabPool {
 public:
  static constexpr uint32_t kChunkSize = 1u << ChunkBits;

  explicit SlabPool(size_t reserved = 0) {
    while (capacity() < reserved) grow();
  }
  SlabPool(const SlabPool&) = delete;
  SlabPool& operator=(const SlabPool&) = delete;

  // A slot holding a default-constructed T.
  uint32_t acquire() {
    if (free_.empty()) grow();
    const uint32_t slot = free_.back();
    free_.pop_back();
    (*this)[slot] = T{};
    return slot;
  }
  void release(uint32_t slot) { free_.push_back(slot); }

  T& operator[](uint32_t slot) { return chunks_[slot >> ChunkBits][slot & (kChunkSize - 1)]; }
  const T& operator[](uint32_t slot) const { return chunks_[slot >> ChunkBits][slot & (kChunkSize - 1)]; }

  size_t capacity() const { return chunks_.size() * kChunkSize; }
  size_t in_use() const { return capacity() - free_.size(); }

 private:
  void grow() {
    const uint32_t first = static_cast<uint32_t>(capacity());
    chunks_.push_back(std::make_unique<T[]>(kChunkSize));
    free_.reserve(capacity());  // release() then never reallocates
    for (uint32_t slot = first + kChunkSize; slot > first; --slot) free_.push_back(slot - 1);
  }

  std::vector<std::unique_ptr<T[]>> chunks_;
  std::vector<uint32_t> free_;  // lowest slot at the back: a fresh pool hands out 0, 1, 2, ...
};

}  // namespace hft::engine
