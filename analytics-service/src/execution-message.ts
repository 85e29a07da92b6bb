/**
 * A message of `hft.executions.v1` read as a {@link Fill}: the protobuf `hft.v1.Execution` value
 * and the `shard` and `engine-sequence` headers the order service's projection writes. A message
 * that cannot be a fill is refused with a {@link MessageError} naming what is wrong, so the
 * consumer can record it and move on instead of stalling the partition.
 */
import { Execution } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Liquidity, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type Fill, FillError, type ParsedFill, parseFill } from "./fill.js";

/** What the decoder needs of a Kafka message (kafkajs's `KafkaMessage` fits). */
export interface StreamMessage {
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

export type MessageErrorCode = "MESSAGE_EMPTY" | "MESSAGE_UNDECODABLE" | "MESSAGE_HEADER_INVALID" | "FILL_MALFORMED" | "FILL_NOT_POSITIVE";

export class MessageError extends Error {
  override readonly name = "MessageError";
  constructor(
    readonly code: MessageErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const EXECUTION_PROTO_MESSAGE = "hft.v1.Execution";

/** A header's value as text; the first when repeated; undefined when absent. */
export function headerText(message: StreamMessage, name: string): string | undefined {
  const raw = message.headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/**
 * Decodes and validates one message. The `engine-sequence` header, when present, must equal the
 * payload's sequence; a `proto-message` header, when present, must name `hft.v1.Execution`. An
 * empty `fee` (proto3's unset string) counts as "0".
 */
export function decodeExecution(message: StreamMessage): ParsedFill {
  if (!message.value || message.value.length === 0) throw new MessageError("MESSAGE_EMPTY", "the message has no value; expected a protobuf hft.v1.Execution");
  const protoMessage = headerText(message, "proto-message");
  if (protoMessage !== undefined && protoMessage !== EXECUTION_PROTO_MESSAGE) {
    throw new MessageError("MESSAGE_HEADER_INVALID", `header proto-message is "${protoMessage}"; expected "${EXECUTION_PROTO_MESSAGE}"`);
  }
  const shard = headerText(message, "shard");
  if (!shard) throw new MessageError("MESSAGE_HEADER_INVALID", "header shard is missing; engine sequences are per shard, so a fill without its shard cannot be de-duplicated");

  let execution: Execution;
  try {
    execution = Execution.decode(message.value);
  } catch (error) {
    throw new MessageError("MESSAGE_UNDECODABLE", `the value is not a protobuf hft.v1.Execution: ${(error as Error).message}`, { cause: error });
  }
  const headerSequence = headerText(message, "engine-sequence");
  if (headerSequence !== undefined && headerSequence !== execution.sequence.toString()) {
    throw new MessageError("MESSAGE_HEADER_INVALID", `header engine-sequence "${headerSequence}" differs from the payload's sequence ${execution.sequence}`);
  }

  const fill: Fill = {
    shard,
    sequence: execution.sequence,
    tradeId: execution.tradeId,
    liquidity: (execution.liquidity === Liquidity.LIQUIDITY_MAKER ? "maker" : execution.liquidity === Liquidity.LIQUIDITY_TAKER ? "taker" : (Liquidity[execution.liquidity] ?? String(execution.liquidity))) as Fill["liquidity"],
    account: execution.account,
    symbol: execution.symbol,
    side: (execution.side === Side.SIDE_BUY ? "buy" : execution.side === Side.SIDE_SELL ? "sell" : (Side[execution.side] ?? String(execution.side))) as Fill["side"],
    price: execution.price,
    quantity: execution.quantity,
    fee: execution.fee === "" ? "0" : execution.fee,
    executedAt: execution.executeTime ? new Date(Number(execution.executeTime.seconds) * 1000 + Math.floor(execution.executeTime.nanos / 1e6)) : new Date(Number.NaN),
  };
  try {
    return parseFill(fill);
  } catch (error) {
    if (error instanceof FillError) throw new MessageError(error.code, error.message, { cause: error });
    throw error;
  }
}

/** The W3C trace context of a message (`traceparent` header), for the log lines about it. */
export function traceContext(message: StreamMessage): { traceId: string; spanId: string } | undefined {
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(headerText(message, "traceparent") ?? "");
  return match ? { traceId: match[1]!, spanId: match[2]! } : undefined;
}
