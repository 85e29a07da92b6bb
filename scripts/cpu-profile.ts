/**
 * A V8 CPU profile (`node --cpu-prof`, the `.cpuprofile` format DevTools writes since 2016: a flat
 * node list with child ids) as the call tree older tools read (`head`, nested children), with
 * source locations shortened so a flame graph stays legible: `order-service/src/batcher.ts` rather
 * than the full URL, and a package's files from its own folder (`pg/lib/client.js`).
 */

/** One node of a `.cpuprofile` file. */
export interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** Microseconds. */
  readonly startTime: number;
  readonly endTime: number;
  /** The node of each sample, and the microseconds before it (from startTime for the first). */
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** A node of the nested call tree; `lineNumber` counts from 1. */
export interface CallTreeNode {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly hitCount: number;
  readonly children: CallTreeNode[];
}

export interface CallTree {
  readonly head: CallTreeNode;
  /** Samples in the tree (after dropping idle time), and the idle samples dropped. */
  readonly samples: number;
  readonly idleSamples: number;
}

/** `file:///work/main/gateway/src/x.ts` → `gateway/src/x.ts`; `.../node_modules/pg/lib/client.js` → `pg/lib/client.js`. */
export function shortUrl(url: string, root: string): string {
  const inPackage = url.lastIndexOf("/node_modules/");
  if (inPackage >= 0) return url.slice(inPackage + "/node_modules/".length);
  const rootUrl = `file://${root.endsWith("/") ? root : `${root}/`}`;
  return url.startsWith(rootUrl) ? url.slice(rootUrl.length) : url;
}

/**
 * The call tree of `profile`, rooted at its `(root)` node. Time the process spent waiting
 * (`(idle)`) is left out, so the graph's width is the CPU the process used; `(program)` (native
 * code outside JavaScript) and `(garbage collector)` stay.
 */
export function callTreeOf(profile: CpuProfile, root: string): CallTree {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const top = profile.nodes.find((node) => !childIds.has(node.id));
  if (!top) throw new Error("the profile has no root node");
  let samples = 0;
  let idleSamples = 0;
  const build = (node: ProfileNode): CallTreeNode => {
    const hitCount = node.hitCount ?? 0;
    samples += hitCount;
    const children: CallTreeNode[] = [];
    for (const id of node.children ?? []) {
      const child = byId.get(id);
      if (!child) throw new Error(`node ${node.id} names a child ${id} that is not in the profile`);
      if (child.callFrame.functionName === "(idle)") {
        idleSamples += subtreeHits(child, byId);
        continue;
      }
      children.push(build(child));
    }
    const { functionName, url, lineNumber } = node.callFrame;
    return { functionName: functionName || "(anonymous)", url: url === "" ? "" : shortUrl(url, root), lineNumber: lineNumber + 1, hitCount, children };
  };
  return { head: build(top), samples, idleSamples };
}

function subtreeHits(node: ProfileNode, byId: ReadonlyMap<number, ProfileNode>): number {
  return (node.hitCount ?? 0) + (node.children ?? []).reduce((sum, id) => sum + subtreeHits(byId.get(id)!, byId), 0);
}

/** Each sample's node and its time in seconds since the profile started. */
function timedSamples(profile: CpuProfile): { node: number; seconds: number }[] {
  const { samples = [], timeDeltas = [] } = profile;
  let at = profile.startTime;
  return samples.map((node, i) => ({ node, seconds: ((at += timeDeltas[i] ?? 0) - profile.startTime) / 1e6 }));
}

/**
 * The profile cut to the samples taken from `fromSeconds` to `toSeconds` after it started (the
 * load phase, without the start-up's module loading), hit counts recounted from the samples.
 */
export function profileWindow(profile: CpuProfile, fromSeconds: number, toSeconds: number): CpuProfile {
  const hits = new Map<number, number>();
  for (const { node, seconds } of timedSamples(profile)) if (seconds >= fromSeconds && seconds < toSeconds) hits.set(node, (hits.get(node) ?? 0) + 1);
  const endTime = Math.min(profile.endTime, profile.startTime + toSeconds * 1e6);
  return { nodes: profile.nodes.map((node) => ({ ...node, hitCount: hits.get(node.id) ?? 0 })), startTime: profile.startTime + fromSeconds * 1e6, endTime };
}

/** The share of non-idle samples in each `stepSeconds` of the profile, for choosing a window. */
export function busyTimeline(profile: CpuProfile, stepSeconds: number): number[] {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id));
  const steps: { busy: number; all: number }[] = [];
  for (const { node, seconds } of timedSamples(profile)) {
    const step = (steps[Math.floor(seconds / stepSeconds)] ??= { busy: 0, all: 0 });
    step.all++;
    if (!idle.has(node)) step.busy++;
  }
  return Array.from(steps, (step) => (step && step.all > 0 ? step.busy / step.all : 0));
}
