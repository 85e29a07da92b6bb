/**
 * Hostile values in PlaceOrder, tried over REST and Connect through the gateway and over gRPC
 * straight at the order service: SQL metacharacters in every string field, huge, negative and
 * zero decimals, unknown enum values by number and by name, invalid UTF-8, deeply nested JSON,
 * bytes that are no message and messages over the size limit. Each is refused with a clear client
 * error naming the field (or RESOURCE_EXHAUSTED for size), nothing is stored, and both services
 * still take a valid order afterwards.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlaceOrderRequest } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { type Platform, startPlatform } from "./platform.js";

let platform: Platform;
let url: string;
let token: string;
let orderService: grpc.Client;

beforeAll(async () => {
  platform = await startPlatform();
  url = (await platform.startGateway({ GATEWAY_RATE_LIMIT: "100000" })).url;
  token = await platform.token(platform.accounts.alice, "trader");
  orderService = new grpc.Client(platform.orders.address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  orderService?.close();
  await platform?.stop();
});

let sequence = 0;
const nextId = () => `hostile-${sequence++}`;
const jsonOrder = () => ({ clientOrderId: nextId(), symbol: "BTC-USD", side: "SIDE_BUY", type: "ORDER_TYPE_LIMIT", timeInForce: "TIME_IN_FORCE_GTC", price: "10.00", quantity: "0.0100" });
const protoOrder = (): PlaceOrderRequest => ({
  clientOrderId: nextId(),
  symbol: "BTC-USD",
  side: Side.SIDE_BUY,
  type: OrderType.ORDER_TYPE_LIMIT,
  timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
  price: "10.00",
  stopPrice: "",
  quantity: "0.0100",
  displayQuantity: "",
  postOnly: false,
  selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
  account: "",
});
const encode = (request: PlaceOrderRequest) => Buffer.from(PlaceOrderRequest.encode(request).finish());
/** `bytes` with the ASCII `marker` overwritten by bytes that are not UTF-8. */
function notUtf8(bytes: Buffer, marker: string): Buffer {
  const copy = Buffer.from(bytes);
  copy.set([0xff, 0xfe], copy.indexOf(marker));
  return copy;
}

/** What a refusal looked like: the HTTP status (or gRPC code) and the message. */
interface Refusal {
  readonly status: number | string;
  readonly code: string;
  readonly message: string;
}

async function overHttp(path: string, body: string | Buffer, contentType = "application/json"): Promise<Refusal> {
  const response = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": contentType, authorization: `Bearer ${token}` }, body });
  const text = await response.text();
  let json: { code?: string; message?: string } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    json = { message: text };
  }
  return { status: response.status, code: json.code ?? "", message: json.message ?? "" };
}
const rest = (body: string | Buffer) => overHttp("/api/v1/orders", body);
const connect = (body: string | Buffer, contentType = "application/json") => overHttp("/hft.v1.OrderService/PlaceOrder", body, contentType);

/** A PlaceOrder of raw bytes straight to the order service, as any gRPC client could send. */
async function grpcRaw(bytes: Buffer): Promise<Refusal> {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return new Promise((resolve) =>
    orderService.makeUnaryRequest(
      "/hft.v1.OrderService/PlaceOrder",
      (message: Buffer) => message,
      (message: Buffer) => message,
      bytes,
      metadata,
      { deadline: Date.now() + 10_000 },
      (error) => resolve(error ? { status: grpc.status[error.code], code: grpc.status[error.code], message: error.details } : { status: "OK", code: "ok", message: "" }),
    ),
  );
}

/** Refused as a client error: a 4xx with this Connect code (REST, Connect), or this gRPC code, and a message naming `names`. */
function expectRefused(refusal: Refusal, code: string, names: string) {
  const grpcCode = code.toUpperCase();
  if (typeof refusal.status === "number") {
    expect(refusal.status, refusal.message).toBeGreaterThanOrEqual(400);
    expect(refusal.status, refusal.message).toBeLessThan(500);
    expect(refusal.code, refusal.message).toBe(code);
  } else {
    expect(refusal.status, refusal.message).toBe(grpcCode);
  }
  expect(refusal.message).toContain(names);
}

const sqlValues = ["'; DROP TABLE orders; --", "%", "\0"];
// The string fields of PlaceOrder, each with the field name its refusal must carry and its code
// (another account is not refused as malformed: a trader may not act for it at all).
const stringFields: readonly [json: string, proto: keyof PlaceOrderRequest, name: string, code: string][] = [
  ["clientOrderId", "clientOrderId", "client_order_id", "invalid_argument"],
  ["symbol", "symbol", "symbol", "invalid_argument"],
  ["price", "price", "price", "invalid_argument"],
  ["stopPrice", "stopPrice", "stop_price", "invalid_argument"],
  ["quantity", "quantity", "quantity", "invalid_argument"],
  ["displayQuantity", "displayQuantity", "display_quantity", "invalid_argument"],
  ["account", "account", "account", "permission_denied"],
];

describe("PlaceOrder with hostile fields, over REST, Connect and gRPC", () => {
  it.each(stringFields.flatMap(([json, proto, name, code]) => sqlValues.map((value) => [name, JSON.stringify(value), json, proto, code, value] as const)))(
    "refuses SQL metacharacters in %s (%s)",
    async (name, _shown, json, proto, code, value) => {
      expectRefused(await rest(JSON.stringify({ ...jsonOrder(), [json]: value })), code, name);
      expectRefused(await connect(JSON.stringify({ ...jsonOrder(), [json]: value })), code, name);
      expectRefused(await grpcRaw(encode({ ...protoOrder(), [proto]: value })), code, name);
    },
  );

  it.each<[string, Partial<PlaceOrderRequest>, string]>([
    ["a price of 1e400", { price: "1e400" }, "price"],
    ["a price of 40 digits", { price: "1234567890123456789012345678901234567890" }, "price"],
    ["a price beyond 64 bits of ticks", { price: "99999999999999999999" }, "price"],
    ["a price finer than the tick", { price: "10.001" }, "price"],
    ["a quantity finer than the lot", { quantity: "0.00001" }, "quantity"],
    ["a negative price", { price: "-1" }, "price"],
    ["a zero price", { price: "0" }, "price"],
    ["a negative quantity", { quantity: "-0.0001" }, "quantity"],
    ["a zero quantity", { quantity: "0" }, "quantity"],
    ["a zero display quantity", { displayQuantity: "0" }, "display_quantity"],
    ["an unknown side number", { side: 99 as Side }, "side"],
    ["an unknown order type number", { type: -1 as OrderType }, "type"],
    ["an unknown time in force number", { timeInForce: 7 as TimeInForce }, "time_in_force"],
    ["an unknown self-trade mode number", { selfTradePrevention: 42 as SelfTradePrevention }, "self_trade_prevention"],
  ])("refuses %s", async (_case, fields, name) => {
    const request = { ...protoOrder(), ...fields };
    const json = { ...jsonOrder(), ...fields };
    expectRefused(await rest(JSON.stringify(json)), "invalid_argument", name);
    expectRefused(await connect(JSON.stringify(json)), "invalid_argument", name);
    expectRefused(await grpcRaw(encode(request)), "invalid_argument", name);
  });

  // Names exist only in JSON: on the wire an enum is its number.
  it.each([
    ["side", "SIDE_SIDEWAYS"],
    ["timeInForce", "TIME_IN_FORCE_FOREVER"],
  ])("refuses an unknown %s name over REST and Connect", async (field, value) => {
    const body = JSON.stringify({ ...jsonOrder(), [field]: value });
    const restRefusal = await rest(body);
    expectRefused(restRefusal, "invalid_argument", value);
    // Connect's JSON reading drops an unknown name, and the field left unset is refused by name.
    expectRefused(await connect(body), "invalid_argument", field === "side" ? "side" : "time_in_force");
  });

  it("refuses a number where a decimal string belongs (1e400 is Infinity to JSON)", async () => {
    const body = JSON.stringify(jsonOrder()).replace('"price":"10.00"', '"price":1e400');
    expectRefused(await rest(body), "invalid_argument", "price");
    expectRefused(await connect(body), "invalid_argument", "price");
  });

  it("refuses invalid UTF-8 in a string field, on every protocol", async () => {
    const json = Buffer.from(JSON.stringify({ ...jsonOrder(), clientOrderId: "bad-XY" }));
    expectRefused(await rest(notUtf8(json, "XY")), "invalid_argument", "client_order_id");
    expectRefused(await connect(notUtf8(json, "XY")), "invalid_argument", "client_order_id");
    const proto = encode({ ...protoOrder(), clientOrderId: "bad-XY" });
    expectRefused(await connect(notUtf8(proto, "XY"), "application/proto"), "invalid_argument", "client_order_id: not valid UTF-8");
    expectRefused(await grpcRaw(notUtf8(proto, "XY")), "invalid_argument", "client_order_id: not valid UTF-8");
    const account = encode({ ...protoOrder(), account: "acct-XY" });
    expectRefused(await grpcRaw(notUtf8(account, "XY")), "invalid_argument", "account: not valid UTF-8");
  });

  it("refuses JSON nested 10,000 levels deep", async () => {
    const body = `{"clientOrderId": ${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    expectRefused(await rest(body), "invalid_argument", "client_order_id");
    expectRefused(await connect(body), "invalid_argument", "client_order_id");
  });

  it("refuses bytes that are no PlaceOrderRequest, straight over gRPC", async () => {
    const overlongVarint = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const nestedGroups = Buffer.concat([Buffer.alloc(100_000, 0x7b), Buffer.alloc(100_000, 0x7c)]);
    for (const bytes of [overlongVarint, nestedGroups]) expectRefused(await grpcRaw(bytes), "invalid_argument", "not a well-formed hft.v1.PlaceOrderRequest");
  });

  it("refuses messages over the size limits with resource_exhausted", async () => {
    const overGateway = JSON.stringify({ ...jsonOrder(), clientOrderId: "x".repeat(2 << 20) });
    const restRefusal = await rest(overGateway);
    expect([restRefusal.status, restRefusal.message]).toEqual([413, expect.stringContaining("larger than 1048576 bytes")]);
    expectRefused(await connect(overGateway), "resource_exhausted", "");
    expectRefused(await grpcRaw(encode({ ...protoOrder(), clientOrderId: "x".repeat(5 << 20) })), "resource_exhausted", "larger than max");
  });

  it("stored nothing, and both services still take a valid order", async () => {
    const stored = await platform.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM orders");
    expect(stored.rows[0]!.n).toBe(0);
    const overRest = await fetch(`${url}/api/v1/orders`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(jsonOrder()) });
    expect(overRest.status).toBe(200);
    expect(await grpcRaw(encode(protoOrder()))).toEqual({ status: "OK", code: "ok", message: "" });
  });
});
