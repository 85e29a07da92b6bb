import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { OrderServiceClient } from "@hft/contract/grpc/hft/v1/order_service.js";
import { freePort } from "./engine-process.js";

/** The repository root: the order service runs from there, as scripts/services.sh runs it. */
const root = fileURLToPath(new URL("../..", import.meta.url));

/** One line of the service's JSON log (pino); lines that are not JSON are kept as `{ msg: line }`. */
export interface LogLine {
  readonly msg?: string;
  readonly level?: number;
  readonly [field: string]: unknown;
}

/** The real order service (`order-service/src/main.ts`) as a child process on a loopback port. */
export interface OrderServiceProcess {
  readonly address: string;
  /** Where the service serves its Prometheus metrics (ORDER_SERVICE_METRICS_LISTEN). */
  readonly metricsAddress: string;
  readonly pid: number;
  readonly client: OrderServiceClient;
  /** Everything written to stdout and stderr so far. */
  readonly output: () => string;
  /** The JSON log lines so far, in order. */
  readonly logs: () => readonly LogLine[];
  /** Resolves with the first log line (at or after index `from`) that `match` accepts; rejects on timeout or exit. */
  waitForLog(match: (line: LogLine) => boolean, options?: { timeoutMs?: number; from?: number }): Promise<LogLine>;
  /** Sends a signal and waits for the exit; resolves with the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOrderServiceOptions {
  /** Variables on top of the test process's environment (which holds .env.example's values). */
  readonly env: Readonly<Record<string, string>>;
  readonly port?: number;
  /** How long to wait for "order service listening". */
  readonly readyTimeoutMs?: number;
  /** The test client's credentials (TLS when the service is given TLS_CERT_FILE); plaintext by default. */
  readonly credentials?: grpc.ChannelCredentials;
}

export async function startOrderService(options: StartOrderServiceOptions): Promise<OrderServiceProcess> {
  const address = `127.0.0.1:${options.port ?? (await freePort())}`;
  // Its own metrics port too: the default (9465) may be taken by the local services or another test.
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const child: ChildProcess = spawn(process.execPath, [...(process.env.PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROF_DIR}`] : []), "--conditions=@hft/source", "--import", "tsx", "--import", "@hft/otel/register", "order-service/src/main.ts"], {
    cwd: root,
    // LOG_LEVEL info at least: readiness and the engine links are reported at info.
    env: { ...process.env, LOG_LEVEL: "info", OTEL_SERVICE_NAME: "hft-order-service", ...options.env, ORDER_SERVICE_LISTEN: address, ORDER_SERVICE_METRICS_LISTEN: metricsAddress },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let partial = "";
  const lines: LogLine[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    const parts = (partial + text).split("\n");
    partial = parts.pop()!;
    for (const part of parts) if (part.trim() !== "") lines.push(parseLine(part));
  });
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;

  async function waitForLog(match: (line: LogLine) => boolean, { timeoutMs = 15_000, from = 0 } = {}): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (let next = from; ; ) {
      for (; next < lines.length; next++) if (match(lines[next]!)) return lines[next]!;
      if (!running()) throw new Error(`the order service exited (code ${child.exitCode}, signal ${child.signalCode}) before the awaited log line:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the awaited log line did not appear within ${timeoutMs} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  try {
    await waitForLog((line) => line.msg === "order service listening", { timeoutMs: options.readyTimeoutMs ?? 30_000 });
  } catch (error) {
    if (running()) child.kill("SIGKILL");
    throw error;
  }
  const client = new OrderServiceClient(address, options.credentials ?? grpc.credentials.createInsecure());
  return {
    address,
    metricsAddress,
    pid: child.pid!,
    client,
    output: () => output,
    logs: () => lines,
    waitForLog,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (running()) child.kill(signal);
      const code = await exited;
      // Closed only after the exit, so calls in flight fail because the process went away.
      client.close();
      return code;
    },
  };
}

function parseLine(line: string): LogLine {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === "object") return parsed as LogLine;
  } catch {
    // not JSON: kept as text below
  }
  return { msg: line };
}
