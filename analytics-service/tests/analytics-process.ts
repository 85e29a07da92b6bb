/**
 * The real analytics service (`analytics-service/src/main.ts`) as a child process, run the way
 * scripts/services.sh runs it, and the rebuild command the same way; for integration tests and
 * the benchmark.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { AnalyticsServiceClient } from "@hft/contract/grpc/hft/v1/analytics_service.js";
import { freePort } from "../../tests/support/engine-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface AnalyticsProcess {
  readonly address: string;
  readonly metricsAddress: string;
  readonly client: AnalyticsServiceClient;
  readonly output: () => string;
  /** Sends a signal and waits for the exit; resolves with the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the service with `env` on top of the test's environment; resolves once it listens. */
export async function startAnalytics(env: Readonly<Record<string, string>>, timeoutMs = 30_000): Promise<AnalyticsProcess> {
  const address = `127.0.0.1:${await freePort()}`;
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const child = spawn(process.execPath, ["--conditions=@hft/source", "--import", "tsx", "--import", "@hft/otel/register", "analytics-service/src/main.ts"], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "info", OTEL_SERVICE_NAME: "hft-analytics-service", ...env, ANALYTICS_SERVICE_LISTEN: address, ANALYTICS_SERVICE_METRICS_LISTEN: metricsAddress },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { output, exited } = capture(child);
  const deadline = Date.now() + timeoutMs;
  while (!output().includes('"msg":"analytics service listening"')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the analytics service exited (code ${child.exitCode}) before listening:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the analytics service did not listen within ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const client = new AnalyticsServiceClient(address, grpc.credentials.createInsecure());
  return {
    address,
    metricsAddress,
    client,
    output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      client.close();
      return code;
    },
  };
}

/** Runs `npm run rebuild`'s entry point with `env`; resolves with its exit code and output. */
export async function runRebuild(env: Readonly<Record<string, string>>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--conditions=@hft/source", "--import", "tsx", "analytics-service/src/rebuild-command.ts"], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { output, exited } = capture(child);
  const code = await exited;
  return { code, output: output() };
}

function capture(child: ChildProcess): { output: () => string; exited: Promise<number | null> } {
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { output: () => text, exited };
}
