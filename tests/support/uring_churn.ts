/**
 * Child process for tests/uring_setup.test.ts: opens and closes rings that
 * each started their waker (a worker thread and an eventfd), and prints one
 * JSON line with this process's fd and thread counts before and after.
 *
 * Run as a child so that the counts are this process's alone, and (under Deno)
 * without type checking: `deno test` type-checks every worker module it starts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Ring } from "../../src/mod.ts";

const rounds = Number(process.argv[2] ?? 20);
const fds = () => readdirSync("/proc/self/fd").length;
const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function round(): Promise<number> {
  let wakeups = 0;
  for (let i = 0; i < rounds; i++) {
    const ring = new Ring({ entries: 4 });
    await ring.timeout(10);
    wakeups += ring.stats.wakeups;
    ring.close();
  }
  return wakeups;
}

// Workers end, and give back their runtime's own fds, asynchronously after close.
async function settle(maxFds: number, maxThreads: number): Promise<void> {
  const deadline = performance.now() + 3000;
  while ((fds() > maxFds || threads() > maxThreads) && performance.now() < deadline) await sleep(20);
}

// A first round, so that the threads and fds a runtime keeps for workers exist already.
await round();
await sleep(300);
const before = { fds: fds(), threads: threads() };
const wakeups = await round();
await settle(before.fds + 3, before.threads + 2);
console.log(JSON.stringify({ before, after: { fds: fds(), threads: threads() }, wakeups }));
