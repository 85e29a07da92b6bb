/**
 * Analytics consumption: the service's own consumer (analytics-service/bench/consumption.ts)
 * applying a backlog of fills (closed loop: as fast as it goes) and then fills produced at a fixed
 * rate (open loop: each fill timed from its production to the COMMIT of its figures), beside a
 * bare kafkajs consumer reading the same topic and then the same rate of fills and doing nothing
 * with them: the ceiling of Kafka on this machine.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { type ConsumptionTopic, measureConsumption, producePaced } from "../../../analytics-service/bench/consumption.js";
import { LatencySamples, summarize } from "../latency.js";
import { type Measured, roleOf } from "../result.js";
import { defineScenario } from "../scenario.js";

const CONSUMER = "analytics consumer";
const BARE = "bare kafkajs consumer";

/** The ceiling: the whole topic read from its start, then `rate` fills/s produced and read as they come. */
async function bareConsumption({ kafka, topic, makeFills }: ConsumptionTopic, rate: number, seconds: number) {
  const consumer = kafka.consumer({ groupId: `bench-bare-${randomBytes(4).toString("hex")}` });
  const backlog = Number(await topic.endOffset());
  let read = 0;
  let last = 0;
  let phase: "backlog" | "paced" = "backlog";
  const delays = { backlog: new LatencySamples(), paced: new LatencySamples() };
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: topic.name, fromBeginning: true });
    const started = Date.now();
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const message of batch.messages) delays[phase].add((now - Number(message.timestamp)) * 1000);
        read += batch.messages.length;
        last = now;
      },
    });
    while (read < backlog) await new Promise((resolve) => setTimeout(resolve, 10));
    const backlogSeconds = (last - started) / 1000;
    phase = "paced";
    const pacedStart = Date.now();
    const sent = await producePaced(topic, makeFills, rate, seconds);
    while (read < backlog + sent) await new Promise((resolve) => setTimeout(resolve, 10));
    return { backlog: { fills: backlog, seconds: backlogSeconds, delays: delays.backlog }, paced: { fills: sent, seconds: (last - pacedStart) / 1000, delays: delays.paced } };
  } finally {
    await consumer.disconnect();
  }
}

export const analytics = defineScenario({
  name: "analytics",
  description: "the analytics consumer on its own topic (6 partitions) and database: a backlog of fills, then a paced flow timed from production to COMMIT, beside a bare kafkajs consumer on the same topic",
  settings: z.strictObject({ fills: z.number().int().min(100).max(2_000_000), rate: z.number().int().min(10).max(100_000), seconds: z.number().min(0.5).max(120), accounts: z.number().int().min(2).max(10_000) }),
  async run(settings, { log }) {
    const result = await measureConsumption({ fills: settings.fills, rate: settings.rate, pacedSeconds: settings.seconds, accounts: settings.accounts, log }, (topic) =>
      bareConsumption(topic, settings.rate, settings.seconds),
    );
    const common = { unit: "fills", errors: 0, settings: { fills: settings.fills, accounts: settings.accounts, partitions: 6 } } as const;
    const bare = result.afterwards;
    const closed = { mode: "closed", offeredRate: null } as const;
    const open = { mode: "open", offeredRate: settings.rate } as const;
    const us = (ms: readonly number[]) => ms.map((v) => v * 1000);
    const measured: Measured[] = [
      { ...common, ...closed, target: CONSUMER, ...roleOf(CONSUMER, BARE), achievedRate: result.backlog.fills / result.backlog.seconds, latencyUs: summarize(us(result.backlog.delaysMs)), samples: result.backlog.delaysMs.length, durationS: result.backlog.seconds },
      { ...common, ...closed, target: BARE, ...roleOf(BARE, BARE), achievedRate: bare.backlog.fills / bare.backlog.seconds, latencyUs: bare.backlog.delays.summary(), samples: bare.backlog.delays.count, durationS: bare.backlog.seconds },
      { ...common, ...open, target: CONSUMER, ...roleOf(CONSUMER, BARE), achievedRate: result.paced.fills / result.paced.appliedSeconds, latencyUs: summarize(us(result.paced.delaysMs)), samples: result.paced.delaysMs.length, durationS: result.paced.appliedSeconds },
      { ...common, ...open, target: BARE, ...roleOf(BARE, BARE), achievedRate: bare.paced.fills / bare.paced.seconds, latencyUs: bare.paced.delays.summary(), samples: bare.paced.delays.count, durationS: bare.paced.seconds },
    ];
    return measured;
  },
});
