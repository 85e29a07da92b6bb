/**
 * The console's one WebSocket to the gateway (`/ws`): authenticates with the token, keeps the
 * subscriptions the pages want (the account's order updates, one symbol's book and trades), and
 * when the connection drops, reconnects with backoff and subscribes again — order updates from
 * just after the last one seen, so nothing that happened while it was away is missed. A refused
 * token ends it for good: the person has to sign in again.
 */
import { fromJson } from "@bufbuild/protobuf";
import { type StreamMarketDataResponse, StreamMarketDataResponseSchema, type StreamOrderUpdatesResponse, StreamOrderUpdatesResponseSchema } from "@hft/sdk/web";

export type SocketStatus =
  | { readonly state: "connecting" }
  | { readonly state: "open"; readonly account: string; readonly role: string; readonly expiresAt?: Date }
  | { readonly state: "reconnecting"; readonly retryInMs: number; readonly why: string }
  | { readonly state: "refused"; readonly why: string }
  | { readonly state: "closed" };

/** A failure the gateway reported on the socket (`{"type":"error"}`). */
export interface SocketProblem {
  readonly code: string;
  readonly message: string;
  readonly reason?: string;
  readonly channel?: string;
}

export interface SocketHandlers {
  status(status: SocketStatus): void;
  orderUpdate(update: StreamOrderUpdatesResponse): void;
  marketData(symbol: string, update: StreamMarketDataResponse): void;
  /** A subscription started (again): the page can reload what the stream does not replay. */
  subscribed(channel: "orders" | "market", symbol?: string): void;
  problem(problem: SocketProblem): void;
}

/** The part of the browser's WebSocket the console uses; tests pass their own. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface PlatformSocketOptions {
  readonly url: string;
  readonly token: string;
  readonly handlers: SocketHandlers;
  readonly openSocket?: (url: string) => SocketLike;
  /** First and longest wait before reconnecting. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Silence (no message, not even the gateway's heartbeat) after which the connection counts as dead. */
  readonly silenceMs?: number;
}

const OPEN = 1;
/** The gateway's close code for a token it refused or a client that never authenticated. */
const POLICY_VIOLATION = 1008;
/** Reasons a subscription refusal is worth retrying: the backend or the rate window will recover. */
const retryableCodes = new Set(["UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED"]);
const resubscribeMs = 2_000;

export class PlatformSocket {
  private socket: SocketLike | undefined;
  private authenticated = false;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  private wantOrders = false;
  private marketSymbol: string | undefined;
  private lastOrderSequence = 0n;
  private readonly retries = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly options: PlatformSocketOptions) {
    this.connect();
  }

  /** The account's order updates, for as long as the socket lives. */
  subscribeOrders(): void {
    this.wantOrders = true;
    if (this.authenticated) this.sendOrdersSubscription();
  }

  /** One symbol's book (10 levels) and trades; replaces the previous symbol's. */
  watchMarket(symbol: string | undefined): void {
    if (symbol === this.marketSymbol) return;
    const previous = this.marketSymbol;
    this.marketSymbol = symbol;
    if (!this.authenticated) return;
    if (previous) this.send({ type: "unsubscribe", channel: "market", symbol: previous });
    if (symbol) this.sendMarketSubscription(symbol);
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.silenceTimer);
    for (const timer of this.retries) clearTimeout(timer);
    this.socket?.close(1000, "signed out");
    this.options.handlers.status({ state: "closed" });
  }

  private connect(): void {
    this.authenticated = false;
    this.options.handlers.status({ state: "connecting" });
    const socket = (this.options.openSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike))(this.options.url);
    this.socket = socket;
    socket.onopen = () => {
      this.lastMessageAt = Date.now();
      socket.send(JSON.stringify({ type: "auth", token: this.options.token }));
    };
    socket.onmessage = (event) => {
      this.lastMessageAt = Date.now();
      if (typeof event.data === "string") this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.authenticated = false;
      clearInterval(this.silenceTimer);
      if (this.stopped) return;
      if (event.code === POLICY_VIOLATION) {
        this.stopped = true;
        this.options.handlers.status({ state: "refused", why: event.reason || "the gateway refused the token" });
        return;
      }
      this.scheduleReconnect(event.reason ? `connection closed: ${event.reason} (${event.code})` : `connection lost (${event.code})`);
    };
    socket.onerror = () => undefined; // a close event always follows, with the code
    const silenceMs = this.options.silenceMs ?? 45_000;
    this.silenceTimer = setInterval(() => {
      if (Date.now() - this.lastMessageAt > silenceMs) socket.close(4000, "no message from the gateway in time");
    }, Math.min(5_000, silenceMs));
  }

  private scheduleReconnect(why: string): void {
    const min = this.options.reconnectMinMs ?? 500;
    const max = this.options.reconnectMaxMs ?? 10_000;
    const wait = Math.min(max, min * 2 ** this.attempt);
    this.attempt += 1;
    this.options.handlers.status({ state: "reconnecting", retryInMs: wait, why });
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  private receive(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (message.type) {
      case "authenticated": {
        this.authenticated = true;
        this.attempt = 0;
        // The gateway closes the connection when the token expires; it says when.
        const expiresAt = typeof message.expiresAt === "string" ? new Date(message.expiresAt) : undefined;
        this.options.handlers.status({ state: "open", account: String(message.account), role: String(message.role), ...(expiresAt && !Number.isNaN(expiresAt.getTime()) ? { expiresAt } : {}) });
        if (this.wantOrders) this.sendOrdersSubscription();
        if (this.marketSymbol) this.sendMarketSubscription(this.marketSymbol);
        return;
      }
      case "subscribed":
        if (message.channel === "orders" || message.channel === "market") this.options.handlers.subscribed(message.channel, typeof message.symbol === "string" ? message.symbol : undefined);
        return;
      case "order_update": {
        const update = fromJson(StreamOrderUpdatesResponseSchema, message.data as never, { ignoreUnknownFields: true });
        if (update.order && update.order.sequence > this.lastOrderSequence) this.lastOrderSequence = update.order.sequence;
        this.options.handlers.orderUpdate(update);
        return;
      }
      case "market_data":
        if (typeof message.symbol === "string" && message.symbol === this.marketSymbol) {
          this.options.handlers.marketData(message.symbol, fromJson(StreamMarketDataResponseSchema, message.data as never, { ignoreUnknownFields: true }));
        }
        return;
      case "ended":
        // The backend stream ended (an order service restart, say): open it again.
        this.retrySubscription(message.channel, message.symbol);
        return;
      case "error": {
        const problem: SocketProblem = {
          code: String(message.code),
          message: String(message.message),
          ...(typeof message.reason === "string" ? { reason: message.reason } : {}),
          ...(typeof message.channel === "string" ? { channel: message.channel } : {}),
        };
        this.options.handlers.problem(problem);
        if (retryableCodes.has(problem.code)) this.retrySubscription(message.channel, message.symbol);
        return;
      }
    }
  }

  private retrySubscription(channel: unknown, symbol: unknown): void {
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (!this.authenticated) return; // the reconnect subscribes again anyway
      if (channel === "orders" && this.wantOrders) this.sendOrdersSubscription();
      if (channel === "market" && symbol === this.marketSymbol && typeof symbol === "string") this.sendMarketSubscription(symbol);
    }, resubscribeMs);
    this.retries.add(timer);
  }

  private sendOrdersSubscription(): void {
    // After a drop, replay from just after the last update seen; the first time, live updates
    // (the page loads the orders already there once the subscription has started).
    const fromSequence = this.lastOrderSequence > 0n ? String(this.lastOrderSequence + 1n) : undefined;
    this.send({ type: "subscribe", channel: "orders", ...(fromSequence ? { fromSequence } : {}) });
  }

  private sendMarketSubscription(symbol: string): void {
    this.send({ type: "subscribe", channel: "market", symbol, depth: 10, l1: false, l2: true, trades: true });
  }

  private send(message: object): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }
}

/** The gateway's /ws beside the page: ws:// or wss:// as the page itself is served. */
export function socketUrlOf(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}
