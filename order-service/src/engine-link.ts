/**
 * One long-lived `OrderFlow` stream to one engine shard. Commands submitted in the same turn of the
 * event loop go out as one batch; each resolves with its own acknowledgement, which the engine
 * sends only once the command is durable. When the stream breaks, every command still waiting is
 * refused with UNAVAILABLE (it may or may not have reached the journal: the projection of the
 * engine's events tells, and a retry with the same client_order_id is safe), and the link
 * reconnects with backoff; meanwhile new commands are refused at once rather than queued.
 */
import * as grpc from "@grpc/grpc-js";
import {
  type CommandAck,
  type EngineCommand,
  EngineServiceClient,
  type OrderFlowRequest,
  type OrderFlowResponse,
} from "@hft/contract/grpc/hft/v1/engine_service.js";

export type EngineCommandBody = NonNullable<EngineCommand["command"]>;
export type LinkState = "connecting" | "ready" | "down" | "closed";

/** The engine could not take or acknowledge a command; the gRPC status to answer with is UNAVAILABLE. */
export class EngineUnavailableError extends Error {
  readonly code = grpc.status.UNAVAILABLE;
  constructor(
    message: string,
    /** True when the command certainly never reached the engine; false when it may have been applied. */
    readonly notSent: boolean,
    /** For a command sent and not acknowledged: the engine process it went to (GetStats.instance_id). */
    readonly engineInstance?: bigint,
  ) {
    super(message);
    this.name = "EngineUnavailableError";
  }
}

export interface EngineLinkOptions {
  /** Shard name for messages and metrics. */
  readonly shard: string;
  /** host:port of the engine, loopback in tests. */
  readonly address: string;
  /** TLS (mutual with a client certificate) to the engine; plaintext when unset. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Largest number of commands per OrderFlowRequest. */
  readonly maxBatch?: number;
  /** Reconnect backoff: first and longest wait, in ms. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Called on every state change (metrics, logs). */
  readonly onStateChange?: (state: LinkState, reason?: string) => void;
  /**
   * Runs on every new stream before the link turns ready, with a way to send commands meanwhile
   * (defining the shard's instruments): until it resolves, orders are refused as not sent; when
   * it rejects, the stream is dropped and the link reconnects.
   */
  readonly prepare?: (send: (command: EngineCommandBody) => Promise<CommandAck>) => Promise<void>;
}

interface Waiting {
  resolve: (ack: CommandAck) => void;
  reject: (error: Error) => void;
}

/** Where an engine shard stands: its last sequence, the process that assigned it, and where that process started. */
export interface EngineHead {
  readonly sequence: bigint;
  readonly instance: bigint;
  /** The last sequence the process recovered at start: all an earlier process journaled. */
  readonly startSequence: bigint;
}

export class EngineLink {
  private readonly client: EngineServiceClient;
  private stream: grpc.ClientDuplexStream<OrderFlowRequest, OrderFlowResponse> | undefined;
  /** The engine process the stream talks to, learned before anything is sent on it. */
  private streamInstance: bigint | undefined;
  private currentState: LinkState = "connecting";
  private nextCorrelation = 1n;
  private readonly waiting = new Map<bigint, Waiting>();
  private outbox: EngineCommand[] = [];
  private flushScheduled = false;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readyWaiters: (() => void)[] = [];
  private preparing = false;
  /** Batches and commands written, for the commands-per-batch figure. */
  readonly sent = { batches: 0, commands: 0 };

  constructor(private readonly options: EngineLinkOptions) {
    this.client = new EngineServiceClient(options.address, options.credentials ?? grpc.credentials.createInsecure(), {
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
      "grpc.max_receive_message_length": 64 << 20,
    });
    this.reconnectDelay = options.reconnectMinMs ?? 100;
    this.connect();
  }

  get state(): LinkState {
    return this.currentState;
  }

  /** Commands sent and not yet acknowledged. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /** Resolves once the stream is up (or rejects after `timeoutMs`). */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.currentState === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new EngineUnavailableError(`engine shard ${this.options.shard} at ${this.options.address} not ready after ${timeoutMs} ms`, true)), timeoutMs);
      this.readyWaiters.push(() => (clearTimeout(timer), resolve()));
    });
  }

  /** The engine's last assigned sequence, asked now (GetStats); UNAVAILABLE when the engine cannot answer. */
  async lastSequence(timeoutMs = 2_000): Promise<bigint> {
    return (await this.head(timeoutMs)).sequence;
  }

  /** The engine's last assigned sequence and its process, asked now in one GetStats. */
  head(timeoutMs = 2_000): Promise<EngineHead> {
    return new Promise((resolve, reject) =>
      this.client.getStats({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, stats) =>
        error
          ? reject(new EngineUnavailableError(`engine shard ${this.options.shard} did not report its sequence: ${error.details || error.message}`, true))
          : resolve({ sequence: stats.lastSequence, instance: stats.instanceId, startSequence: stats.startSequence }),
      ),
    );
  }

  /** Sends one command with the next batch; resolves with its durable acknowledgement. */
  submit(command: EngineCommandBody): Promise<CommandAck> {
    if (this.currentState !== "ready") {
      const state = this.preparing ? "preparing (defining its instruments)" : this.currentState;
      return Promise.reject(new EngineUnavailableError(`engine shard ${this.options.shard} is ${state}; nothing was sent`, true));
    }
    return this.enqueue(command);
  }

  private enqueue(command: EngineCommandBody): Promise<CommandAck> {
    const correlationId = this.nextCorrelation++;
    return new Promise<CommandAck>((resolve, reject) => {
      this.waiting.set(correlationId, { resolve, reject });
      this.outbox.push({ correlationId, command });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Closes the stream; commands still waiting are refused. */
  close(): void {
    this.setState("closed", "closed");
    clearTimeout(this.reconnectTimer);
    this.stream?.end();
    this.failWaiting("the order service is shutting down; the command may or may not have been applied");
    this.client.close();
  }

  private flush(): void {
    this.flushScheduled = false;
    const stream = this.stream;
    if (!stream || (this.currentState !== "ready" && !this.preparing)) return; // failWaiting already refused them
    const maxBatch = this.options.maxBatch ?? 1_000;
    while (this.outbox.length > 0) {
      const commands = this.outbox.splice(0, maxBatch);
      stream.write({ commands });
      this.sent.batches += 1;
      this.sent.commands += commands.length;
    }
  }

  private connect(): void {
    if (this.currentState === "closed") return;
    this.setState("connecting");
    const deadline = Date.now() + 5_000;
    this.client.waitForReady(deadline, (error) => {
      if (this.currentState === "closed") return;
      if (error) return this.lost(`cannot reach ${this.options.address}: ${error.message}`);
      this.open();
    });
  }

  private open(): void {
    const stream = this.client.orderFlow();
    this.stream = stream;
    stream.on("data", (response: OrderFlowResponse) => {
      for (const ack of response.acks) {
        const waiting = this.waiting.get(ack.correlationId);
        if (!waiting) continue; // a command refused when an earlier stream broke
        this.waiting.delete(ack.correlationId);
        waiting.resolve(ack);
      }
    });
    const broken = (reason: string) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.lost(reason);
    };
    stream.on("error", (error: grpc.ServiceError) => broken(`stream failed: ${error.details || error.message}`));
    stream.on("end", () => broken("the engine ended the stream"));
    // Which process the stream reached, asked after it opened: one that still holds the port is
    // the stream's, so a later answer naming another means this one is gone.
    this.streamInstance = undefined;
    this.head(5_000).then(
      ({ instance }) => {
        if (this.stream !== stream) return;
        this.streamInstance = instance;
        this.prepareStream(stream);
      },
      (error: Error) => {
        if (this.stream !== stream) return;
        this.stream = undefined;
        stream.cancel();
        this.lost(`the engine did not say which process it is: ${error.message}`);
      },
    );
  }

  private prepareStream(stream: grpc.ClientDuplexStream<OrderFlowRequest, OrderFlowResponse>): void {
    const { prepare } = this.options;
    if (!prepare) return this.becomeReady();
    this.preparing = true;
    prepare((command) => (this.stream === stream ? this.enqueue(command) : Promise.reject(new EngineUnavailableError("the stream being prepared is gone", true)))).then(
      () => {
        this.preparing = false;
        if (this.stream === stream) this.becomeReady();
      },
      (error: Error) => {
        this.preparing = false;
        if (this.stream !== stream) return;
        this.stream = undefined;
        stream.cancel();
        this.lost(`preparing the stream failed: ${error.message}`);
      },
    );
  }

  private becomeReady(): void {
    this.reconnectDelay = this.options.reconnectMinMs ?? 100;
    this.setState("ready");
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  private lost(reason: string): void {
    if (this.currentState === "closed") return;
    this.setState("down", reason);
    this.failWaiting(`engine shard ${this.options.shard} connection lost before the acknowledgement (${reason}); the command may or may not have been applied`);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.options.reconnectMaxMs ?? 2_000);
  }

  /** Refuses every waiting command: those never written with "not sent", the others with `message`. */
  private failWaiting(message: string): void {
    const unsent = new Set(this.outbox.map((c) => c.correlationId));
    this.outbox = [];
    const waiting = [...this.waiting.entries()];
    this.waiting.clear();
    for (const [correlationId, w] of waiting) {
      const notSent = unsent.has(correlationId);
      w.reject(notSent ? new EngineUnavailableError(`engine shard ${this.options.shard} is unavailable; the command was not sent`, true) : new EngineUnavailableError(message, false, this.streamInstance));
    }
  }

  private setState(state: LinkState, reason?: string): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.options.onStateChange?.(state, reason);
  }
}
