import type * as http from "node:http";
import type { Duplex } from "node:stream";
import { type DescMessage, type DescMethodStreaming, type MessageInitShape, fromJson, toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { MarketDataService, type StreamMarketDataRequest } from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { type Logger, violationsOf, whenTokenExpires } from "@hft/service-kit";
import { type WebSocket, WebSocketServer } from "ws";
import type { Admission, Admitted } from "./admission.js";
import type { BackendRoutes } from "./backends.js";
import { forwardedHeaders, requestIdOf, traceparentOf } from "./forwarded-metadata.js";
import { GatewayError, codeName } from "./gateway-error.js";
import { type FeedSubscriber, createMarketFeeds } from "./market-feeds.js";
import type { GatewayMetrics } from "./metrics.js";
import { clientErrorOf } from "./rpc-proxy.js";

/** Close codes the gateway uses (RFC 6455 §7.4 plus the 4000 range for its own). */
export const closeCodes = {
  goingAway: 1001, // the gateway is shutting down
  policy: 1008, // not authenticated in time, or refused
  tooBig: 1009, // a message larger than allowed
  slowConsumer: 1013, // "try again later": the client read too slowly and its buffer passed the bound
  heartbeatMissed: 4000, // no pong to the last ping
} as const;

export interface WebSocketHubOptions {
  readonly backends: BackendRoutes;
  readonly admit: Admission;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** A ping (and a heartbeat message) this often; a client that has not answered the previous ping is dropped. */
  readonly heartbeatMs: number;
  /** The most bytes queued for one client before it is dropped as a slow consumer. */
  readonly maxBufferedBytes: number;
  readonly maxMessageBytes: number;
  /** Origins allowed besides the gateway's own; `*` any. */
  readonly origins?: readonly string[];
  /** How long a client without an Authorization header has to send {"type":"auth"}. Default 10 s. */
  readonly authTimeoutMs?: number;
  /** Subscriptions per connection. Default 50. */
  readonly maxSubscriptions?: number;
}

type Channel = "orders" | "market";

interface ClientMessage {
  readonly type?: unknown;
  readonly token?: unknown;
  readonly channel?: unknown;
  readonly symbol?: unknown;
  readonly fromSequence?: unknown;
  readonly account?: unknown;
  readonly depth?: unknown;
  readonly l1?: unknown;
  readonly l2?: unknown;
  readonly trades?: unknown;
}

/**
 * WebSocket `/ws`: a client authenticates (Authorization header on the upgrade, or a first
 * message `{"type":"auth","token":...}`), then subscribes to its order updates
 * (`{"type":"subscribe","channel":"orders"}`, StreamOrderUpdates on the order service with the
 * client's token, so it sees only what the token may see) and to market data per symbol
 * (`{"type":"subscribe","channel":"market","symbol":"BTC-USD"}`, StreamMarketData). Each order
 * subscription is one backend stream; market data subscriptions to the same symbol and channels
 * share one ({@link createMarketFeeds}). A subscription ends with `unsubscribe` or the connection.
 *
 * Memory per client is bounded: when the bytes queued for a client pass `maxBufferedBytes` it is
 * closed with 1013 and its streams cancelled, rather than buffering for it without end.
 */
export function createWebSocketHub(options: WebSocketHubOptions) {
  const { metrics, logger } = options;
  const maxSubscriptions = options.maxSubscriptions ?? 50;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false });
  const clients = new Set<WebSocket>();
  const allowedOrigins = new Set(options.origins ?? []);
  const marketFeeds = createMarketFeeds((feeds) => metrics.wsMarketFeeds.set(feeds));

  function originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || allowedOrigins.has("*") || allowedOrigins.has(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  function refuseUpgrade(socket: Duplex, status: number, message: string): void {
    socket.end(`HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Forbidden"}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`);
  }

  function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/ws") return refuseUpgrade(socket, 404, `no WebSocket endpoint at ${path}; it is /ws`);
    if (!originAllowed(req)) return refuseUpgrade(socket, 403, `origin ${req.headers.origin} is not allowed`);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req));
  }

  function serve(ws: WebSocket, req: http.IncomingMessage): void {
    clients.add(ws);
    metrics.wsConnections.inc();
    const peer = req.socket.remoteAddress ?? "unknown";
    const requestId = requestIdOf(req.headers["x-request-id"] as string | undefined);
    const traceparent = traceparentOf(req.headers.traceparent as string | undefined);
    const subscriptions = new Map<string, AbortController>();
    let caller: Admitted | undefined;
    // Header authentication runs while the first messages may already arrive: they wait for it.
    let authenticating: Promise<boolean> | undefined;
    let alive = true;
    let closed = false;
    let stopExpiry = () => {};

    const drop = (code: number, reason: string, metric: string) => {
      if (closed) return;
      metrics.wsDropped.inc({ reason: metric });
      ws.close(code, reason);
      // A client that does not complete the closing handshake is cut off.
      setTimeout(() => ws.terminate(), 2_000).unref();
    };

    /** Sends one message, or drops the client when its queue would pass the bound. */
    const send = (message: object): boolean => sendText(Buffer.from(JSON.stringify(message)));
    /** Sends UTF-8 JSON as a text frame: a feed encodes each update once for all its subscribers. */
    const sendText = (text: Buffer): boolean => {
      if (closed || ws.readyState !== ws.OPEN) return false;
      if (ws.bufferedAmount + text.length > options.maxBufferedBytes) {
        drop(closeCodes.slowConsumer, "slow consumer: too many messages waiting", "slow_consumer");
        return false;
      }
      ws.send(text, { binary: false });
      return true;
    };
    const sendError = (error: unknown, extra: object = {}) => {
      const clientError = error instanceof GatewayError ? error.toConnectError() : clientErrorOf(error, logger);
      send({ type: "error", ...extra, code: codeName(clientError.code), message: clientError.rawMessage, reason: clientError.metadata.get("hft-reason") ?? undefined });
    };

    const authTimer = setTimeout(() => caller === undefined && drop(closeCodes.policy, "not authenticated in time", "auth_timeout"), options.authTimeoutMs ?? 10_000);
    const heartbeat = setInterval(() => {
      if (!alive) return drop(closeCodes.heartbeatMissed, "no pong to the last ping", "heartbeat_missed");
      alive = false;
      ws.ping();
      send({ type: "heartbeat", time: new Date().toISOString() });
    }, options.heartbeatMs);
    ws.on("pong", () => (alive = true));

    async function authenticate(authorization: string | undefined): Promise<boolean> {
      try {
        caller = await options.admit({ authorization, peer });
        clearTimeout(authTimer);
        send({ type: "authenticated", account: caller.identity.account, role: caller.identity.role, expiresAt: new Date(caller.identity.expiresAtMs).toISOString() });
        // The connection, and every stream it opened, lasts no longer than its token.
        stopExpiry = whenTokenExpires(caller.identity, () => {
          sendError(new GatewayError(Code.Unauthenticated, "TOKEN_EXPIRED", "the token this connection authenticated with expired; connect again with a fresh one"));
          drop(closeCodes.policy, "token expired", "token_expired");
        });
        return true;
      } catch (error) {
        sendError(error);
        drop(closeCodes.policy, "authentication refused", "auth_refused");
        return false;
      }
    }

    /** The headers a backend stream opened for this client carries: its token, request id and trace. */
    const backendHeaders = () => forwardedHeaders(new Headers({ authorization: `Bearer ${caller!.token}`, "x-request-id": requestId, traceparent }));

    /** Opens a subscription under `key` once admitted: each counts against the caller's window like any other request. */
    async function admitted(key: string, method: DescMethodStreaming, describe: object): Promise<AbortController | undefined> {
      const controller = new AbortController();
      subscriptions.set(key, controller);
      try {
        await options.admit({ authorization: `Bearer ${caller!.token}`, peer, method });
        if (!controller.signal.aborted && !closed) return controller;
      } catch (error) {
        if (!controller.signal.aborted && !closed) sendError(error, describe);
      }
      if (subscriptions.get(key) === controller) subscriptions.delete(key);
      return undefined;
    }

    /** One backend stream into the socket until it ends, fails, is unsubscribed or the client goes. */
    async function pump<I extends DescMessage, O extends DescMessage>(
      key: string,
      method: DescMethodStreaming<I, O>,
      request: MessageInitShape<I>,
      wrap: (data: unknown) => object,
      describe: object,
    ) {
      const controller = await admitted(key, method, describe);
      if (!controller) return;
      try {
        async function* one() {
          yield request;
        }
        const response = await options.backends.backendOf(method.parent).transport.stream(method, controller.signal, undefined, backendHeaders(), one());
        send({ type: "subscribed", ...describe });
        for await (const message of response.message) {
          if (!send(wrap(toJson(method.output, message)))) break;
        }
        if (!controller.signal.aborted && !closed) send({ type: "ended", ...describe });
      } catch (error) {
        if (!controller.signal.aborted && !closed) sendError(error, describe);
      } finally {
        controller.abort();
        if (subscriptions.get(key) === controller) subscriptions.delete(key);
      }
    }

    /** Joins the shared feed of `request`, opened with this client's headers when it is the first. */
    async function joinMarket(key: string, request: StreamMarketDataRequest, describe: object) {
      const method = MarketDataService.method.streamMarketData;
      const controller = await admitted(key, method, describe);
      if (!controller) return;
      const headers = backendHeaders();
      const open = async (upstream: StreamMarketDataRequest, signal: AbortSignal) => {
        async function* one() {
          yield upstream;
        }
        const response = await options.backends.backendOf(MarketDataService).transport.stream(method, signal, undefined, headers, one());
        return response.message;
      };
      const subscriber: FeedSubscriber = {
        deliver: sendText,
        opened: () => void send({ type: "subscribed", ...describe }),
        closed: (error) => {
          if (controller.signal.aborted || closed) return;
          if (error === undefined) send({ type: "ended", ...describe });
          else sendError(error, describe);
          if (subscriptions.get(key) === controller) subscriptions.delete(key);
          controller.abort();
        },
      };
      const leave = marketFeeds.join(request, open, subscriber);
      controller.signal.addEventListener("abort", leave, { once: true });
    }

    function subscribe(message: ClientMessage) {
      const channel = message.channel as Channel;
      if (channel !== "orders" && channel !== "market") throw new GatewayError(Code.InvalidArgument, "INVALID_MESSAGE", `channel must be "orders" or "market", got ${JSON.stringify(message.channel)}`);
      if (subscriptions.size >= maxSubscriptions) throw new GatewayError(Code.ResourceExhausted, "TOO_MANY_SUBSCRIPTIONS", `at most ${maxSubscriptions} subscriptions per connection`);
      if (channel === "orders") {
        const key = `orders:${typeof message.symbol === "string" ? message.symbol : ""}:${typeof message.account === "string" ? message.account : ""}`;
        if (subscriptions.has(key)) throw new GatewayError(Code.AlreadyExists, "ALREADY_SUBSCRIBED", "already subscribed to these order updates");
        const request = decode(OrderService.method.streamOrderUpdates, { fromSequence: message.fromSequence, symbol: message.symbol, account: message.account });
        const describe = { channel, ...(request.symbol ? { symbol: request.symbol } : {}), ...(request.account ? { account: request.account } : {}) };
        void pump(key, OrderService.method.streamOrderUpdates, request, (data) => ({ type: "order_update", data }), describe);
      } else {
        if (typeof message.symbol !== "string" || message.symbol === "") throw new GatewayError(Code.InvalidArgument, "INVALID_MESSAGE", "a market subscription needs a symbol");
        const key = `market:${message.symbol}`;
        if (subscriptions.has(key)) throw new GatewayError(Code.AlreadyExists, "ALREADY_SUBSCRIBED", `already subscribed to market data of ${message.symbol}`);
        const all = message.l1 === undefined && message.l2 === undefined && message.trades === undefined;
        const request = decode(MarketDataService.method.streamMarketData, {
          symbols: [message.symbol],
          depth: message.depth,
          includeL1: all || message.l1,
          includeL2: all || message.l2,
          includeTrades: all || message.trades,
        });
        void joinMarket(key, request, { channel, symbol: message.symbol });
      }
    }

    function unsubscribe(message: ClientMessage) {
      const prefix = message.channel === "market" ? `market:${String(message.symbol)}` : message.channel === "orders" ? "orders:" : undefined;
      if (prefix === undefined) throw new GatewayError(Code.InvalidArgument, "INVALID_MESSAGE", `channel must be "orders" or "market", got ${JSON.stringify(message.channel)}`);
      const keys = [...subscriptions.keys()].filter((key) => (prefix.endsWith(":") ? key.startsWith(prefix) : key === prefix));
      if (keys.length === 0) throw new GatewayError(Code.NotFound, "NOT_SUBSCRIBED", `no ${message.channel} subscription${message.channel === "market" ? ` for ${String(message.symbol)}` : ""}`);
      for (const key of keys) {
        subscriptions.get(key)!.abort();
        subscriptions.delete(key);
      }
      send({ type: "unsubscribed", channel: message.channel, ...(message.channel === "market" ? { symbol: message.symbol } : {}) });
    }

    ws.on("message", (data, isBinary) => {
      void (async () => {
        let message: ClientMessage;
        try {
          if (isBinary) throw new GatewayError(Code.InvalidArgument, "INVALID_MESSAGE", "messages must be JSON text frames");
          const parsed: unknown = JSON.parse(data.toString());
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new GatewayError(Code.InvalidArgument, "INVALID_MESSAGE", "a message must be a JSON object with a type");
          message = parsed as ClientMessage;
        } catch (error) {
          sendError(error instanceof GatewayError ? error : new GatewayError(Code.InvalidArgument, "MALFORMED_JSON", `malformed JSON message: ${(error as Error).message}`));
          return;
        }
        try {
          if (message.type === "ping") return void send({ type: "pong" });
          if (caller === undefined && authenticating) await authenticating;
          if (closed) return;
          if (caller === undefined) {
            if (message.type !== "auth" || typeof message.token !== "string") throw new GatewayError(Code.Unauthenticated, "TOKEN_MISSING", 'authenticate first: {"type":"auth","token":"<jwt>"} or an Authorization header on the upgrade');
            authenticating = authenticate(`Bearer ${message.token}`);
            await authenticating;
            return;
          }
          if (message.type === "subscribe") return subscribe(message);
          if (message.type === "unsubscribe") return unsubscribe(message);
          throw new GatewayError(Code.InvalidArgument, "INVALID_MESSAGE", `type must be one of auth, subscribe, unsubscribe, ping; got ${JSON.stringify(message.type)}`);
        } catch (error) {
          sendError(error, typeof message.channel === "string" ? { channel: message.channel } : {});
        }
      })();
    });

    ws.on("close", () => {
      closed = true;
      clients.delete(ws);
      metrics.wsConnections.dec();
      clearTimeout(authTimer);
      clearInterval(heartbeat);
      stopExpiry();
      for (const controller of subscriptions.values()) controller.abort();
      subscriptions.clear();
    });
    ws.on("error", (error) => logger.debug({ err: error.message }, "WebSocket error"));

    const authorization = req.headers.authorization;
    if (authorization !== undefined) authenticating = authenticate(authorization);
  }

  /** Decodes a subscription's request from the client's fields (proto3 JSON); a bad field is named. */
  function decode<I extends DescMessage>(method: DescMethodStreaming<I>, fields: Record<string, unknown>) {
    const json = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    let request;
    try {
      request = fromJson(method.input, json as never);
    } catch (error) {
      throw new GatewayError(Code.InvalidArgument, "INVALID_MESSAGE", (error as Error).message);
    }
    const problem = violationsOf(method.input, request);
    if (problem) throw new GatewayError(Code.InvalidArgument, "INVALID_REQUEST", problem);
    return request;
  }

  return {
    handleUpgrade,
    /** Tells every client the gateway is going (1001) and cancels their streams. */
    async close(): Promise<void> {
      for (const ws of clients) ws.close(closeCodes.goingAway, "the gateway is shutting down");
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          for (const ws of clients) ws.terminate();
          resolve();
        }, 2_000);
        force.unref();
        if (clients.size === 0) {
          clearTimeout(force);
          resolve();
        } else wss.once("close", resolve);
        wss.close(() => (clearTimeout(force), resolve()));
      });
    },
  };
}

