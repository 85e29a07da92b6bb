/**
 * The harness's child processes: servers started until they say they listen, stopped with
 * SIGTERM (SIGKILL after a grace period), and bounded one-shot commands. Everything runs from the
 * repository root on loopback ports the harness picks.
 */
import { type ChildProcess, execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../tests/support/engine-process.js";
import { spawnUntilReady } from "../../tests/support/ready-process.js";

export const root = fileURLToPath(new URL("../..", import.meta.url));
/** The Release build scripts/bench.sh and scripts/test.sh make: the engine and its benchmarks. */
export const engineBuild = `${root}engine-cpp/build`;

/** Signals the child and waits for it; SIGKILL when it has not exited after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => (clearTimeout(force), resolve()));
    child.kill("SIGTERM");
  });
}

export interface Server {
  readonly address: string;
  readonly child: ChildProcess;
}

/** A TypeScript server of the repository (run as the services run, from source) on a free port; it must print `listening <address>`. */
export async function startNodeServer(script: string, env: Readonly<Record<string, string>> = {}): Promise<Server> {
  const address = `127.0.0.1:${await freePort()}`;
  const child = await spawnUntilReady(process.execPath, ["--conditions=@hft/source", "--import", "tsx", script, address], env, `listening ${address}`);
  return { address, child };
}

/** A binary of the engine build on a free port; it must print `listening on <address>`. */
export async function startEngineBinary(name: string, args: readonly string[] = []): Promise<Server> {
  const address = `127.0.0.1:${await freePort()}`;
  const child = await spawnUntilReady(`${engineBuild}/${name}`, [`--listen=${address}`, ...args], {}, `listening on ${address}`);
  return { address, child };
}

export interface CommandOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`); resolves whatever its exit code. */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string; timeoutMs: number; env?: Readonly<Record<string, string>> }): Promise<CommandOutput> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd ?? root, timeout: Math.ceil(options.timeoutMs), maxBuffer: 512 << 20, env: { ...process.env, ...options.env }, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}\n${error.message}` : stderr });
      },
    );
  });
}
