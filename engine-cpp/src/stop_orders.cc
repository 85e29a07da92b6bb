#include "hft/engine/stop_orders.h"

#include <algorithm>

namespace hft::engine {

void StopOrders::add(Side side, Price stop_price, OrderId id, uint32_t slot) {
  std::vector<Entry>& list = entries(side);
  const Entry entry{stop_price, id, slot};
  auto at = std::lower_bound(list.begin(), list.end(), entry, [side](const Entry& a, const Entry& b) { return before(side, a, b); });
  list.insert(at, entry);
}

void StopOrders::remove(Side side, Price stop_price, OrderId id) {
  std::vector<Entry>& list = entries(side);
  const Entry key{stop_price, id, kNoSlot};
  auto at = std::lower_bound(list.begin(), list.end(), key, [side](const Entry& a, const Entry& b) { return before(side, a, b); });
  if (at != list.end() && at->id == id) list.erase(at);
}

std::vector<uint32_t> StopOrders::in_acceptance_order() const {
  std::vector<Entry> all(buys_);
  all.insert(all.end(), sells_.begin(), sells_.end());
  std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) { return a.id < b.id; });
  std::vector<uint32_t> slots;
  slots.reserve(all.size());
  for (const Entry& e : all) slots.push_back(e.slot);
  return slots;
}

}  // namespace hft::engine
