/**
 * make soak, very short: it starts its own processes, drives every kind of operation of its mix,
 * samples every process and writes the report; the figures themselves are not judged here.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

function soak(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--conditions=@hft/source", "--import", "tsx", "scripts/soak.ts", ...args], { cwd: root, timeout: 90_000, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, output: stdout + stderr });
    });
  });
}

describe("soak", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it("reports every process with samples and every kind of operation it ran", { timeout: 100_000 }, async () => {
    const out = await mkdtemp(join(tmpdir(), "hft-soak-"));
    dirs.push(out);
    const { code, output } = await soak(["--minutes=0.1", "--sample-seconds=1", `--out=${out}`]);
    expect(code, output).toBe(0);
    const [file] = await readdir(out);
    const report = JSON.parse(await readFile(join(out, file!), "utf8"));
    expect(report.verdict).toBe("ran");
    expect(report.died).toEqual([]);
    expect(Object.keys(report.samples).sort()).toEqual(["analytics-service", "engine", "gateway", "order-service"]);
    for (const [name, samples] of Object.entries<{ rssBytes: number; fds: number; heapUsedBytes?: number }[]>(report.samples)) {
      expect(samples.length, name).toBeGreaterThanOrEqual(3);
      for (const s of samples) {
        expect(s.rssBytes, name).toBeGreaterThan(0);
        expect(s.fds, name).toBeGreaterThan(0);
        if (name !== "engine") expect(s.heapUsedBytes, name).toBeGreaterThan(0);
      }
      expect(Object.keys(report.growth[name]).sort(), name).toEqual(name === "engine" ? ["fds", "rssBytes"] : ["fds", "heapUsedBytes", "rssBytes"]);
    }
    const kinds = ["entry stream opened", "entry place", "unary place", "rest place", "rest list", "rest book", "analytics summary", "grpc order stream", "grpc market stream", "ws client"];
    for (const kind of kinds) expect(report.load.byKind[kind]?.ok, kind).toBeGreaterThan(0);
    expect(report.load.ok).toBeGreaterThan(0);
    expect(output).toContain("soak: ran; report");
  });

  it("refuses a bad flag with a message naming it", async () => {
    const { code, output } = await soak(["--minutes=soon"]);
    expect(code).toBe(2);
    expect(output).toContain('--minutes must be a number from 0.05 to 1440, got "soon"');
  });
});
