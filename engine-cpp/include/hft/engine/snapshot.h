// Snapshots of the whole engine state and recovery from snapshot + journal.
//
//   snapshot = "HFTSNAP1" | version u32 | sizeof(LiveOrder) u32 | last sequence u64 |
//              next order id u64 | next trade id u64 | book count u32 | book* | CRC-32 of all before it u32
//   book     = InstrumentDefinition bytes | last trade price i64 | trades u64 | volume i64 |
//              order count u64 | LiveOrder bytes* (bids best to worst, FIFO within a level; then
//              asks; then pending stops in acceptance order)
//
// A snapshot is written to a temporary file, fsynced and renamed into place, so a crash leaves
// either the old or the new one, never half of one.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "hft/engine/journal.h"
#include "hft/engine/matching_engine.h"

namespace hft::engine {

// Writes `engine`'s state to `<directory>/snapshot-<sequence>.bin`; returns the path.
std::string write_snapshot(const MatchingEngine& engine, const std::string& directory);

// Loads a snapshot into an empty engine; returns false (engine untouched) when the file is
// missing, torn or fails its checksum, with the reason in `problem`.
bool load_snapshot(const std::string& path, MatchingEngine& engine, std::string& problem);

struct RecoveryReport {
  std::string snapshot_path;      // empty when starting from nothing
  Sequence snapshot_sequence = 0;
  uint64_t replayed_commands = 0;
  Sequence last_sequence = 0;
  std::string journal_tail_problem;  // what was cut from the journal's end, if anything
  std::vector<std::string> skipped_snapshots;  // unreadable snapshots passed over
};

// Brings an empty engine to the state of `directory`: the newest valid snapshot, then every
// journal record after it. A torn or corrupt journal tail is reported and truncated.
// `on_replayed` sees each replayed command with the events it produced.
RecoveryReport recover(MatchingEngine& engine, const std::string& directory,
                       const std::function<void(const Command&, const EventBuffer&)>& on_replayed = {});

std::string journal_path(const std::string& directory);

// Deletes all but the newest `keep` snapshots.
void prune_snapshots(const std::string& directory, size_t keep);

}  // namespace hft::engine
