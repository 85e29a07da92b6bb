/**
 * ghz (`.deps/bin/ghz`, installed by scripts/install-tools.sh) driving one unary RPC: closed loop
 * (`concurrency` workers back to back for `seconds`) or open loop (`rate` calls per second,
 * `rate x seconds` of them, with enough workers that a slow answer does not hold back the next
 * call). Latencies come from ghz's per-call details, in full.
 */
import { LatencySamples } from "./latency.js";
import { root, runCommand } from "./processes.js";

export interface GhzOptions {
  readonly address: string;
  /** package.Service.Method */
  readonly call: string;
  /** The request as protobuf JSON; ghz's templates apply ({{.RequestNumber}}). */
  readonly data: object;
  readonly metadata: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly connections: number;
  readonly seconds: number;
  /** Open loop at this many calls per second; closed loop without. */
  readonly rate?: number;
}

export interface GhzResult {
  readonly latencies: LatencySamples;
  readonly ok: number;
  readonly errors: number;
  readonly seconds: number;
}

interface GhzReport {
  readonly total: number; // ns
  readonly endReason: string;
  readonly details: readonly { readonly latency: number; readonly error: string; readonly status: string }[] | null;
}

// A closed run ends at its duration by cancelling the calls still in flight: those are the end of
// the run, not failures of the server.
const cutOffAtEnd = /closed network connection|context canceled|client connection is closing|DeadlineExceeded/;

export async function runGhz(options: GhzOptions): Promise<GhzResult> {
  if (!/^127\.0\.0\.1:\d+$/.test(options.address)) throw new Error(`ghz targets loopback only, got ${options.address}`);
  const load = options.rate === undefined ? ["-z", `${options.seconds}s`] : ["--rps", String(options.rate), "-n", String(Math.max(1, Math.round(options.rate * options.seconds)))];
  const args = [
    "--insecure",
    "--proto", "proto/hft/v1/order_service.proto",
    "-i", "proto,.deps/proto",
    "--call", options.call,
    "-d", JSON.stringify(options.data),
    "-m", JSON.stringify(options.metadata),
    "-c", String(options.concurrency),
    "--connections", String(options.connections),
    "-t", "20s",
    ...load,
    "-O", "json",
    options.address,
  ];
  const out = await runCommand(`${root}.deps/bin/ghz`, args, { timeoutMs: (options.seconds + 60) * 1_000 });
  if (out.code !== 0) throw new Error(`ghz exited with ${out.code}: ${out.stderr}`);
  const report = JSON.parse(out.stdout) as GhzReport;
  const latencies = new LatencySamples();
  let errors = 0;
  for (const call of report.details ?? []) {
    if (call.status === "OK") latencies.add(call.latency / 1000);
    else if (!(options.rate === undefined && cutOffAtEnd.test(call.error))) errors++;
  }
  return { latencies, ok: latencies.count, errors, seconds: report.total / 1e9 };
}
