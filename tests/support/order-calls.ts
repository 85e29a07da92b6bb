/**
 * Calls to a running order service as a test makes them: signed as an account (with the local
 * AUTH_* settings), each with a deadline so no call hangs a test, plus a flow of concurrent
 * PlaceOrder calls that records every outcome.
 */
import * as grpc from "@grpc/grpc-js";
import { signDevToken } from "@hft/service-kit";
import type {
  ListOrdersRequest,
  ListOrdersResponse,
  Order,
  OrderServiceClient,
  PlaceOrderRequest,
  PlaceOrderResponse,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import type { OrderServiceProcess } from "./order-service-process.js";
import { until } from "./until.js";

const tokens = new Map<string, Promise<string>>();
/** A trader token for `account`, signed with the local AUTH_* settings; one per account. */
export function bearer(account: string): Promise<string> {
  let token = tokens.get(account);
  if (!token) {
    token = signDevToken({ account, role: "trader", hs256Secret: process.env.AUTH_HS256_SECRET!, issuer: process.env.AUTH_ISSUER!, audience: process.env.AUTH_AUDIENCE! });
    tokens.set(account, token);
  }
  return token;
}

export type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** One call as `account`, with a deadline: a call never hangs the test. `headers` go along as metadata (a `traceparent`, say). */
export async function call<Req, Res>(
  client: OrderServiceClient,
  method: Unary<Req, Res>,
  request: Req,
  account: string,
  deadlineMs = 10_000,
  headers: Readonly<Record<string, string>> = {},
): Promise<Res> {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${await bearer(account)}`);
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return new Promise((resolve, reject) =>
    method.call(client, request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

export const placeOrder = (service: OrderServiceProcess, request: PlaceOrderRequest, account: string, headers: Readonly<Record<string, string>> = {}) =>
  call<PlaceOrderRequest, PlaceOrderResponse>(service.client, service.client.placeOrder, request, account, 10_000, headers).then((r) => r.order!);

/** A GTC limit order; prices in ticks of 0.01, quantities in lots of 0.0001. */
export function limitOrder(symbol: string, side: Side, priceTicks: number, lots: number, clientOrderId: string): PlaceOrderRequest {
  return {
    clientOrderId,
    symbol,
    side,
    type: OrderType.ORDER_TYPE_LIMIT,
    timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
    price: `${Math.floor(priceTicks / 100)}.${String(priceTicks % 100).padStart(2, "0")}`,
    stopPrice: "",
    quantity: (lots / 10_000).toFixed(4),
    displayQuantity: "",
    postOnly: false,
    selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
    account: "",
  };
}

export async function listAllOrders(service: OrderServiceProcess, account: string, symbol: string): Promise<Order[]> {
  const orders: Order[] = [];
  const base: ListOrdersRequest = { symbol, statuses: [], side: Side.SIDE_UNSPECIFIED, startTime: undefined, endTime: undefined, pageSize: 1000, pageToken: "", account: "" };
  for (let pageToken = "", pages = 0; pages < 100; pages++) {
    const page = await call<ListOrdersRequest, ListOrdersResponse>(service.client, service.client.listOrders, { ...base, pageToken }, account);
    orders.push(...page.orders);
    if (page.nextPageToken === "") return orders;
    pageToken = page.nextPageToken;
  }
  throw new Error("ListOrders did not end after 100 pages");
}

/** What one PlaceOrder call came to. */
export interface Outcome {
  readonly account: string;
  readonly request: PlaceOrderRequest;
  readonly order?: Order;
  readonly error?: grpc.ServiceError;
}

/**
 * Keeps `workers` PlaceOrder calls in flight, each worker placing its next order as soon as the
 * previous one settled, until `stop()`; `settled` then resolves with every outcome.
 */
export function orderFlow(service: () => OrderServiceProcess, workers: number, next: (n: number) => { account: string; request: PlaceOrderRequest }) {
  const outcomes: Outcome[] = [];
  let stopping = false;
  let placed = 0;
  let inFlight = 0;
  let succeeded = 0;
  const worker = async () => {
    while (!stopping) {
      const { account, request } = next(placed++);
      inFlight++;
      try {
        const order = await placeOrder(service(), request, account);
        succeeded++;
        outcomes.push({ account, request, order });
      } catch (error) {
        outcomes.push({ account, request, error: error as grpc.ServiceError });
      } finally {
        inFlight--;
      }
    }
  };
  const settled = Promise.all(Array.from({ length: workers }, worker)).then(() => outcomes);
  return {
    settled,
    get inFlight() {
      return inFlight;
    },
    /** Resolves once `count` calls succeeded; stops the flow and rejects after `timeoutMs`. */
    async succeeded(count: number, timeoutMs = 30_000) {
      await until(() => succeeded >= count, () => `${count} successful PlaceOrder calls (${succeeded} so far; ${JSON.stringify(codeCounts(outcomes))})`, timeoutMs).catch(async (error: unknown) => {
        stopping = true;
        await settled;
        throw error;
      });
    },
    /** No new call starts after this; the ones in flight go on to their outcome. */
    stop() {
      stopping = true;
    },
  };
}

/** Crossing flow on one or both symbols: alice only sells and bob only buys, around 100.00. */
export function crossingOrder(symbols: readonly string[], alice: string, bob: string, prefix: string) {
  return (n: number) => {
    const selling = n % 2 === 0;
    const symbol = symbols[Math.floor(n / 2) % symbols.length]!;
    // Prices 99.98..100.02, so most orders cross something on the other side.
    const request = limitOrder(symbol, selling ? Side.SIDE_SELL : Side.SIDE_BUY, 10_000 + ((n * 7) % 5) - 2, 1 + (n % 3), `${prefix}-${n}`);
    return { account: selling ? alice : bob, request };
  };
}

export function codeCounts(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.error ? `${grpc.status[o.error.code] ?? o.error.code}` : "OK";
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
