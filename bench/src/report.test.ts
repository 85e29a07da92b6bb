import { describe, expect, it } from "vitest";
import { BEGIN, END, aggregate, formatUs, goals, median, replaceSection } from "./report.js";
import type { Measurement, ScenarioResult } from "./result.js";
import { HALF_OF_PEAK } from "./scenarios/order-stream.js";

const latency = { p50: 100, p90: 200, p99: 400, p999: 800, max: 1_000 };
const measurement = (over: Partial<Measurement>): Measurement => ({
  target: "order service",
  role: "subject",
  mode: "closed",
  unit: "orders",
  offeredRate: null,
  achievedRate: 1_000,
  latencyUs: latency,
  samples: 1_000,
  errors: 0,
  durationS: 1,
  settings: {},
  ceiling: null,
  ratio: null,
  ...over,
});
const result = (scenario: string, results: Measurement[]): ScenarioResult => ({
  schema: 1,
  scenario,
  description: "d",
  profile: "quick",
  startedAt: "2026-12-02T01:00:00.000Z",
  commit: "abc1234",
  machine: { cpuModel: "cpu", cores: 2, memoryGiB: 24, kernel: "Linux", node: "v20", loadAverageStart: [1, 1, 1], loadAverageEnd: [1, 1, 1] },
  results,
});

describe("aggregate", () => {
  it("takes the median of each measurement over the runs, keyed by scenario, target, mode and offered rate", () => {
    const runs = [800, 1_200, 1_000].map((rate, i) =>
      result("order-stream", [measurement({ achievedRate: rate, latencyUs: { ...latency, p99: 400 + i * 100 } }), measurement({ mode: "open", offeredRate: 500, achievedRate: 499 })]),
    );
    const [closed, open] = aggregate(runs);
    expect(closed).toMatchObject({ scenario: "order-stream", mode: "closed", runs: 3, achievedRate: 1_000, latencyUs: { p99: 500 } });
    expect(open).toMatchObject({ mode: "open", offeredRate: 500, runs: 3, achievedRate: 499 });
  });

  it("medians an even count as the mean of the middle two", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("goals", () => {
  it("takes p99 of the phase at half the closed streaming rate, matched across runs by its name", () => {
    const run = (peak: number, p99: number) =>
      result("order-stream", [
        measurement({ achievedRate: peak }),
        measurement({ mode: "open", offeredRate: 500, latencyUs: { ...latency, p99: 800 } }),
        measurement({ mode: "open", offeredRate: peak / 2, latencyUs: { ...latency, p99 }, settings: { phase: HALF_OF_PEAK } }),
      ]);
    const all = aggregate([run(2_000, 2_000), run(1_800, 1_500), run(2_200, 2_500)]);
    expect(all.filter((a) => a.mode === "open").map((a) => [a.offeredRate, a.runs])).toEqual([[500, 3], [1_000, 3]]);
    const half = goals(all).find((g) => g.goal.includes("half"))!;
    expect(half.measured).toBe("p99 2.00 ms at 1,000/s (max 2,000/s)");
    expect(half.factor).toBe(0.5);
  });

  it("says a goal's scenario was not run", () => {
    expect(goals([]).every((g) => g.measured === "not run" && g.factor === undefined)).toBe(true);
  });
});

describe("replaceSection", () => {
  const page = `# Title\n\nintro\n\n${BEGIN}\nold\n${END}\n\n# Analysis\n`;
  it("replaces what is between the markers and keeps the rest", () => {
    expect(replaceSection(page, `${BEGIN}\nnew\n${END}`)).toBe(`# Title\n\nintro\n\n${BEGIN}\nnew\n${END}\n\n# Analysis\n`);
  });
  it("refuses a page without its markers", () => {
    expect(() => replaceSection("# Title\n", "x")).toThrow("has no");
    expect(() => replaceSection(`# Title\n${BEGIN}\n`, "x")).toThrow("without the other");
  });
});

describe("formatUs", () => {
  it("writes µs, ms or s as fits", () => {
    expect([formatUs(0.42), formatUs(812.4), formatUs(3_412), formatUs(45_600), formatUs(1_230_000)]).toEqual(["0.4 µs", "812 µs", "3.41 ms", "45.6 ms", "1.23 s"]);
  });
});
