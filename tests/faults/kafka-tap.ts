/**
 * Every message of the order and execution topics, read once from the beginning by one consumer
 * that runs through the whole suite (a consumer group per check would cost a group join each
 * time), straight from the broker, not through the order service's proxy. `caughtUp()` waits
 * until it holds everything up to each partition's end as of the call.
 */
import { randomBytes } from "node:crypto";
import type { Admin, IHeaders } from "kafkajs";
import { createKafkaClient, createLogger, superviseConsumer } from "@hft/service-kit";
import { EXECUTIONS_TOPIC, ORDERS_TOPIC } from "../../order-service/src/projection/projector.js";
import { until } from "../support/until.js";

export interface TappedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

export interface KafkaTap {
  /** Messages by topic, then partition, in offset order. */
  readonly messages: ReadonlyMap<string, ReadonlyMap<number, readonly TappedMessage[]>>;
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Each partition's end offset of the topic (the offset the next message will get). */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  stop(): Promise<void>;
}

export async function startKafkaTap(broker: string): Promise<KafkaTap> {
  const kafka = createKafkaClient({ brokers: [broker], clientId: "fault-suite-tap" });
  const admin: Admin = kafka.admin();
  const groupId = `fault-suite-tap-${randomBytes(6).toString("hex")}`;
  const messages = new Map<string, Map<number, TappedMessage[]>>([ORDERS_TOPIC, EXECUTIONS_TOPIC].map((topic) => [topic, new Map()]));
  await admin.connect();
  // Through the Kafka restart too: a consumer kafkajs gives up on is replaced, as in the analytics service.
  const supervisor = await superviseConsumer({
    logger: createLogger({ service: "fault-suite-tap", level: "warn" }),
    create: () => kafka.consumer({ groupId, maxWaitTimeInMs: 100 }),
    run: async (consumer) => {
      await consumer.connect();
      await consumer.subscribe({ topics: [ORDERS_TOPIC, EXECUTIONS_TOPIC], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const byPartition = messages.get(topic)!;
          const list = byPartition.get(partition) ?? [];
          // After a restart of the consumer a batch may come again: keep each offset once.
          if (list.length > 0 && BigInt(message.offset) <= BigInt(list.at(-1)!.offset)) return;
          list.push({ topic, partition, offset: message.offset, value: message.value, headers: message.headers ?? {} });
          byPartition.set(partition, list);
        },
      });
    },
    onGaveUp: (error) => console.error("Kafka tap: the consumer keeps crashing; caughtUp() will say how far it got:", error),
  });

  async function endOffsets(topic: string): Promise<Map<number, bigint>> {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  }
  const nextOffset = (topic: string, partition: number) => {
    const last = messages.get(topic)!.get(partition)?.at(-1);
    return last ? BigInt(last.offset) + 1n : 0n;
  };

  return {
    messages,
    endOffsets,
    async caughtUp(timeoutMs = 30_000) {
      const targets = await Promise.all([ORDERS_TOPIC, EXECUTIONS_TOPIC].map(async (topic) => [topic, await endOffsets(topic)] as const));
      const behind = () => targets.flatMap(([topic, ends]) => [...ends].filter(([partition, end]) => nextOffset(topic, partition) < end).map(([partition, end]) => `${topic}[${partition}] at ${nextOffset(topic, partition)} of ${end}`));
      await until(() => behind().length === 0, () => `the Kafka tap to reach the topics' ends (${behind().join(", ")})`, timeoutMs);
    },
    async stop() {
      await supervisor.stop();
      await admin.disconnect();
    },
  };
}
