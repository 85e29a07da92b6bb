/**
 * Latency samples in microseconds, kept whole (no histogram buckets) and summarised by nearest
 * rank, the way the engine's benchmarks report theirs (bench/percentiles.h).
 */
import type { LatencyUs } from "./result.js";

export class LatencySamples {
  private values = new Float64Array(4096);
  private size = 0;

  get count(): number {
    return this.size;
  }

  add(us: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = us;
  }

  /**
   * Adds a sample of a load generator that waits for each answer before its next request at a
   * fixed interval (autocannon's connections at an overall rate): the requests that the wait held
   * back are added too, as HdrHistogram's recordValueWithExpectedInterval does, so a stall counts
   * against every request it delayed and not just one (coordinated omission).
   */
  addCorrected(us: number, expectedIntervalUs: number): void {
    this.add(us);
    if (expectedIntervalUs <= 0) return;
    for (let missed = us - expectedIntervalUs; missed >= expectedIntervalUs; missed -= expectedIntervalUs) this.add(missed);
  }

  summary(): LatencyUs {
    return summarize(this.values.subarray(0, this.size));
  }
}

/** p50, p90, p99, p99.9 and max of `samples` (µs), each the sample at index floor(q * n) once sorted. */
export function summarize(samples: ArrayLike<number>): LatencyUs {
  if (samples.length === 0) throw new Error("no latency samples to summarise");
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: round(sorted[sorted.length - 1]!) };
}

/** Tenths of a microsecond: finer than any transport here resolves. */
const round = (us: number) => Math.round(us * 10) / 10;
