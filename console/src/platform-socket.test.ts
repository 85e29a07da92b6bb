import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OrderStatus } from "@hft/sdk/web";
import { PlatformSocket, type SocketHandlers, type SocketLike, type SocketStatus, socketUrlOf } from "./platform-socket.js";

/** A socket the test drives: what the console sent, and the gateway's side of the conversation. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000, reason = "") {
    this.closedBy(code, reason);
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  closedBy(code: number, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

let sockets: FakeSocket[];
let statuses: SocketStatus[];
let handlers: SocketHandlers;
let live: PlatformSocket;

beforeEach(() => {
  vi.useFakeTimers();
  sockets = [];
  statuses = [];
  handlers = { status: (s) => statuses.push(s), orderUpdate: vi.fn(), marketData: vi.fn(), subscribed: vi.fn(), problem: vi.fn() };
  live = new PlatformSocket({ url: "ws://gateway/ws", token: "t0k3n", handlers, openSocket: () => (sockets.push(new FakeSocket()), sockets.at(-1)!), reconnectMinMs: 100, reconnectMaxMs: 400, silenceMs: 10_000 });
});
afterEach(() => {
  live.close();
  vi.useRealTimers();
});

const orderUpdate = (orderId: string, sequence: number) => ({ type: "order_update", data: { order: { orderId, sequence: String(sequence), status: "ORDER_STATUS_NEW" } } });

function authenticate(socket: FakeSocket) {
  socket.open();
  expect(socket.sent[0]).toEqual({ type: "auth", token: "t0k3n" });
  socket.receive({ type: "authenticated", account: "alice", role: "trader", expiresAt: "2026-12-02T14:00:00.000Z" });
}

describe("PlatformSocket", () => {
  it("authenticates, then subscribes to order updates and the watched symbol", () => {
    live.subscribeOrders();
    live.watchMarket("BTC-USD");
    authenticate(sockets[0]!);
    expect(statuses.at(-1)).toEqual({ state: "open", account: "alice", role: "trader", expiresAt: new Date("2026-12-02T14:00:00.000Z") });
    expect(sockets[0]!.sent.slice(1)).toEqual([
      { type: "subscribe", channel: "orders" },
      { type: "subscribe", channel: "market", symbol: "BTC-USD", depth: 10, l1: false, l2: true, trades: true },
    ]);
  });

  it("decodes order updates into the SDK's messages", () => {
    live.subscribeOrders();
    authenticate(sockets[0]!);
    sockets[0]!.receive(orderUpdate("5", 12));
    expect(handlers.orderUpdate).toHaveBeenCalledWith(expect.objectContaining({ order: expect.objectContaining({ orderId: "5", sequence: 12n, status: OrderStatus.NEW }) }));
  });

  it("moves the market subscription when the watched symbol changes", () => {
    live.watchMarket("BTC-USD");
    authenticate(sockets[0]!);
    live.watchMarket("ETH-USD");
    expect(sockets[0]!.sent.slice(-2)).toEqual([
      { type: "unsubscribe", channel: "market", symbol: "BTC-USD" },
      { type: "subscribe", channel: "market", symbol: "ETH-USD", depth: 10, l1: false, l2: true, trades: true },
    ]);
    sockets[0]!.receive({ type: "market_data", symbol: "BTC-USD", data: { symbol: "BTC-USD", sequence: "3", l2: {} } });
    expect(handlers.marketData).not.toHaveBeenCalled();
  });

  it("reconnects with growing waits after a drop, and replays order updates from after the last one seen", () => {
    live.subscribeOrders();
    authenticate(sockets[0]!);
    sockets[0]!.receive(orderUpdate("5", 41));
    sockets[0]!.closedBy(1006);
    expect(statuses.at(-1)).toEqual({ state: "reconnecting", retryInMs: 100, why: "connection lost (1006)" });
    vi.advanceTimersByTime(100);
    sockets[1]!.closedBy(1006);
    expect(statuses.at(-1)).toMatchObject({ retryInMs: 200 });
    vi.advanceTimersByTime(200);
    authenticate(sockets[2]!);
    expect(sockets[2]!.sent.at(-1)).toEqual({ type: "subscribe", channel: "orders", fromSequence: "42" });
    // Once back, the next drop starts from the shortest wait again.
    sockets[2]!.closedBy(1001, "the gateway is shutting down");
    expect(statuses.at(-1)).toEqual({ state: "reconnecting", retryInMs: 100, why: "connection closed: the gateway is shutting down (1001)" });
  });

  it("stops for good when the gateway refuses the token", () => {
    sockets[0]!.open();
    sockets[0]!.receive({ type: "error", code: "UNAUTHENTICATED", message: "token expired", reason: "TOKEN_EXPIRED" });
    sockets[0]!.closedBy(1008, "authentication refused");
    expect(statuses.at(-1)).toEqual({ state: "refused", why: "authentication refused" });
    vi.advanceTimersByTime(10_000);
    expect(sockets).toHaveLength(1);
  });

  it("treats a silent connection as dead", () => {
    authenticate(sockets[0]!);
    vi.advanceTimersByTime(9_000);
    expect(statuses.at(-1)).toMatchObject({ state: "open" });
    vi.advanceTimersByTime(6_000);
    expect(statuses).toContainEqual({ state: "reconnecting", retryInMs: 100, why: "connection closed: no message from the gateway in time (4000)" });
  });

  it("reports a refused subscription, and tries again when the refusal is temporary", () => {
    live.subscribeOrders();
    authenticate(sockets[0]!);
    sockets[0]!.receive({ type: "error", channel: "orders", code: "RESOURCE_EXHAUSTED", message: "rate limit reached", reason: "RATE_LIMITED" });
    expect(handlers.problem).toHaveBeenCalledWith({ code: "RESOURCE_EXHAUSTED", message: "rate limit reached", reason: "RATE_LIMITED", channel: "orders" });
    const before = sockets[0]!.sent.length;
    vi.advanceTimersByTime(2_000);
    expect(sockets[0]!.sent.slice(before)).toEqual([{ type: "subscribe", channel: "orders" }]);
    sockets[0]!.receive({ type: "error", channel: "orders", code: "ALREADY_EXISTS", message: "already subscribed" });
    vi.advanceTimersByTime(2_000);
    expect(sockets[0]!.sent.length).toBe(before + 1);
  });

  it("opens an ended order stream again", () => {
    live.subscribeOrders();
    authenticate(sockets[0]!);
    sockets[0]!.receive({ type: "ended", channel: "orders" });
    vi.advanceTimersByTime(2_000);
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: "subscribe", channel: "orders" });
  });
});

describe("socketUrlOf", () => {
  it("follows the page's scheme", () => {
    expect(socketUrlOf({ protocol: "http:", host: "127.0.0.1:8080" })).toBe("ws://127.0.0.1:8080/ws");
    expect(socketUrlOf({ protocol: "https:", host: "trade.example" })).toBe("wss://trade.example/ws");
  });
});
