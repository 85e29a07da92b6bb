/**
 * The soak's figures: each process sampled over the run (RSS, V8 heap, open file descriptors),
 * summarized per measure after the warm-up as start, end, max and growth per minute (the
 * least-squares slope over those samples, so one spike does not read as growth).
 */

/** One sample of one process; `heapUsedBytes` is absent for the engine (no V8) or when /metrics did not answer. */
export interface Sample {
  /** Seconds since the load started. */
  readonly atSeconds: number;
  readonly rssBytes: number;
  readonly fds: number;
  readonly heapUsedBytes?: number;
}

export type Measure = "rssBytes" | "heapUsedBytes" | "fds";
export const measures: readonly Measure[] = ["rssBytes", "heapUsedBytes", "fds"];

export interface Growth {
  readonly start: number;
  readonly end: number;
  readonly max: number;
  /** Least-squares slope over the samples after the warm-up, in the measure's unit per minute. */
  readonly perMinute: number;
}

/** Least-squares slope of `y` over `x`; 0 with fewer than two distinct x. */
export function slope(points: readonly (readonly [x: number, y: number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/**
 * Start, end, max and slope per minute of `measure` over the samples at or after `warmupSeconds`
 * (all samples when none is that late); undefined when no sample has the measure.
 */
export function growthOf(samples: readonly Sample[], measure: Measure, warmupSeconds: number): Growth | undefined {
  const measured = samples.filter((s) => s[measure] !== undefined);
  const settled = measured.filter((s) => s.atSeconds >= warmupSeconds);
  const kept = settled.length > 0 ? settled : measured;
  if (kept.length === 0) return undefined;
  const values = kept.map((s) => s[measure]!);
  return {
    start: values[0]!,
    end: values.at(-1)!,
    max: Math.max(...values),
    perMinute: slope(kept.map((s) => [s.atSeconds / 60, s[measure]!])),
  };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)}`;
const signed = (text: string) => (text.startsWith("-") ? text : `+${text}`);

/** One line per process: RSS and heap in MiB, fds as counts, each start→end (max) and slope per minute. */
export function formatTable(growth: Readonly<Record<string, Partial<Record<Measure, Growth>>>>): string {
  const cell = (g: Growth | undefined, format: (n: number) => string) =>
    g ? `${format(g.start)}→${format(g.end)} (max ${format(g.max)}) ${signed(format(g.perMinute))}/min` : "-";
  const rows = Object.entries(growth).map(([name, g]) => [name, cell(g.rssBytes, mib), cell(g.heapUsedBytes, mib), cell(g.fds, (n) => n.toFixed(n % 1 === 0 ? 0 : 2))]);
  const header = ["process", "RSS MiB", "heap used MiB", "open fds"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

/** The value of an unlabelled (or first labelled) Prometheus sample `name` in a text exposition. */
export function metricValue(exposition: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(exposition);
  return match ? Number(match[1]) : undefined;
}
