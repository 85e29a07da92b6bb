/**
 * The harness's smoke test: every scenario once with the `smoke` profile (about a second per
 * phase, low rates), each leaving a valid result file; then the report step on those files. No
 * threshold on any figure: the files' shape, rates above zero, percentiles in order, every
 * subject beside its ceiling.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BEGIN, END } from "./src/report.js";
import { type ScenarioResult, scenarioResultSchema } from "./src/result.js";
import { scenarios } from "./src/scenarios/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = (script: string, args: readonly string[], timeoutMs: number) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, ["--conditions=@hft/source", "--import", "tsx", script, ...args], { cwd: root, timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: "SIGTERM" }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    ),
  );

let dir: string;
let run: { code: number; stdout: string; stderr: string };
const results = new Map<string, ScenarioResult>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hft-bench-smoke-"));
  run = await tsx("bench/src/run.ts", ["--profile=smoke", `--out=${dir}/run`], 170_000);
  for (const file of await readdir(`${dir}/run`).catch(() => [])) {
    results.set(file.replace(/\.json$/, ""), scenarioResultSchema.parse(JSON.parse(await readFile(`${dir}/run/${file}`, "utf8"))));
  }
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("make bench, smoke profile", () => {
  it("runs every scenario to a result file", () => {
    expect({ code: run.code, failed: run.stderr.split("\n").filter((l) => l.includes("FAILED")) }).toEqual({ code: 0, failed: [] });
    expect([...results.keys()].sort()).toEqual(scenarios.map((s) => s.name).sort());
  });

  it.each(scenarios.map((s) => s.name))("%s: rates above zero, percentiles in order, each subject beside its ceiling", (name) => {
    const result = results.get(name)!;
    expect(result.scenario).toBe(name);
    expect(result.profile).toBe("smoke");
    for (const m of result.results) {
      const l = m.latencyUs;
      expect([l.p50, l.p90, l.p99, l.p999, l.max], m.target).toEqual([l.p50, l.p90, l.p99, l.p999, l.max].sort((a, b) => a - b));
      expect(m.achievedRate).toBeGreaterThan(0);
      if (m.mode === "open") expect(m.offeredRate).toBeGreaterThan(0);
      else expect(m.offeredRate).toBeNull();
      if (m.role === "subject" && name !== "engine-in-process") {
        expect(m.ceiling, m.target).not.toBeNull();
        expect(m.ratio!.rate).toBeGreaterThan(0);
      }
    }
    expect(result.results.some((m) => m.role === "subject")).toBe(true);
  });

  it("writes the results page between its markers and the charts from those files", async () => {
    const page = `${dir}/BENCHMARKS.md`;
    await copyFile(`${root}docs/BENCHMARKS.md`, page);
    const before = await readFile(page, "utf8");
    const report = await tsx("bench/src/write-report.ts", [`${dir}/run`, `--page=${page}`, `--charts=${dir}/charts`], 60_000);
    expect(report.code, report.stderr).toBe(0);
    const after = await readFile(page, "utf8");
    expect(after.slice(0, after.indexOf(BEGIN))).toBe(before.slice(0, before.indexOf(BEGIN)));
    expect(after.slice(after.indexOf(END))).toBe(before.slice(before.indexOf(END)));
    const section = after.slice(after.indexOf(BEGIN), after.indexOf(END));
    expect(section).toContain("### Against the goals");
    for (const name of scenarios.map((s) => s.name)) expect(section).toContain(`### ${name}`);
    const charts = (await readdir(`${dir}/charts`)).sort();
    expect(charts).toEqual(["engine-grpc.svg", "gateway.svg", "order-stream.svg", "order-unary.svg"]);
    for (const chart of charts) expect(await readFile(`${dir}/charts/${chart}`, "utf8")).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });
});
