// Open-addressing hash map from order id to pool slot: no allocation per insert (it grows by
// doubling, amortised), linear probing, backward-shift deletion so there are no tombstones.
#pragma once

#include <cstdint>
#include <vector>

#include "hft/engine/types.h"

namespace hft::engine {

class OrderIndex {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  explicit OrderIndex(size_t initial_capacity = 1 << 16) { rehash(round_up(initial_capacity)); }

  uint32_t find(OrderId id) const {
    for (size_t i = bucket(id);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.id == id) return e.slot;
      if (e.id == 0) return kMissing;
    }
  }

  // Inserts a new id (ids are unique and never 0).
  void insert(OrderId id, uint32_t slot) {
    if ((size_ + 1) * 4 > entries_.size() * 3) rehash(entries_.size() * 2);
    size_t i = bucket(id);
    while (entries_[i].id != 0) i = (i + 1) & mask_;
    entries_[i] = {id, slot};
    ++size_;
  }

  void erase(OrderId id) {
    size_t i = bucket(id);
    while (entries_[i].id != id) {
      if (entries_[i].id == 0) return;
      i = (i + 1) & mask_;
    }
    // Backward-shift: move later entries of the probe chain into the hole.
    size_t hole = i;
    for (size_t j = (hole + 1) & mask_; entries_[j].id != 0; j = (j + 1) & mask_) {
      size_t home = bucket(entries_[j].id);
      bool movable = (j > hole) ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole] = {};
    --size_;
  }

  size_t size() const { return size_; }

 private:
  struct Entry {
    OrderId id = 0;
    uint32_t slot = 0;
  };

  static size_t round_up(size_t n) {
    size_t capacity = 16;
    while (capacity < n) capacity <<= 1;
    return capacity;
  }
  size_t bucket(OrderId id) const { return (id * 0x9E3779B97F4A7C15ull) >> shift_; }

  void rehash(size_t capacity) {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
    size_ = 0;
    for (const Entry& e : old)
      if (e.id != 0) insert(e.id, e.slot);
  }

  std::vector<Entry> entries_;
  size_t mask_ = 0;
  int shift_ = 0;
  size_t size_ = 0;
};

}  // namespace hft::engine
