/**
 * Each service's real configuration shape against `.env.example`: the local values load, and in
 * production the development secrets there are refused, each named.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigShape, loadConfig } from "@hft/service-kit";
import { analyticsConfigShape } from "../analytics-service/src/config.js";
import { gatewayConfigShape } from "../gateway/src/config.js";
import { orderConfigShape } from "../order-service/src/config.js";

const example = parseEnv(readFileSync(fileURLToPath(new URL("../.env.example", import.meta.url)), "utf8"));

const services: [string, ConfigShape, string[]][] = [
  ["order service", orderConfigShape, ["DATABASE_URL", "AUTH_HS256_SECRET", "PAGE_TOKEN_KEY"]],
  ["analytics service", analyticsConfigShape, ["DATABASE_URL", "AUTH_HS256_SECRET"]],
  ["gateway", gatewayConfigShape, ["AUTH_HS256_SECRET"]],
];

describe.each(services)("the %s's configuration", (_name, shape, developmentSecrets) => {
  it("loads the values of .env.example", () => {
    expect(() => loadConfig(shape, example)).not.toThrow();
  });

  it("refuses to start in production on the development secrets of .env.example", () => {
    const error = (() => {
      try {
        loadConfig(shape, { ...example, NODE_ENV: "production" });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.split(":")[0])).toEqual(developmentSecrets);
  });
});
