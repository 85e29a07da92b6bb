import { readFileSync } from "node:fs";
import { z } from "zod";
import { tlsProblems } from "./tls.js";

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

/** The types made by `env.secret`: their variables are refused development values in production. */
const secretTypes = new WeakSet<z.ZodType>();

/**
 * The secret values `.env.example` ships for local development (and the local stack's database
 * password). With `NODE_ENV=production` a secret holding one of them, or a URL with one as its
 * password, stops the process. config.test.ts keeps this list in step with `.env.example`.
 */
export const developmentSecrets: readonly string[] = [
  "local-development-secret-change-me-0123456789",
  "local-development-page-token-key-0123456789",
  "hft",
];

/** The type under `.optional()` and `.default()`, where `env.secret` marked it. */
function baseType(type: z.ZodType): z.ZodType {
  if (type instanceof z.ZodOptional || type instanceof z.ZodDefault) return baseType(type.unwrap() as z.ZodType);
  return type;
}

function urlPassword(value: string): string | undefined {
  try {
    const password = new URL(value).password;
    return password === "" ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/**
 * In production, a secret takes no default and no development value: every secret comes from its
 * variable or its `X_FILE`, and none is one `.env.example` ships.
 */
function productionProblems(shape: ConfigShape, raw: Readonly<Record<string, string | undefined>>, result: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const [name, type] of Object.entries(shape)) {
    const value = raw[name];
    const secret = secretTypes.has(baseType(type));
    if (secret && value === undefined && result[name] !== undefined) {
      problems.push(`${name}: a secret has no default in production; set ${name} or ${name}_FILE`);
    } else if (secret && value !== undefined && developmentSecrets.includes(value)) {
      problems.push(`${name}: the local development value from .env.example is refused in production; set the production secret in ${name} or ${name}_FILE`);
    } else if (value !== undefined) {
      const password = urlPassword(value);
      if (password !== undefined && developmentSecrets.includes(password)) {
        problems.push(`${name}: the URL's password is the local development one, refused in production; set the production URL in ${name} or ${name}_FILE`);
      }
    }
  }
  return problems;
}

/**
 * Reads and validates the variables of `shape` from `env`, once, at start.
 *
 * For each variable `X`, a file named by `X_FILE` may hold the value instead (Docker and
 * Kubernetes secrets); setting both is an error, because which one wins would be a guess. Values of
 * secrets and of variables whose names look secret are never echoed in errors, and passwords in
 * URLs are masked. Once every variable is valid on its own, the TLS files are checked together
 * (`tlsProblems`), and with `NODE_ENV=production` no secret may be missing, defaulted or a
 * development value.
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
    const hidden = secretName.test(name) || secretTypes.has(baseType(type));
    const shown = value === undefined ? "it is missing" : hidden ? "got a value that is not shown" : `got "${maskUrlPassword(value)}"`;
    const expected = parsed.error.issues.map((issue) => issue.message).join("; ");
    problems.push(`${name}: ${expected}; ${shown}`);
  }
  if (problems.length === 0) {
    problems.push(...tlsProblems(result));
    if ((result.NODE_ENV ?? env.NODE_ENV) === "production") problems.push(...productionProblems(shape, raw, result));
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
  /**
   * A secret of at least `minLength` characters: never echoed in errors, and in production never
   * defaulted nor one of the {@link developmentSecrets}.
   */
  secret: (minLength = 1) => {
    const type = env.text(minLength);
    secretTypes.add(type);
    return type;
  },
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
