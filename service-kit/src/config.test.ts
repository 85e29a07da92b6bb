import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { type ConfigShape, ConfigError, developmentSecrets, env, kafkaConfig, loadConfig, postgresConfig, redisConfig, serviceConfig } from "./config.js";

const shape = { ...serviceConfig, ...postgresConfig, ...redisConfig, ...kafkaConfig, GRPC_PORT: env.port() };
const good = {
  DATABASE_URL: "postgres://hft:hft@127.0.0.1:55432/hft",
  REDIS_URL: "redis://127.0.0.1:56379",
  KAFKA_BROKERS: "127.0.0.1:59092, 127.0.0.1:59094",
  GRPC_PORT: "50051",
};

function problemsOf(envVars: NodeJS.ProcessEnv, shapeOf: ConfigShape = shape): readonly string[] {
  try {
    loadConfig(shapeOf, envVars);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("parses valid variables and applies defaults", () => {
    const config = loadConfig(shape, good);
    expect(config).toEqual({
      NODE_ENV: "development",
      LOG_LEVEL: "info",
      DATABASE_URL: good.DATABASE_URL,
      DATABASE_POOL_MAX: 20,
      REDIS_URL: good.REDIS_URL,
      KAFKA_BROKERS: ["127.0.0.1:59092", "127.0.0.1:59094"],
      KAFKA_CLIENT_ID: "hft",
      GRPC_PORT: 50051,
    });
  });

  it("names a missing variable", () => {
    const { DATABASE_URL: _omitted, ...rest } = good;
    expect(problemsOf(rest)).toEqual(["DATABASE_URL: expected a postgres:// or postgresql:// URL; it is missing"]);
  });

  it("treats an empty variable as missing", () => {
    expect(problemsOf({ ...good, REDIS_URL: "" })).toEqual(["REDIS_URL: expected a redis:// or rediss:// URL; it is missing"]);
  });

  it("names every malformed variable at once, with what was expected and what arrived", () => {
    const problems = problemsOf({ ...good, GRPC_PORT: "70000", DATABASE_POOL_MAX: "ten", KAFKA_BROKERS: "localhost", LOG_LEVEL: "loud" });
    expect(problems).toEqual([
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace; got "loud"',
      'DATABASE_POOL_MAX: expected a whole number from 1 to 1000; got "ten"',
      'KAFKA_BROKERS: expected host:port[,host:port...]; got "localhost"',
      'GRPC_PORT: expected at most 65535; got "70000"',
    ]);
  });

  it("takes one host:port where one address is expected", () => {
    const listen = { LISTEN: env.hostPort() };
    expect(loadConfig(listen, { LISTEN: "127.0.0.1:50061" })).toEqual({ LISTEN: "127.0.0.1:50061" });
    expect(loadConfig(listen, { LISTEN: "[::1]:50061" })).toEqual({ LISTEN: "[::1]:50061" });
    expect(() => loadConfig(listen, { LISTEN: "a:1,b:2" })).toThrow('LISTEN: expected host:port; got "a:1,b:2"');
  });

  it("masks a password inside a URL it echoes", () => {
    expect(problemsOf({ ...good, DATABASE_URL: "mysql://hft:s3cret@db/hft" })).toEqual([
      'DATABASE_URL: expected a postgres:// or postgresql:// URL; got "mysql://hft:***@db/hft"',
    ]);
  });

  it("never echoes the value of a secret-looking variable", () => {
    const secretShape = { JWT_SECRET: env.text(32) };
    expect(() => loadConfig(secretShape, { JWT_SECRET: "tiny" })).toThrow("JWT_SECRET: expected at least 32 characters; got a value that is not shown");
  });

  it("reads X_FILE secret files, trimming the final newline", async () => {
    const dir = await mkdtemp(join(tmpdir(), "config-"));
    const file = join(dir, "database-url");
    await writeFile(file, `${good.DATABASE_URL}\n`);
    const { DATABASE_URL: _omitted, ...rest } = good;
    expect(loadConfig(shape, { ...rest, DATABASE_URL_FILE: file }).DATABASE_URL).toBe(good.DATABASE_URL);
  });

  it("names an unreadable secret file and refuses both X and X_FILE", () => {
    expect(problemsOf({ ...good, REDIS_URL: undefined, REDIS_URL_FILE: "/nonexistent/redis-url" })).toEqual([
      'REDIS_URL_FILE: cannot read "/nonexistent/redis-url" (ENOENT)',
    ]);
    expect(problemsOf({ ...good, REDIS_URL_FILE: "/etc/hostname" })).toEqual(["REDIS_URL: set either REDIS_URL or REDIS_URL_FILE, not both"]);
  });
});

describe("loadConfig in production", () => {
  const secrets = { ...shape, API_SECRET: env.secret(32), OPTIONAL_SECRET: env.secret(32).optional() };
  const production = { ...good, NODE_ENV: "production", DATABASE_URL: "postgres://hft:Vq3-prod-password@db.internal/hft", API_SECRET: "a-production-secret-of-forty-characters!" };
  const [developmentSecret] = developmentSecrets;

  it("takes production secrets, and leaves an optional one unset", () => {
    expect(loadConfig(secrets, production)).toMatchObject({ API_SECRET: production.API_SECRET, OPTIONAL_SECRET: undefined });
  });

  it("refuses a development secret, naming the variable but not the value", () => {
    const problems = problemsOf({ ...production, API_SECRET: developmentSecret, OPTIONAL_SECRET: developmentSecret }, secrets);
    expect(problems).toEqual([
      "API_SECRET: the local development value from .env.example is refused in production; set the production secret in API_SECRET or API_SECRET_FILE",
      "OPTIONAL_SECRET: the local development value from .env.example is refused in production; set the production secret in OPTIONAL_SECRET or OPTIONAL_SECRET_FILE",
    ]);
    expect(problems.join("\n")).not.toContain(developmentSecret);
  });

  it("refuses a development secret read from X_FILE", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "config-")), "api-secret");
    await writeFile(file, `${developmentSecret}\n`);
    const { API_SECRET: _omitted, ...rest } = production;
    expect(problemsOf({ ...rest, API_SECRET_FILE: file }, secrets)).toEqual([
      "API_SECRET: the local development value from .env.example is refused in production; set the production secret in API_SECRET or API_SECRET_FILE",
    ]);
  });

  it("refuses a secret's default", () => {
    const defaulted = { ...shape, API_SECRET: env.secret(8).default("built-in-default") };
    expect(loadConfig(defaulted, good).API_SECRET).toBe("built-in-default");
    expect(problemsOf({ ...production, API_SECRET: undefined }, defaulted)).toEqual([
      "API_SECRET: a secret has no default in production; set API_SECRET or API_SECRET_FILE",
    ]);
  });

  it("refuses a URL whose password is the local stack's, without echoing it", () => {
    expect(problemsOf({ ...production, DATABASE_URL: good.DATABASE_URL }, secrets)).toEqual([
      "DATABASE_URL: the URL's password is the local development one, refused in production; set the production URL in DATABASE_URL or DATABASE_URL_FILE",
    ]);
  });

  it("takes development values outside production", () => {
    expect(loadConfig(secrets, { ...production, NODE_ENV: "development", DATABASE_URL: good.DATABASE_URL, API_SECRET: developmentSecret }).API_SECRET).toBe(developmentSecret);
  });

  it("knows every secret .env.example ships", () => {
    const example = parseEnv(readFileSync(fileURLToPath(new URL("../../.env.example", import.meta.url)), "utf8"));
    const shipped = Object.entries(example).flatMap(([name, value = ""]) => {
      if (/SECRET|PASSWORD|TOKEN_KEY/.test(name)) return [value];
      try {
        const password = new URL(value).password;
        return password ? [decodeURIComponent(password)] : [];
      } catch {
        return [];
      }
    });
    expect(shipped.length).toBeGreaterThanOrEqual(3);
    for (const value of shipped) expect(developmentSecrets).toContain(value);
  });
});
