/**
 * A throwaway executions topic for one test or benchmark run, and a producer that writes fills to
 * it exactly as the order service's projection does: keyed by account id, value protobuf
 * `hft.v1.Execution`, headers `engine-sequence`, `shard`, `proto-message`.
 */
import { randomBytes } from "node:crypto";
import type { Admin, Kafka, Producer } from "kafkajs";
import { Execution } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Liquidity, Side } from "@hft/contract/grpc/hft/v1/types.js";

/** One side of a trade as the test means it. */
export interface TestFill {
  readonly shard: string;
  readonly sequence: bigint;
  readonly tradeId: bigint;
  readonly liquidity: "maker" | "taker";
  readonly account: string;
  readonly accountId: string;
  readonly symbol: string;
  readonly side: "buy" | "sell";
  readonly price: string;
  readonly quantity: string;
  readonly fee?: string;
  readonly executedAt: Date;
}

export interface ExecutionTopic {
  readonly name: string;
  readonly producer: Producer;
  /** Sends the fills in order (one request per 500), awaited with acks from all replicas. */
  send(fills: readonly TestFill[]): Promise<void>;
  /** Sends raw messages (for malformed input). */
  sendRaw(messages: readonly { key: string; value: Buffer | null; headers: Record<string, string> }[]): Promise<void>;
  /** Messages in the topic: the sum of the partitions' end offsets. */
  endOffset(): Promise<bigint>;
  delete(): Promise<void>;
}

export function executionValue(fill: TestFill): Buffer {
  return Buffer.from(
    Execution.encode({
      tradeId: fill.tradeId.toString(),
      orderId: `${fill.tradeId}${fill.liquidity === "maker" ? "0" : "1"}`,
      clientOrderId: "",
      symbol: fill.symbol,
      side: fill.side === "buy" ? Side.SIDE_BUY : Side.SIDE_SELL,
      price: fill.price,
      quantity: fill.quantity,
      liquidity: fill.liquidity === "maker" ? Liquidity.LIQUIDITY_MAKER : Liquidity.LIQUIDITY_TAKER,
      fee: fill.fee ?? "0",
      executeTime: { seconds: BigInt(Math.floor(fill.executedAt.getTime() / 1000)), nanos: (fill.executedAt.getTime() % 1000) * 1_000_000 },
      sequence: fill.sequence,
      account: fill.account,
    }).finish(),
  );
}

export async function createExecutionTopic(kafka: Kafka, partitions = 3): Promise<ExecutionTopic> {
  const name = `hft.executions.v1.test-${randomBytes(5).toString("hex")}`;
  const admin: Admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    name,
    producer,
    async send(fills) {
      for (let i = 0; i < fills.length; i += 500) {
        await producer.send({
          topic: name,
          acks: -1,
          messages: fills.slice(i, i + 500).map((fill) => ({
            key: fill.accountId,
            value: executionValue(fill),
            headers: { "engine-sequence": fill.sequence.toString(), shard: fill.shard, "content-type": "application/protobuf", "proto-message": "hft.v1.Execution" },
          })),
        });
      }
    },
    async sendRaw(messages) {
      await producer.send({ topic: name, acks: -1, messages: messages.map((m) => ({ ...m })) });
    },
    async endOffset() {
      return (await admin.fetchTopicOffsets(name)).reduce((sum, p) => sum + BigInt(p.high), 0n);
    },
    async delete() {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [name] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
