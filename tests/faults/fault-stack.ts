/**
 * The fault suite's own PostgreSQL, Redis and Kafka, started by scripts/stack.sh on free loopback
 * ports with data under .run/faults/stack, apart from the shared local stack (which other tests
 * use and which this suite must never restart). Kafka has a second listener for the order
 * service, which reaches it through toxiproxy (see HFT_KAFKA_PROXIED_PORT in stack.sh).
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "../support/engine-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const faultRunDir = `${root}.run/faults`;

export type StackServer = "postgres" | "redis" | "kafka";
const SERVERS: readonly StackServer[] = ["postgres", "redis", "kafka"];

export interface FaultStack {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** host:port of Kafka's own listener (the test, the analytics service). */
  readonly kafkaBroker: string;
  /** host:port of the listener behind the proxy, and the proxy port it advertises. */
  readonly kafkaProxied: { readonly listen: string; readonly advertisedPort: number };
  readonly pgAddress: string;
  readonly redisAddress: string;
  /** `stack.sh down <server>` then `up <server>`: a clean stop and start, data kept. */
  restart(server: StackServer): Promise<void>;
  /** Stops all three (`stack.sh down`); safe to call after a failed start. */
  stop(): Promise<void>;
}

function stackScript(env: Readonly<Record<string, string>>, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("bash", ["scripts/stack.sh", ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 180_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`scripts/stack.sh ${args.join(" ")} failed (${error.message}):\n${stdout}${stderr}`)) : resolve(stdout),
    ),
  );
}

/** A fresh stack (the previous run's data removed); `kafkaProxyPort` is where the proxy in front of Kafka will listen. */
export async function startFaultStack(kafkaProxyPort: number): Promise<FaultStack> {
  const dir = `${faultRunDir}/stack`;
  await rm(dir, { recursive: true, force: true });
  const [pg, redis, kafka, controller, proxied] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const env = {
    HFT_STACK_DIR: dir,
    HFT_PG_PORT: String(pg),
    HFT_REDIS_PORT: String(redis),
    HFT_KAFKA_PORT: String(kafka),
    HFT_KAFKA_CONTROLLER_PORT: String(controller),
    HFT_KAFKA_PROXIED_PORT: String(proxied),
    HFT_KAFKA_PROXIED_ADVERTISED_PORT: String(kafkaProxyPort),
  };
  const stack: FaultStack = {
    databaseUrl: `postgres://hft:hft@127.0.0.1:${pg}/hft`,
    redisUrl: `redis://127.0.0.1:${redis}`,
    kafkaBroker: `127.0.0.1:${kafka}`,
    kafkaProxied: { listen: `127.0.0.1:${proxied}`, advertisedPort: kafkaProxyPort },
    pgAddress: `127.0.0.1:${pg}`,
    redisAddress: `127.0.0.1:${redis}`,
    async restart(server) {
      await stackScript(env, "down", server);
      await stackScript(env, "up", server);
    },
    async stop() {
      await stackScript(env, "down", ...SERVERS);
    },
  };
  try {
    await stackScript(env, "up", ...SERVERS);
  } catch (error) {
    await stack.stop().catch(() => undefined);
    throw error;
  }
  return stack;
}
