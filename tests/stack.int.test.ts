import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createKafkaClient, createPostgresPool, createRedisClient, kafkaConfig, loadConfig, postgresConfig, redisConfig } from "@hft/service-kit";

const run = promisify(execFile);
const stackScript = fileURLToPath(new URL("../scripts/stack.sh", import.meta.url));
const config = loadConfig({ ...postgresConfig, ...redisConfig, ...kafkaConfig });

describe("local stack", () => {
  it("comes up twice in a row without error and reports every server up", async () => {
    for (let i = 0; i < 2; i++) {
      const { stdout } = await run("bash", [stackScript, "up"], { timeout: 180_000 });
      expect(stdout).toMatch(/^postgres\s+up\s/m);
      expect(stdout).toMatch(/^redis\s+up\s/m);
      expect(stdout).toMatch(/^kafka\s+up\s/m);
      expect(stdout).toMatch(/^prometheus\s+up\s/m);
      expect(stdout).toMatch(/^jaeger\s+up\s/m);
    }
    const { stdout } = await run("bash", [stackScript, "status"]);
    expect(stdout.split("\n").filter((line) => /\sup\s/.test(line))).toHaveLength(5);
  });

  it("Prometheus runs the project's rules and scrapes the project's jobs", async () => {
    const url = "http://127.0.0.1:59090";
    const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
    expect(rules.data.groups.map((g) => g.name).sort()).toEqual(["hft-abuse", "hft-availability", "hft-lag", "hft-latency-and-errors", "hft-recording"]);
    const targets = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string } }[] } };
    expect(new Set(targets.data.activeTargets.map((t) => t.labels.job))).toEqual(new Set(["hft-engine", "hft-order-service", "hft-analytics-service", "hft-gateway", "prometheus"]));
  });

  it("PostgreSQL answers a query", async () => {
    const pool = createPostgresPool({ url: config.DATABASE_URL, max: 1, applicationName: "stack-test" });
    try {
      const { rows } = await pool.query<{ answer: string }>("SELECT (0.1 + 0.2)::numeric::text AS answer");
      expect(rows[0]?.answer).toBe("0.3");
    } finally {
      await pool.end();
    }
  });

  it("Redis answers and stores a value", async () => {
    const redis = createRedisClient({ url: config.REDIS_URL });
    try {
      expect(await redis.ping()).toBe("PONG");
      const key = `stack-test:${randomUUID()}`;
      await redis.set(key, "42", "EX", 30);
      expect(await redis.get(key)).toBe("42");
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });

  describe("Kafka", () => {
    const kafka = createKafkaClient({ brokers: config.KAFKA_BROKERS, clientId: "stack-test" });
    const admin = kafka.admin();
    afterAll(async () => {
      await admin.disconnect();
    });

    it("has the project's topics with their partitions and retention", async () => {
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: ["hft.orders.v1", "hft.executions.v1"] });
      expect(topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual([
        ["hft.executions.v1", 6],
        ["hft.orders.v1", 6],
      ]);
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: "hft.executions.v1", configNames: ["retention.ms"] }],
      });
      expect(described.resources[0]?.configEntries[0]?.configValue).toBe("-1");
    });

    it("round-trips a message through kafkajs: produce, then consume it in a group", async () => {
      const topic = `stack-test-${randomUUID()}`;
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const producer = kafka.producer({ idempotent: true });
      const consumer = kafka.consumer({ groupId: `stack-test-${randomUUID()}` });
      try {
        await producer.connect();
        const value = `hello ${randomUUID()}`;
        await producer.send({ topic, acks: -1, messages: [{ key: "k", value }] });

        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        const received = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("no message consumed within 30 s")), 30_000);
          void consumer.run({
            eachMessage: async ({ message }) => {
              clearTimeout(timer);
              resolve(message.value?.toString() ?? "");
            },
          });
        });
        expect(received).toBe(value);
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.deleteTopics({ topics: [topic] });
      }
    });
  });
});
