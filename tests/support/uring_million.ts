/**
 * Child process for tests/uring_safety.test.ts: a million NOPs on one ring
 * (batch API), then 200 000 through the promise API, and what they left
 * behind: fds, RSS, and the JS heap in use. Prints one JSON line.
 *
 * Run it with GC exposed: Bun has Bun.gc; Deno needs DENO_V8_FLAGS=--expose-gc.
 */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { Ring } from "../../src/mod.ts";

const g = globalThis as { Bun?: { gc(sync: boolean): void }; gc?: () => void };
function gc(): void {
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else throw new Error("no gc(): run Deno with DENO_V8_FLAGS=--expose-gc");
}
const fds = () => readdirSync("/proc/self/fd").length;
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;

const ring = new Ring({ entries: 256 });

function batch(n: number): number {
  let done = 0;
  let bad = 0;
  while (done < n) {
    for (let i = 0; i < 256; i++) ring.prep.nop(i);
    ring.submitAndWait(256);
    for (const c of ring.completions()) {
      if (c.res !== 0) bad++;
      done++;
    }
  }
  return bad;
}

async function promised(n: number): Promise<number> {
  let done = 0;
  while (done < n) {
    const ops = [];
    for (let i = 0; i < 1000; i++) ops.push(ring.nop());
    done += (await Promise.all(ops)).length;
  }
  return done;
}

// Warm up both paths, so that code caches and the in-flight table are at full size.
batch(50_000);
await promised(20_000);
gc();
const before = { fds: fds(), rss: rss() };
const t0 = performance.now();
const bad = batch(1_000_000);
const ms = performance.now() - t0;
gc();
const afterBatch = { fds: fds(), rss: rss() };
const heapBefore = process.memoryUsage().heapUsed;
const t1 = performance.now();
const promisedDone = await promised(200_000);
const promiseMs = performance.now() - t1;
gc();
await new Promise((r) => setTimeout(r, 0));
gc();
const heapAfter = process.memoryUsage().heapUsed;
console.log(JSON.stringify({
  nops: ring.stats.completed,
  bad,
  ms,
  promiseMs,
  promisedDone,
  pending: ring.pending,
  enters: ring.stats.enters,
  before,
  afterBatch,
  afterAll: { fds: fds(), rss: rss() },
  heapGrowth: heapAfter - heapBefore,
}));
ring.close();
