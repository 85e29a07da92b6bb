// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Code, ConnectError } from "@connectrpc/connect";
import { OrderStatus, OrderType, Side } from "@hft/sdk/web";
import { Blotter } from "./blotter.js";
import { blotterRows, mergeOrders } from "./order-blotter-state.js";
import { order } from "./test-fixtures.js";

afterEach(cleanup);

const rowOf = (orderId: string) => screen.getByRole("row", { name: (_, element) => element.getAttribute("data-order-id") === orderId });
const cells = (orderId: string) => within(rowOf(orderId)).getAllByRole("cell").map((cell) => cell.textContent);

describe("Blotter", () => {
  it("says when there are no orders", () => {
    render(<Blotter orders={[]} cancel={vi.fn()} />);
    expect(screen.getByText("No orders yet.")).toBeTruthy();
  });

  it("shows each order's side, type, prices, quantities and status, newest first", () => {
    const orders = blotterRows(
      mergeOrders(new Map(), [
        order({ orderId: "1", side: Side.BUY, price: "100.00", quantity: "1.000", filledQuantity: "1.000", averageFillPrice: "100.00", status: OrderStatus.FILLED }),
        order({ orderId: "2", side: Side.SELL, type: OrderType.STOP, price: "", stopPrice: "95.00", quantity: "2.000", status: OrderStatus.PENDING_TRIGGER }),
        order({ orderId: "3", status: OrderStatus.REJECTED, rejectMessage: "price 0.001 is not a multiple of tick 0.01" }),
      ]),
    );
    render(<Blotter orders={orders} cancel={vi.fn()} />);
    const ids = screen.getAllByRole("row").slice(1).map((row) => row.getAttribute("data-order-id"));
    expect(ids).toEqual(["3", "2", "1"]);
    expect(cells("1").slice(1, 10)).toEqual(["1", "BTC-USD", "Buy", "Limit", "100.00", "1.000", "1.000", "100.00", "Filled"]);
    expect(cells("2").slice(1, 10)).toEqual(["2", "BTC-USD", "Sell", "Stop", "95.00", "2.000", "0.000", "—", "Waiting for trigger"]);
    expect(cells("3")[9]).toBe("Rejected: price 0.001 is not a multiple of tick 0.01");
  });

  it("offers cancel only on orders that can still trade", () => {
    const orders = [
      order({ orderId: "1", status: OrderStatus.NEW }),
      order({ orderId: "2", status: OrderStatus.PARTIALLY_FILLED }),
      order({ orderId: "3", status: OrderStatus.FILLED }),
      order({ orderId: "4", status: OrderStatus.CANCELLED }),
    ];
    render(<Blotter orders={orders} cancel={vi.fn()} />);
    expect(screen.getAllByRole("button").map((b) => b.getAttribute("aria-label"))).toEqual(["Cancel order 1", "Cancel order 2"]);
  });

  it("cancels from the row, and follows the order when its update arrives", async () => {
    const cancel = vi.fn().mockResolvedValue(undefined);
    const { rerender } = render(<Blotter orders={[order({ orderId: "9" })]} cancel={cancel} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Cancel order 9" }));
    expect(cancel).toHaveBeenCalledWith("9");
    rerender(<Blotter orders={[order({ orderId: "9", status: OrderStatus.CANCELLED, sequence: 30n })]} cancel={cancel} />);
    expect(cells("9")[9]).toBe("Cancelled");
    expect(screen.queryByRole("button", { name: "Cancel order 9" })).toBeNull();
  });

  it("says why a cancel failed", async () => {
    const cancel = vi.fn().mockRejectedValue(new ConnectError("order 9 is already filled", Code.FailedPrecondition, { "hft-reason": "ORDER_NOT_OPEN" }));
    render(<Blotter orders={[order({ orderId: "9" })]} cancel={cancel} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Cancel order 9" }));
    expect(await screen.findByText(/Cancel of order 9 failed/)).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("Cancel of order 9 failed: order 9 is already filled");
    expect(screen.getByRole("button", { name: "Cancel order 9" })).toHaveProperty("disabled", false);
  });
});
