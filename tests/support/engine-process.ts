import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { EngineServiceClient } from "@hft/contract/grpc/hft/v1/engine_service.js";

/** The engine binary that scripts/test.sh builds before the integration suite. */
export const engineBinary = fileURLToPath(new URL("../../engine-cpp/build/hft-engine", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A real hft-engine process on a loopback port, with its own data directory. */
export interface EngineProcess {
  readonly address: string;
  /** The engine's process id (what /proc describes). */
  readonly pid: number;
  /** The Prometheus endpoint, on its own free port. */
  readonly metricsUrl: string;
  readonly dataDir: string;
  readonly client: EngineServiceClient;
  readonly output: () => string;
  /** Sends a signal and waits for the exit; resolves with the exit code (null when killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartEngineOptions {
  readonly dataDir?: string;
  readonly port?: number;
  readonly args?: readonly string[];
  /** The test client's credentials (TLS when the engine is started with --tls-cert); plaintext by default. */
  readonly credentials?: grpc.ChannelCredentials;
}

export async function startEngine(options: StartEngineOptions = {}): Promise<EngineProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "hft-engine-")));
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const flags = [`--listen=${address}`, `--data-dir=${dataDir}`, `--metrics-listen=${metricsAddress}`, ...(options.args ?? [])];
  const child: ChildProcess = spawn(engineBinary, flags, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const client = new EngineServiceClient(address, options.credentials ?? grpc.credentials.createInsecure());
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await new Promise<boolean>((resolve) => client.waitForReady(Date.now() + 500, (err) => resolve(!err)));
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      client.close();
      throw new Error(`engine did not start on ${address}:\n${output}`);
    }
  }
  return {
    address,
    pid: child.pid!,
    metricsUrl: `http://${metricsAddress}/metrics`,
    dataDir,
    client,
    output: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      client.close();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
