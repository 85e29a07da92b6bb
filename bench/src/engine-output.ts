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

/** replay_bench with --runs=1: the in-memory run (per-command latency) and the journaled one (durable latency). */
export function parseReplay(output: string): { memory: EngineFigure; journaled: EngineFigure } {
  const lines = percentileLines(output);
  const memory = match(output, /^\s*run 1: (\d+) commands in ([\d.]+) s/m, "in-memory run");
  const journaled = match(output, /^\s*(\d+) commands in ([\d.]+) s = [\d.]+ M commands\/s; \d+ fdatasyncs/m, "journaled run");
  return {
    memory: { commands: Number(memory[1]), seconds: Number(memory[2]), latencyUs: line(lines, "per command, in memory", output) },
    journaled: { commands: Number(journaled[1]), seconds: Number(journaled[2]), latencyUs: line(lines, "durable (start -> group synced)", output) },
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
