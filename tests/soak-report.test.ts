import { describe, expect, it } from "vitest";
import { type Sample, formatTable, growthOf, metricValue, slope } from "../scripts/soak-report.js";

const sample = (atSeconds: number, rssBytes: number, fds: number, heapUsedBytes?: number): Sample => ({ atSeconds, rssBytes, fds, ...(heapUsedBytes === undefined ? {} : { heapUsedBytes }) });

describe("slope", () => {
  it("is the least-squares slope, not end minus start", () => {
    expect(slope([[0, 1], [1, 3], [2, 5]])).toBe(2);
    // One spike in the middle moves the fit, not as much as the spike.
    expect(slope([[0, 10], [1, 100], [2, 10]])).toBe(0);
  });

  it("is 0 for fewer than two points or a single x", () => {
    expect(slope([])).toBe(0);
    expect(slope([[1, 5]])).toBe(0);
    expect(slope([[1, 5], [1, 9]])).toBe(0);
  });
});

describe("growthOf", () => {
  const samples = [sample(0, 900, 99, 1), sample(60, 100, 10, 50), sample(120, 160, 10, 40), sample(180, 220, 13, 60)];

  it("leaves the warm-up out and gives start, end, max and the slope per minute", () => {
    expect(growthOf(samples, "rssBytes", 60)).toEqual({ start: 100, end: 220, max: 220, perMinute: 60 });
    expect(growthOf(samples, "fds", 60)).toEqual({ start: 10, end: 13, max: 13, perMinute: 1.5 });
  });

  it("uses every sample when none is past the warm-up, and nothing when the measure is absent", () => {
    expect(growthOf(samples, "heapUsedBytes", 600)).toMatchObject({ start: 1, end: 60, max: 60 });
    expect(growthOf([sample(0, 1, 1), sample(5, 2, 1)], "heapUsedBytes", 0)).toBeUndefined();
  });
});

describe("formatTable", () => {
  it("writes RSS and heap in MiB, fds as counts, a dash for what a process lacks", () => {
    const mib = 2 ** 20;
    const table = formatTable({ engine: { rssBytes: { start: 10 * mib, end: 12 * mib, max: 13 * mib, perMinute: 0.5 * mib }, fds: { start: 15, end: 15, max: 16, perMinute: 0 } } });
    expect(table.split("\n")).toEqual([
      "process  RSS MiB                        heap used MiB  open fds",
      "engine   10.0→12.0 (max 13.0) +0.5/min  -              15→15 (max 16) +0/min",
    ]);
  });
});

describe("metricValue", () => {
  const exposition = '# HELP nodejs_heap_size_used_bytes x\nnodejs_heap_size_used_bytes 1234\nnodejs_heap_size_total_bytes{service="a"} 99\n';

  it("reads an unlabelled or labelled sample, and nothing for a missing one", () => {
    expect(metricValue(exposition, "nodejs_heap_size_used_bytes")).toBe(1234);
    expect(metricValue(exposition, "nodejs_heap_size_total_bytes")).toBe(99);
    expect(metricValue(exposition, "nodejs_external_memory_bytes")).toBeUndefined();
  });
});
