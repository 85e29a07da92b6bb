/**
 * scripts/backup.sh and scripts/restore.sh against the local stack's PostgreSQL (throwaway
 * databases) and real hft-engine processes in temporary data directories.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMigrator } from "@hft/service-kit";
import { createTestDatabase, type TestDatabase } from "@hft/service-kit/testing";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { OrderFlowSession, defineBtc, limit } from "./support/engine-commands.js";
import { type EngineProcess, freePort, startEngine } from "./support/engine-process.js";
import { book, stats } from "./support/engine-record.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const migrationsDir = join(root, "migrations");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a script of scripts/ with stdin a pipe (never a terminal), fed `input` when given. */
function script(name: string, args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(root, "scripts", name), ...args], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/** Runs restore.sh on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt; the terminal carries stdout and stderr both. */
function restoreOnTerminal(args: readonly string[], answer: string): Promise<Run> {
  const command = ["bash", join(root, "scripts/restore.sh"), ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr: "" }));
    child.stdin.end(`${answer}\n`);
  });
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Every table's row count and digest of its rows, and every sequence's position: what a restore must reproduce. */
function contents(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const found: Record<string, string> = {};
    const tables = await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    for (const { name } of tables.rows) {
      const { rows } = await client.query<{ n: string; digest: string }>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS digest FROM public."${name}" t`,
      );
      found[`table ${name}`] = `${rows[0]!.n} rows, md5 ${rows[0]!.digest}`;
    }
    const sequences = await client.query<{ name: string; last_value: string | null }>("SELECT sequencename AS name, last_value FROM pg_sequences WHERE schemaname = 'public'");
    for (const s of sequences.rows) found[`sequence ${s.name}`] = String(s.last_value);
    return found;
  });
}

// The databases' own pools are never used: an idle connection would count as a running
// service to restore.sh. Each step connects and disconnects instead.
async function migrate(db: TestDatabase, directory = migrationsDir): Promise<void> {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    await createMigrator({ pool, directory }).up();
  } finally {
    await pool.end();
  }
}
const sql = (db: TestDatabase, text: string, values?: unknown[]) => withClient(db.url, (c) => c.query(text, values));

/** Accounts, limits, two orders that traded, both executions, positions, a checkpoint, an idempotency key. */
async function seed(db: TestDatabase, checkpoint = 3n): Promise<void> {
  await sql(
    db,
    `
    INSERT INTO accounts (name) VALUES ('alice'), ('bob');
    INSERT INTO risk_limits (account_id, max_order_quantity, max_order_notional, price_collar_bps) VALUES (1, 10, 1000000.5, 500);
    INSERT INTO orders (order_id, account_id, client_order_id, instrument_id, side, order_type, time_in_force, price, quantity,
                        filled_quantity, filled_notional, status, created_at, updated_at, last_sequence)
    VALUES (1, 1, E'tab\\there "quoted" ü', 1, 'sell', 'limit', 'gtc', 100.25, 0.5, 0.2, 20.05, 'partially_filled', '2024-05-01T10:00:00.123456Z', '2024-05-01T10:00:01Z', 2),
           (2, 2, 'b-1', 1, 'buy', 'limit', 'ioc', 100.25, 0.2, 0.2, 20.05, 'filled', '2024-05-01T10:00:01Z', '2024-05-01T10:00:01Z', 2);
    INSERT INTO executions (trade_id, liquidity, order_id, account_id, instrument_id, side, price, quantity, executed_at, sequence)
    VALUES (1, 'maker', 1, 1, 1, 'sell', 100.25, 0.2, '2024-05-01T10:00:01Z', 2), (1, 'taker', 2, 2, 1, 'buy', 100.25, 0.2, '2024-05-01T10:00:01Z', 2);
    SELECT apply_position_fill(1, 1, 'sell', 100.25, 0.2, '2024-05-01T10:00:01Z', 2);
    SELECT apply_position_fill(2, 1, 'buy', 100.25, 0.2, '2024-05-01T10:00:01Z', 2);
    INSERT INTO idempotency_keys (account_id, client_order_id, request_hash, order_id, response) VALUES (2, 'b-1', 'abc', 2, '{"order": "CgEy"}');
  `,
  );
  await sql(db, "INSERT INTO engine_checkpoints (shard, last_sequence) VALUES ('default', $1)", [checkpoint.toString()]);
}

const sha256 = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");
const backupsIn = async (dir: string, suffix: string) => (await readdir(dir)).filter((f) => f.endsWith(suffix)).map((f) => join(dir, f));
const touchAgo = (path: string, days: number) => promisify(execFile)("touch", ["-d", `${days} days ago`, path]);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
async function database(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  cleanups.push(() => db.drop());
  return db;
}
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("database backup and restore", () => {
  let source: TestDatabase;
  let before: Record<string, string>;
  beforeAll(async () => {
    source = await createTestDatabase("backup_source");
    await migrate(source);
    await seed(source);
    before = await contents(source.url);
  });
  afterAll(async () => {
    await source.drop();
  });

  /** A migrated database with rows and a table of its own, which a restore must replace entirely. */
  async function occupiedTarget(): Promise<TestDatabase> {
    const target = await database("restore_target");
    await migrate(target);
    await sql(target, "INSERT INTO accounts (name) VALUES ('carol'), ('dave'), ('erin'); CREATE TABLE leftover (x int); INSERT INTO leftover VALUES (1)");
    return target;
  }

  it.each(["custom", "plain"])("restores a %s backup into another database with identical table contents", async (format) => {
    const dir = await tempDir("hft-backups-");
    const backup = await script("backup.sh", ["--database-url", source.url, "--dir", dir, "--format", format]);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    const [file] = await backupsIn(dir, format === "custom" ? ".dump" : ".sql.gz");
    expect(file).toMatch(new RegExp(`/hft-db-${source.name}-\\d{8}T\\d{6}Z\\.(dump|sql\\.gz)$`));
    expect(await readdir(dir)).toEqual([file!.split("/").pop(), `${file!.split("/").pop()}.sha256`].sort());
    expect(await readFile(`${file}.sha256`, "utf8")).toBe(`${await sha256(file!)}  ${file!.split("/").pop()}\n`);
    expect(backup.stdout).toContain(`wrote ${file}`);
    expect(backup.stdout).not.toContain(":hft@");

    const target = await occupiedTarget();
    // A drill: this database is no engine's, so there is no engine to check it against.
    const restore = await script("restore.sh", ["--yes", "--database-url", target.url, "--no-engine-check", file!]);
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(await contents(target.url)).toEqual(before);
    expect(restore.stdout).toContain(`database ${target.name} restored from ${file}`);
    expect(restore.stdout).toMatch(/ orders +\| +2\n/);
    expect(restore.stdout).toMatch(/ default \| +3\n/);
    expect(restore.stdout).toContain("schema is up to date");
    expect(restore.stdout).toMatch(/ +9 \| analytics_exactly_once +\| \d{4}-/);
  }, 120_000);

  it("applies the migrations newer than the backup after restoring it", async () => {
    const older = await database("backup_older");
    const firstSeven = await tempDir("hft-migrations-");
    const files = (await readdir(migrationsDir)).filter((f) => /^\d{3}_.*\.sql$/.test(f)).sort();
    for (const file of files.slice(0, 7)) await cp(join(migrationsDir, file), join(firstSeven, file));
    const newer = files.slice(7);
    await migrate(older, firstSeven);
    await sql(older, "INSERT INTO accounts (name) VALUES ('alice')");
    const dir = await tempDir("hft-backups-");
    expect((await script("backup.sh", ["--database-url", older.url, "--dir", dir])).code).toBe(0);
    const [file] = await backupsIn(dir, ".dump");

    const target = await database("restore_migrated");
    const restore = await script("restore.sh", ["--yes", "--database-url", target.url, "--no-engine-check", file!]);
    expect(restore.code).toBe(0);
    expect(newer.length).toBeGreaterThan(0);
    for (const file of newer) expect(restore.stdout).toContain(`applied ${file}`);
    expect(restore.stdout).toContain(`applied ${newer.length} migration(s)`);
    const restored = await withClient(target.url, async (c) => ({
      versions: (await c.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY 1")).rows.map((r) => r.version),
      accounts: (await c.query<{ name: string }>("SELECT name FROM accounts")).rows.map((r) => r.name),
    }));
    expect(restored).toEqual({ versions: files.map((f) => Number(f.slice(0, 3))), accounts: ["alice"] });
  }, 120_000);

  describe("refuses, changing nothing", () => {
    let dir: string;
    let file: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "hft-backups-"));
      expect((await script("backup.sh", ["--database-url", source.url, "--dir", dir])).code).toBe(0);
      [file] = (await backupsIn(dir, ".dump")) as [string];
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    /** A copy of the good backup, spoiled by `spoil`, with the good backup's checksum file. */
    async function spoiled(spoil: (bytes: Buffer) => Buffer): Promise<string> {
      const copyDir = await tempDir("hft-spoiled-");
      const copy = join(copyDir, file.split("/").pop()!);
      await writeFile(copy, spoil(await readFile(file)));
      await cp(`${file}.sha256`, `${copy}.sha256`);
      return copy;
    }

    it.each([
      ["with one byte flipped", (b: Buffer) => (b[Math.floor(b.length / 2)]! ^= 0x01, b)],
      ["cut short by 100 bytes", (b: Buffer) => b.subarray(0, b.length - 100)],
    ])("a backup %s", async (_, spoil) => {
      const target = await occupiedTarget();
      const held = await contents(target.url);
      const bad = await spoiled(spoil);
      const restore = await script("restore.sh", ["--yes", "--database-url", target.url, "--no-engine-check", bad]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(new RegExp(`^restore: error: ${bad} does not match its checksum \\(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\\): the file is corrupted or truncated; nothing was restored\\n$`));
      expect(await contents(target.url)).toEqual(held);
    });

    it("a backup whose SQL fails after loading everything, by rolling it all back", async () => {
      const target = await occupiedTarget();
      const held = await contents(target.url);
      const plainDir = await tempDir("hft-backups-");
      expect((await script("backup.sh", ["--database-url", source.url, "--dir", plainDir, "--format", "plain"])).code).toBe(0);
      const [plain] = await backupsIn(plainDir, ".sql.gz");
      const failing = Buffer.concat([gunzipSync(await readFile(plain!)), Buffer.from("SELECT 1 / 0;\n")]);
      await writeFile(plain!, gzipSync(failing));
      await writeFile(`${plain}.sha256`, `${await sha256(plain!)}  ${plain!.split("/").pop()}\n`);
      const restore = await script("restore.sh", ["--yes", "--database-url", target.url, "--no-engine-check", plain!]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(new RegExp(`^restore: error: restoring ${plain} failed and was rolled back; the database is unchanged: .*division by zero`, "s"));
      expect(await contents(target.url)).toEqual(held);
    });

    it("a backup without its checksum file", async () => {
      const target = await occupiedTarget();
      const held = await contents(target.url);
      const lone = join(await tempDir("hft-lone-"), file.split("/").pop()!);
      await cp(file, lone);
      const restore = await script("restore.sh", ["--yes", "--database-url", target.url, "--no-engine-check", lone]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toContain(`${lone} has no checksum file ${lone.split("/").pop()}.sha256 beside it`);
      expect(await contents(target.url)).toEqual(held);
    });

    it("without --yes when stdin is not a terminal", async () => {
      const target = await occupiedTarget();
      const held = await contents(target.url);
      const restore = await script("restore.sh", ["--database-url", target.url, "--no-engine-check", file], "yes\n");
      expect(restore.code).toBe(1);
      expect(restore.stderr).toBe("restore: error: refusing to restore without confirmation: stdin is not a terminal; pass --yes to restore anyway. Nothing was changed.\n");
      expect(await contents(target.url)).toEqual(held);
    });

    it("on a terminal, when the answer is not yes", async () => {
      const target = await occupiedTarget();
      const held = await contents(target.url);
      const restore = await restoreOnTerminal(["--database-url", target.url, "--no-engine-check", file], "no");
      expect(restore.code).toBe(1);
      expect(restore.stdout).toContain(`This replaces everything in schema public of database ${target.name}`);
      expect(restore.stdout).toContain("restore: error: restore cancelled; nothing was changed.");
      expect(await contents(target.url)).toEqual(held);
    });

    it("while another session is connected to the database", async () => {
      const target = await occupiedTarget();
      const held = await contents(target.url);
      const restore = await withClient(target.url, async (c) => {
        await c.query("SET application_name = 'a-running-service'");
        return script("restore.sh", ["--yes", "--database-url", target.url, "--no-engine-check", file]);
      });
      expect(restore.code).toBe(1);
      expect(restore.stderr).toContain(`1 (a-running-service) other sessions are connected to database ${target.name}: stop the services using it first`);
      expect(await contents(target.url)).toEqual(held);
    });

    it("a database backup whose checkpoint is past the engine's sequence", async () => {
      const target = await occupiedTarget();
      const held = await contents(target.url);
      const emptyEngine = await tempDir("hft-engine-empty-");
      const restore = await script("restore.sh", ["--yes", "--database-url", target.url, "--engine-dir", emptyEngine, file]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toContain(
        `the engine data in ${emptyEngine} ends at sequence 0, but the database backup ${file.split("/").pop()} has shard default projected to sequence 3.`,
      );
      expect(await contents(target.url)).toEqual(held);
    });
  });

  it("on a terminal, restores once the answer is yes", async () => {
    const dir = await tempDir("hft-backups-");
    expect((await script("backup.sh", ["--database-url", source.url, "--dir", dir])).code).toBe(0);
    const [file] = await backupsIn(dir, ".dump");
    const target = await occupiedTarget();
    const restore = await restoreOnTerminal(["--database-url", target.url, "--no-engine-check", file!], "yes");
    expect(restore.code).toBe(0);
    expect(await contents(target.url)).toEqual(before);
  }, 120_000);

  describe("backup.sh failures", () => {
    it("exits 1 naming an unreachable database, and writes and prunes nothing", async () => {
      const dir = await tempDir("hft-backups-");
      const old = join(dir, "hft-db-hft-20200101T000000Z.dump");
      await writeFile(old, "an old backup");
      await touchAgo(old, 30);
      const url = `postgres://hft:hft@127.0.0.1:${await freePort()}/hft`;
      const backup = await script("backup.sh", ["--database-url", url, "--dir", dir]);
      expect(backup.code).toBe(1);
      expect(backup.stderr).toMatch(/^backup: error: cannot connect to the database postgres:\/\/hft:\*\*\*@127\.0\.0\.1:\d+\/hft: .*Connection refused/);
      expect(await readdir(dir)).toEqual(["hft-db-hft-20200101T000000Z.dump"]);
    });

    it("exits 1 with pg_dump's reason when the dump fails midway, leaving no partial file", async () => {
      const dir = await tempDir("hft-backups-");
      const backup = await withClient(source.url, async (c) => {
        await c.query("BEGIN");
        await c.query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
        const run = await script("backup.sh", ["--database-url", source.url, "--dir", dir, "--lock-wait-timeout", "100ms"]);
        await c.query("ROLLBACK");
        return run;
      });
      expect(backup.code).toBe(1);
      expect(backup.stderr).toMatch(new RegExp(`^backup: error: pg_dump of ${source.name} failed; no backup written: pg_dump: error: query failed: .*LOCK TABLE public\\.orders IN ACCESS SHARE MODE`, "s"));
      expect(await readdir(dir)).toEqual([]);
    });

    it("exits 1 when the backup directory cannot be created", async () => {
      const file = join(await tempDir("hft-backups-"), "a-file");
      await writeFile(file, "");
      const backup = await script("backup.sh", ["--database-url", source.url, "--dir", join(file, "backups")]);
      expect(backup.code).toBe(1);
      expect(backup.stderr).toBe(`backup: error: cannot create the backup directory ${join(file, "backups")}\n`);
    });

    it.each([
      [["--retention-days", "0"], 'backup: --retention-days: expected a whole number of days, at least 1, got "0"'],
      [["--format", "zip"], 'backup: --format: expected custom or plain, got "zip"'],
      [["--no-database"], "backup: nothing to back up: --no-database without --engine-dir"],
      [["--dir"], "backup: --dir needs a value"],
    ])("exits 2 on bad usage: %j", async (args, message) => {
      const backup = await script("backup.sh", args);
      expect(backup.code).toBe(2);
      expect(backup.stderr.split("\n")[0]).toBe(message);
    });
  });

  it("prunes only its own backups and checksums older than the retention", async () => {
    const dir = await tempDir("hft-backups-");
    const files = {
      old: ["hft-db-hft-20200101T000000Z.dump", "hft-db-hft-20200101T000000Z.dump.sha256", "hft-engine-default-20200101T000000Z.tar.gz", "hft-engine-default-20200101T000000Z.tar.gz.sha256", "hft-db-hft-20200102T000000Z.sql.gz.sha256"],
      recent: ["hft-db-hft-20200103T000000Z.sql.gz", "hft-db-hft-20200103T000000Z.sql.gz.sha256"],
      unrelated: ["notes.txt", "hft-db-hft-20200101T000000Z.dump.bak", "hft-db-manual.dump", "my-hft-db-hft-20200101T000000Z.dump"],
    };
    for (const name of [...files.old, ...files.unrelated]) {
      await writeFile(join(dir, name), name);
      await touchAgo(join(dir, name), 15);
    }
    for (const name of files.recent) {
      await writeFile(join(dir, name), name);
      await touchAgo(join(dir, name), 13);
    }
    await mkdir(join(dir, "kept"));
    await writeFile(join(dir, "kept", files.old[0]!), "");
    await touchAgo(join(dir, "kept", files.old[0]!), 15);

    const backup = await script("backup.sh", ["--database-url", source.url, "--dir", dir, "--retention-days", "14"]);
    expect(backup.code).toBe(0);
    const made = (await readdir(dir)).filter((f) => f.startsWith(`hft-db-${source.name}-`));
    expect(made).toHaveLength(2);
    expect((await readdir(dir)).sort()).toEqual([...files.recent, ...files.unrelated, ...made, "kept"].sort());
    expect(await readdir(join(dir, "kept"))).toEqual([files.old[0]]);
    for (const name of [files.old[0], files.old[2], files.old[4]]) expect(backup.stdout).toContain(`pruned ${name}`);
  });
});

describe("engine backup and restore", () => {
  const engines: EngineProcess[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop("SIGKILL")));
  });
  async function engine(dataDir: string): Promise<EngineProcess> {
    // Frequent snapshots: the backup then copies snapshots that the engine prunes as it goes.
    const started = await startEngine({ dataDir, args: ["--snapshot-every=7"] });
    engines.push(started);
    return started;
  }

  /** Trades and resting orders between two accounts; `first` keeps correlation and client order ids unique. */
  async function trade(e: EngineProcess, first: number, count: number, define = false): Promise<void> {
    const session = new OrderFlowSession(e.client.orderFlow());
    const commands = Array.from({ length: count }, (_, i) =>
      limit(BigInt(first + i), {
        account: BigInt(1 + (i % 2)),
        side: (first + i) % 3 === 0 ? Side.SIDE_BUY : Side.SIDE_SELL,
        price: BigInt(10_000 + ((first + i) % 7) - 3),
        quantity: BigInt(1 + ((first + i) % 5)),
        clientOrderId: `o-${first + i}`,
      }),
    );
    session.send(define ? [defineBtc(1_000_000n), ...commands] : commands);
    await session.waitForAcks(define ? count + 1 : count);
    session.stream.end();
    await session.done;
  }

  /** A migrated database whose checkpoint says shard default is projected to `sequence`. */
  async function projectedTo(sequence: bigint): Promise<TestDatabase> {
    const db = await database("engine_checkpoint");
    await migrate(db);
    await sql(db, "INSERT INTO engine_checkpoints (shard, last_sequence) VALUES ('default', $1)", [sequence.toString()]);
    return db;
  }

  const listing = async (dir: string) => Object.fromEntries(await Promise.all((await readdir(dir)).sort().map(async (f) => [f, await sha256(join(dir, f))])));

  it("restores a stopped engine's data to the same sequence and book", async () => {
    const dataDir = await tempDir("hft-engine-");
    const first = await engine(dataDir);
    await trade(first, 1, 40, true);
    const [sequence, resting] = [(await stats(first.client)).lastSequence, (await book(first.client, 1)).book];
    expect(await first.stop("SIGTERM")).toBe(0);

    const dir = await tempDir("hft-backups-");
    const backup = await script("backup.sh", ["--no-database", "--engine-dir", dataDir, "--dir", dir]);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain(`copied engine data ${dataDir} to sequence ${sequence} (`);
    const [archive] = await backupsIn(dir, ".tar.gz");
    expect(archive).toMatch(/\/hft-engine-default-\d{8}T\d{6}Z\.tar\.gz$/);

    await rm(dataDir, { recursive: true });
    const db = await projectedTo(sequence);
    const restore = await script("restore.sh", ["--yes", "--database-url", db.url, "--engine-dir", dataDir, archive!]);
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`consistent: shard default projected to sequence ${sequence}`);
    expect(restore.stdout).toContain(`  last sequence ${sequence}\n`);

    const again = await engine(dataDir);
    expect((await stats(again.client)).lastSequence).toBe(sequence);
    expect((await book(again.client, 1)).book).toEqual(resting);
  }, 120_000);

  it("backs up a running engine with the database, and restores both to the moment of the backup", async () => {
    const dataDir = await tempDir("hft-engine-");
    const running = await engine(dataDir);
    await trade(running, 1, 30, true);
    const [sequence, resting] = [(await stats(running.client)).lastSequence, (await book(running.client, 1)).book];
    const db = await projectedTo(sequence - 4n);

    const dir = await tempDir("hft-backups-");
    const backup = await script("backup.sh", ["--database-url", db.url, "--engine-dir", dataDir, "--dir", dir]);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    await trade(running, 100, 20);
    expect((await stats(running.client)).lastSequence).toBe(sequence + 20n);
    await running.stop("SIGKILL");

    const [dump] = await backupsIn(dir, ".dump");
    const [archive] = await backupsIn(dir, ".tar.gz");
    const target = await database("restore_both");
    const restore = await script("restore.sh", ["--yes", "--database-url", target.url, "--engine-dir", dataDir, dump!, archive!]);
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`consistent: shard default projected to sequence ${sequence - 4n} (the database backup`);
    const aside = (await readdir(dataDir)).find((f) => f.startsWith("before-restore-"));
    expect(restore.stdout).toContain(`its previous journal and snapshots are in ${join(dataDir, aside!)}`);
    expect(await readdir(join(dataDir, aside!))).toContain("journal.log");

    const again = await engine(dataDir);
    expect((await stats(again.client)).lastSequence).toBe(sequence);
    expect((await book(again.client, 1)).book).toEqual(resting);
    const checkpoint = await withClient(target.url, (c) => c.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints"));
    expect(checkpoint.rows).toEqual([{ last_sequence: (sequence - 4n).toString() }]);
  }, 120_000);

  it("restores a journal with a torn tail to its last whole record, as the engine recovers it", async () => {
    const dataDir = await tempDir("hft-engine-");
    const first = await engine(dataDir);
    await trade(first, 1, 10, true);
    const sequence = (await stats(first.client)).lastSequence;
    await first.stop("SIGKILL");
    // A record header announcing 60 bytes, and only 10 of them: a group cut by a crash.
    const torn = Buffer.alloc(18);
    torn.writeUInt32LE(60, 0);
    await appendFile(join(dataDir, "journal.log"), torn);

    const dir = await tempDir("hft-backups-");
    const backup = await script("backup.sh", ["--no-database", "--engine-dir", dataDir, "--dir", dir]);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain(`to sequence ${sequence} (`);
    const [archive] = await backupsIn(dir, ".tar.gz");
    const restoredDir = await tempDir("hft-engine-restored-");
    const restore = await script("restore.sh", ["--yes", "--no-engine-check", "--engine-dir", restoredDir, archive!]);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain("torn record: 18 bytes the engine will cut");

    const again = await engine(restoredDir);
    expect((await stats(again.client)).lastSequence).toBe(sequence);
    expect(again.output()).toContain("journal tail cut: torn record, 18 bytes");
  }, 120_000);

  describe("refuses, changing nothing", () => {
    it("while an engine runs on the data directory", async () => {
      const dataDir = await tempDir("hft-engine-");
      const running = await engine(dataDir);
      await trade(running, 1, 10, true);
      const dir = await tempDir("hft-backups-");
      expect((await script("backup.sh", ["--no-database", "--engine-dir", dataDir, "--dir", dir])).code).toBe(0);
      const [archive] = await backupsIn(dir, ".tar.gz");
      const held = await listing(dataDir);
      const restore = await script("restore.sh", ["--yes", "--no-engine-check", "--engine-dir", dataDir, archive!]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(new RegExp(`^restore: error: the engine data directory ${dataDir} is in use by process \\d+: stop the engine first`));
      expect(await listing(dataDir)).toEqual(held);
    });

    it("an engine backup behind the database's checkpoint", async () => {
      const dataDir = await tempDir("hft-engine-");
      const first = await engine(dataDir);
      await trade(first, 1, 10, true);
      const sequence = (await stats(first.client)).lastSequence;
      await first.stop("SIGTERM");
        const dir = await tempDir("hft-backups-");
      expect((await script("backup.sh", ["--no-database", "--engine-dir", dataDir, "--dir", dir])).code).toBe(0);
      const [archive] = await backupsIn(dir, ".tar.gz");
      const held = await listing(dataDir);
      const db = await projectedTo(sequence + 5n);
      const restore = await script("restore.sh", ["--yes", "--database-url", db.url, "--engine-dir", dataDir, archive!]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toContain(
        `the engine backup ${archive!.split("/").pop()} ends at sequence ${sequence}, but database ${db.url.replace(":hft@", ":***@")} has shard default projected to sequence ${sequence + 5n}.`,
      );
      expect(await listing(dataDir)).toEqual(held);
    });

    it("a corrupted engine backup", async () => {
      const dataDir = await tempDir("hft-engine-");
      const first = await engine(dataDir);
      await trade(first, 1, 10, true);
      await first.stop("SIGTERM");
        const dir = await tempDir("hft-backups-");
      expect((await script("backup.sh", ["--no-database", "--engine-dir", dataDir, "--dir", dir])).code).toBe(0);
      const [archive] = await backupsIn(dir, ".tar.gz");
      const bytes = await readFile(archive!);
      bytes[bytes.length >> 1]! ^= 0x80;
      await writeFile(archive!, bytes);
      const held = await listing(dataDir);
      const restore = await script("restore.sh", ["--yes", "--no-engine-check", "--engine-dir", dataDir, archive!]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toContain(`${archive} does not match its checksum`);
      expect(await listing(dataDir)).toEqual(held);
    });
  });
});
