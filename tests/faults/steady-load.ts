/**
 * Steady order load on the platform while a fault happens: crossing limit orders at a fixed rate,
 * round robin over three channels, one account each: unary PlaceOrder straight to the order
 * service, the OrderEntry stream, and REST through the gateway. Every order's outcome is recorded:
 * acknowledged (with the order id) or the error the client got, normalised to one code.
 *
 * Each call has a deadline, so no outcome waits beyond it. Clients of a channel whose server went
 * away see its transport error (a refused or dropped connection) and go on placing orders.
 */
import * as grpc from "@grpc/grpc-js";
import type { Order, OrderEntryRequest, OrderEntryResponse, OrderServiceClient, PlaceOrderRequest, PlaceOrderResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { bearer, limitOrder } from "../support/order-calls.js";
import { until } from "../support/until.js";

export type Channel = "grpc" | "stream" | "rest";
export const CHANNELS: readonly Channel[] = ["grpc", "stream", "rest"];

/** How long a client waits for any one order's answer. */
export const ORDER_DEADLINE_MS = 5_000;

/** What the client was told: acknowledged, or refused with a code (gRPC's names; transport failures have their own). */
export type Answer =
  | { readonly kind: "acknowledged"; readonly order: Order }
  | { readonly kind: "refused"; readonly code: string; readonly reason: string; readonly message: string };

export interface OrderRecord {
  readonly phase: string;
  readonly channel: Channel;
  readonly account: string;
  readonly request: PlaceOrderRequest;
  /** The first attempt's answer; undefined while it is in flight. */
  first?: Answer;
  /** The answer of the last retry with the same client_order_id, if the first was refused. */
  retried?: Answer;
}

/** The answer that stands: the retry's when there was one. */
export const finalAnswer = (record: OrderRecord): Answer | undefined => record.retried ?? record.first;

export interface LoadTargets {
  /** host:port of the order service (fixed across its restarts). */
  readonly orderService: string;
  /** host:port of the gateway (fixed across its restarts). */
  readonly gateway: string;
  /** The account placing on each channel. */
  readonly accounts: Readonly<Record<Channel, string>>;
}

export interface SteadyLoad {
  readonly records: readonly OrderRecord[];
  /**
   * Resolves once `count` orders placed after this call were acknowledged; fails naming what the
   * clients got after `timeoutMs`, or at once with what `broken` says once it says something.
   */
  acknowledgedFromNow(count: number, timeoutMs?: number, broken?: () => readonly string[]): Promise<void>;
  /** Stops placing and resolves once every order placed has its answer. */
  stop(): Promise<void>;
}

const codeName = (code: number) => grpc.status[code] ?? `CODE_${code}`;
const refused = (code: string, reason: string, message: string): Answer => ({ kind: "refused", code, reason, message });

function grpcAnswer(error: grpc.ServiceError): Answer {
  const reason = error.metadata?.get("hft-reason")[0]?.toString() ?? "";
  return refused(codeName(error.code), reason, error.details || error.message);
}

/** A failure below HTTP (the gateway is down or went away mid-request), named by the socket error. */
function transportAnswer(error: unknown): Answer {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === "TimeoutError") return refused("DEADLINE_EXCEEDED", "CLIENT_DEADLINE", `no answer within ${ORDER_DEADLINE_MS} ms`);
  if (cause?.code === "ECONNREFUSED") return refused("CONNECTION_REFUSED", cause.code, cause.message ?? "connection refused");
  return refused("CONNECTION_LOST", cause?.code ?? "", cause?.message ?? (error as Error).message);
}

/** PlaceOrder by unary gRPC on `client`, and by REST through the gateway at `gateway` (host:port). */
export function createOrderClients(gateway: string, client: OrderServiceClient) {
  const metadataFor = async (account: string) => {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${await bearer(account)}`);
    return metadata;
  };

  /** Unary PlaceOrder with a deadline. */
  async function placeByGrpc(account: string, request: PlaceOrderRequest): Promise<Answer> {
    const metadata = await metadataFor(account);
    return new Promise((resolve) =>
      client.placeOrder(request, metadata, { deadline: Date.now() + ORDER_DEADLINE_MS }, (error: grpc.ServiceError | null, response: PlaceOrderResponse) =>
        resolve(error ? grpcAnswer(error) : { kind: "acknowledged", order: response.order! }),
      ),
    );
  }

  /** POST /api/v1/orders through the gateway, with the deadline as X-Timeout-Ms. */
  async function placeByRest(account: string, request: PlaceOrderRequest): Promise<Answer> {
    const body = {
      clientOrderId: request.clientOrderId,
      symbol: request.symbol,
      side: Side[request.side],
      type: "ORDER_TYPE_LIMIT",
      timeInForce: "TIME_IN_FORCE_GTC",
      price: request.price,
      quantity: request.quantity,
    };
    try {
      const response = await fetch(`http://${gateway}/api/v1/orders`, {
        method: "POST",
        headers: { authorization: `Bearer ${await bearer(account)}`, "content-type": "application/json", "x-timeout-ms": String(ORDER_DEADLINE_MS) },
        body: JSON.stringify(body),
        // The gateway answers by the deadline; this bounds a gateway that went silent.
        signal: AbortSignal.timeout(ORDER_DEADLINE_MS + 2_000),
      });
      const json = (await response.json()) as { order?: { orderId: string; status: string }; code?: string; reason?: string; message?: string };
      if (response.ok && json.order) return { kind: "acknowledged", order: { ...request, orderId: json.order.orderId } as unknown as Order };
      return refused((json.code ?? `HTTP_${response.status}`).toUpperCase(), json.reason ?? "", json.message ?? "");
    } catch (error) {
      return transportAnswer(error);
    }
  }

  return { placeByGrpc, placeByRest };
}

/** One OrderEntry stream, opened again when it breaks; each instruction is answered, refused by the stream's error, or timed out. */
function createEntryStream(client: OrderServiceClient, account: string) {
  type EntryStream = grpc.ClientDuplexStream<OrderEntryRequest, OrderEntryResponse>;
  let stream: EntryStream | undefined;
  let nextRequestId = 1n;
  /** Instructions without an answer, with the stream they went out on. */
  const waiting = new Map<bigint, { readonly on: EntryStream; readonly settle: (answer: Answer) => void }>();
  const settle = (requestId: bigint, answer: Answer) => {
    const entry = waiting.get(requestId);
    waiting.delete(requestId);
    entry?.settle(answer);
  };

  function open(token: string): EntryStream {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    const opened = client.orderEntry(metadata);
    opened.on("data", (response: OrderEntryResponse) => {
      if (response.requestId === 0n) return; // an unsolicited order update
      const result = response.result;
      if (result?.$case === "order") settle(response.requestId, { kind: "acknowledged", order: result.value });
      else if (result?.$case === "error") settle(response.requestId, refused(codeName(result.value.code), result.value.reason, result.value.message));
      else settle(response.requestId, refused("UNKNOWN", "", "an answer with neither an order nor an error"));
    });
    // The instructions on a broken stream get its error: their outcome is unknown to the client.
    const broken = (answer: Answer) => {
      if (stream === opened) stream = undefined;
      for (const [requestId, entry] of waiting) if (entry.on === opened) settle(requestId, answer);
    };
    opened.on("error", (error: grpc.ServiceError) => broken(grpcAnswer(error)));
    opened.on("end", () => broken(refused("UNAVAILABLE", "STREAM_ENDED", "the order service ended the stream")));
    return opened;
  }

  async function place(request: PlaceOrderRequest): Promise<Answer> {
    const token = await bearer(account);
    // After the await, so that orders placed together share one stream.
    stream ??= open(token);
    const on = stream;
    const requestId = nextRequestId++;
    return new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => settle(requestId, refused("DEADLINE_EXCEEDED", "CLIENT_DEADLINE", `no answer on the stream within ${ORDER_DEADLINE_MS} ms`)), ORDER_DEADLINE_MS);
      waiting.set(requestId, { on, settle: (answer) => (clearTimeout(timer), resolve(answer)) });
      on.write({ requestId, action: { $case: "place", value: request } });
    });
  }

  return {
    place,
    close() {
      stream?.cancel();
      stream = undefined;
    },
  };
}

/**
 * Places `ratePerSecond` orders a second (the three channels in turn) until stopped. Accounts
 * alternate sides at prices 99.98..100.02, so most orders trade against another account's.
 */
export function startSteadyLoad(targets: LoadTargets, client: OrderServiceClient, phase: string, ratePerSecond: number, into: OrderRecord[]): SteadyLoad {
  const { placeByGrpc, placeByRest } = createOrderClients(targets.gateway, client);
  const entry = createEntryStream(client, targets.accounts.stream);
  const pending = new Set<Promise<void>>();
  const startedAt = Date.now();
  let placed = 0;

  const placeNext = () => {
    const n = placed++;
    const channel = CHANNELS[n % CHANNELS.length]!;
    const account = targets.accounts[channel];
    const side = Math.floor(n / CHANNELS.length) % 2 === 0 ? Side.SIDE_SELL : Side.SIDE_BUY;
    const request = limitOrder("BTC-USD", side, 10_000 + ((n * 7) % 5) - 2, 1 + (n % 3), `${phase}-${channel}-${n}`);
    const record: OrderRecord = { phase, channel, account, request };
    into.push(record);
    const answer = channel === "grpc" ? placeByGrpc(account, request) : channel === "stream" ? entry.place(request) : placeByRest(account, request);
    const settled = answer.then((a) => {
      record.first = a;
    });
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
  };

  // Catches up with the rate from the start, so a busy event loop does not lower it.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - startedAt) * ratePerSecond) / 1000);
    for (let burst = 0; placed < due && burst < ratePerSecond; burst++) placeNext();
  }, 10);

  const ownRecords = () => into.filter((r) => r.phase === phase);
  return {
    get records() {
      return ownRecords();
    },
    async acknowledgedFromNow(count, timeoutMs = 30_000, broken = () => []) {
      const from = into.length;
      const acknowledged = () => into.slice(from).filter((r) => r.first?.kind === "acknowledged").length;
      await until(() => {
        const reasons = broken();
        if (reasons.length > 0) throw new Error(reasons.join("; "));
        return acknowledged() >= count;
      }, () => `${count} acknowledged orders (${acknowledged()} so far; the clients got ${JSON.stringify(answerCounts(into.slice(from)))})`, timeoutMs);
    },
    async stop() {
      clearInterval(timer);
      while (pending.size > 0) await Promise.all([...pending]);
      entry.close();
    },
  };
}

/** How many records got each answer: `OK` or the refusal's code. */
export function answerCounts(records: readonly OrderRecord[], answerOf: (r: OrderRecord) => Answer | undefined = (r) => r.first): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) {
    const answer = answerOf(record);
    const key = !answer ? "IN_FLIGHT" : answer.kind === "acknowledged" ? "OK" : answer.code;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
