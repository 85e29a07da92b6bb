/** What a result was measured on and at which commit, recorded in every result file. */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import type { Machine } from "./result.js";

const loadAverage = () => os.loadavg().map((v) => Math.round(v * 100) / 100) as [number, number, number];

/** The machine now; `loadAverageEnd` is filled in by `finishMachine` when the scenario ends. */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() || "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverageStart: loadAverage(),
    loadAverageEnd: loadAverage(),
  };
}

export const finishMachine = (machine: Machine): Machine => ({ ...machine, loadAverageEnd: loadAverage() });

/** The checkout's commit, "+dirty" when tracked files differ from it; "unknown" outside git. */
export function currentCommit(cwd: string): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8" }).trim() !== "";
    return dirty ? `${commit}+dirty` : commit;
  } catch {
    return "unknown";
  }
}
