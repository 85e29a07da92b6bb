import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "@hft/service-kit";
import { gatewayConfigShape } from "./config.js";

const example = parseEnv(readFileSync(fileURLToPath(new URL("../../.env.example", import.meta.url)), "utf8"));

describe("gatewayConfigShape", () => {
  it("loads the values of .env.example", () => {
    expect(() => loadConfig(gatewayConfigShape, example)).not.toThrow();
  });

  it("refuses to start in production on the development secrets of .env.example", () => {
    const error = (() => {
      try {
        loadConfig(gatewayConfigShape, { ...example, NODE_ENV: "production" });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.split(":")[0])).toEqual(["AUTH_HS256_SECRET"]);
  });
});
