/**
 * The Makefile as its help describes it: every target listed with a description, every listed
 * target resolvable, each a thin alias for the script it names; and the two small scripts that
 * exist for it (scripts/logs.sh, scripts/bench.sh) refuse what they cannot do.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "./support/until.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs make in the repository; resolves with the exit code and output whatever the code. */
function make(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("make", ["--no-print-directory", "-C", root, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const makefile = () => readFile(join(root, "Makefile"), "utf8");
const definedTargets = async () => [...(await makefile()).matchAll(/^([a-z][a-z-]*):/gm)].map((m) => m[1]!);
const listedTargets = async () => [...(await make(["help"])).stdout.matchAll(/^ {2}make (\S+) +\S/gm)].map((m) => m[1]!);

describe("Makefile", () => {
  it("lists every target it defines in make help, each with a description", async () => {
    const { code, stdout } = await make(["help"]);
    expect(code).toBe(0);
    expect(await listedTargets()).toEqual(await definedTargets());
    for (const line of stdout.trimEnd().split("\n")) expect(line).toMatch(/^ {2}make [a-z-]+ +\S.{10,}$/);
  });

  it("has the everyday commands", async () => {
    const everyday = ["up", "down", "restart", "status", "logs", "health", "migrate", "migrate-status", "backup", "restore", "token", "generate", "build", "lint", "test", "bench", "load", "observe", "clean", "docker-build", "docker-up", "docker-down", "certs"];
    expect(await listedTargets()).toEqual(expect.arrayContaining(everyday));
  });

  it("shows help when called without a target", async () => {
    expect((await make([])).stdout).toBe((await make(["help"])).stdout);
  });

  it("declares every target phony, so a file of the same name never hides one", async () => {
    const phony = /^\.PHONY:(.*)$/m.exec(await makefile())?.[1]?.trim().split(/\s+/) ?? [];
    expect([...phony].sort()).toEqual([...(await definedTargets())].sort());
  });

  it("resolves every listed target: make -n plans it without running it", async () => {
    for (const target of await listedTargets()) {
      const { code, stderr } = await make(["-n", target]);
      expect({ target, code, stderr }).toEqual({ target, code: 0, stderr: "" });
    }
  });

  it("fails for a target it does not have", async () => {
    const { code, stderr } = await make(["-n", "deploy"]);
    expect(code).not.toBe(0);
    expect(stderr).toContain("No rule to make target 'deploy'");
  });

  it("calls only scripts that exist", async () => {
    const scripts = new Set([...(await makefile()).matchAll(/\bbash (scripts\/[\w-]+\.sh)/g)].map((m) => m[1]!));
    expect(scripts.size).toBeGreaterThan(5);
    for (const script of scripts) expect(existsSync(join(root, script)), script).toBe(true);
  });

  it("passes SERVICE, FILE, ARGS and BENCH on to the scripts", async () => {
    // make leaves a space where an empty variable was
    const planned = async (...args: string[]) => (await make(["-n", ...args])).stdout.replace(/ +$/gm, "");
    expect(await planned("logs", "SERVICE=gateway")).toBe("bash scripts/logs.sh gateway\n");
    expect(await planned("health", "ARGS=--json")).toBe("bash scripts/monitor.sh --json\n");
    expect(await planned("backup", "ARGS=--format=plain")).toBe("bash scripts/backup.sh --engine-dir .run/engine --format=plain\n");
    expect(await planned("restore", "FILE=.run/backups/x.dump", "ARGS=--yes")).toBe("bash scripts/restore.sh --yes .run/backups/x.dump\n");
    expect(await planned("bench")).toBe("bash scripts/bench.sh all\n");
    expect(await planned("bench", "BENCH=replay", "ARGS=--runs=1")).toBe("bash scripts/bench.sh replay --runs=1\n");
    expect(await planned("bench", "BENCH=report")).toBe("bash scripts/bench.sh report\n");
    expect(await planned("load")).toBe("bash scripts/bench.sh all --profile=standard\n");
    expect(await planned("load", "PROFILE=soak", "ARGS=--only=gateway")).toBe("bash scripts/bench.sh all --profile=soak --only=gateway\n");
    expect(await planned("docker-up")).toBe("docker compose --env-file compose.env up -d\n");
  });

  it("refuses make token without an account", async () => {
    const { code, stderr } = await make(["token"]);
    expect(code).not.toBe(0);
    expect(stderr).toContain("usage: make token ACCOUNT=<name> [ROLE=viewer|trader|admin]");
  });
});

describe("make logs", () => {
  let dir: string;
  let tail: ChildProcess | undefined;
  afterEach(async () => {
    const child = tail;
    tail = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const stackDir = async () => {
    dir = await mkdtemp(join(tmpdir(), "hft-logs-"));
    await mkdir(join(dir, "logs"));
    return dir;
  };

  it("follows the one log SERVICE names, lines written later included", async () => {
    const run = await stackDir();
    await writeFile(join(run, "logs", "gateway.log"), '{"msg":"gateway listening"}\n');
    await writeFile(join(run, "logs", "engine.log"), '{"msg":"engine line"}\n');
    tail = spawn("make", ["--no-print-directory", "-s", "-C", root, "logs", "SERVICE=gateway"], { env: { ...process.env, HFT_STACK_DIR: run } });
    let output = "";
    tail.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await until(() => output.includes("gateway listening"), "the gateway log's existing line");
    await appendFile(join(run, "logs", "gateway.log"), '{"msg":"a later line"}\n');
    await until(() => output.includes("a later line"), "the line appended afterwards");
    expect(output).not.toContain("engine line");
  });

  it("follows the engine's and the services' logs together without SERVICE", async () => {
    const run = await stackDir();
    for (const name of ["engine", "order-service", "analytics-service", "gateway", "postgres"]) await writeFile(join(run, "logs", `${name}.log`), `line of ${name}\n`);
    tail = spawn("bash", [join(root, "scripts/logs.sh")], { env: { ...process.env, HFT_STACK_DIR: run } });
    let output = "";
    tail.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await until(() => ["engine", "order-service", "analytics-service", "gateway"].every((name) => output.includes(`line of ${name}`)), () => `every service's line in:\n${output}`);
    expect(output).not.toContain("line of postgres");
  });

  it("refuses a name that is not a log, listing the known ones", async () => {
    const { code, stderr } = await make(["logs", "SERVICE=grafana"], { HFT_STACK_DIR: await stackDir() });
    expect(code).not.toBe(0);
    expect(stderr).toContain('logs: "grafana" is not a known log; expected one of: engine order-service analytics-service gateway postgres redis kafka prometheus jaeger');
  });

  it("says so when the log does not exist yet", async () => {
    const run = await stackDir();
    const { code, stderr } = await make(["logs", "SERVICE=kafka"], { HFT_STACK_DIR: run });
    expect(code).not.toBe(0);
    expect(stderr).toContain(`logs: no log of kafka in ${run}/logs yet; start it first (make up)`);
  });
});

describe("make bench", () => {
  it("refuses a benchmark it does not have", async () => {
    const { code, stderr } = await make(["bench", "BENCH=matching"]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('bench: "matching" is not a benchmark; expected one of: engine|replay|grpc|orders|analytics|gateway|all|report');
  });

  it("refuses what the harness does not take before building anything, and flags for the gateway benchmark, which reads its settings from the environment", async () => {
    expect((await make(["bench", "ARGS=--runs=1"])).stderr).toContain("bench: all takes --profile=NAME, --only=SCENARIO,... and --out=DIR (got: --runs=1)");
    expect((await make(["load", "PROFILE=forever"])).stderr).toContain('bench: no profile "forever" in bench/profiles.json; there are: ');
    expect((await make(["bench", "BENCH=gateway", "ARGS=--duration=5"])).stderr).toContain("bench: gateway takes no flags; set DURATION_S, CONCURRENCY or CONNECTIONS instead (got: --duration=5)");
  });
});
