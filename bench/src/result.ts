/**
 * The result file every scenario writes: one JSON document per scenario per run, under
 * `.run/bench/<timestamp>/<scenario>.json`. Each measurement is one target driven one way (open
 * loop at an offered rate, or closed loop for the most it does); a measurement of the system under
 * test names the bare server on the same transport measured in the same run (its ceiling) and
 * carries the ratios to it, so a figure still reads on a noisy machine.
 */
import { z } from "zod";

const nonNegative = z.number().finite().nonnegative();

/** Latency percentiles in microseconds (nearest rank: the sample at floor(q * n)). */
export const latencySchema = z.strictObject({ p50: nonNegative, p90: nonNegative, p99: nonNegative, p999: nonNegative, max: nonNegative });
export type LatencyUs = z.infer<typeof latencySchema>;

export const machineSchema = z.strictObject({
  cpuModel: z.string().min(1),
  cores: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  kernel: z.string(),
  node: z.string(),
  /** os.loadavg() (1, 5, 15 minutes) when the scenario started and when it ended: what else ran. */
  loadAverageStart: z.tuple([nonNegative, nonNegative, nonNegative]),
  loadAverageEnd: z.tuple([nonNegative, nonNegative, nonNegative]),
});
export type Machine = z.infer<typeof machineSchema>;

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

export const measurementSchema = z.strictObject({
  target: z.string().min(1),
  /** "subject": the system under test; "ceiling": the bare server on the same transport. */
  role: z.enum(["subject", "ceiling"]),
  mode: z.enum(["open", "closed"]),
  /** What one unit of the rates is: orders, commands, requests, deliveries, fills. */
  unit: z.string().min(1),
  /** Per second, open loop only. */
  offeredRate: z.number().positive().nullable(),
  achievedRate: z.number().finite().positive(),
  latencyUs: latencySchema,
  /** What the percentiles were taken over. */
  samples: z.number().int().positive(),
  errors: z.number().int().nonnegative(),
  /** The errors by kind (a refusal's reason, a status), where the load generator tells them apart. */
  errorKinds: z.record(z.string(), z.number().int().positive()).optional(),
  durationS: z.number().positive(),
  settings: z.record(z.string(), settingValue),
  /** The ceiling measured beside a subject (same mode and offered rate); null for ceilings and for in-process figures. */
  ceiling: z.strictObject({ target: z.string(), achievedRate: z.number().positive(), latencyUs: latencySchema }).nullable(),
  /** rate = achieved / the ceiling's achieved; p50 and p99 = this latency / the ceiling's (how many times slower). */
  ratio: z.strictObject({ rate: nonNegative, p50: nonNegative, p99: nonNegative }).nullable(),
});
export type Measurement = z.infer<typeof measurementSchema>;

export const scenarioResultSchema = z.strictObject({
  schema: z.literal(1),
  scenario: z.string().min(1),
  description: z.string(),
  profile: z.string(),
  startedAt: z.iso.datetime(),
  /** `git rev-parse --short HEAD`, with "+dirty" when the work tree had changes. */
  commit: z.string().min(1),
  machine: machineSchema,
  results: z.array(measurementSchema).min(1),
});
export type ScenarioResult = z.infer<typeof scenarioResultSchema>;

/** A measurement before pairing: a subject names the target of its ceiling. */
export type Measured = Omit<Measurement, "ceiling" | "ratio"> & { readonly ceilingTarget?: string };

/**
 * Pairs every subject with its ceiling's measurement of the same mode and offered rate (open
 * loop: the same rate; closed loop: the closed one) and computes the ratios. A subject whose
 * ceiling names no such measurement is an error in the scenario, not a missing figure.
 */
export function pairWithCeilings(measured: readonly Measured[]): Measurement[] {
  return measured.map(({ ceilingTarget, ...m }) => {
    if (m.role === "ceiling" || ceilingTarget === undefined) return { ...m, ceiling: null, ratio: null };
    const ceiling = measured.find((c) => c.role === "ceiling" && c.target === ceilingTarget && c.mode === m.mode && c.offeredRate === m.offeredRate);
    if (!ceiling) throw new Error(`${m.target} (${m.mode}${m.offeredRate ? ` at ${m.offeredRate}/s` : ""}): no measurement of its ceiling ${ceilingTarget} in the same mode`);
    return {
      ...m,
      ceiling: { target: ceiling.target, achievedRate: ceiling.achievedRate, latencyUs: ceiling.latencyUs },
      ratio: {
        rate: m.achievedRate / ceiling.achievedRate,
        p50: ceiling.latencyUs.p50 > 0 ? m.latencyUs.p50 / ceiling.latencyUs.p50 : 0,
        p99: ceiling.latencyUs.p99 > 0 ? m.latencyUs.p99 / ceiling.latencyUs.p99 : 0,
      },
    };
  });
}

/** The role of `target` in a scenario whose ceiling is `ceiling`, and for a subject the ceiling it is paired with. */
export const roleOf = (target: string, ceiling: string): Pick<Measured, "role" | "ceilingTarget"> =>
  target === ceiling ? { role: "ceiling" } : { role: "subject", ceilingTarget: ceiling };
