import { describe, expect, it } from "vitest";
import { fromSteps, toSteps } from "./decimal-steps.js";
import { type QuotingParams, fairPrice, needsRequote, targetQuotes } from "./quoting.js";

const params: QuotingParams = { spreadTicks: 10n, quoteLots: 100n, maxPositionLots: 400n };

describe("fairPrice", () => {
  it("is the mid of the best bid and offer, rounded down to a tick", () => {
    expect(fairPrice({ bestBid: 2_499_998n, bestAsk: 2_500_021n, lastTrade: 1n, reference: 2n })).toBe(2_500_009n);
  });
  it("falls back to the one side there is, then the last trade, then the reference", () => {
    expect(fairPrice({ bestAsk: 2_500_021n, reference: 2n })).toBe(2_500_021n);
    expect(fairPrice({ lastTrade: 7n, reference: 2n })).toBe(7n);
    expect(fairPrice({ reference: 2n })).toBe(2n);
    expect(fairPrice({})).toBeUndefined();
  });
});

describe("targetQuotes", () => {
  it("puts the bid and the ask the spread apart around the fair price when flat", () => {
    expect(targetQuotes(2_500_000n, 0n, params)).toEqual({ bid: 2_499_995n, ask: 2_500_005n });
    expect(targetQuotes(2_500_000n, 0n, { ...params, spreadTicks: 7n })).toEqual({ bid: 2_499_997n, ask: 2_500_004n });
  });
  it("skews both quotes down when long and up when short, by half the spread at max position", () => {
    expect(targetQuotes(2_500_000n, 200n, params)).toEqual({ bid: 2_499_993n, ask: 2_500_003n });
    expect(targetQuotes(2_500_000n, -200n, params)).toEqual({ bid: 2_499_997n, ask: 2_500_007n });
  });
  it("stops bidding when a fill of the bid would pass max position, and asking when short", () => {
    expect(targetQuotes(2_500_000n, 301n, params)).toEqual({ ask: 2_500_002n });
    expect(targetQuotes(2_500_000n, 300n, params)).toHaveProperty("bid");
    expect(targetQuotes(2_500_000n, -301n, params)).toEqual({ bid: 2_499_998n });
  });
  it("never bids below one tick", () => {
    expect(targetQuotes(3n, 0n, params)).toEqual({ ask: 8n });
  });
});

describe("needsRequote", () => {
  it("moves a quote once its target is the threshold or more away, in either direction", () => {
    expect(needsRequote(100n, 101n, 2n)).toBe(false);
    expect(needsRequote(100n, 102n, 2n)).toBe(true);
    expect(needsRequote(100n, 98n, 2n)).toBe(true);
  });
  it("places a missing quote and withdraws one that has no target", () => {
    expect(needsRequote(undefined, 100n, 2n)).toBe(true);
    expect(needsRequote(100n, undefined, 2n)).toBe(true);
    expect(needsRequote(undefined, undefined, 2n)).toBe(false);
  });
});

describe("toSteps and fromSteps", () => {
  it("convert decimals to whole ticks and back exactly", () => {
    expect(toSteps("25000.05", "0.01", "price")).toBe(2_500_005n);
    expect(toSteps("0.01", "0.0001", "quantity")).toBe(100n);
    expect(fromSteps(2_500_005n, "0.01")).toBe("25000.05");
    expect(fromSteps(2_500_000n, "0.01")).toBe("25000");
    expect(fromSteps(-100n, "0.0001")).toBe("-0.01");
    expect(fromSteps(5n, "0.0001")).toBe("0.0005");
  });
  it("refuses a value off the step, naming it", () => {
    expect(() => toSteps("25000.005", "0.01", "--reference-price")).toThrow('--reference-price "25000.005" is not a multiple of 0.01');
    expect(() => toSteps("abc", "0.01", "price")).toThrow('price "abc" is not a decimal number');
  });
});
