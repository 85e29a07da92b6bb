import { describe, expect, it } from "vitest";
import { LatencySamples, summarize } from "./latency.js";

describe("summarize", () => {
  it("takes the sample at floor(q * n) of the sorted samples", () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    expect(summarize(samples)).toEqual({ p50: 501, p90: 901, p99: 991, p999: 1000, max: 1000 });
  });
  it("refuses to summarise nothing", () => {
    expect(() => summarize([])).toThrow("no latency samples");
  });
});

describe("LatencySamples.addCorrected", () => {
  it("adds the requests a late answer held back at the expected interval", () => {
    const samples = new LatencySamples();
    samples.addCorrected(350, 100);
    samples.addCorrected(50, 100);
    expect(samples.count).toBe(4);
    expect(samples.summary()).toEqual({ p50: 250, p90: 350, p99: 350, p999: 350, max: 350 });
  });
});
