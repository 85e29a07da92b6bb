/**
 * docker-compose.yml and the Dockerfiles without a Docker engine. The compose file is resolved with
 * compose.env by compose-config (the Compose Specification's schema, interpolation, references;
 * tools/compose-config) and held to what the processes read: each service's variables against its
 * config shape, every address against the port its peer listens on, the healthchecks, Prometheus
 * targets and Grafana's datasource. Then the real processes run with exactly the environment and
 * flags compose gives them (compose host names replaced by the local stack's loopback addresses,
 * listen addresses by free loopback ports, the database and namespaces by throwaway ones), and
 * compose's own healthcheck commands must pass against them. The Dockerfiles go through hadolint.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigResourceTypes } from "kafkajs";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfigShape, createKafkaClient, loadConfig, postgresConfig } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { analyticsConfigShape } from "../analytics-service/src/config.js";
import { gatewayConfigShape } from "../gateway/src/config.js";
import { orderConfigShape } from "../order-service/src/config.js";
import { engineBinary, freePort } from "./support/engine-process.js";
import { spawnUntilReady } from "./support/ready-process.js";
import { until } from "./support/until.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const tool = (name: string) => {
  const path = join(root, ".deps/bin", name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/install-tools.sh`);
  return path;
};

// --- compose-config's JSON (the Compose Specification's model, as `docker compose config` prints it)
interface ComposeService {
  readonly image: string;
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly entrypoint?: readonly string[] | null;
  readonly command?: readonly string[] | null;
  readonly environment?: Readonly<Record<string, string | null>>;
  readonly expose?: readonly string[];
  readonly ports?: readonly { readonly host_ip?: string; readonly target: number; readonly published?: string }[];
  readonly healthcheck?: { readonly test: readonly string[] };
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>>;
  readonly volumes?: readonly { readonly type: string; readonly source: string; readonly target: string }[];
  readonly restart?: string;
}
interface ComposeProject {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes?: Readonly<Record<string, unknown>>;
}

interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to its end with exactly `env`; resolves with its exit code and output. */
function run(command: string, args: readonly string[], env: Readonly<Record<string, string>> = { PATH: process.env.PATH ?? "" }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

async function resolveCompose(file = join(root, "docker-compose.yml"), envFile = join(root, "compose.env")): Promise<ComposeProject> {
  const result = await run(tool("compose-config"), ["--env-file", envFile, "--file", file]);
  if (result.code !== 0) throw new Error(`compose-config refused ${file}:\n${result.output}`);
  return JSON.parse(result.output) as ComposeProject;
}

// --- the Dockerfiles' final stages, read the way the builder reads them
interface ImageConfig {
  readonly from: readonly string[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly user?: string;
  readonly expose: readonly number[];
  readonly volumes: readonly string[];
  readonly healthcheck?: readonly string[];
}

async function readImage(dockerfile: string): Promise<ImageConfig> {
  const text = await readFile(dockerfile, "utf8");
  // Comment lines go first (they may sit inside a continued instruction), then continuations join.
  const instructions = text
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [, keyword, args] = /^\s*(\S+)\s+(.*)$/.exec(line)!;
      return { keyword: keyword!.toUpperCase(), args: args!.trim() };
    });
  // The images stages start from; a FROM naming an earlier stage (FROM <stage> AS ...) is no image.
  const stages = new Set(instructions.filter((i) => i.keyword === "FROM").map((i) => /\bAS\s+(\S+)/i.exec(i.args)?.[1]));
  const from = instructions
    .filter((i) => i.keyword === "FROM")
    .map((i) => i.args.split(/\s+/)[0]!)
    .filter((image) => !stages.has(image));
  const last = instructions.slice(instructions.map((i) => i.keyword).lastIndexOf("FROM"));
  const json = (keyword: string) => {
    const found = last.filter((i) => i.keyword === keyword).at(-1);
    return found ? (JSON.parse(found.args) as string[]) : [];
  };
  const health = last.find((i) => i.keyword === "HEALTHCHECK");
  return {
    from,
    entrypoint: json("ENTRYPOINT"),
    cmd: json("CMD"),
    user: last.filter((i) => i.keyword === "USER").at(-1)?.args,
    expose: last.filter((i) => i.keyword === "EXPOSE").flatMap((i) => i.args.split(/\s+/).map(Number)),
    volumes: last.filter((i) => i.keyword === "VOLUME").flatMap((i) => JSON.parse(i.args) as string[]),
    healthcheck: health ? (JSON.parse(health.args.slice(health.args.indexOf("CMD ") + 4)) as string[]) : undefined,
  };
}

const imageOf = (service: ComposeService) => readImage(join(service.build!.context, service.build!.dockerfile));

/** The argv a container of `service` runs: compose's entrypoint/command over the image's. */
function argvOf(service: ComposeService, image: ImageConfig): string[] {
  const entrypoint = service.entrypoint ?? image.entrypoint;
  // As Docker does: an entrypoint set by compose drops the image's CMD.
  const command = service.command ?? (service.entrypoint ? [] : image.cmd);
  return [...entrypoint, ...command];
}

// --- what each process reads
const typeScriptServices: Readonly<Record<string, ConfigShape>> = {
  "order-service": orderConfigShape,
  "analytics-service": analyticsConfigShape,
  gateway: gatewayConfigShape,
  migrate: postgresConfig,
};
/** The OpenTelemetry variables @hft/otel reads besides the config shapes (otel/src/register.ts, tracing.ts). */
const tracingVariables = ["OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_SDK_DISABLED"];
const longRunningTypeScript = ["order-service", "analytics-service", "gateway"] as const;

const environmentOf = (service: ComposeService): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(service.environment ?? {})) {
    if (value === null) throw new Error(`${name} is declared without a value`);
    env[name] = value;
  }
  return env;
};
const portOf = (hostPort: string) => Number(hostPort.slice(hostPort.lastIndexOf(":") + 1));
const flagOf = (argv: readonly string[], flag: string) => argv.find((arg) => arg.startsWith(`--${flag}=`))?.slice(flag.length + 3);

/** The addresses a service's own process listens on, by what configures them: `*_LISTEN` variables, or the engine's flags. */
function listenAddresses(name: string, service: ComposeService, argv: readonly string[]): Record<string, string> {
  if (name === "engine") return { "--listen": flagOf(argv, "listen")!, "--metrics-listen": flagOf(argv, "metrics-listen")! };
  return Object.fromEntries(Object.entries(environmentOf(service)).filter(([variable]) => variable.endsWith("_LISTEN")));
}

/** The container ports compose declares for a service: `expose` and the targets of `ports`. */
const declaredPorts = (service: ComposeService) => new Set([...(service.expose ?? []).map((p) => Number(p.split("/")[0])), ...(service.ports ?? []).map((p) => p.target)]);

let project: ComposeProject;
let argvs: Record<string, string[]>;

beforeAll(async () => {
  project = await resolveCompose();
  argvs = {};
  for (const [name, service] of Object.entries(project.services)) {
    if (service.build) argvs[name] = argvOf(service, await imageOf(service));
  }
});

describe("docker-compose.yml", () => {
  it("is a valid Compose project with compose.env: the whole platform, two one-shots before it", () => {
    expect(Object.keys(project.services).sort()).toEqual(
      ["analytics-service", "engine", "gateway", "grafana", "jaeger", "kafka", "kafka-topics", "migrate", "order-service", "postgres", "prometheus", "redis"],
    );
    const oneShots = Object.entries(project.services).filter(([, s]) => s.restart === "no").map(([name]) => name);
    expect(oneShots.sort()).toEqual(["kafka-topics", "migrate"]);
  });

  it("is refused when it breaks the schema or compose.env lacks a variable, naming what is wrong", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hft-compose-"));
    const original = await readFile(join(root, "docker-compose.yml"), "utf8");
    const misspelt = join(dir, "docker-compose.yml");
    await writeFile(misspelt, original.replace("    restart: unless-stopped\n", "    restrat: unless-stopped\n"));
    await expect(resolveCompose(misspelt)).rejects.toThrow(/validating .*: services\.postgres\.restrat /);

    const envFile = join(dir, "compose.env");
    await writeFile(envFile, (await readFile(join(root, "compose.env"), "utf8")).replace(/^PAGE_TOKEN_KEY=.*$/m, ""));
    await expect(resolveCompose(join(root, "docker-compose.yml"), envFile)).rejects.toThrow(/required variable PAGE_TOKEN_KEY is missing a value: set PAGE_TOKEN_KEY in compose.env/);
  });

  it("gives each TypeScript service only variables it reads, every one it requires, each valid", async () => {
    const otelSources = (await Promise.all((await readdir(join(root, "otel/src"))).map((f) => readFile(join(root, "otel/src", f), "utf8")))).join("\n");
    for (const variable of tracingVariables) expect(otelSources, variable).toContain(variable);

    for (const [name, shape] of Object.entries(typeScriptServices)) {
      const env = environmentOf(project.services[name]!);
      const unknown = Object.keys(env).filter((variable) => !(variable in shape) && !tracingVariables.includes(variable));
      expect(unknown, `${name}: variables its process does not read`).toEqual([]);
      const required = Object.entries(shape).filter(([, type]) => !type.safeParse(undefined).success).map(([variable]) => variable);
      expect(required.filter((variable) => !(variable in env)), `${name}: required variables compose does not give`).toEqual([]);
      expect(() => loadConfig(shape, env), name).not.toThrow();
    }
  });

  it("runs the TypeScript services as scripts/services.sh runs them, as a non-root user", async () => {
    const servicesScript = await readFile(join(root, "scripts/services.sh"), "utf8");
    for (const name of longRunningTypeScript) {
      const env = environmentOf(project.services[name]!);
      expect(servicesScript, name).toContain(`OTEL_SERVICE_NAME=${env.OTEL_SERVICE_NAME} nohup ${argvs[name]!.join(" ")} `);
    }
    for (const dockerfile of ["Dockerfile", "engine-cpp/Dockerfile"]) {
      const { user } = await readImage(join(root, dockerfile));
      expect(user, dockerfile).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    }
  });

  it("listens on 0.0.0.0 in every container, on the ports compose declares, which its healthcheck probes", () => {
    for (const [name, service] of Object.entries(project.services)) {
      const argv = argvs[name];
      if (argv && name !== "migrate") {
        const addresses = listenAddresses(name, service, argv);
        for (const [what, address] of Object.entries(addresses)) expect(address, `${name} ${what}`).toMatch(/^0\.0\.0\.0:\d+$/);
        expect([...declaredPorts(service)].sort(), `${name}: expose/ports against what it listens on`).toEqual(Object.values(addresses).map(portOf).sort());
      }
      if (service.restart === "no") continue;
      // Every long-running service has a healthcheck, and it names a port the service declares.
      expect(service.healthcheck, name).toBeDefined();
      const probed = [...service.healthcheck!.test.join(" ").matchAll(/\b(\d{4,5})\b/g)].map((m) => Number(m[1]));
      expect(probed.length, `${name}: a port in ${service.healthcheck!.test.join(" ")}`).toBeGreaterThan(0);
      for (const port of probed) expect(declaredPorts(service).has(port), `${name} healthcheck port ${port}`).toBe(true);
    }
  });

  it("uses images that expose those ports, and the engine image's own health check", async () => {
    for (const [name, service] of Object.entries(project.services)) {
      if (!service.build || name === "migrate") continue;
      const image = await imageOf(service);
      for (const port of declaredPorts(service)) expect(image.expose, `${name} ${port}`).toContain(port);
    }
    expect((await imageOf(project.services.engine!)).healthcheck).toEqual(project.services.engine!.healthcheck!.test.slice(1));
  });

  it("publishes only the gateway, Grafana, the Jaeger UI and Prometheus, on 127.0.0.1", () => {
    const published = Object.entries(project.services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([name]) => name).sort()).toEqual(["gateway", "grafana", "jaeger", "prometheus"]);
    for (const [name, service] of published) for (const port of service.ports!) expect(port.host_ip, name).toBe("127.0.0.1");
    expect(project.services.gateway!.ports![0]!.target).toBe(portOf(environmentOf(project.services.gateway!).GATEWAY_LISTEN!));
  });

  it("points every address at a port its peer listens on, and starts a service only after its peers are healthy", () => {
    const names = new Set(Object.keys(project.services));
    for (const [name, service] of Object.entries(project.services)) {
      const texts = [...Object.values(environmentOf(service)), ...(service.command ?? [])];
      const peers = new Set<string>();
      for (const text of texts) {
        for (const [, host, port] of text.matchAll(/\b([a-z][a-z0-9-]*):(\d+)\b/g)) {
          if (!names.has(host!) || host === name) continue;
          expect(declaredPorts(project.services[host!]!).has(Number(port)), `${name} → ${host}:${port}`).toBe(true);
          peers.add(host!);
        }
      }
      for (const peer of peers) expect(service.depends_on?.[peer]?.condition, `${name} waits for ${peer}`).toBe("service_healthy");
    }
    // The one-shots: the schema before anything that reads PostgreSQL, the topics before anything that uses Kafka.
    for (const [name, service] of Object.entries(project.services)) {
      const env = environmentOf(service);
      if (name !== "migrate" && env.DATABASE_URL) expect(service.depends_on?.migrate?.condition, `${name} waits for migrate`).toBe("service_completed_successfully");
      if (env.KAFKA_BROKERS) expect(service.depends_on?.["kafka-topics"]?.condition, `${name} waits for kafka-topics`).toBe("service_completed_successfully");
    }
    // The order service's shard is the engine compose runs, with the same first order id.
    const shard = /^default=([^@]+)@(\d+)$/.exec(environmentOf(project.services["order-service"]!).ENGINE_SHARDS!)!;
    expect(portOf(shard[1]!)).toBe(portOf(flagOf(argvs.engine!, "listen")!));
    expect(flagOf(argvs.engine!, "first-order-id")).toBe(shard[2]);
  });

  it("scrapes with Prometheus every metrics endpoint, with the local config's jobs and its rules", async () => {
    const prometheus = project.services.prometheus!;
    const configFile = flagOf(prometheus.command!, "config.file")!;
    const mount = prometheus.volumes!.find((v) => configFile.startsWith(`${v.target}/`))!;
    expect(mount.source).toBe(join(root, "prometheus"));
    const hostFile = join(mount.source, configFile.slice(mount.target.length + 1));
    const check = await run("promtool", ["check", "config", hostFile]);
    expect(check.code, check.output).toBe(0);

    type Job = { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] };
    const jobsOf = async (file: string) => (parseYaml(await readFile(file, "utf8")) as { scrape_configs: Job[] }).scrape_configs;
    const jobs = await jobsOf(hostFile);
    const local = await jobsOf(join(root, "prometheus/prometheus.yml"));
    const shapeOf = (list: Job[]) => list.map((j) => ({ job: j.job_name, labels: j.static_configs.map((c) => c.labels ?? {}) }));
    expect(shapeOf(jobs)).toEqual(shapeOf(local));

    const targets = jobs.flatMap((j) => j.static_configs.flatMap((c) => c.targets)).sort();
    const metricsEndpoints = [
      `engine:${portOf(flagOf(argvs.engine!, "metrics-listen")!)}`,
      `order-service:${portOf(environmentOf(project.services["order-service"]!).ORDER_SERVICE_METRICS_LISTEN!)}`,
      `analytics-service:${portOf(environmentOf(project.services["analytics-service"]!).ANALYTICS_SERVICE_METRICS_LISTEN!)}`,
      // The gateway serves /metrics on its one port.
      `gateway:${portOf(environmentOf(project.services.gateway!).GATEWAY_LISTEN!)}`,
      `prometheus:${portOf(flagOf(prometheus.command!, "web.listen-address")!)}`,
    ].sort();
    expect(targets).toEqual(metricsEndpoints);
  });

  it("provisions Grafana with its dashboards and a datasource URL it expands to the Prometheus service", async () => {
    const grafana = project.services.grafana!;
    const env = environmentOf(grafana);
    const mountOf = (source: string) => grafana.volumes!.find((v) => v.source === join(root, source))?.target;
    expect(mountOf("grafana/provisioning")).toBe("/etc/grafana/provisioning");
    const providers = parseYaml(await readFile(join(root, "grafana/provisioning/dashboards/hft.yml"), "utf8")) as { providers: { options: { path: string } }[] };
    expect(mountOf("grafana/dashboards")).toBe(providers.providers[0]!.options.path);

    const datasources = await readFile(join(root, "grafana/provisioning/datasources/prometheus.yml"), "utf8");
    const variables = [...datasources.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);
    expect(variables).toContain("HFT_PROMETHEUS_URL");
    for (const variable of variables) expect(env[variable], variable).toBeDefined();
    const url = new URL(env.HFT_PROMETHEUS_URL!);
    expect(url.hostname).toBe("prometheus");
    expect(Number(url.port)).toBe(portOf(flagOf(project.services.prometheus!.command!, "web.listen-address")!));
  });

  it("keeps every store's data in a named volume at the path its process writes", async () => {
    const volumeAt = (name: string, target: string) => {
      const mount = project.services[name]!.volumes?.find((v) => v.target === target);
      expect(mount?.type, `${name} ${target}`).toBe("volume");
      expect(Object.keys(project.volumes ?? {})).toContain(mount!.source);
    };
    volumeAt("postgres", "/var/lib/postgresql/data");
    volumeAt("redis", "/data");
    volumeAt("kafka", environmentOf(project.services.kafka!).KAFKA_LOG_DIRS!);
    volumeAt("engine", flagOf(argvs.engine!, "data-dir")!);
    volumeAt("prometheus", flagOf(project.services.prometheus!.command!, "storage.tsdb.path")!);
    volumeAt("grafana", "/var/lib/grafana");
    expect((await imageOf(project.services.engine!)).volumes).toEqual([flagOf(argvs.engine!, "data-dir")]);
  });

  it("pins every image to a version", async () => {
    const pinned = /^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/;
    for (const [name, service] of Object.entries(project.services)) if (!service.build) expect(service.image, name).toMatch(pinned);
    for (const dockerfile of ["Dockerfile", "engine-cpp/Dockerfile"]) {
      const { from } = await readImage(join(root, dockerfile));
      for (const image of from) expect(image, dockerfile).toMatch(pinned);
    }
  });
});

describe("the Dockerfiles", () => {
  it("pass hadolint with the project's configuration", async () => {
    const result = await run(tool("hadolint"), ["--config", join(root, ".hadolint.yaml"), "--no-color", "Dockerfile", "engine-cpp/Dockerfile"]);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });

  it("copy every workspace's manifest before npm ci, so the image installs what the lock file names", async () => {
    const { workspaces } = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { workspaces: string[] };
    const dockerfile = await readFile(join(root, "Dockerfile"), "utf8");
    expect(workspaces.filter((w) => !dockerfile.includes(`COPY ${w}/package.json ${w}/`))).toEqual([]);
  });

  it("fail hadolint with that configuration when they break a rule", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hft-hadolint-"));
    await writeFile(join(dir, "Dockerfile"), "FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n");
    const result = await run(tool("hadolint"), ["--config", join(root, ".hadolint.yaml"), "--no-color", join(dir, "Dockerfile")]);
    expect(result.code).toBe(1);
    expect(result.output).toContain("DL3007"); // the latest tag
    expect(result.output).toContain("DL3015"); // --no-install-recommends
  });
});

describe("scripts/kafka-create-topics.sh (the kafka-topics one-shot)", () => {
  const topic = `compose-test-${randomUUID()}`;
  let dir: string;
  let topicsCommand: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hft-topics-"));
    // Kafka's topic tool from the broker jars the local stack runs, in place of the image's kafka-topics.sh.
    topicsCommand = join(dir, "kafka-topics");
    await writeFile(topicsCommand, `#!/bin/sh\nexec java -cp '${join(root, ".deps/kafka/libs")}/*' org.apache.kafka.tools.TopicCommand "$@"\n`);
    await chmod(topicsCommand, 0o755);
  });

  afterAll(async () => {
    const admin = createKafkaClient({ brokers: [process.env.KAFKA_BROKERS!], clientId: "compose-int-test" }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("creates the listed topics with their partitions and retention, and leaves existing ones alone", async () => {
    const file = join(dir, "topics.txt");
    await writeFile(file, `# topic partitions retention.ms\n${topic}   3   3600000\n`);
    const env = { PATH: process.env.PATH ?? "", KAFKA_TOPICS_COMMAND: topicsCommand };
    const first = await run("bash", ["scripts/kafka-create-topics.sh", process.env.KAFKA_BROKERS!, file], env);
    expect(first.code, first.output).toBe(0);
    const again = await run("bash", ["scripts/kafka-create-topics.sh", process.env.KAFKA_BROKERS!, file], env);
    expect(again.code, again.output).toBe(0);

    const admin = createKafkaClient({ brokers: [process.env.KAFKA_BROKERS!], clientId: "compose-int-test" }).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]!.partitions).toHaveLength(3);
      const configs = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["retention.ms"] }], includeSynonyms: false });
      expect(configs.resources[0]!.configEntries[0]!.configValue).toBe("3600000");
    } finally {
      await admin.disconnect();
    }
  }, 90_000);

  it("refuses a line without a partition count and retention, naming the topic", async () => {
    const file = join(dir, "bad-topics.txt");
    await writeFile(file, "hft.broken.v1 six\n");
    const result = await run("bash", ["scripts/kafka-create-topics.sh", "127.0.0.1:1", file], { PATH: process.env.PATH ?? "", KAFKA_TOPICS_COMMAND: topicsCommand });
    expect(result.code).toBe(2);
    expect(result.output).toContain('topic hft.broken.v1 needs a partition count and a retention.ms, got "six" and ""');
  });
});

describe("the processes, run with compose's environment and flags", () => {
  const id = randomUUID().slice(0, 8);
  let db: TestDatabase;
  let engineData: string;
  /** compose `service:port` (and the stack's bare host names) → where that runs here. */
  const peers = new Map<string, string>();
  /** per service: container port → the loopback address its process listens on here. */
  const listening: Record<string, Map<number, string>> = {};
  const children: Record<string, ChildProcess> = {};
  /** The environment each process was started with here. */
  const environments: Record<string, Record<string, string>> = {};
  let engineFlags: string[];

  // Variables that name this deployment's shared state: kept in name, given throwaway values so the
  // processes here never touch the local stack's database, Redis keys, projection lock or consumer group.
  const isolated: Readonly<Record<string, (value: string) => string>> = {
    DATABASE_URL: (value) => {
      const url = new URL(value);
      url.pathname = `/${db.name}`;
      return url.toString();
    },
    REDIS_KEY_PREFIX: (value) => `${value}compose-test-${id}:`,
    GATEWAY_REDIS_KEY_PREFIX: (value) => `${value}compose-test-${id}:`,
    PROJECTION_LOCK_KEY: () => String(randomInt(1_000_000, 2_000_000_000)),
    ANALYTICS_GROUP_ID: (value) => `${value}-compose-test-${id}`,
  };

  const localize = (text: string) =>
    text.replace(/\b([a-z][a-z0-9-]*):(\d+)\b/g, (match, host: string, port: string) => peers.get(`${host}:${port}`) ?? peers.get(host) ?? match);

  /** Free loopback ports for a service's listen addresses (0.0.0.0:P in the container). */
  async function listenHere(name: string, addresses: Record<string, string>): Promise<Record<string, string>> {
    const local: Record<string, string> = {};
    listening[name] = new Map();
    for (const [what, address] of Object.entries(addresses)) {
      local[what] = `127.0.0.1:${await freePort()}`;
      listening[name].set(portOf(address), local[what]);
      peers.set(`${name}:${portOf(address)}`, local[what]);
    }
    return local;
  }

  /** The environment compose gives `name`, pointed at this machine; the same variables, nothing else. */
  async function environmentHere(name: string): Promise<Record<string, string>> {
    const service = project.services[name]!;
    const listen = name === "migrate" ? {} : await listenHere(name, listenAddresses(name, service, argvs[name]!));
    const env: Record<string, string> = {};
    for (const [variable, value] of Object.entries(environmentOf(service))) {
      const here = listen[variable] ?? localize(value);
      env[variable] = isolated[variable]?.(here) ?? here;
    }
    const unresolved = Object.values(env).flatMap((value) => [...value.matchAll(/\b([a-z][a-z0-9-]*):\d+\b/g)].filter((m) => m[1]! in project.services));
    expect(unresolved.map((m) => m[0]), `${name}: compose addresses left`).toEqual([]);
    return env;
  }

  /** The argv of `name` here: `node` is this Node.js, hft-engine the engine built here. */
  const commandHere = (argv: readonly string[]) => [argv[0] === "node" ? process.execPath : argv[0] === "hft-engine" ? engineBinary : argv[0]!, ...argv.slice(1)];

  /** Runs compose's healthcheck of `name` against its process here; resolves with its result. */
  function healthcheckHere(name: string): Promise<RunResult> {
    const [form, command, ...args] = project.services[name]!.healthcheck!.test;
    expect(form).toBe("CMD");
    const argsHere = args.map((arg) =>
      arg.replace(/127\.0\.0\.1:(\d+)/g, (_, port: string) => {
        const here = listening[name]?.get(Number(port));
        if (!here) throw new Error(`${name}'s healthcheck probes port ${port}, which it does not listen on`);
        return here;
      }),
    );
    // The images carry grpc-health-probe; scripts/install-tools.sh builds the same version here.
    return run(command === "grpc-health-probe" ? tool("grpc-health-probe") : commandHere([command!])[0]!, argsHere);
  }

  async function healthy(name: string): Promise<void> {
    let last: RunResult | undefined;
    await until(async () => (last = await healthcheckHere(name)).code === 0, () => `${name}'s healthcheck to pass; last: ${last?.output}`, 30_000);
  }

  async function stop(name: string): Promise<number | null> {
    const child = children[name];
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    return exited;
  }

  beforeAll(async () => {
    db = await createTestDatabase("compose");
    engineData = await mkdtemp(join(tmpdir(), "hft-compose-engine-"));
    // The stack's servers, where the local stack runs them (.env / .env.example).
    peers.set("postgres", new URL(process.env.DATABASE_URL!).host);
    peers.set("redis", new URL(process.env.REDIS_URL!).host);
    peers.set("kafka", process.env.KAFKA_BROKERS!.split(",")[0]!);
    peers.set("jaeger", new URL(process.env.OTEL_EXPORTER_OTLP_ENDPOINT!).host);
  });

  afterAll(async () => {
    for (const name of ["gateway", "analytics-service", "order-service", "engine"]) await stop(name);
    await db?.drop();
    if (engineData) await rm(engineData, { recursive: true, force: true });
  });

  it("the engine accepts compose's flags and passes compose's healthcheck", async () => {
    const argv = argvs.engine!;
    const listen = await listenHere("engine", listenAddresses("engine", project.services.engine!, argv));
    engineFlags = argv.slice(1).map((arg) => {
      const [flag] = arg.split("=", 1);
      if (flag! in listen) return `${flag}=${listen[flag!]}`;
      return flag === "--data-dir" ? `--data-dir=${engineData}` : arg;
    });
    children.engine = await spawnUntilReady(commandHere(argv)[0]!, engineFlags, environmentOf(project.services.engine!), "listening on", { inheritEnv: false });
    await healthy("engine");
    const metrics = await fetch(`http://${listen["--metrics-listen"]}/metrics`);
    expect(metrics.status).toBe(200);
  });

  it("the engine refuses a flag it does not know, naming it", async () => {
    const result = await run(engineBinary, [...engineFlags, "--shard=default"], {});
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("hft-engine: invalid configuration: --shard: unknown flag");
  });

  it("migrate applies the schema", async () => {
    const [command, ...args] = commandHere(argvs.migrate!);
    const result = await run(command!, args, { PATH: process.env.PATH ?? "", ...(await environmentHere("migrate")) });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/applied \d+ migration\(s\)/);
  });

  const readyLine: Record<(typeof longRunningTypeScript)[number], string> = {
    "order-service": '"msg":"order service listening"',
    "analytics-service": '"msg":"analytics service listening"',
    gateway: '"msg":"gateway listening"',
  };

  for (const name of longRunningTypeScript) {
    it(`${name} starts with exactly compose's environment and passes compose's healthcheck`, async () => {
      const [command, ...args] = commandHere(argvs[name]!);
      environments[name] = await environmentHere(name);
      children[name] = await spawnUntilReady(command!, args, { PATH: process.env.PATH ?? "", ...environments[name] }, readyLine[name], { inheritEnv: false });
      await healthy(name);
    }, 90_000);
  }

  it("a service missing one of compose's variables stops, naming it", async () => {
    const [command, ...args] = commandHere(argvs["order-service"]!);
    const { PAGE_TOKEN_KEY: _dropped, ...env } = environments["order-service"]!;
    const result = await run(command!, args, { PATH: process.env.PATH ?? "", ...env });
    expect(result.code).toBe(2);
    expect(result.output).toContain("PAGE_TOKEN_KEY: expected a value; it is missing");
  });

  it("every process stops on SIGTERM with exit code 0, the gateway first", async () => {
    const codes: Record<string, number | null> = {};
    for (const name of ["gateway", "analytics-service", "order-service", "engine"]) codes[name] = await stop(name);
    expect(codes).toEqual({ gateway: 0, "analytics-service": 0, "order-service": 0, engine: 0 });
  }, 60_000);
});
