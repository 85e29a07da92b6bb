import { readFileSync } from "node:fs";

/**
 * The user + system CPU seconds a process has used so far, all its threads, from Linux's
 * /proc/<pid>/stat (in USER_HZ, 100 per second on Linux); NaN where that cannot be read. On a busy
 * machine the CPU a server spends per request moves far less than its rate does.
 */
export function processCpuSeconds(pid: number): number {
  try {
    // The fields after the command name, which may hold spaces and parentheses: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
