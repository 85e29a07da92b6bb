import { describe, expect, it } from "vitest";
import { OrderStatus } from "@hft/sdk/web";
import { blotterRows, mergeOrders } from "./order-blotter-state.js";
import { order } from "./test-fixtures.js";

describe("mergeOrders", () => {
  it("keeps each order's version with the highest sequence, whichever arrives first", () => {
    const filled = order({ orderId: "7", status: OrderStatus.FILLED, sequence: 20n });
    const stale = order({ orderId: "7", status: OrderStatus.NEW, sequence: 7n });
    const fromStream = mergeOrders(new Map(), [filled]);
    expect(mergeOrders(fromStream, [stale]).get("7")!.status).toBe(OrderStatus.FILLED);
    expect(mergeOrders(mergeOrders(new Map(), [stale]), [filled]).get("7")!.status).toBe(OrderStatus.FILLED);
  });

  it("returns the same map when nothing changed, so React does not render again", () => {
    const current = mergeOrders(new Map(), [order({ orderId: "1" })]);
    expect(mergeOrders(current, [order({ orderId: "1" })])).toBe(current);
  });
});

describe("blotterRows", () => {
  it("lists the newest order first", () => {
    const rows = blotterRows(mergeOrders(new Map(), [order({ orderId: "1" }), order({ orderId: "3" }), order({ orderId: "2" })]));
    expect(rows.map((o) => o.orderId)).toEqual(["3", "2", "1"]);
  });
});
