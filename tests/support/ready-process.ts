/**
 * A child process started the way the local stack starts it, resolved once its output says it is
 * ready; and the gateway started that way, in front of given backends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./engine-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface SpawnOptions {
  /** Whether the child also gets this process's environment under `env` (default) or `env` alone. */
  readonly inheritEnv?: boolean;
}

/** Spawns `command` in the repository and resolves once its output contains `ready`; rejects if it exits or 30 s pass first. */
export async function spawnUntilReady(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  ready: string,
  { inheritEnv = true }: SpawnOptions = {},
): Promise<ChildProcess> {
  const child = spawn(command, args, { cwd: root, env: inheritEnv ? { ...process.env, ...env } : { ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")} not ready within 30 s:\n${output}`)), 30_000);
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", seen);
    child.stderr!.on("data", seen);
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`${command} exited with ${code}:\n${output}`))));
  });
  child.removeAllListeners("exit");
  return child;
}

export interface GatewayProcess {
  readonly address: string;
  readonly child: ChildProcess;
}

/** The real gateway (`gateway/src/main.ts`, traced) on a free loopback port in front of `backends`. */
export async function startGatewayProcess(backends: { readonly orders: string; readonly analytics: string }, env: Readonly<Record<string, string>> = {}): Promise<GatewayProcess> {
  const address = `127.0.0.1:${await freePort()}`;
  const child = await spawnUntilReady(
    process.execPath,
    // PROF_DIR: a CPU profile of the gateway (node --cpu-prof), written when it exits.
    [...(process.env.PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROF_DIR}`] : []), "--conditions=@hft/source", "--import", "tsx", "--import", "@hft/otel/register", "gateway/src/main.ts"],
    {
      LOG_LEVEL: "info",
      OTEL_SERVICE_NAME: "hft-gateway",
      GATEWAY_LISTEN: address,
      GATEWAY_ORDER_SERVICE: backends.orders,
      GATEWAY_MARKET_DATA_SERVICE: backends.orders,
      GATEWAY_ANALYTICS_SERVICE: backends.analytics,
      GATEWAY_REDIS_KEY_PREFIX: `hft-test:${process.pid}:${address}:gateway:`,
      ...env,
    },
    "gateway listening",
  );
  return { address, child };
}
