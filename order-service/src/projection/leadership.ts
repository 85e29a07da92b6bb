/**
 * Exactly one order-service replica runs the projection: the one holding a PostgreSQL session
 * advisory lock. The lock lives on a dedicated connection, so it goes away with the process or
 * the connection, and another replica (retrying every `retryMs`) takes over. A heartbeat query
 * notices a dead connection even when no other query would.
 */
import pg from "pg";
import type { Logger } from "@hft/service-kit";

export interface LeadershipOptions {
  readonly databaseUrl: string;
  /** The advisory lock's key: one per projection. */
  readonly lockKey: bigint;
  readonly logger: Logger;
  /** Called when this replica becomes the leader; leadership is held until `onLost`. */
  readonly onAcquired: () => Promise<void>;
  /** Called when leadership ends (connection lost, or stop()). */
  readonly onLost: () => Promise<void>;
  readonly retryMs?: number;
  readonly heartbeatMs?: number;
}

export class Leadership {
  private client: pg.Client | undefined;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private transition: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.attempt();
  }

  /** Resolves once a leadership change in progress (an `onAcquired` still running) has ended. */
  settled(): Promise<void> {
    return this.transition.catch(() => undefined);
  }

  /** Gives up leadership (running `onLost` first) and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.transition;
    await this.lose("stopping");
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.client) {
        // A heartbeat that gets no answer on a connection gone silent must count as lost, not hang:
        // the lock's session may already be gone on the server, and another replica leading.
        const client = new pg.Client({
          connectionString: this.options.databaseUrl,
          application_name: "hft-order-service-leader",
          query_timeout: 2 * (this.options.heartbeatMs ?? 2_000),
          connectionTimeoutMillis: 5_000,
        });
        client.on("error", (error) => void this.dropped(client, error.message));
        client.on("end", () => void this.dropped(client, "connection closed"));
        await client.connect();
        this.client = client;
      }
      const { rows } = await this.client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [this.options.lockKey.toString()]);
      if (rows[0]?.locked && !this.stopped) {
        this.leading = true;
        this.options.logger.info({ lockKey: this.options.lockKey.toString() }, "projection leadership acquired");
        this.transition = this.options.onAcquired();
        await this.transition;
        this.schedule(this.options.heartbeatMs ?? 2_000, () => this.heartbeat());
        return;
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, "projection leadership attempt failed");
      await this.client?.end().catch(() => undefined);
      this.client = undefined;
    }
    this.schedule(this.options.retryMs ?? 2_000, () => this.attempt());
  }

  private async heartbeat(): Promise<void> {
    const client = this.client;
    if (!client || this.stopped) return;
    try {
      await client.query("SELECT 1");
      this.schedule(this.options.heartbeatMs ?? 2_000, () => this.heartbeat());
    } catch (error) {
      await this.dropped(client, (error as Error).message);
    }
  }

  private async dropped(client: pg.Client, reason: string): Promise<void> {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    await this.lose(reason);
    this.schedule(this.options.retryMs ?? 2_000, () => this.attempt());
  }

  private async lose(reason: string): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.options.logger.warn({ reason }, "projection leadership lost");
    await this.options.onLost();
  }

  private schedule(ms: number, next: () => Promise<void>): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void next(), ms);
  }
}
