/**
 * A toxiproxy server (built by scripts/install-tools.sh into .deps/bin) on a loopback port, driven
 * through its HTTP API: one proxy per link of the order service, and toxics added to and removed
 * from them. Every call is bounded in time and fails naming what the server answered.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "../support/engine-process.js";
import { until } from "../support/until.js";

export const toxiproxyBinary = fileURLToPath(new URL("../../.deps/bin/toxiproxy-server", import.meta.url));

/** The toxics the suite injects (toxiproxy's names); attributes as toxiproxy defines them, times in ms. */
export type Toxic =
  /** Every chunk delayed by `latency` ms. */
  | { readonly type: "latency"; readonly attributes: { readonly latency: number; readonly jitter?: number } }
  /** Connections reset (TCP RST) `timeout` ms after data arrives. */
  | { readonly type: "reset_peer"; readonly attributes: { readonly timeout: number } }
  /** No data passes; connections are closed after `timeout` ms. */
  | { readonly type: "timeout"; readonly attributes: { readonly timeout: number } };

export interface Toxiproxy {
  /** host:port of the HTTP API. */
  readonly api: string;
  /** Creates a proxy from a free loopback port (or `listenPort`) to `upstream`; resolves with its host:port. */
  proxy(name: string, upstream: string, listenPort?: number): Promise<string>;
  /** Adds `toxic` to both directions of the proxy's connections; resolves with the toxic names to remove. */
  addToxic(proxy: string, toxic: Toxic): Promise<string[]>;
  removeToxic(proxy: string, toxic: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startToxiproxy(): Promise<Toxiproxy> {
  if (!existsSync(toxiproxyBinary)) throw new Error(`${toxiproxyBinary} is missing: run scripts/install-tools.sh`);
  const port = await freePort();
  const api = `127.0.0.1:${port}`;
  const child: ChildProcess = spawn(toxiproxyBinary, ["-host", "127.0.0.1", "-port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  async function request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`http://${api}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`toxiproxy ${method} ${path} answered ${response.status}: ${text}`);
    return text === "" ? undefined : JSON.parse(text);
  }

  try {
    await until(
      () => request("GET", "/version").then(() => true, () => child.exitCode === null ? false : Promise.reject(new Error(`toxiproxy exited:\n${output}`))),
      () => `toxiproxy to answer on ${api}:\n${output}`,
      10_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    api,
    async proxy(name, upstream, listenPort) {
      const listen = `127.0.0.1:${listenPort ?? (await freePort())}`;
      await request("POST", "/proxies", { name, listen, upstream, enabled: true });
      return listen;
    },
    async addToxic(proxy, toxic) {
      const names: string[] = [];
      for (const stream of ["upstream", "downstream"] as const) {
        const name = `${toxic.type}-${stream}`;
        await request("POST", `/proxies/${proxy}/toxics`, { name, type: toxic.type, stream, toxicity: 1, attributes: toxic.attributes });
        names.push(name);
      }
      return names;
    },
    async removeToxic(proxy, toxic) {
      await request("DELETE", `/proxies/${proxy}/toxics/${toxic}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
