// Open-addressing hash map from order id to the order's pool slot. An entry is 8 bytes, the low
// 32 bits of the id and the slot, so the table stays small enough to stay in cache: a lookup
// confirms a candidate against the full id of the order in the pool, which the caller is about
// to read anyway. Linear probing, backward-shift deletion (no tombstones). It doubles when three
// quarters full, which is amortised and never per insert. Fibonacci hashing scatters the
// sequential ids, so long-lived orders never line up into the clusters a plain modulo makes.
// Size it for the open orders expected, not more: every cancel and replace probes it, and a
// table larger than the cache costs a miss each time.
#pragma once

#include <cstdint>
#include <vector>

#include "hft/engine/order.h"

namespace hft::engine {

class OrderIndex {
 public:
  explicit OrderIndex(size_t expected) { rehash(capacity_for(expected)); }

  // The slot of the open order `id`, or kNoSlot.
  uint32_t find(OrderId id, const OrderPool& orders) const {
    const uint32_t key = static_cast<uint32_t>(id);
    for (size_t i = bucket(key);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.slot == kNoSlot) return kNoSlot;
      if (e.key == key && orders[e.slot].id == id) return e.slot;
    }
  }

  // Adds an order that is not in the index yet.
  void insert(OrderId id, uint32_t slot) {
    if ((size_ + 1) * 4 > entries_.size() * 3) rehash(entries_.size() * 2);
    size_t i = bucket(static_cast<uint32_t>(id));
    while (entries_[i].slot != kNoSlot) i = (i + 1) & mask_;
    entries_[i] = {static_cast<uint32_t>(id), slot};
    ++size_;
  }

  // Removes the order `id` that lives in `slot` (slots are unique, so no pool access is needed).
  void erase(OrderId id, uint32_t slot) {
    size_t hole = bucket(static_cast<uint32_t>(id));
    while (entries_[hole].slot != slot) {
      if (entries_[hole].slot == kNoSlot) return;
      hole = (hole + 1) & mask_;
    }
    // Pull later members of the probe chain back into the hole, so no lookup meets a gap before
    // its entry.
    for (size_t j = (hole + 1) & mask_; entries_[j].slot != kNoSlot; j = (j + 1) & mask_) {
      const size_t home = bucket(entries_[j].key);
      const bool home_outside_hole_to_j = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (home_outside_hole_to_j) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole] = Entry{};
    --size_;
  }

  size_t size() const { return size_; }

 private:
  struct Entry {
    uint32_t key = 0;  // the id's low 32 bits
    uint32_t slot = kNoSlot;
  };
  static_assert(sizeof(Entry) == 8);

  static size_t capacity_for(size_t expected) {
    size_t capacity = 16;
    while (capacity * 3 < expected * 4) capacity <<= 1;
    return capacity;
  }
  size_t bucket(uint32_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }

  void rehash(size_t capacity) {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
    for (const Entry& e : old) {
      if (e.slot == kNoSlot) continue;
      size_t i = bucket(e.key);
      while (entries_[i].slot != kNoSlot) i = (i + 1) & mask_;
      entries_[i] = e;
    }
  }

  std::vector<Entry> entries_;
  size_t mask_ = 0;
  int shift_ = 0;
  size_t size_ = 0;
};

}  // namespace hft::engine
