import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { PlaceOrderRequestSchema } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { PORTABLE_PATTERN, violationsOf } from "./request-rules.js";

const protoDir = new URL("../../proto/hft/v1/", import.meta.url);
/** Every string.pattern of the contract, as the .proto files spell them (escapes undone). */
const contractPatterns = readdirSync(protoDir)
  .filter((name) => name.endsWith(".proto"))
  .flatMap((name) => [...readFileSync(new URL(name, protoDir), "utf8").matchAll(/pattern\s*[:=]\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string));

describe("the contract's patterns", () => {
  it("are all in the subset RE2 and RegExp read alike", () => {
    expect(contractPatterns.length).toBeGreaterThan(10);
    for (const pattern of contractPatterns) expect(pattern).toMatch(PORTABLE_PATTERN);
  });

  it("leave out what the two engines read differently", () => {
    for (const pattern of ["^(?=a)", "(a)\\1", "(?i)abc", "^\\s+$", "[\\s]", "^\\p{L}$"]) expect(pattern).not.toMatch(PORTABLE_PATTERN);
  });
});

describe("violationsOf", () => {
  const order = { clientOrderId: "c-1", symbol: "AAPL", side: 1, type: 1, timeInForce: 1, price: "100.5", quantity: "2" };

  it("applies the patterns", () => {
    expect(violationsOf(PlaceOrderRequestSchema, create(PlaceOrderRequestSchema, order))).toBeUndefined();
    expect(violationsOf(PlaceOrderRequestSchema, create(PlaceOrderRequestSchema, { ...order, price: "1e5", symbol: "aapl" }))).toBe(
      "symbol: does not match regex pattern `^[A-Z0-9][A-Z0-9._-]{0,15}$`; price: does not match regex pattern `^[0-9]{1,20}(\\.[0-9]{1,18})?$`",
    );
  });
});
