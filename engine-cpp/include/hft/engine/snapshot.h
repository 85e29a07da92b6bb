// Snapshots: the whole state of an engine in one checksummed file, written atomically.
//
//   file  = magic "HFTSNAP\0" | version u32 (1) | reserved u32 | last sequence u64 |
//           next order id u64 | next trade id u64 | book count u32 | book* | CRC-32C u32
//   book  = instrument id u32 | symbol | tick size | lot size (length u8 + bytes each) |
//           min quantity i64 | max quantity i64 | band low i64 | band high i64 |
//           last trade price i64 | trades u64 | volume i64 | order count u64 | order*
//   order = id u64 | account u64 | price i64 | stop price i64 | quantity i64 | leaves i64 |
//           display i64 | visible i64 | side u8 | type u8 | time in force u8 | self-trade
//           prevention u8 | state u8 | post-only u8
//
// Books come in instrument id order; a book's orders in MatchingEngine::orders_of() order (bids
// best to worst, each level oldest first, then asks, then pending stops in acceptance order), so
// adding them back in file order rebuilds every queue. The CRC covers every byte before it.
// The file is written as `<name>.tmp`, fsynced, renamed into place and the directory fsynced:
// a crash leaves the old snapshot or the new one, never half of one.
#pragma once

#include <string>
#include <vector>

#include "hft/engine/journal.h"
#include "hft/engine/matching_engine.h"

namespace hft::engine {

inline constexpr char kSnapshotMagic[8] = {'H', 'F', 'T', 'S', 'N', 'A', 'P', '\0'};
inline constexpr uint32_t kSnapshotVersion = 1;

struct SnapshotWritten {
  IoResult result;
  std::string path;
};

// Writes the engine's state to `<directory>/snapshot-<last sequence>.bin`.
SnapshotWritten write_snapshot(const MatchingEngine& engine, const std::string& directory);

// Loads a snapshot into an engine that has applied nothing. Returns an empty string on success;
// otherwise what is wrong with the file, and the engine is untouched.
std::string load_snapshot(const std::string& path, MatchingEngine& engine);

// Snapshot files of a directory, newest (highest sequence) first.
std::vector<std::string> list_snapshots(const std::string& directory);
// Deletes all but the newest `keep` snapshots.
void prune_snapshots(const std::string& directory, size_t keep);

}  // namespace hft::engine
