import { describe, expect, it } from "vitest";
import { Execution } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Liquidity, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { MessageError, type StreamMessage, decodeExecution, traceContext } from "./execution-message.js";

const execution: Execution = {
  tradeId: "41",
  orderId: "9",
  clientOrderId: "c-1",
  symbol: "AAPL",
  side: Side.SIDE_BUY,
  price: "190.25",
  quantity: "3",
  liquidity: Liquidity.LIQUIDITY_TAKER,
  fee: "",
  executeTime: { seconds: 1_767_225_600n, nanos: 123_000_000 },
  sequence: 77n,
  account: "alice",
};

const message = (value: Partial<Execution> = {}, headers: Record<string, string> = {}): StreamMessage => ({
  value: Buffer.from(Execution.encode({ ...execution, ...value }).finish()),
  headers: { "engine-sequence": "77", shard: "default", "proto-message": "hft.v1.Execution", ...headers },
});

function refusal(m: StreamMessage): MessageError {
  try {
    decodeExecution(m);
  } catch (error) {
    if (error instanceof MessageError) return error;
    throw error;
  }
  throw new Error("expected a MessageError");
}

describe("decodeExecution", () => {
  it("reads the payload and the shard header; an unset fee is zero", () => {
    const fill = decodeExecution(message());
    expect(fill).toMatchObject({ shard: "default", sequence: 77n, tradeId: "41", liquidity: "taker", account: "alice", symbol: "AAPL", side: "buy" });
    expect(fill.fee.toString()).toBe("0");
    expect(fill.executedAt.toISOString()).toBe("2026-01-01T00:00:00.123Z");
  });

  it("refuses a message without the shard header", () => {
    const m = message();
    const error = refusal({ value: m.value, headers: { "engine-sequence": "77" } });
    expect(error.code).toBe("MESSAGE_HEADER_INVALID");
    expect(error.message).toMatch(/^header shard is missing/);
  });

  it("refuses an engine-sequence header that disagrees with the payload", () => {
    expect(refusal(message({}, { "engine-sequence": "78" })).message).toBe('header engine-sequence "78" differs from the payload\'s sequence 77');
  });

  it("refuses another message type, an empty value and bytes that are not protobuf", () => {
    expect(refusal(message({}, { "proto-message": "hft.v1.Order" })).message).toBe('header proto-message is "hft.v1.Order"; expected "hft.v1.Execution"');
    expect(refusal({ value: null, headers: { shard: "default" } }).code).toBe("MESSAGE_EMPTY");
    expect(refusal({ value: Buffer.from([0xff, 0xff, 0xff]), headers: { shard: "default" } }).code).toBe("MESSAGE_UNDECODABLE");
  });

  it("refuses an unspecified side or liquidity and a missing time, naming them", () => {
    expect(refusal(message({ side: Side.SIDE_UNSPECIFIED })).message).toBe('side must be "buy" or "sell", got "SIDE_UNSPECIFIED"');
    expect(refusal(message({ liquidity: Liquidity.LIQUIDITY_UNSPECIFIED })).message).toBe('liquidity must be "maker" or "taker", got "LIQUIDITY_UNSPECIFIED"');
    expect(refusal(message({ executeTime: undefined })).message).toBe("executedAt must be a valid time");
    expect(refusal(message({ price: "-1" })).code).toBe("FILL_NOT_POSITIVE");
  });
});

describe("traceContext", () => {
  it("reads a W3C traceparent header and ignores a malformed one", () => {
    expect(traceContext(message({}, { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }))).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" });
    expect(traceContext(message({}, { traceparent: "garbage" }))).toBeUndefined();
  });
});
