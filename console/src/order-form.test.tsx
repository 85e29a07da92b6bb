// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Code, ConnectError } from "@connectrpc/connect";
import { OrderStatus, OrderType, RejectReason, Side, TimeInForce } from "@hft/sdk/web";
import { OrderForm, type OrderFormProps } from "./order-form.js";
import { btc, eth, order } from "./test-fixtures.js";

afterEach(cleanup);

function renderForm(place: OrderFormProps["place"], symbol = "BTC-USD") {
  const onSymbolChange = vi.fn();
  render(<OrderForm instruments={[btc, eth]} symbol={symbol} onSymbolChange={onSymbolChange} place={place} newId={() => "web-test-1"} />);
  return { user: userEvent.setup(), onSymbolChange };
}

const answer = () => screen.getByRole("status");

describe("OrderForm", () => {
  it("labels every control", () => {
    renderForm(vi.fn());
    for (const name of ["Symbol", "Type", "Time in force", "Price", "Quantity"]) expect(screen.getByLabelText(name)).toBeTruthy();
    expect(screen.getByRole("group", { name: "Side" })).toBeTruthy();
    expect(screen.getByRole("radio", { name: "Buy" })).toHaveProperty("checked", true);
    expect(screen.getByText("Tick 0.01, lot 0.001, quantity 0.001–100, price 1.00–1000000.00")).toBeTruthy();
  });

  it("sends a checked limit order and shows the engine's answer", async () => {
    const place = vi.fn<OrderFormProps["place"]>().mockResolvedValue(order({ orderId: "42", status: OrderStatus.NEW, quantity: "0.500" }));
    const { user } = renderForm(place);
    await user.click(screen.getByRole("radio", { name: "Sell" }));
    await user.type(screen.getByLabelText("Price"), "25000.50");
    await user.type(screen.getByLabelText("Quantity"), "0.5");
    await user.click(screen.getByRole("button", { name: "Sell BTC-USD" }));
    expect(place).toHaveBeenCalledWith({ clientOrderId: "web-test-1", symbol: "BTC-USD", side: Side.SELL, type: OrderType.LIMIT, timeInForce: TimeInForce.GTC, price: "25000.50", stopPrice: "", quantity: "0.5" });
    expect(answer().textContent).toBe("New: order 42 for 0.500");
  });

  it("shows an immediate fill with its price", async () => {
    const place = vi.fn<OrderFormProps["place"]>().mockResolvedValue(order({ orderId: "43", status: OrderStatus.FILLED, quantity: "1.000", filledQuantity: "1.000", averageFillPrice: "100.00" }));
    const { user } = renderForm(place);
    await user.type(screen.getByLabelText("Price"), "100");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(answer().textContent).toBe("Filled: order 43 filled 1.000 of 1.000 at 100.00");
  });

  it("names a price off the tick and a quantity off the lot, and sends nothing", async () => {
    const place = vi.fn();
    const { user } = renderForm(place);
    await user.type(screen.getByLabelText("Price"), "100.001");
    await user.type(screen.getByLabelText("Quantity"), "0.0001");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(place).not.toHaveBeenCalled();
    const price = screen.getByLabelText("Price");
    expect(price.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(price.getAttribute("aria-describedby")!)!.textContent).toBe("Price must be a multiple of 0.01 (the tick size)");
    expect(document.getElementById("order-quantity-error")!.textContent).toBe("Quantity must be a multiple of 0.001 (the lot size)");
  });

  it("checks against the chosen instrument's own tick", async () => {
    const place = vi.fn();
    const { user } = renderForm(place, "ETH-USD");
    await user.type(screen.getByLabelText("Price"), "100.01");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Buy ETH-USD" }));
    expect(place).not.toHaveBeenCalled();
    expect(document.getElementById("order-price-error")!.textContent).toBe("Price must be a multiple of 0.05 (the tick size)");
  });

  it("tells when a symbol is chosen", async () => {
    const { user, onSymbolChange } = renderForm(vi.fn());
    await user.selectOptions(screen.getByLabelText("Symbol"), "ETH-USD");
    expect(onSymbolChange).toHaveBeenCalledWith("ETH-USD");
  });

  it("has no price for a market order and only immediate times in force", async () => {
    const place = vi.fn<OrderFormProps["place"]>().mockResolvedValue(order({ orderId: "44", type: OrderType.MARKET, status: OrderStatus.CANCELLED }));
    const { user } = renderForm(place);
    await user.selectOptions(screen.getByLabelText("Type"), "Market");
    expect(screen.queryByLabelText("Price")).toBeNull();
    const tif = within(screen.getByLabelText("Time in force"));
    expect(tif.getAllByRole("option").map((o) => o.textContent)).toEqual(["Immediate or cancel", "Fill or kill"]);
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(place).toHaveBeenCalledWith(expect.objectContaining({ type: OrderType.MARKET, timeInForce: TimeInForce.IOC, price: "" }));
  });

  it("asks for the stop price of a stop-limit order", async () => {
    const place = vi.fn();
    const { user } = renderForm(place);
    await user.selectOptions(screen.getByLabelText("Type"), "Stop limit");
    await user.type(screen.getByLabelText("Price"), "100");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(place).not.toHaveBeenCalled();
    expect(document.getElementById("order-stop-price-error")!.textContent).toBe("Stop price is required for this order type");
  });

  it("shows the engine's rejection", async () => {
    const place = vi.fn<OrderFormProps["place"]>().mockResolvedValue(
      order({ orderId: "45", status: OrderStatus.REJECTED, rejectReason: RejectReason.POST_ONLY_WOULD_TAKE, rejectMessage: "post-only order would take liquidity" }),
    );
    const { user } = renderForm(place);
    await user.type(screen.getByLabelText("Price"), "100");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(answer().textContent).toBe("Rejected by the engine: post-only order would take liquidity (order 45)");
  });

  it("says when the account is rate limited and when to retry", async () => {
    const limited = new ConnectError("rate limit of 10 requests per window reached; retry after 7 s", Code.ResourceExhausted, { "hft-reason": "RATE_LIMITED", "retry-after": "7" });
    const { user } = renderForm(vi.fn<OrderFormProps["place"]>().mockRejectedValue(limited));
    await user.type(screen.getByLabelText("Price"), "100");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(answer().textContent).toBe("Rate limited: Too many requests: try again in 7 s. (rate limit of 10 requests per window reached; retry after 7 s) RATE_LIMITED");
  });

  it("shows a risk refusal with its reason, and can send again after it", async () => {
    const refused = new ConnectError("order notional 2500000.00 exceeds the account's limit 1000000.00", Code.FailedPrecondition, { "hft-reason": "RISK_MAX_NOTIONAL" });
    const place = vi.fn<OrderFormProps["place"]>().mockRejectedValueOnce(refused).mockResolvedValueOnce(order({ orderId: "46" }));
    const { user } = renderForm(place);
    await user.type(screen.getByLabelText("Price"), "100");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(answer().textContent).toBe("Refused: order notional 2500000.00 exceeds the account's limit 1000000.00 RISK_MAX_NOTIONAL");
    await user.click(screen.getByRole("button", { name: "Buy BTC-USD" }));
    expect(answer().textContent).toBe("New: order 46 for 1.000");
  });
});
