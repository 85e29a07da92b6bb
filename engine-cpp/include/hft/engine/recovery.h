// Recovery: the newest snapshot that reads back whole, then every journal record after it, gives
// the state the engine had when it stopped, with the same next sequence, state_hash() and, for
// the replayed commands, the same events.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hft/engine/journal.h"
#include "hft/engine/matching_engine.h"

namespace hft::engine {

struct RecoveryReport {
  std::string error;  // empty on success; otherwise the engine must not be used
  std::string snapshot_path;  // empty when recovery started from nothing
  Sequence snapshot_sequence = 0;
  std::vector<std::string> skipped_snapshots;  // unreadable ones, newest first, with the reason
  uint64_t replayed_commands = 0;
  Sequence last_sequence = 0;
  JournalTail journal_tail = JournalTail::Clean;
  uint64_t journal_cut_bytes = 0;  // what was cut from the journal's end (never acknowledged)
};

// `<directory>/journal.log`
std::string journal_path(const std::string& directory);

// Brings an engine that has applied nothing to the state recorded in `directory`. A torn or
// corrupt journal tail is reported and cut off, so a writer can append after it. Each replayed
// command is passed to `on_replayed` with the events it produced; the engine's event buffer is
// cleared after each.
RecoveryReport recover(MatchingEngine& engine, const std::string& directory,
                       const std::function<void(const Command&, const EventBuffer&)>& on_replayed = {});

}  // namespace hft::engine
