/**
 * The order service's Kafka topics read back for tests: every message of some shards and
 * accounts, with the headers consumers de-duplicate on. The topics are shared by every test, so
 * callers name their shards and accounts uniquely.
 */
import { randomBytes } from "node:crypto";
import { createKafkaClient, kafkaConfig, loadConfig } from "@hft/service-kit";
import { Execution, Order } from "@hft/contract/grpc/hft/v1/order_service.js";
import { EXECUTIONS_TOPIC, ORDERS_TOPIC } from "../../order-service/src/projection/projector.js";
import { until } from "./until.js";

export interface KafkaMessage {
  readonly topic: string;
  readonly shard: string;
  readonly sequence: bigint;
  readonly protoMessage: string;
  readonly value: Buffer;
  /** order id (orders) or trade id/order id (executions): with the sequence, what a consumer de-duplicates on. */
  readonly id: string;
  readonly account: string;
}

const kafka = () => createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "process-int-test" });

/**
 * Reads the order and execution topics from the beginning with a fresh consumer group, keeping the messages of the
 * given shards and accounts, until `complete(messages)` holds or `timeoutMs` passed; returns
 * what it read either way (the caller's assertions say what is missing).
 */
export async function readOrderTopics(shards: readonly string[], accounts: readonly string[], complete: (messages: readonly KafkaMessage[]) => boolean, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const shardNames = new Set(shards);
  const accountNames = new Set(accounts);
  const consumer = kafka().consumer({ groupId: `process-int-test-${randomBytes(8).toString("hex")}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [ORDERS_TOPIC, EXECUTIONS_TOPIC], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const shard = message.headers?.shard?.toString();
        if (!shard || !shardNames.has(shard) || !message.value) return;
        const decoded = topic === ORDERS_TOPIC ? Order.decode(message.value) : Execution.decode(message.value);
        if (!accountNames.has(decoded.account)) return;
        messages.push({
          topic,
          shard,
          sequence: BigInt(message.headers!["engine-sequence"]!.toString()),
          protoMessage: message.headers!["proto-message"]?.toString() ?? "",
          value: message.value,
          id: topic === ORDERS_TOPIC ? decoded.orderId : `${(decoded as Execution).tradeId}/${decoded.orderId}`,
          account: decoded.account,
        });
      },
    });
    await until(() => complete(messages), "Kafka to carry every expected message", timeoutMs).catch(() => undefined);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
