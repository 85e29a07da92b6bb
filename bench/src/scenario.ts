/** What a scenario is to the runner: its settings (one entry of a profile) and how it measures. */
import type { z } from "zod";
import type { Platform } from "./platform.js";
import type { Measured } from "./result.js";

export interface ScenarioContext {
  /** A progress line on stderr. */
  readonly log: (line: string) => void;
  /** A step run when the scenario ends, last registered first. */
  readonly defer: (step: () => Promise<unknown>) => void;
  /** The one-shard platform (database, engine, order service, echo), started on first use and shared by the run's scenarios. */
  readonly platform: () => Promise<Platform>;
  /** A directory of the scenario's own, removed afterwards. */
  readonly scratch: string;
}

export interface Scenario<S = unknown> {
  readonly name: string;
  readonly description: string;
  readonly settings: z.ZodType<S>;
  run(settings: S, context: ScenarioContext): Promise<Measured[]>;
}

/**
 * Declares a scenario with its settings' type inferred from the schema; the runner holds them all
 * as `Scenario<unknown>` and hands each only settings its own schema has parsed.
 */
export const defineScenario = <S>(scenario: Scenario<S>): Scenario => ({ ...scenario, run: (settings, context) => scenario.run(settings as S, context) });

/** Each target is driven this long before it is measured (connections, JIT, caches), not recorded. */
export const warmUpSeconds = (phaseSeconds: number) => Math.min(0.5, phaseSeconds / 3);
