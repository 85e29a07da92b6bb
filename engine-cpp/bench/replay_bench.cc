// Replay benchmark: a generated mixed workload (bench/workload.h) applied to a fresh engine,
//   1. in memory, timed as a whole: commands per second;
//   2. in memory, each command timed with the TSC: latency percentiles;
//   3. with the journal on (group commit with fdatasync) in --journal-dir: commands per second,
//      per-command latency (a command that closes a group pays for its fdatasync), and durable
//      latency (from a command's start until the fdatasync of its group returns, i.e. when it
//      could be acknowledged);
//   4. the raw fdatasync latency of the same disk, for reference;
//   5. the journal as hft-engine runs it: this thread encodes each command into the open group,
//      applies it and copies its events into the group, sealing the group at --group-records or
//      --group-micros; a commit thread writes and fdatasyncs every group sealed since its last sync
//      (group_commit.h): commands per second, per-command latency, durable latency.
// --sections=13 runs only those sections (the workload is generated whatever the choice).
// Timing per command: lfence; rdtsc before apply, rdtscp; lfence after, converted to ns with a
// TSC rate calibrated against steady_clock; the cost of an empty measurement is printed too.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hft/engine/group_commit.h"
#include "hft/engine/journal.h"
#include "hft/engine/matching_engine.h"
#include "percentiles.h"
#include "workload.h"

namespace hft::engine::bench {
namespace {

struct Options {
  WorkloadOptions workload;
  std::string journal_dir = "replay-bench-data";
  uint32_t group_records = 4096;
  uint32_t group_micros = 1000;
  int cpu = -1;
  int throughput_runs = 3;
  std::string sections = "12345";  // which of the numbered sections run (a profile wants one)
};

bool flag(std::string_view arg, std::string_view name, std::string_view& value) {
  if (!arg.starts_with("--") || !arg.substr(2).starts_with(name) || arg.size() < name.size() + 3 || arg[name.size() + 2] != '=') return false;
  value = arg.substr(name.size() + 3);
  return true;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view v;
    const std::string_view arg = argv[i];
    const auto number = [&] { return std::strtoull(std::string(v).c_str(), nullptr, 10); };
    if (flag(arg, "commands", v)) o.workload.commands = number();
    else if (flag(arg, "instruments", v)) o.workload.instruments = static_cast<uint32_t>(number());
    else if (flag(arg, "seed", v)) o.workload.seed = number();
    else if (flag(arg, "open-orders", v)) o.workload.open_orders = number();
    else if (flag(arg, "journal-dir", v)) o.journal_dir = v;
    else if (flag(arg, "group-records", v)) o.group_records = static_cast<uint32_t>(number());
    else if (flag(arg, "group-micros", v)) o.group_micros = static_cast<uint32_t>(number());
    else if (flag(arg, "cpu", v)) o.cpu = static_cast<int>(number());
    else if (flag(arg, "runs", v)) o.throughput_runs = static_cast<int>(number());
    else if (flag(arg, "sections", v)) o.sections = std::string(v);
    else {
      std::fprintf(stderr,
                   "usage: replay_bench [--commands=N] [--instruments=N] [--open-orders=N] [--seed=N] [--journal-dir=DIR] [--group-records=N]\n"
                   "                    [--group-micros=N] [--cpu=N] [--runs=N] [--sections=12345]\nunknown argument: %s\n",
                   argv[i]);
      std::exit(2);
    }
  }
  return o;
}

inline uint64_t tsc_begin() {
  _mm_lfence();
  return __rdtsc();
}
inline uint64_t tsc_end() {
  unsigned aux;
  const uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// TSC ticks per nanosecond, measured against steady_clock.
double calibrate_tsc() {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t t0 = __rdtsc();
  while (seconds_since(start) < 0.3) {
  }
  const uint64_t t1 = __rdtsc();
  return static_cast<double>(t1 - t0) / (seconds_since(start) * 1e9);
}

EngineOptions engine_options() { return {.event_capacity = 1 << 16}; }

// The caller of a real engine drains events after publishing them; here they are dropped in batches.
inline void drain(MatchingEngine& engine) {
  if (engine.events().size() > 4096) engine.events().clear();
}

void run_throughput(const std::vector<Command>& commands, int runs) {
  for (int run = 0; run < runs; ++run) {
    MatchingEngine engine(engine_options());
    const auto start = std::chrono::steady_clock::now();
    for (const Command& c : commands) {
      engine.apply(c);
      drain(engine);
    }
    const double s = seconds_since(start);
    std::printf("  run %d: %zu commands in %.3f s = %.2f M commands/s (%.0f ns per command); %zu open orders at the end\n", run + 1,
                commands.size(), s, static_cast<double>(commands.size()) / s / 1e6, s * 1e9 / static_cast<double>(commands.size()),
                engine.open_orders());
  }
}

void run_latency(const std::vector<Command>& commands, double ticks_per_ns) {
  std::vector<uint32_t> ticks(commands.size());
  MatchingEngine engine(engine_options());
  for (size_t i = 0; i < commands.size(); ++i) {
    const uint64_t t0 = tsc_begin();
    engine.apply(commands[i]);
    const uint64_t t1 = tsc_end();
    ticks[i] = static_cast<uint32_t>(std::min<uint64_t>(t1 - t0, UINT32_MAX));
    drain(engine);
  }
  print_percentiles("per command, in memory", std::move(ticks), ticks_per_ns);
}

void run_journaled(const std::vector<Command>& commands, const Options& options, double ticks_per_ns) {
  std::filesystem::create_directories(options.journal_dir);
  const std::string path = options.journal_dir + "/replay-bench-journal.log";
  std::filesystem::remove(path);
  JournalWriter journal({.group_commit_records = options.group_records, .group_commit_micros = options.group_micros});
  if (const IoResult opened = journal.open(path); !opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), opened.message().c_str());
    std::exit(1);
  }
  MatchingEngine engine(engine_options());
  std::vector<uint64_t> started(commands.size());
  std::vector<uint32_t> ticks(commands.size());
  std::vector<uint64_t> durable(commands.size());
  size_t durable_upto = 0;  // commands [0, durable_upto) have their durable latency
  const auto mark_durable = [&](uint64_t now) {
    for (; durable_upto < commands.size() && commands[durable_upto].sequence <= journal.durable_sequence(); ++durable_upto)
      durable[durable_upto] = now - started[durable_upto];
  };
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < commands.size(); ++i) {
    const uint64_t t0 = started[i] = tsc_begin();
    // journal, then match: the same order as the engine's pipeline
    if (const IoResult appended = journal.append(commands[i]); !appended.ok()) {
      std::fprintf(stderr, "journal: %s\n", appended.message().c_str());
      std::exit(1);
    }
    engine.apply(commands[i]);
    const uint64_t t1 = tsc_end();
    ticks[i] = static_cast<uint32_t>(std::min<uint64_t>(t1 - t0, UINT32_MAX));
    if (journal.pending_records() == 0) mark_durable(t1);
    drain(engine);
  }
  (void)journal.flush();
  mark_durable(tsc_end());
  const double s = seconds_since(start);
  const JournalStats& stats = journal.stats();
  std::printf("  %zu commands in %.3f s = %.2f M commands/s; %llu fdatasyncs (%.0f commands per group), %.1f MB written, %.1f bytes per record\n",
              commands.size(), s, static_cast<double>(commands.size()) / s / 1e6, static_cast<unsigned long long>(stats.syncs),
              static_cast<double>(commands.size()) / static_cast<double>(std::max<uint64_t>(stats.syncs, 1)), static_cast<double>(stats.bytes) / 1e6,
              static_cast<double>(stats.bytes - kJournalHeaderSize) / static_cast<double>(commands.size()));
  std::printf("  %.3f s of it in write() + fdatasync(): %.0f us per group on average, the slowest fdatasync %.0f us\n",
              static_cast<double>(stats.commit_ns) / 1e9, static_cast<double>(stats.commit_ns) / 1e3 / static_cast<double>(std::max<uint64_t>(stats.syncs, 1)),
              static_cast<double>(stats.max_sync_ns) / 1e3);
  print_percentiles("per command (append + apply)", std::move(ticks), ticks_per_ns);
  print_percentiles("durable (start -> group synced)", std::move(durable), ticks_per_ns);
  std::filesystem::remove(path);
}

// What a sealed group carries to its commit: which commands it holds (by index) and their
// events, as the server's pipeline carries them to be published.
struct Marks {
  size_t first = 0;
  size_t count = 0;
  std::vector<Event> events;
  bool empty() const { return count == 0; }
  void clear() {
    count = 0;
    events.clear();
  }
};

void run_pipelined(const std::vector<Command>& commands, const Options& options, double ticks_per_ns) {
  std::filesystem::create_directories(options.journal_dir);
  const std::string path = options.journal_dir + "/replay-bench-journal.log";
  std::filesystem::remove(path);
  JournalWriter journal;
  if (const IoResult opened = journal.open(path); !opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), opened.message().c_str());
    std::exit(1);
  }
  std::vector<uint64_t> started(commands.size());
  std::vector<uint32_t> ticks(commands.size());
  std::vector<uint64_t> durable(commands.size());
  uint64_t commits = 0, groups = 0;
  GroupCommitter<Marks> committer(journal, size_t{4} * options.group_records, [&](const IoResult& result, std::span<GroupCommitter<Marks>::Unit* const> units) {
    if (!result.ok()) {
      std::fprintf(stderr, "journal: %s\n", result.message().c_str());
      std::exit(1);
    }
    const uint64_t now = tsc_end();
    ++commits;
    groups += units.size();
    for (const auto* unit : units)
      for (size_t i = unit->payload.first; i < unit->payload.first + unit->payload.count; ++i) durable[i] = now - started[i];
  });
  committer.start();
  MatchingEngine engine(engine_options());
  const uint64_t age_ticks = static_cast<uint64_t>(options.group_micros * 1000.0 * ticks_per_ns);
  uint64_t opened = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < commands.size(); ++i) {
    const uint64_t t0 = started[i] = tsc_begin();
    auto& group = committer.open();
    if (group.payload.count++ == 0) {
      group.payload.first = i;
      opened = t0;
    }
    group.journal.append(commands[i]);
    engine.apply(commands[i]);
    group.payload.events.insert(group.payload.events.end(), engine.events().begin(), engine.events().end());
    engine.events().clear();
    const size_t records = group.journal.records();
    if (records >= options.group_records || (records % 16 == 0 && tsc_end() - opened >= age_ticks)) committer.seal();
    ticks[i] = static_cast<uint32_t>(std::min<uint64_t>(tsc_end() - t0, UINT32_MAX));
  }
  committer.drain();
  const double s = seconds_since(start);
  committer.stop();
  const JournalStats& stats = journal.stats();
  std::printf("  %zu commands in %.3f s = %.2f M commands/s; %llu fdatasyncs (%.0f commands, %.1f groups each), %.1f MB written\n", commands.size(), s,
              static_cast<double>(commands.size()) / s / 1e6, static_cast<unsigned long long>(stats.syncs),
              static_cast<double>(commands.size()) / static_cast<double>(std::max<uint64_t>(stats.syncs, 1)),
              static_cast<double>(groups) / static_cast<double>(std::max<uint64_t>(commits, 1)), static_cast<double>(stats.bytes) / 1e6);
  std::printf("  the commit thread spent %.3f s in write() + fdatasync(): %.0f us per sync on average, the slowest fdatasync %.0f us\n",
              static_cast<double>(stats.commit_ns) / 1e9, static_cast<double>(stats.commit_ns) / 1e3 / static_cast<double>(std::max<uint64_t>(stats.syncs, 1)),
              static_cast<double>(stats.max_sync_ns) / 1e3);
  print_percentiles("per command (append + apply + copy)", std::move(ticks), ticks_per_ns);
  print_percentiles("durable (start -> group synced)", std::move(durable), ticks_per_ns);
  std::filesystem::remove(path);
}

void run_fdatasync(const std::string& dir, size_t bytes, double ticks_per_ns) {
  const std::string path = dir + "/replay-bench-fdatasync.tmp";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::vector<char> block(bytes, 'x');
  std::vector<uint64_t> ticks;
  for (int i = 0; i < 1000; ++i) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    const uint64_t t0 = tsc_begin();
    if (::fdatasync(fd) != 0) break;
    ticks.push_back(tsc_end() - t0);
  }
  ::close(fd);
  std::filesystem::remove(path);
  if (ticks.empty()) return;
  const std::string what = "fdatasync after a " + std::to_string(bytes) + " B write";
  print_percentiles(what.c_str(), std::move(ticks), ticks_per_ns);
}

}  // namespace
}  // namespace hft::engine::bench

int main(int argc, char** argv) {
  using namespace hft::engine::bench;
  const Options options = parse(argc, argv);
  if (options.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("sched_setaffinity");
  }
  WorkloadMix mix;
  const auto generating = std::chrono::steady_clock::now();
  const std::vector<hft::engine::Command> commands = generate_workload(options.workload, mix);
  const double total = static_cast<double>(mix.new_orders + mix.cancels + mix.replaces + mix.aggressive + mix.stops);
  std::printf("workload: %zu commands over %u instruments, seed %llu, generated in %.1f s\n", commands.size(), options.workload.instruments,
              static_cast<unsigned long long>(options.workload.seed), seconds_since(generating));
  std::printf("  passive new %.1f%%, cancel %.1f%%, replace %.1f%%, aggressive %.1f%%, stop %.1f%%; %llu trades\n", 100 * mix.new_orders / total,
              100 * mix.cancels / total, 100 * mix.replaces / total, 100 * mix.aggressive / total, 100 * mix.stops / total,
              static_cast<unsigned long long>(mix.trades));

  const double ticks_per_ns = calibrate_tsc();
  std::vector<uint64_t> empty(100'000);
  for (uint64_t& e : empty) {
    const uint64_t t0 = tsc_begin();
    e = tsc_end() - t0;
  }
  std::sort(empty.begin(), empty.end());
  std::printf("TSC %.3f GHz; an empty measurement costs %.0f ns (median), included in every per-command figure\n", ticks_per_ns,
              static_cast<double>(empty[empty.size() / 2]) / ticks_per_ns);

  const auto section = [&](char n) { return options.sections.find(n) != std::string::npos; };
  if (section('1')) {
    std::printf("\n1. in memory, throughput\n");
    run_throughput(commands, options.throughput_runs);
  }
  if (section('2')) {
    std::printf("\n2. in memory, latency\n");
    run_latency(commands, ticks_per_ns);
  }
  if (section('3')) {
    std::printf("\n3. journal on: group commit of %u records or %u us, fdatasync, in %s\n", options.group_records, options.group_micros,
                options.journal_dir.c_str());
    run_journaled(commands, options, ticks_per_ns);
  }
  if (section('4')) {
    std::printf("\n4. this disk's fdatasync, same directory\n");
    std::filesystem::create_directories(options.journal_dir);
    run_fdatasync(options.journal_dir, 4096, ticks_per_ns);
    run_fdatasync(options.journal_dir, 256 * 1024, ticks_per_ns);
  }
  if (section('5')) {
    std::printf("\n5. journal on, committed by a thread of its own (as hft-engine does): groups sealed at %u records or %u us, in %s\n",
                options.group_records, options.group_micros, options.journal_dir.c_str());
    run_pipelined(commands, options, ticks_per_ns);
  }
  return 0;
}
