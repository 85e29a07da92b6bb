/**
 * The engine benchmarks' printed reports (engine-cpp/bench: replay_bench, grpc_load) read back
 * as numbers. Each reader fails with the line it expected, so a change of format stops the
 * harness (and its smoke test) instead of recording nothing.
 */
import type { LatencyUs } from "./result.js";

const toUs: Record<string, number> = { ns: 1 / 1000, us: 1 };

/** Every percentile line of bench/percentiles.h, by its label, in µs. */
export function percentileLines(output: string): Map<string, LatencyUs> {
  const lines = new Map<string, LatencyUs>();
  const pattern = /^\s*(.+?)\s+p50\s+([\d.]+) (ns|us)\s+p90\s+([\d.]+)\s+p99\s+([\d.]+)\s+p99\.9\s+([\d.]+)\s+p99\.99\s+[\d.]+\s+max\s+([\d.]+)\s*$/gm;
  for (const m of output.matchAll(pattern)) {
    const scale = toUs[m[3]!]!;
    const us = (i: number) => Math.round(Number(m[i]) * scale * 1000) / 1000;
    lines.set(m[1]!, { p50: us(2), p90: us(4), p99: us(5), p999: us(6), max: us(7) });
  }
  return lines;
}

function line(lines: Map<string, LatencyUs>, label: string, output: string): LatencyUs {
  const found = lines.get(label);
  if (!found) throw new Error(`no percentile line "${label}" in:\n${output}`);
  return found;
}

function match(output: string, pattern: RegExp, what: string): RegExpMatchArray {
  const m = pattern.exec(output);
  if (!m) throw new Error(`no ${what} line (${pattern}) in:\n${output}`);
  return m;
}

export interface EngineFigure {
  readonly commands: number;
  readonly seconds: number;
  readonly latencyUs: LatencyUs;
}

/** replay_bench's numbered sections ("1. in memory, throughput", ...) by number. */
function sections(output: string): Map<number, string> {
  const found = new Map<number, string>();
  const parts = output.split(/^(?=\d+\. )/m);
  for (const part of parts) {
    const n = /^(\d+)\. /.exec(part);
    if (n) found.set(Number(n[1]), part);
  }
  return found;
}

function journaledFigure(section: string): EngineFigure {
  const run = match(section, /^\s*(\d+) commands in ([\d.]+) s = [\d.]+ M commands\/s; \d+ fdatasyncs/m, "journaled run");
  return { commands: Number(run[1]), seconds: Number(run[2]), latencyUs: line(percentileLines(section), "durable (start -> group synced)", section) };
}

/**
 * replay_bench with --runs=1: the in-memory run (per-command latency), the journaled one on the
 * matching thread (section 3, durable latency) and, when the build has it, the journal committed
 * by a thread of its own as hft-engine does (section 5).
 */
export function parseReplay(output: string): { memory: EngineFigure; journaled: EngineFigure; committer?: EngineFigure } {
  const parts = sections(output);
  const throughput = parts.get(1) ?? "";
  const memory = match(throughput, /^\s*run 1: (\d+) commands in ([\d.]+) s/m, "in-memory run");
  const latency = parts.get(2) ?? "";
  const committer = parts.get(5);
  return {
    memory: { commands: Number(memory[1]), seconds: Number(memory[2]), latencyUs: line(percentileLines(latency), "per command, in memory", output) },
    journaled: journaledFigure(parts.get(3) ?? output),
    ...(committer ? { committer: journaledFigure(committer) } : {}),
  };
}

/** grpc_load: commands acknowledged, over how long, their ack latency, and the commands whose outcome was wrong. */
export function parseGrpcLoad(output: string): EngineFigure & { readonly unexpected: number } {
  const acked = match(output, /^\s*(\d+) commands acknowledged in ([\d.]+) s/m, "acknowledged");
  const latency = [...percentileLines(output)].find(([label]) => label.startsWith("ack latency"));
  if (!latency) throw new Error(`no ack latency line in:\n${output}`);
  const rejections = match(output, /^\s*UNEXPECTED rejections:(.*)$/m, "unexpected rejections")[1]!;
  const outcomes = /UNEXPECTED outcomes [^:]*: (\d+)/.exec(output);
  const unexpected = [...rejections.matchAll(/ \w+ (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0) + Number(outcomes?.[1] ?? 0);
  return { commands: Number(acked[1]), seconds: Number(acked[2]), latencyUs: latency[1], unexpected };
}
