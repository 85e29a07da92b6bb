import { readFileSync } from "node:fs";
import { z } from "zod";

/** A configuration schema: one zod type per environment variable, keyed by the variable's name. */
export type ConfigShape = Record<string, z.ZodType>;

/** The validated configuration of a shape: each variable's parsed, typed value. */
export type ConfigOf<S extends ConfigShape> = { [K in keyof S]: z.output<S[K]> };

/**
 * Thrown when the environment does not satisfy the schema. Its message lists every problem on its
 * own line, each starting with the variable's name, so an operator can fix them all at once.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

const secretName = /SECRET|PASSWORD|TOKEN|PRIVATE|_KEY$/;

/**
 * Reads and validates the variables of `shape` from `env`, once, at start.
 *
 * For each variable `X`, a file named by `X_FILE` may hold the value instead (Docker and
 * Kubernetes secrets); setting both is an error, because which one wins would be a guess. Values of
 * variables whose names look secret are never echoed in errors, and passwords in URLs are masked.
 */
export function loadConfig<S extends ConfigShape>(shape: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.keys(shape)) {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && file !== undefined) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    if (file !== undefined) {
      try {
        raw[name] = readFileSync(file, "utf8").replace(/\r?\n$/, "");
      } catch (err) {
        problems.push(`${name}_FILE: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      continue;
    }
    raw[name] = direct === "" ? undefined : direct;
  }

  const result: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(shape)) {
    if (problems.some((p) => p.startsWith(`${name}:`) || p.startsWith(`${name}_FILE:`))) continue;
    const parsed = type.safeParse(raw[name]);
    if (parsed.success) {
      result[name] = parsed.data;
      continue;
    }
    const value = raw[name];
    const shown = value === undefined ? "it is missing" : secretName.test(name) ? "got a value that is not shown" : `got "${maskUrlPassword(value)}"`;
    const expected = parsed.error.issues.map((issue) => issue.message).join("; ");
    problems.push(`${name}: ${expected}; ${shown}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}

/**
 * For a process's entry point: the configuration, or, when the environment does not satisfy the
 * shape, every problem on stderr after `program` and exit code 2, before anything has started.
 */
export function loadConfigOrExit<S extends ConfigShape>(shape: S, program: string): ConfigOf<S> {
  try {
    return loadConfig(shape);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${program}: ${error.message}`);
    process.exit(2);
  }
}

function maskUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

/** Reusable variable types with messages that say what is expected. */
export const env = {
  /** A URL whose scheme is one of `protocols` (without the colon). */
  url: (protocols: readonly string[]) => {
    const expected = `expected a ${protocols.map((p) => `${p}://`).join(" or ")} URL`;
    return z.string({ error: expected }).refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ""));
        } catch {
          return false;
        }
      },
      { error: expected },
    );
  },
  /** A whole number in [min, max]. */
  int: (min: number, max: number) =>
    z
      .string({ error: `expected a whole number from ${min} to ${max}` })
      .regex(/^-?\d+$/, { error: `expected a whole number from ${min} to ${max}` })
      .transform(Number)
      .pipe(z.number().min(min, { error: `expected at least ${min}` }).max(max, { error: `expected at most ${max}` })),
  /** A TCP port. */
  port: () => env.int(1, 65535),
  /** `true`/`false` (also 1/0, yes/no). */
  bool: () =>
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { error: "expected true or false" })
      .transform((value) => value === "true" || value === "1" || value === "yes"),
  /** One `host:port` (a listen or connect address). */
  hostPort: () =>
    z.string({ error: "expected host:port" }).regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, { error: "expected host:port" }),
  /** A comma-separated list of `host:port` pairs. */
  hostPorts: () =>
    z
      .string({ error: "expected host:port[,host:port...]" })
      .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, { error: "expected host:port[,host:port...]" }))
          .min(1, { error: "expected at least one host:port" }),
      ),
  /** One of the given words. */
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: `expected one of ${values.join(", ")}` }),
  /** A non-empty string of at least `minLength` characters. */
  text: (minLength = 1) => z.string({ error: "expected a value" }).min(minLength, { error: `expected at least ${minLength} characters` }),
} as const;

/** Variables every service shares: where it runs and how it logs. */
export const serviceConfig = {
  NODE_ENV: env.oneOf(["development", "test", "production"]).default("development"),
  LOG_LEVEL: env.oneOf(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
} satisfies ConfigShape;

/** PostgreSQL connection variables. */
export const postgresConfig = {
  DATABASE_URL: env.url(["postgres", "postgresql"]),
  DATABASE_POOL_MAX: env.int(1, 1000).default(20),
} satisfies ConfigShape;

/** Redis connection variables. */
export const redisConfig = {
  REDIS_URL: env.url(["redis", "rediss"]),
} satisfies ConfigShape;

/** Kafka connection variables. */
export const kafkaConfig = {
  KAFKA_BROKERS: env.hostPorts(),
  KAFKA_CLIENT_ID: env.text().default("hft"),
} satisfies ConfigShape;
