import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root: services run from there, as scripts/services.sh runs them. */
const root = fileURLToPath(new URL("../..", import.meta.url));

/** A TypeScript service (`<dir>/src/main.ts`) as a child process, started as scripts/services.sh starts it. */
export interface ServiceProcess {
  readonly pid: number;
  readonly output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node --import tsx <entry>` with `env` over the test's environment and resolves once a
 * JSON log line's `msg` is `readyMessage`; rejects with the output when it exits or times out.
 */
export async function startServiceProcess(entry: string, env: Readonly<Record<string, string>>, readyMessage: string, timeoutMs = 30_000): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--conditions=@hft/source", "--import", "tsx", entry], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + timeoutMs;
  while (!output.split("\n").some((line) => line.includes(`"msg":"${readyMessage}"`))) {
    if (!running()) throw new Error(`${entry} exited (code ${child.exitCode}) before "${readyMessage}":\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${entry} did not log "${readyMessage}" within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    pid: child.pid!,
    output: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (running()) child.kill(signal);
      return exited;
    },
  };
}
