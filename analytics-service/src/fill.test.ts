import { describe, expect, it } from "vitest";
import { type Fill, FillError, fillKey, parseFill } from "./fill.js";

const valid: Fill = {
  shard: "default",
  sequence: 12n,
  tradeId: "5",
  liquidity: "maker",
  account: "alice",
  symbol: "BTC-USD",
  side: "sell",
  price: "50000.01",
  quantity: "0.0003",
  fee: "-0.01",
  executedAt: new Date("2026-01-01T00:00:00Z"),
};

describe("parseFill", () => {
  it("parses the decimals of a valid fill, keeping a rebate negative", () => {
    const fill = parseFill(valid);
    expect([fill.price.toString(), fill.quantity.toString(), fill.fee.toString()]).toEqual(["50000.01", "0.0003", "-0.01"]);
  });

  it.each<[string, Partial<Fill>, string, string]>([
    ["a zero price", { price: "0" }, "price", 'price "0" must be greater than zero'],
    ["a negative quantity", { quantity: "-1" }, "quantity", 'quantity "-1" must be greater than zero'],
    ["an exponent", { price: "1e3" }, "price", 'price "1e3" is not a decimal number like "101.25"'],
    ["a malformed fee", { fee: "free" }, "fee", 'fee "free" is not a decimal number like "101.25"'],
    ["sequence 0", { sequence: 0n }, "sequence", "sequence must be at least 1, got 0"],
    ["a trade id that is not a number", { tradeId: "t-1" }, "tradeId", 'tradeId must be a positive integer like "42", got "t-1"'],
    ["an empty shard", { shard: "" }, "shard", "shard must be a non-empty string"],
    ["an unknown side", { side: "SIDE_UNSPECIFIED" as Fill["side"] }, "side", 'side must be "buy" or "sell", got "SIDE_UNSPECIFIED"'],
    ["an unknown liquidity", { liquidity: "LIQUIDITY_UNSPECIFIED" as Fill["liquidity"] }, "liquidity", 'liquidity must be "maker" or "taker", got "LIQUIDITY_UNSPECIFIED"'],
    ["an invalid time", { executedAt: new Date(Number.NaN) }, "executedAt", "executedAt must be a valid time"],
  ])("refuses %s, naming the field", (_case, change, field, message) => {
    let error: unknown;
    try {
      parseFill({ ...valid, ...change });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FillError);
    expect((error as FillError).field).toBe(field);
    expect((error as FillError).message).toBe(message);
  });
});

describe("fillKey", () => {
  it("tells apart the two sides of one trade and the same sequence on two shards", () => {
    const keys = new Set([fillKey(valid), fillKey({ ...valid, liquidity: "taker" }), fillKey({ ...valid, shard: "b" }), fillKey({ ...valid, tradeId: "6" })]);
    expect(keys.size).toBe(4);
    expect(fillKey({ ...valid })).toBe(fillKey(valid));
  });
});
