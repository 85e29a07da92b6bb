import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, env, kafkaConfig, loadConfig, postgresConfig, redisConfig, serviceConfig } from "./config.js";

const shape = { ...serviceConfig, ...postgresConfig, ...redisConfig, ...kafkaConfig, GRPC_PORT: env.port() };
const good = {
  DATABASE_URL: "postgres://hft:hft@127.0.0.1:55432/hft",
  REDIS_URL: "redis://127.0.0.1:56379",
  KAFKA_BROKERS: "127.0.0.1:59092, 127.0.0.1:59094",
  GRPC_PORT: "50051",
};

function problemsOf(envVars: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(shape, envVars);
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
