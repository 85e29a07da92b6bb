#include "hft/engine/recovery.h"

#include <filesystem>

#include "hft/engine/snapshot.h"

namespace hft::engine {

std::string journal_path(const std::string& directory) { return (std::filesystem::path(directory) / "journal.log").string(); }

RecoveryReport recover(MatchingEngine& engine, const std::string& directory,
                       const std::function<void(const Command&, const EventBuffer&)>& on_replayed) {
  RecoveryReport report;
  for (const std::string& path : list_snapshots(directory)) {
    const std::string problem = load_snapshot(path, engine);
    if (problem.empty()) {
      report.snapshot_path = path;
      report.snapshot_sequence = engine.last_sequence();
      break;
    }
    report.skipped_snapshots.push_back(path + ": " + problem);
  }

  const std::string journal = journal_path(directory);
  std::error_code missing;
  if (std::filesystem::exists(journal, missing)) {
    JournalReader reader;
    IoResult opened = reader.open(journal);
    if (!opened.ok()) {
      report.error = opened.message() + " (" + journal + ")";
      return report;
    }
    engine.events().clear();
    Command command;
    while (reader.next(command)) {
      if (command.sequence <= engine.last_sequence()) continue;  // already in the snapshot
      if (command.sequence != engine.last_sequence() + 1) {
        report.error = "the journal jumps from sequence " + std::to_string(engine.last_sequence()) + " to " + std::to_string(command.sequence);
        return report;
      }
      engine.apply(command);
      ++report.replayed_commands;
      if (on_replayed) on_replayed(command, engine.events());
      engine.events().clear();
    }
    if (!reader.error().ok()) {
      report.error = reader.error().message() + " (" + journal + ")";
      return report;
    }
    report.journal_tail = reader.tail();
    if (reader.tail() != JournalTail::Clean) {
      report.journal_cut_bytes = reader.file_bytes() - reader.valid_bytes();
      const IoResult cut = truncate_journal(journal, reader.valid_bytes());
      if (!cut.ok()) report.error = cut.message() + " (" + journal + ")";
    }
    if (reader.records() > 0 && reader.last_sequence() < report.snapshot_sequence && report.error.empty())
      report.error = "the journal ends at sequence " + std::to_string(reader.last_sequence()) + ", before the snapshot's " +
                     std::to_string(report.snapshot_sequence);
  }
  report.last_sequence = engine.last_sequence();
  return report;
}

}  // namespace hft::engine
