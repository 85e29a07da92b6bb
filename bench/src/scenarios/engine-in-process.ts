/**
 * The engine in process: replay_bench's mixed order flow on a fresh engine, in memory (each
 * command timed with the TSC) and with the journal's group commit and fdatasync (each command's
 * durable latency). No transport, so no ceiling: the goals (5 M commands/s, median < 200 ns,
 * journaled 1 M/s) are the yardstick.
 */
import { z } from "zod";
import { parseReplay } from "../engine-output.js";
import { engineBuild, runCommand } from "../processes.js";
import { defineScenario } from "../scenario.js";

export const engineInProcess = defineScenario({
  name: "engine-in-process",
  description: "replay_bench: a generated mixed flow (45% passive, 43% cancels, 6% replaces, 5% aggressive, 1% stops) applied in process",
  settings: z.strictObject({ commands: z.number().int().min(10_000).max(20_000_000) }),
  async run(settings, { scratch, log }) {
    log(`replay_bench --commands=${settings.commands}`);
    const out = await runCommand(`${engineBuild}/replay_bench`, [`--commands=${settings.commands}`, "--runs=1", `--journal-dir=${scratch}/journal`], { cwd: scratch, timeoutMs: 600_000 });
    if (out.code !== 0) throw new Error(`replay_bench exited with ${out.code}:\n${out.stdout}\n${out.stderr}`);
    const { memory, journaled, committer } = parseReplay(out.stdout);
    const common = { role: "subject", mode: "closed", unit: "commands", offeredRate: null, errors: 0, settings: { commands: settings.commands } } as const;
    return [
      { ...common, target: "engine, in memory", achievedRate: memory.commands / memory.seconds, latencyUs: memory.latencyUs, samples: memory.commands, durationS: memory.seconds },
      { ...common, target: "engine, journaled (durable)", achievedRate: journaled.commands / journaled.seconds, latencyUs: journaled.latencyUs, samples: journaled.commands, durationS: journaled.seconds },
      ...(committer
        ? [{ ...common, target: "engine, journaled by a commit thread (durable)", achievedRate: committer.commands / committer.seconds, latencyUs: committer.latencyUs, samples: committer.commands, durationS: committer.seconds }]
        : []),
    ];
  },
});
