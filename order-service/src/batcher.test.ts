import { describe, expect, it } from "vitest";
import { createBatcher } from "./batcher.js";

/** A run that records its batches and finishes only when told to. */
function controlledRun() {
  const batches: number[][] = [];
  const finish: (() => void)[] = [];
  const run = (items: readonly number[]) => {
    batches.push([...items]);
    return new Promise<number[]>((resolve) => finish.push(() => resolve(items.map((i) => i * 10))));
  };
  return { batches, finish, run };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("createBatcher", () => {
  it("sends the items of one turn as one batch and resolves each with its own result", async () => {
    const { batches, finish, run } = controlledRun();
    const submit = createBatcher({ run });
    const results = Promise.all([submit(1), submit(2), submit(3)]);
    await turn();
    expect(batches).toEqual([[1, 2, 3]]);
    finish[0]!();
    expect(await results).toEqual([10, 20, 30]);
  });

  it("gathers items that arrive while every slot is busy into the next batch", async () => {
    const { batches, finish, run } = controlledRun();
    const submit = createBatcher({ run, concurrency: 1 });
    const first = submit(1);
    await turn();
    const later = [submit(2), submit(3)];
    await turn();
    await turn();
    expect(batches).toEqual([[1]]);
    finish[0]!();
    await first;
    await turn();
    expect(batches).toEqual([[1], [2, 3]]);
    finish[1]!();
    expect(await Promise.all(later)).toEqual([20, 30]);
  });

  it("splits a large turn into batches of at most maxBatch, up to concurrency at once", async () => {
    const { batches, finish, run } = controlledRun();
    const submit = createBatcher({ run, maxBatch: 2, concurrency: 2 });
    const all = Promise.all([1, 2, 3, 4, 5].map((i) => submit(i)));
    await turn();
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    finish[0]!();
    await turn();
    await turn();
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    finish[1]!();
    finish[2]!();
    expect(await all).toEqual([10, 20, 30, 40, 50]);
  });

  it("rejects every item of a failed batch, and only those", async () => {
    let calls = 0;
    const submit = createBatcher<number, number>({
      concurrency: 1,
      run: async (items) => {
        calls++;
        if (calls === 1) throw new Error("connection lost");
        return items.map((i) => i + 1);
      },
    });
    const failed = [submit(1), submit(2)];
    await Promise.all(failed.map((p) => expect(p).rejects.toThrow("connection lost")));
    expect(await submit(3)).toBe(4);
  });

  it("rejects the batch when the run returns the wrong number of results", async () => {
    const submit = createBatcher<number, number>({ run: async () => [1] });
    const both = [submit(1), submit(2)];
    await Promise.all(both.map((p) => expect(p).rejects.toThrow("a batch of 2 items returned 1 results")));
  });
});
