import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { PlaceOrderRequestSchema } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { PORTABLE_PATTERN, violationsOf, violationsOfBytes } from "./request-rules.js";

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

describe("violationsOfBytes", () => {
  const order = { clientOrderId: "c-1", symbol: "AAPL", side: 1, type: 1, timeInForce: 1, price: "100.5", quantity: "2" };
  const encoded = (fields: Record<string, unknown>) => toBinary(PlaceOrderRequestSchema, create(PlaceOrderRequestSchema, { ...order, ...fields }));
  /** `bytes` with the first occurrence of `marker` (ASCII, same length) overwritten by `replacement`. */
  function patched(bytes: Uint8Array, marker: string, replacement: readonly number[]): Uint8Array {
    const copy = Buffer.from(bytes);
    copy.set(replacement, copy.indexOf(marker));
    return copy;
  }

  it("reads the rules off the bytes", () => {
    expect(violationsOfBytes(PlaceOrderRequestSchema, encoded({}))).toBeUndefined();
    expect(violationsOfBytes(PlaceOrderRequestSchema, encoded({ quantity: "-1" }))).toBe("quantity: does not match regex pattern `^[0-9]{1,20}(\\.[0-9]{1,18})?$`");
  });

  it("names the string field whose bytes are not UTF-8", () => {
    expect(violationsOfBytes(PlaceOrderRequestSchema, patched(encoded({ account: "acct-XY" }), "XY", [0xff, 0xfe]))).toBe("account: not valid UTF-8");
    expect(violationsOfBytes(PlaceOrderRequestSchema, patched(encoded({ clientOrderId: "c-XY" }), "XY", [0xc3, 0x28]))).toBe("client_order_id: not valid UTF-8");
  });

  it("refuses bytes that are not the message at all", () => {
    expect(violationsOfBytes(PlaceOrderRequestSchema, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(
      "the request is not a well-formed hft.v1.PlaceOrderRequest: invalid varint",
    );
    const nestedGroups = new Uint8Array([...new Array<number>(1000).fill(0x7b), ...new Array<number>(1000).fill(0x7c)]);
    expect(violationsOfBytes(PlaceOrderRequestSchema, nestedGroups)).toMatch(/^the request is not a well-formed hft.v1.PlaceOrderRequest: /);
  });
});
