/**
 * Keeps a kafkajs consumer going through crashes kafkajs will not restart from.
 *
 * kafkajs restarts a consumer after a retriable error by itself, and stops for good after one it
 * deems not retriable. A restart of the broker can cause such errors: a consumer that looks for
 * its group coordinator while the broker comes back fails with KafkaJSGroupCoordinatorNotFound,
 * which kafkajs never retries. Such a crash gets a new consumer after a delay that doubles, until
 * one joins its group again; after `maxCrashesInARow` crashes without a join, `onGaveUp` decides.
 */
import type { Consumer } from "kafkajs";
import type { Logger } from "./logger.js";

export interface ConsumerSupervisorOptions {
  /** A new consumer, with the caller's own listeners on it. */
  readonly create: () => Consumer;
  /** Connects, subscribes and runs the consumer. */
  readonly run: (consumer: Consumer) => Promise<void>;
  readonly logger: Logger;
  /** Called when the consumer crashed `maxCrashesInARow` times without joining its group. */
  readonly onGaveUp: (error: Error) => void;
  /** Called each time a new consumer replaces one that crashed (a metric, say). */
  readonly onReplaced?: () => void;
  /** Default 8: with the delays below, about 2 minutes of trying. */
  readonly maxCrashesInARow?: number;
  /** The delay before the first replacement, in ms; it doubles after each crash. Default 1000. */
  readonly firstDelayMs?: number;
  /** The longest delay, in ms. Default 30000. */
  readonly maxDelayMs?: number;
}

export interface ConsumerSupervisor {
  /** The consumer now in use. */
  readonly consumer: Consumer;
  /** Whether a consumer runs (false between a crash and its replacement's start). */
  readonly running: boolean;
  /** Stops replacing, and disconnects the consumer in use. */
  stop(): Promise<void>;
}

/** Creates and runs the first consumer (its failure rejects), then replaces each one that crashes for good. */
export async function superviseConsumer(options: ConsumerSupervisorOptions): Promise<ConsumerSupervisor> {
  const { logger, maxCrashesInARow = 8, firstDelayMs = 1_000, maxDelayMs = 30_000 } = options;
  let stopped = false;
  let running = false;
  let crashesInARow = 0;
  let timer: NodeJS.Timeout | undefined;
  let current: Consumer;

  const create = () => {
    const consumer = options.create();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (consumer === current) crashesInARow = 0;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return logger.warn({ err: payload.error }, "consumer crashed; kafkajs restarts it");
      crashed(consumer, payload.error);
    });
    return consumer;
  };

  const crashed = (consumer: Consumer, error: Error) => {
    if (consumer !== current || stopped) return;
    running = false;
    crashesInARow += 1;
    if (crashesInARow > maxCrashesInARow) {
      logger.error({ err: error, crashes: crashesInARow - 1 }, "consumer crashed again; giving up");
      return options.onGaveUp(error);
    }
    const delayMs = Math.min(maxDelayMs, firstDelayMs * 2 ** (crashesInARow - 1));
    logger.error({ err: error, crashesInARow, delayMs }, "consumer crashed and kafkajs will not restart it; starting a new one");
    timer = setTimeout(() => void replace(), delayMs);
  };

  const replace = async () => {
    if (stopped) return;
    const consumer = create();
    current = consumer;
    options.onReplaced?.();
    try {
      await options.run(consumer);
      running = !stopped;
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      crashed(consumer, error as Error);
    }
  };

  current = create();
  await options.run(current);
  running = true;
  return {
    get consumer() {
      return current;
    },
    get running() {
      return running;
    },
    async stop() {
      stopped = true;
      running = false;
      clearTimeout(timer);
      await current.disconnect();
    },
  };
}
