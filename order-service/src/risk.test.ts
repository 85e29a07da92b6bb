import { INT64_MAX, toUnits } from "@hft/service-kit";
import { describe, expect, it } from "vitest";
import {
  OrderRateLimiter,
  RISK_REASONS,
  RISK_RULES,
  type RiskCheckInput,
  type RiskDecision,
  type RiskLimits,
  type RiskOrder,
  type RiskRule,
  checkOrderRisk,
} from "./risk.js";

// A BTC-like instrument: prices in cents, quantities in 0.0001.
const instrument = { tickSize: "0.01", lotSize: "0.0001" };
const ticks = (price: string) => toUnits(price, instrument.tickSize, "price");
const lots = (quantity: string) => toUnits(quantity, instrument.lotSize, "quantity", { allowZero: true, allowNegative: true });

const base: RiskCheckInput = {
  accountId: "alice",
  limits: { killSwitch: false },
  instrument,
  order: { side: "buy", type: "limit", price: ticks("100"), quantity: lots("1") },
  position: 0n,
  openBuyQuantity: 0n,
  openSellQuantity: 0n,
  lastTradePrice: ticks("100"),
};

interface Case extends Partial<Omit<RiskCheckInput, "limits" | "order">> {
  readonly limits?: Partial<RiskLimits>;
  readonly order?: Partial<RiskOrder>;
}

function check(overrides: Case = {}, limiter?: OrderRateLimiter): RiskDecision {
  const { limits, order, ...rest } = overrides;
  return checkOrderRisk({ ...base, ...rest, limits: { ...base.limits, ...limits }, order: { ...base.order, ...order } }, limiter);
}

function rejection(rule: RiskRule, message: string): RiskDecision {
  return { ok: false, rule, reason: RISK_REASONS[rule], message };
}

const ok: RiskDecision = { ok: true };

function fakeClock(start = 0) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

describe("checkOrderRisk", () => {
  it("admits any order when no limit is set", () => {
    expect(check()).toEqual(ok);
    expect(check({ order: { side: "sell", quantity: INT64_MAX } })).toEqual(ok);
    expect(check({ order: { type: "market", price: undefined }, lastTradePrice: undefined })).toEqual(ok);
    expect(check({ limits: { maxOrderQuantity: null, maxOrderNotional: null, maxPosition: null, priceCollarBps: null, maxOrdersPerSecond: null } })).toEqual(ok);
  });

  describe("kill_switch", () => {
    it("refuses every order while it is on", () => {
      expect(check({ limits: { killSwitch: true } })).toEqual(rejection("kill_switch", "kill_switch is on: the account may not place new orders"));
      expect(check({ limits: { killSwitch: true }, order: { side: "sell", type: "market", price: undefined } })).toMatchObject({ rule: "kill_switch" });
    });
  });

  describe("max_order_quantity", () => {
    it("admits a quantity at the limit and refuses one lot more", () => {
      const limits = { maxOrderQuantity: "10" };
      expect(check({ limits, order: { quantity: lots("10") } })).toEqual(ok);
      expect(check({ limits, order: { quantity: lots("9.9999") } })).toEqual(ok);
      expect(check({ limits, order: { quantity: lots("10.0001") } })).toEqual(
        rejection("max_order_quantity", "quantity 10.0001 exceeds max_order_quantity 10"),
      );
    });

    it("names the quantity and the limit in instrument units", () => {
      expect(check({ limits: { maxOrderQuantity: "10" }, order: { quantity: lots("12.5") } })).toEqual(
        rejection("max_order_quantity", "quantity 12.5 exceeds max_order_quantity 10"),
      );
      expect(check({ limits: { maxOrderQuantity: "10.000000" }, order: { quantity: lots("12.5") } })).toMatchObject({
        message: "quantity 12.5 exceeds max_order_quantity 10",
      });
    });

    it("compares exactly with a limit that is not a whole number of lots", () => {
      const limits = { maxOrderQuantity: "10.00005" };
      expect(check({ limits, order: { quantity: lots("10") } })).toEqual(ok);
      expect(check({ limits, order: { quantity: lots("10.0001") } })).toEqual(
        rejection("max_order_quantity", "quantity 10.0001 exceeds max_order_quantity 10.00005"),
      );
    });

    it("applies to sells as to buys", () => {
      expect(check({ limits: { maxOrderQuantity: "1" }, order: { side: "sell", quantity: lots("1.0001") } })).toMatchObject({ rule: "max_order_quantity" });
    });

    it("handles quantities at the int64 limit and limits beyond it", () => {
      const whole = { tickSize: "1", lotSize: "1" };
      const order = { quantity: INT64_MAX, price: 1n };
      expect(check({ instrument: whole, order, limits: { maxOrderQuantity: INT64_MAX.toString() } })).toEqual(ok);
      expect(check({ instrument: whole, order, limits: { maxOrderQuantity: "99999999999999999999999999" } })).toEqual(ok);
      expect(check({ instrument: whole, order, limits: { maxOrderQuantity: (INT64_MAX - 1n).toString() } })).toEqual(
        rejection("max_order_quantity", "quantity 9223372036854775807 exceeds max_order_quantity 9223372036854775806"),
      );
    });
  });

  describe("max_order_notional", () => {
    it("admits price × quantity at the limit and refuses a cent more", () => {
      expect(check({ limits: { maxOrderNotional: "100" } })).toEqual(ok);
      expect(check({ limits: { maxOrderNotional: "99.99" } })).toEqual(
        rejection("max_order_notional", "notional 100 (price 100 × quantity 1) exceeds max_order_notional 99.99"),
      );
    });

    it("computes the notional exactly, without floating point", () => {
      // 100.01 × 0.0003 is 0.030003 exactly; in floating point it is 0.030003000000000003.
      const order = { price: ticks("100.01"), quantity: lots("0.0003") };
      expect(check({ order, limits: { maxOrderNotional: "0.030003" } })).toEqual(ok);
      expect(check({ order, limits: { maxOrderNotional: "0.030002999" } })).toEqual(
        rejection("max_order_notional", "notional 0.030003 (price 100.01 × quantity 0.0003) exceeds max_order_notional 0.030002999"),
      );
    });

    it("applies to sells as to buys", () => {
      expect(check({ limits: { maxOrderNotional: "99.99" }, order: { side: "sell" } })).toMatchObject({ rule: "max_order_notional" });
    });

    it("values a stop-limit order at its limit price, not the last trade", () => {
      const order = { type: "stop_limit" as const, price: ticks("150") };
      expect(check({ order, limits: { maxOrderNotional: "149.99" }, lastTradePrice: ticks("100") })).toEqual(
        rejection("max_order_notional", "notional 150 (price 150 × quantity 1) exceeds max_order_notional 149.99"),
      );
    });

    it("values a market order at the last trade price", () => {
      const order = { type: "market" as const, price: undefined, quantity: lots("2") };
      expect(check({ order, limits: { maxOrderNotional: "200" } })).toEqual(ok);
      expect(check({ order, limits: { maxOrderNotional: "199.99" } })).toEqual(
        rejection("max_order_notional", "notional 200 (last trade price 100 × quantity 2) exceeds max_order_notional 199.99"),
      );
    });

    it("values a stop order at the last trade price too", () => {
      const order = { type: "stop" as const, price: undefined, quantity: lots("2") };
      expect(check({ order, limits: { maxOrderNotional: "199.99" } })).toMatchObject({ rule: "max_order_notional" });
    });

    it("refuses a market order it cannot value when there is no last trade", () => {
      const order = { type: "market" as const, price: undefined };
      expect(check({ order, limits: { maxOrderNotional: "1000" }, lastTradePrice: undefined })).toEqual(
        rejection("max_order_notional", "no last trade price to value a market order against max_order_notional 1000"),
      );
      expect(check({ order, lastTradePrice: undefined })).toEqual(ok);
    });

    it("values a limit order without a last trade", () => {
      expect(check({ limits: { maxOrderNotional: "100" }, lastTradePrice: undefined })).toEqual(ok);
    });

    it("is exact near the int64 limits", () => {
      // INT64_MAX ticks of 0.01 × INT64_MAX lots of 0.0001.
      const order = { price: INT64_MAX, quantity: INT64_MAX };
      const notional = "85070591730234615847396907784232.501249";
      expect(check({ order, limits: { maxOrderNotional: notional } })).toEqual(ok);
      expect(check({ order, limits: { maxOrderNotional: "85070591730234615847396907784232.501248" } })).toEqual(
        rejection(
          "max_order_notional",
          `notional ${notional} (price 92233720368547758.07 × quantity 922337203685477.5807) exceeds max_order_notional 85070591730234615847396907784232.501248`,
        ),
      );
    });
  });

  describe("max_position", () => {
    const limits = { maxPosition: "10" };

    it("counts a buy with the position and every open buy", () => {
      const at = { limits, position: lots("5"), openBuyQuantity: lots("3"), order: { quantity: lots("2") } };
      expect(check(at)).toEqual(ok);
      expect(check({ ...at, order: { quantity: lots("2.0001") } })).toEqual(
        rejection("max_position", "worst-case position 10.0001 (position 5 + open buys 3 + quantity 2.0001) exceeds max_position 10"),
      );
    });

    it("counts a sell with the position and every open sell", () => {
      const at = { limits, position: lots("-5"), openSellQuantity: lots("3"), order: { side: "sell" as const, quantity: lots("2") } };
      expect(check(at)).toEqual(ok);
      expect(check({ ...at, order: { side: "sell", quantity: lots("2.0001") } })).toEqual(
        rejection("max_position", "worst-case position -10.0001 (position -5 - open sells 3 - quantity 2.0001) exceeds max_position 10"),
      );
    });

    it("does not let open orders on the other side offset the order's side", () => {
      expect(check({ limits, openSellQuantity: lots("100"), order: { quantity: lots("10.0001") } })).toMatchObject({ rule: "max_position" });
      expect(check({ limits, openBuyQuantity: lots("100"), order: { side: "sell", quantity: lots("10") } })).toEqual(ok);
    });

    it("admits an order that reduces a position already beyond the limit", () => {
      expect(check({ limits, position: lots("15"), order: { side: "sell", quantity: lots("5") } })).toEqual(ok);
      expect(check({ limits, position: lots("-15"), order: { side: "buy", quantity: lots("5") } })).toEqual(ok);
    });

    it("refuses any order that adds to a position already beyond the limit", () => {
      expect(check({ limits, position: lots("15"), order: { quantity: lots("0.0001") } })).toEqual(
        rejection("max_position", "worst-case position 15.0001 (position 15 + open buys 0 + quantity 0.0001) exceeds max_position 10"),
      );
      expect(check({ limits, position: lots("-15"), order: { side: "sell", quantity: lots("0.0001") } })).toMatchObject({ rule: "max_position" });
    });

    it("checks a sell that turns a long position short against the short side", () => {
      expect(check({ limits, position: lots("8"), order: { side: "sell", quantity: lots("18") } })).toEqual(ok);
      expect(check({ limits, position: lots("8"), order: { side: "sell", quantity: lots("18.0001") } })).toEqual(
        rejection("max_position", "worst-case position -10.0001 (position 8 - open sells 0 - quantity 18.0001) exceeds max_position 10"),
      );
    });

    it("compares exactly with a limit that is not a whole number of lots", () => {
      const fine = { maxPosition: "0.00015" };
      expect(check({ limits: fine, order: { quantity: lots("0.0001") } })).toEqual(ok);
      expect(check({ limits: fine, order: { quantity: lots("0.0002") } })).toMatchObject({ rule: "max_position" });
    });

    it("is exact for positions near the int64 limits", () => {
      const whole = { tickSize: "1", lotSize: "1" };
      const huge = { instrument: whole, limits: { maxPosition: INT64_MAX.toString() }, order: { price: 1n, quantity: 1n } };
      expect(check({ ...huge, position: INT64_MAX - 1n })).toEqual(ok);
      expect(check({ ...huge, position: INT64_MAX })).toMatchObject({ rule: "max_position", message: expect.stringContaining("worst-case position 9223372036854775808 ") });
      expect(check({ ...huge, position: -INT64_MAX + 1n, order: { side: "sell", price: 1n, quantity: 1n } })).toEqual(ok);
    });
  });

  describe("price_collar", () => {
    const limits = { priceCollarBps: 500 };

    it("admits prices up to the collar on both sides of the last trade and refuses a tick beyond", () => {
      for (const side of ["buy", "sell"] as const) {
        expect(check({ limits, order: { side, price: ticks("105") } })).toEqual(ok);
        expect(check({ limits, order: { side, price: ticks("95") } })).toEqual(ok);
        expect(check({ limits, order: { side, price: ticks("105.01") } })).toEqual(
          rejection("price_collar", "price 105.01 is more than price_collar_bps 500 from last trade price 100: allowed 95 to 105"),
        );
        expect(check({ limits, order: { side, price: ticks("94.99") } })).toMatchObject({ rule: "price_collar" });
      }
    });

    it("rounds the allowed band inwards to whole ticks", () => {
      // 1 bp of 100.03 is 0.010003: one tick either way fits, two do not.
      const at = { limits: { priceCollarBps: 1 }, lastTradePrice: ticks("100.03") };
      expect(check({ ...at, order: { price: ticks("100.04") } })).toEqual(ok);
      expect(check({ ...at, order: { price: ticks("100.02") } })).toEqual(ok);
      expect(check({ ...at, order: { price: ticks("100.05") } })).toEqual(
        rejection("price_collar", "price 100.05 is more than price_collar_bps 1 from last trade price 100.03: allowed 100.02 to 100.04"),
      );
    });

    it("shows the lowest allowed price as one tick when the collar reaches zero", () => {
      const at = { limits: { priceCollarBps: 100_000 } };
      expect(check({ ...at, order: { price: 1n } })).toEqual(ok);
      expect(check({ ...at, order: { price: ticks("1100") } })).toEqual(ok);
      expect(check({ ...at, order: { price: ticks("1100.01") } })).toEqual(
        rejection("price_collar", "price 1100.01 is more than price_collar_bps 100000 from last trade price 100: allowed 0.01 to 1100"),
      );
    });

    it("collars stop-limit prices", () => {
      expect(check({ limits, order: { type: "stop_limit", price: ticks("105.01") } })).toMatchObject({ rule: "price_collar" });
    });

    it("does not apply before the first trade", () => {
      expect(check({ limits, order: { price: ticks("1000") }, lastTradePrice: undefined })).toEqual(ok);
    });

    it("does not apply to market and stop orders", () => {
      expect(check({ limits, order: { type: "market", price: undefined } })).toEqual(ok);
      expect(check({ limits, order: { type: "stop", price: undefined } })).toEqual(ok);
    });
  });

  describe("orders_per_second", () => {
    it("refuses the order beyond the limit until the window slides past the first one", () => {
      const clock = fakeClock();
      const limiter = new OrderRateLimiter({ now: clock.read });
      const limits = { maxOrdersPerSecond: 3 };
      for (const now of [0, 100, 200]) {
        clock.now = now;
        expect(check({ limits }, limiter)).toEqual(ok);
      }
      clock.now = 999;
      expect(check({ limits }, limiter)).toEqual(rejection("orders_per_second", "3 orders in the last second reach max_orders_per_second 3; retry in 1 ms"));
      clock.now = 1000;
      expect(check({ limits }, limiter)).toEqual(ok);
    });

    it("counts only orders every other rule admits", () => {
      const limiter = new OrderRateLimiter({ now: () => 0 });
      const limits = { maxOrdersPerSecond: 1, maxOrderQuantity: "1" };
      expect(check({ limits, order: { quantity: lots("2") } }, limiter)).toMatchObject({ rule: "max_order_quantity" });
      expect(check({ limits: { ...limits, killSwitch: true } }, limiter)).toMatchObject({ rule: "kill_switch" });
      expect(limiter.countInWindow("alice")).toBe(0);
      expect(check({ limits }, limiter)).toEqual(ok);
      expect(check({ limits }, limiter)).toMatchObject({ rule: "orders_per_second" });
      expect(limiter.countInWindow("alice")).toBe(1);
    });

    it("limits each account on its own", () => {
      const limiter = new OrderRateLimiter({ now: () => 0 });
      const limits = { maxOrdersPerSecond: 1 };
      expect(check({ limits, accountId: "alice" }, limiter)).toEqual(ok);
      expect(check({ limits, accountId: "alice" }, limiter)).toMatchObject({ rule: "orders_per_second" });
      expect(check({ limits, accountId: "bob" }, limiter)).toEqual(ok);
    });

    it("refuses to run without a limiter when the limit is set", () => {
      expect(() => check({ limits: { maxOrdersPerSecond: 1 } })).toThrow("no OrderRateLimiter was given");
    });
  });

  it("applies the rules in the documented order, kill switch first", () => {
    expect(RISK_RULES).toEqual(["kill_switch", "max_order_quantity", "max_order_notional", "max_position", "price_collar", "orders_per_second"]);
    // An order that every rule refuses; each step lifts the rule that answered.
    const limiter = new OrderRateLimiter({ now: () => 0 });
    limiter.tryAdmit("alice", 1);
    const limits: Partial<RiskLimits> = {
      killSwitch: true,
      maxOrderQuantity: "1",
      maxOrderNotional: "100",
      maxPosition: "1",
      priceCollarBps: 100,
      maxOrdersPerSecond: 1,
    };
    const order = { price: ticks("150"), quantity: lots("2") };
    const lifts: Partial<RiskLimits>[] = [
      { killSwitch: false },
      { maxOrderQuantity: null },
      { maxOrderNotional: null },
      { maxPosition: null },
      { priceCollarBps: null },
      { maxOrdersPerSecond: null },
    ];
    const answered: string[] = [];
    let current = limits;
    for (const lift of lifts) {
      const decision = check({ limits: current, order }, limiter);
      answered.push(decision.ok ? "ok" : decision.rule);
      current = { ...current, ...lift };
    }
    answered.push(check({ limits: current, order }, limiter).ok ? "ok" : "refused");
    expect(answered).toEqual([...RISK_RULES, "ok"]);
  });

  it("gives each rule a stable client-facing reason", () => {
    expect(RISK_REASONS).toEqual({
      kill_switch: "RISK_KILL_SWITCH",
      max_order_quantity: "RISK_MAX_QUANTITY",
      max_order_notional: "RISK_MAX_NOTIONAL",
      max_position: "RISK_MAX_POSITION",
      price_collar: "RISK_PRICE_COLLAR",
      orders_per_second: "RISK_ORDER_RATE",
    });
  });

  describe("input that breaks the contract", () => {
    it.each<[string, Case, string]>([
      ["a quantity of zero", { order: { quantity: 0n } }, "quantity must be positive"],
      ["a limit order without a price", { order: { price: undefined } }, "a limit order needs a positive price"],
      ["a stop-limit order with a zero price", { order: { type: "stop_limit", price: 0n } }, "a stop_limit order needs a positive price"],
      ["a market order with a price", { order: { type: "market" } }, "a market order has no limit price"],
      ["negative open quantities", { openSellQuantity: -1n }, "open quantities must not be negative"],
      ["a last trade price of zero", { lastTradePrice: 0n }, "last trade price must be positive"],
      ["a malformed limit", { limits: { maxOrderNotional: "1e5" } }, 'max_order_notional "1e5" must be a positive decimal'],
      ["a limit of zero", { limits: { maxPosition: "0" } }, 'max_position "0" must be a positive decimal'],
      ["a negative limit", { limits: { maxOrderQuantity: "-1" } }, 'max_order_quantity "-1" must be a positive decimal'],
      ["a collar out of range", { limits: { priceCollarBps: 0 } }, "price_collar_bps must be a whole number from 1 to 100000"],
      ["a fractional rate", { limits: { maxOrdersPerSecond: 1.5 } }, "max_orders_per_second must be a positive whole number"],
      ["a malformed tick size", { instrument: { tickSize: "0", lotSize: "1" } }, 'tick_size "0" must be a positive decimal'],
    ])("throws a RangeError for %s", (_name, overrides, message) => {
      expect(() => check(overrides, new OrderRateLimiter())).toThrow(RangeError);
      expect(() => check(overrides, new OrderRateLimiter())).toThrow(message);
    });
  });
});

describe("OrderRateLimiter", () => {
  it("slides a one-second window over the admitted orders", () => {
    const clock = fakeClock();
    const limiter = new OrderRateLimiter({ now: clock.read });
    const at = (now: number) => {
      clock.now = now;
      return limiter.tryAdmit("alice", 2);
    };
    expect(at(0)).toEqual({ admitted: true });
    expect(at(400)).toEqual({ admitted: true });
    expect(at(500)).toEqual({ admitted: false, inWindow: 2, retryAfterMs: 500 });
    expect(at(999.5)).toEqual({ admitted: false, inWindow: 2, retryAfterMs: 0.5 });
    expect(at(1000)).toEqual({ admitted: true });
    expect(at(1300)).toEqual({ admitted: false, inWindow: 2, retryAfterMs: 100 });
    expect(at(1400)).toEqual({ admitted: true });
    expect(limiter.countInWindow("alice")).toBe(2);
    clock.now = 2400;
    expect(limiter.countInWindow("alice")).toBe(0);
  });

  it("does not count refused orders", () => {
    const clock = fakeClock();
    const limiter = new OrderRateLimiter({ now: clock.read });
    expect(limiter.tryAdmit("alice", 1)).toEqual({ admitted: true });
    for (const now of [100, 500, 900]) {
      clock.now = now;
      expect(limiter.tryAdmit("alice", 1).admitted).toBe(false);
    }
    clock.now = 1000;
    expect(limiter.tryAdmit("alice", 1)).toEqual({ admitted: true });
  });

  it("keeps accounts apart", () => {
    const limiter = new OrderRateLimiter({ now: () => 0 });
    expect(limiter.tryAdmit("alice", 1).admitted).toBe(true);
    expect(limiter.tryAdmit("bob", 1).admitted).toBe(true);
    expect(limiter.tryAdmit("alice", 1).admitted).toBe(false);
    expect(limiter.tryAdmit("bob", 2).admitted).toBe(true);
    expect(limiter.countInWindow("alice")).toBe(1);
    expect(limiter.countInWindow("bob")).toBe(2);
    expect(limiter.countInWindow("carol")).toBe(0);
  });

  it("applies a lowered limit at once and says when the excess has left the window", () => {
    const clock = fakeClock();
    const limiter = new OrderRateLimiter({ now: clock.read });
    for (const now of [0, 100, 200]) {
      clock.now = now;
      limiter.tryAdmit("alice", 10);
    }
    clock.now = 300;
    expect(limiter.tryAdmit("alice", 1)).toEqual({ admitted: false, inWindow: 3, retryAfterMs: 900 });
    clock.now = 1199;
    expect(limiter.tryAdmit("alice", 1).admitted).toBe(false);
    clock.now = 1200;
    expect(limiter.tryAdmit("alice", 1)).toEqual({ admitted: true });
  });

  it("honours a custom window", () => {
    const clock = fakeClock();
    const limiter = new OrderRateLimiter({ now: clock.read, windowMs: 100 });
    expect(limiter.tryAdmit("alice", 1).admitted).toBe(true);
    clock.now = 99;
    expect(limiter.tryAdmit("alice", 1)).toEqual({ admitted: false, inWindow: 1, retryAfterMs: 1 });
    clock.now = 100;
    expect(limiter.tryAdmit("alice", 1).admitted).toBe(true);
  });

  it("sweeps away accounts with nothing in the window, and only those", () => {
    const clock = fakeClock();
    const limiter = new OrderRateLimiter({ now: clock.read });
    limiter.tryAdmit("alice", 1);
    clock.now = 600;
    limiter.tryAdmit("bob", 1);
    expect(limiter.size).toBe(2);
    clock.now = 999;
    expect(limiter.sweep()).toBe(0);
    clock.now = 1000;
    expect(limiter.sweep()).toBe(1);
    expect(limiter.size).toBe(1);
    // bob is still limited after the sweep; alice starts afresh, as she would have anyway.
    expect(limiter.tryAdmit("bob", 1).admitted).toBe(false);
    expect(limiter.tryAdmit("alice", 1).admitted).toBe(true);
    clock.now = 2000;
    expect(limiter.sweep()).toBe(2);
    expect(limiter.size).toBe(0);
  });

  it("forgets one account on request", () => {
    const limiter = new OrderRateLimiter({ now: () => 0 });
    limiter.tryAdmit("alice", 1);
    expect(limiter.forget("alice")).toBe(true);
    expect(limiter.forget("alice")).toBe(false);
    expect(limiter.size).toBe(0);
    expect(limiter.tryAdmit("alice", 1).admitted).toBe(true);
  });

  it("agrees with a naive count of the window over a long run", () => {
    // A deterministic pseudo-random walk of clock steps, checked against filtering every admission.
    const clock = fakeClock();
    const limiter = new OrderRateLimiter({ now: clock.read });
    let admittedAt: number[] = [];
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 10_000; i += 1) {
      clock.now += Math.floor(random() * (random() < 0.05 ? 1_500 : 40));
      admittedAt = admittedAt.filter((t) => t > clock.now - 1_000);
      const inWindow = admittedAt.length;
      const decision = limiter.tryAdmit("alice", 7);
      expect(decision.admitted).toBe(inWindow < 7);
      if (decision.admitted) admittedAt.push(clock.now);
      expect(limiter.countInWindow("alice")).toBe(Math.min(7, decision.admitted ? inWindow + 1 : inWindow));
    }
  });

  it("refuses a limit that is not a positive whole number, and a window that is not positive", () => {
    const limiter = new OrderRateLimiter({ now: () => 0 });
    expect(() => limiter.tryAdmit("alice", 0)).toThrow(RangeError);
    expect(() => limiter.tryAdmit("alice", 2.5)).toThrow(RangeError);
    expect(() => new OrderRateLimiter({ windowMs: 0 })).toThrow(RangeError);
  });

  it("uses a monotonic clock by default", () => {
    const limiter = new OrderRateLimiter();
    expect(limiter.tryAdmit("alice", 1)).toEqual({ admitted: true });
    expect(limiter.tryAdmit("alice", 1)).toMatchObject({ admitted: false, inWindow: 1 });
  });
});
