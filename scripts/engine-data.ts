/**
 * `tsx scripts/engine-data.ts [--last-sequence] DIR`: what an engine data directory holds and the
 * sequence the engine would recover to from it, read the way engine-cpp/src/recovery.cc reads it
 * (the newest snapshot whose checksum holds, then the journal's whole, checksummed, contiguous
 * records after it; formats in engine-cpp/include/hft/engine/{journal,snapshot}.h), changing
 * nothing. backup.sh checks its copies with it, restore.sh compares the engine's sequence with
 * PostgreSQL's checkpoint. Exits 1 naming the problem when the engine would refuse to start from
 * the directory, 2 on bad usage.
 */
import { type FileHandle, open, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";

const JOURNAL_HEADER = Buffer.concat([Buffer.from("HFTJRNL\0", "latin1"), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0])]);
const RECORD_HEADER = 8;
const MIN_PAYLOAD = 17;
const MAX_PAYLOAD = 128;
const SNAPSHOT_MAGIC = Buffer.from("HFTSNAP\0", "latin1");
const SNAPSHOT_VERSION = 1;
// magic, version, reserved, three counters, book count, checksum: the smallest snapshot.
const SNAPSHOT_MIN_BYTES = 8 + 4 + 4 + 24 + 4 + 4;

const CRC32C_TABLE = Uint32Array.from({ length: 256 }, (_, i) => {
  let crc = i;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  return crc >>> 0;
});

/** CRC-32C (Castagnoli) of `bytes`, continuing from `crc` as engine-cpp's crc32c() does. */
function crc32c(bytes: Uint8Array, crc = 0): number {
  let state = ~crc >>> 0;
  for (const byte of bytes) state = CRC32C_TABLE[(state ^ byte) & 0xff]! ^ (state >>> 8);
  return ~state >>> 0;
}

interface JournalRead {
  readonly records: number;
  readonly firstSequence: bigint;
  readonly lastSequence: bigint;
  readonly validBytes: number;
  readonly fileBytes: number;
  /** Why reading stopped, in the engine's words (JournalTail). */
  readonly tail: string;
  /** The first sequence after `after` that does not follow it, if any: recovery refuses such a journal. */
  readonly jump?: { readonly from: bigint; readonly to: bigint };
}

/** Reads the journal's records as JournalReader does, checking contiguity after `after` (the snapshot's sequence) as recover() does. */
async function readJournal(path: string, after: bigint): Promise<JournalRead> {
  const file: FileHandle = await open(path, "r");
  try {
    const fileBytes = (await file.stat()).size;
    const chunk = Buffer.alloc(1 << 20);
    let buffer = Buffer.alloc(0);
    let offset = 0;
    let eof = false;
    // Makes `n` unread bytes available unless the file ends first.
    const fill = async (n: number): Promise<boolean> => {
      while (buffer.length < n && !eof) {
        const { bytesRead } = await file.read(chunk, 0, chunk.length, offset);
        offset += bytesRead;
        if (bytesRead === 0) eof = true;
        buffer = Buffer.concat([buffer, chunk.subarray(0, bytesRead)]);
      }
      return buffer.length >= n;
    };
    let records = 0;
    let firstSequence = 0n;
    let lastSequence = 0n;
    let validBytes = 0;
    let tail = "clean end";
    let jump: JournalRead["jump"];
    const read = (): JournalRead => ({ records, firstSequence, lastSequence, validBytes, fileBytes, tail, jump });
    if (fileBytes === 0) return read();
    const whole = await fill(JOURNAL_HEADER.length);
    const header = buffer.subarray(0, JOURNAL_HEADER.length);
    if (!header.equals(JOURNAL_HEADER.subarray(0, header.length))) throw new Error(`${path} is not a journal of this format (engine journal version 2)`);
    if (!whole) {
      tail = "torn file header";
      return read();
    }
    buffer = buffer.subarray(JOURNAL_HEADER.length);
    validBytes = JOURNAL_HEADER.length;
    let applied = after;
    for (;;) {
      if (!(await fill(RECORD_HEADER))) {
        if (buffer.length > 0) tail = "torn record header";
        break;
      }
      const length = buffer.readUInt32LE(0);
      if (length < MIN_PAYLOAD || length > MAX_PAYLOAD) {
        tail = "bad record length";
        break;
      }
      if (!(await fill(RECORD_HEADER + length))) {
        tail = "torn record";
        break;
      }
      // The checksum covers the length field and the payload. A record whose checksum holds but
      // whose body does not decode ("undecodable record") is not told apart here: only a bug in
      // the engine's encoder could write one.
      if (crc32c(buffer.subarray(RECORD_HEADER, RECORD_HEADER + length), crc32c(buffer.subarray(0, 4))) !== buffer.readUInt32LE(4)) {
        tail = "checksum mismatch";
        break;
      }
      const sequence = buffer.readBigUInt64LE(RECORD_HEADER);
      if (records > 0 && sequence !== lastSequence + 1n) {
        tail = "sequence gap";
        break;
      }
      if (records === 0) firstSequence = sequence;
      if (sequence > applied && jump === undefined) {
        if (sequence === applied + 1n) applied = sequence;
        else jump = { from: applied, to: sequence };
      }
      records += 1;
      lastSequence = sequence;
      validBytes += RECORD_HEADER + length;
      buffer = buffer.subarray(RECORD_HEADER + length);
    }
    return read();
  } finally {
    await file.close();
  }
}

/** Why a snapshot file would not load, or its sequence. */
async function readSnapshot(path: string): Promise<{ sequence: bigint } | { problem: string }> {
  const data = await readFile(path);
  if (data.length < SNAPSHOT_MIN_BYTES || !data.subarray(0, 8).equals(SNAPSHOT_MAGIC)) return { problem: "not a snapshot, or cut short" };
  if (crc32c(data.subarray(0, data.length - 4)) !== data.readUInt32LE(data.length - 4)) return { problem: "checksum mismatch" };
  if (data.readUInt32LE(8) !== SNAPSHOT_VERSION) return { problem: `snapshot version ${data.readUInt32LE(8)}, expected ${SNAPSHOT_VERSION}` };
  return { sequence: data.readBigUInt64LE(16) };
}

const usage = "usage: tsx scripts/engine-data.ts [--last-sequence] <engine data directory>";
const args = process.argv.slice(2);
const onlySequence = args[0] === "--last-sequence";
const directory = onlySequence ? args[1] : args[0];
if (!directory || args.length !== (onlySequence ? 2 : 1) || directory.startsWith("--")) {
  console.error(usage);
  process.exit(2);
}

try {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    throw new Error(`cannot read the engine data directory ${directory} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  const snapshots = names
    .map((name) => ({ name, match: /^snapshot-(\d+)\.bin$/.exec(name) }))
    .filter((s) => s.match)
    .map((s) => ({ name: s.name, named: BigInt(s.match![1]!) }))
    .sort((a, b) => (a.named === b.named ? b.name.localeCompare(a.name) : a.named < b.named ? 1 : -1));
  const lines: string[] = [];
  let snapshot: { name: string; sequence: bigint } | undefined;
  for (const candidate of snapshots) {
    const read = await readSnapshot(join(directory, candidate.name));
    if ("sequence" in read) {
      snapshot = { name: candidate.name, sequence: read.sequence };
      break;
    }
    lines.push(`skipped snapshot ${candidate.name}: ${read.problem}`);
  }
  const snapshotSequence = snapshot?.sequence ?? 0n;
  let lastSequence = snapshotSequence;
  lines.unshift(snapshot ? `snapshot ${snapshot.name} (sequence ${snapshot.sequence})` : "snapshot none");
  if (names.includes("journal.log")) {
    const journal = await readJournal(join(directory, "journal.log"), snapshotSequence);
    if (journal.jump) throw new Error(`the journal jumps from sequence ${journal.jump.from} to ${journal.jump.to}`);
    if (journal.records > 0 && journal.lastSequence < snapshotSequence) {
      throw new Error(`the journal ends at sequence ${journal.lastSequence}, before the snapshot's ${snapshotSequence}`);
    }
    if (journal.records > 0) lastSequence = journal.lastSequence;
    const range = journal.records > 0 ? `sequences ${journal.firstSequence} to ${journal.lastSequence}` : "no records";
    const cut = journal.tail === "clean end" ? "clean end" : `${journal.tail}: ${journal.fileBytes - journal.validBytes} bytes the engine will cut`;
    lines.push(`journal ${journal.records} records, ${range}, ${journal.fileBytes} bytes, ${cut}`);
  } else {
    lines.push("journal none");
  }
  console.log(onlySequence ? lastSequence.toString() : [`last sequence ${lastSequence}`, ...lines].join("\n"));
} catch (error) {
  console.error(`engine-data: ${(error as Error).message}`);
  process.exit(1);
}
