/**
 * Child process of tests/stress/soak.test.ts: an io_uring soak. Many ops on
 * one Ring, mixed across openat, write, read, close and timeout (plus pipe
 * reads and writes, and the NOPs that time some cancellations), with random
 * cancellations through AbortSignal, and a bounded number in flight
 * (`--concurrency` workers, each with at most three ops out).
 *
 * Every result is checked:
 * - a file read back at offset 0 equals the last write that completed there;
 * - the bytes read from a pipe equal the bytes written to it, none lost or
 *   doubled, whether the read was canceled or not;
 * - a read on an empty pipe and a 60 s timeout, both canceled, reject with a
 *   KernelError ECANCELED; any other canceled op either completes or rejects
 *   with ECANCELED; a close that was canceled left its fd open (closed again).
 *
 * After a warm-up it takes the RSS and fd baseline, runs until `--ops` ops or
 * `--seconds`, and prints one JSON line: the counts, the errors, RSS and fds
 * before and after (with GC forced), and `ring.pending`.
 *
 *   soak_uring.ts --ops N --seconds S [--warmup N] [--concurrency N] [--seed N]
 *
 * SOAK_TRACE=1 prints the ops done, ring.pending and memoryUsage() to stderr every 50 000 ops.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { CWD, KernelError, Ring } from "../../src/mod.ts";
import { sys } from "../../src/native.ts";
import { footprint, newFds, numberArg, openFds, random, rss, settledRss } from "./soak_common.ts";

const O_RDWR = 0o2;
const O_CLOEXEC = 0o2000000;

const target = numberArg("ops", 1_000_000);
const seconds = numberArg("seconds", 15);
const warmupOps = numberArg("warmup", 100_000);
const concurrency = numberArg("concurrency", 64);
const seed = numberArg("seed", Date.now() % 1_000_000);
const rand = random(seed);
const pick = (n: number) => Math.floor(rand() * n);

type Kind = "openat" | "write" | "read" | "close" | "timeout" | "nop";
const KINDS: readonly Kind[] = ["openat", "write", "read", "close", "timeout", "nop"];

function counters(): Record<Kind, { ops: number; canceled: number }> {
  return Object.fromEntries(KINDS.map((k) => [k, { ops: 0, canceled: 0 }])) as Record<
    Kind,
    { ops: number; canceled: number }
  >;
}

const stats = {
  byKind: counters(),
  ops: 0,
  cancelRequests: 0,
  fileChecks: 0,
  fileMismatches: 0,
  pipeChecks: 0,
  pipeBytes: 0,
  pipeMismatches: 0,
  emptyPipeCancels: 0,
  longTimeoutCancels: 0,
  timeoutsFired: 0,
  closeRetries: 0,
  maxPending: 0,
  errors: 0,
};
const errorSamples: string[] = [];

function fail(what: string): void {
  stats.errors++;
  if (errorSamples.length < 10) errorSamples.push(what);
}

// Patterns the files and pipes are written with, picked at random per write.
const FILE_SIZES = [512, 4096, 16384] as const;
const patterns = new Map<number, Uint8Array[]>();
for (const size of [...FILE_SIZES, 4096]) {
  if (patterns.has(size)) continue;
  patterns.set(size, Array.from({ length: 8 }, () => Uint8Array.from({ length: size }, () => pick(256))));
}
const pipePatterns = patterns.get(4096)!;

interface Worker {
  readonly path: string;
  readonly size: number;
  /** The last write that completed on the worker's file: what a read must see. */
  expected: Uint8Array;
  readonly readBuf: Uint8Array;
  readonly pipeR: number;
  readonly pipeW: number;
  readonly pipeBuf: Uint8Array;
}

/** What these fds point at now ("pipe:[123]"). */
function openFdsAt(fds: number[]): string[] {
  const all = openFds();
  return fds.map((fd) => all.get(fd)).filter((t): t is string => t !== undefined);
}

const CANCELED = -1;
const FAILED = -2;

const ring = new Ring({ entries: 256 });
const dir = mkdtempSync(join(tmpdir(), "kk-soak-uring-"));
const fdsStart = openFds();
const workers: Worker[] = [];

/** An AbortSignal for one op, and whether it will be aborted (about 1 op in 6 is canceled). */
function plan(): { controller: AbortController | undefined; abort: boolean } {
  const r = rand();
  if (r < 0.16) return { controller: new AbortController(), abort: true };
  if (r < 0.4) return { controller: new AbortController(), abort: false };
  return { controller: undefined, abort: false };
}

/** Aborts at a random moment: at once, in a microtask, once a NOP completes, or after a timer. */
function abortSoon(controller: AbortController): void {
  stats.cancelRequests++;
  const r = rand();
  if (r < 0.35) controller.abort();
  else if (r < 0.6) queueMicrotask(() => controller.abort());
  else if (r < 0.92) {
    stats.ops++;
    stats.byKind.nop.ops++;
    ring.nop().then(() => controller.abort(), (e) => fail(`nop: ${e}`));
  } else setTimeout(() => controller.abort(), rand() * 2);
}

/**
 * Runs one op with an optional signal; returns its result, CANCELED when it
 * rejected with ECANCELED after its signal was aborted, or FAILED (recorded).
 */
async function run(
  kind: Kind,
  start: (options: { signal: AbortSignal } | undefined) => Promise<number>,
  cancel: "random" | "always" | "never" = "random",
): Promise<number> {
  const p = cancel === "random"
    ? plan()
    : { controller: cancel === "always" ? new AbortController() : undefined, abort: cancel === "always" };
  const { controller, abort } = p;
  stats.ops++;
  stats.byKind[kind].ops++;
  const promise = start(controller ? { signal: controller.signal } : undefined);
  if (abort) abortSoon(controller!);
  try {
    return await promise;
  } catch (e) {
    if (e instanceof KernelError && e.code === "ECANCELED" && controller?.signal.aborted) {
      stats.byKind[kind].canceled++;
      return CANCELED;
    }
    fail(`${kind}: ${e instanceof Error ? e.message : e}`);
    return FAILED;
  }
}

/** openat → write a pattern at 0 → read it back → close, each maybe canceled. */
async function fileTask(w: Worker): Promise<void> {
  const fd = await run("openat", (o) => ring.openat(CWD, w.path, O_RDWR | O_CLOEXEC, 0, o));
  if (fd < 0) return;
  const data = patterns.get(w.size)![pick(8)];
  const wrote = await run("write", (o) => ring.write(fd, data, 0, data.length, o));
  if (wrote >= 0) {
    if (wrote === data.length) w.expected = data;
    else fail(`write: ${wrote} of ${data.length} bytes`);
  }
  w.readBuf.fill(0);
  const got = await run("read", (o) => ring.read(fd, w.readBuf, 0, w.size, o));
  if (got >= 0) {
    stats.fileChecks++;
    if (got !== w.size || Buffer.compare(w.readBuf, w.expected) !== 0) {
      stats.fileMismatches++;
      fail(`read back ${got} bytes of ${w.path}, not the ${w.size} last written`);
    }
  }
  const closed = await run("close", (o) => ring.closeFd(fd, o));
  if (closed === CANCELED) {
    // A canceled close never ran: the fd is still open.
    stats.closeRetries++;
    stats.ops++;
    stats.byKind.close.ops++;
    try {
      await ring.closeFd(fd);
    } catch (e) {
      fail(`close after a canceled close: ${e instanceof Error ? e.message : e}`);
    }
  } else if (closed === FAILED) {
    sys().close(fd);
  }
}

/** A read on the worker's pipe: canceled while empty, or racing a write (and maybe a cancel). */
async function pipeTask(w: Worker): Promise<void> {
  if (rand() < 0.35) {
    // Nothing is ever written: the read must end canceled, never with bytes.
    const r = await run("read", (o) => ring.read(w.pipeR, w.pipeBuf, -1, 64, o), "always");
    if (r === CANCELED) stats.emptyPipeCancels++;
    else if (r >= 0) fail(`a read on an empty pipe completed with ${r} bytes`);
    return;
  }
  const data = pipePatterns[pick(8)].subarray(0, 1 + pick(4096));
  const n = data.length;
  w.pipeBuf.fill(0);
  const writeFirst = rand() < 0.3;
  const write = () => run("write", (o) => ring.write(w.pipeW, data, -1, n, o), "never");
  const w1 = writeFirst ? write() : undefined;
  const r1 = run("read", (o) => ring.read(w.pipeR, w.pipeBuf, -1, n, o));
  const w2 = writeFirst ? undefined : write();
  const [wrote, read] = await Promise.all([w1 ?? w2!, r1]);
  if (wrote !== n) {
    fail(`pipe write: ${wrote} of ${n}`);
    return;
  }
  let got = read >= 0 ? read : 0;
  if (read === FAILED) return;
  // What the first read didn't take is still in the pipe: take it, bounded by a timeout.
  for (let i = 0; got < n && i < 8; i++) {
    stats.ops++;
    stats.byKind.read.ops++;
    try {
      got += await ring.read(w.pipeR, w.pipeBuf.subarray(got), -1, n - got, {
        signal: AbortSignal.timeout(5000),
      });
    } catch (e) {
      fail(`draining the pipe after ${got} of ${n} bytes: ${e instanceof Error ? e.message : e}`);
      return;
    }
  }
  stats.pipeChecks++;
  stats.pipeBytes += got;
  if (got !== n || Buffer.compare(w.pipeBuf.subarray(0, n), data) !== 0) {
    stats.pipeMismatches++;
    fail(`pipe: read ${got} bytes, not the ${n} written`);
  }
}

/** A short timeout (maybe canceled) or a 60 s one that is always canceled. */
async function timeoutTask(): Promise<void> {
  if (rand() < 0.5) {
    const r = await run("timeout", (o) => ring.timeout(60_000, o), "always");
    if (r === CANCELED) stats.longTimeoutCancels++;
    else if (r >= 0) fail("a 60 s timeout completed before its cancel");
    return;
  }
  const r = await run("timeout", (o) => ring.timeout(rand() * 1.5, o));
  if (r >= 0) stats.timeoutsFired++;
}

let rssPeak = 0;
let nextSample = 0;

async function work(w: Worker, until: number, deadline: number): Promise<void> {
  while (stats.ops < until && performance.now() < deadline) {
    const pending = ring.pending;
    if (pending > stats.maxPending) stats.maxPending = pending;
    if (stats.ops >= nextSample) {
      nextSample = stats.ops + 50_000;
      rssPeak = Math.max(rssPeak, rss());
      if (process.env.SOAK_TRACE) {
        console.error(
          `ops ${stats.ops} pending ${ring.pending} ${
            JSON.stringify(
              Object.fromEntries(
                Object.entries(process.memoryUsage()).map(([k, v]) => [k, +(v / 2 ** 20).toFixed(1)]),
              ),
            )
          }`,
        );
      }
    }
    const r = rand();
    if (r < 0.5) await fileTask(w);
    else if (r < 0.82) await pipeTask(w);
    else await timeoutTask();
  }
}

async function phase(ops: number, ms: number): Promise<{ ops: number; ms: number; timedOut: boolean }> {
  const from = stats.ops;
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(workers.map((w) => work(w, from + ops, deadline)));
  const took = performance.now() - t0;
  return { ops: stats.ops - from, ms: Math.round(took), timedOut: stats.ops - from < ops };
}

// A watchdog: a lost completion would hang a worker; say so instead of hanging.
const watchdog = setTimeout(() => {
  console.log(JSON.stringify({ hung: true, pending: ring.pending, stats, errorSamples }));
  process.exit(3);
}, (seconds + 60) * 1000);

let result: Record<string, unknown> = {};
let pipeTargets = new Set<string>();
try {
  for (let i = 0; i < concurrency; i++) {
    const size = FILE_SIZES[i % FILE_SIZES.length];
    const path = join(dir, `f${i}`);
    const initial = patterns.get(size)![0];
    writeFileSync(path, initial);
    const fds = new Int32Array(2);
    if (sys().pipe2(fds, O_CLOEXEC) !== 0) throw new Error("pipe2 failed");
    workers.push({
      path,
      size,
      expected: initial,
      readBuf: new Uint8Array(size),
      pipeR: fds[0],
      pipeW: fds[1],
      pipeBuf: new Uint8Array(4096),
    });
  }
  pipeTargets = new Set(openFdsAt(workers.flatMap((w) => [w.pipeR, w.pipeW])));
  // Warm-up: code caches, the in-flight table, the waker and the runtime's pools reach their size.
  const warm = await phase(warmupOps, seconds * 1000);
  const rssBaseline = await settledRss();
  const fdsBaseline = openFds();
  const heapBaseline = process.memoryUsage().heapUsed;
  rssPeak = rssBaseline;
  const errorsBefore = stats.errors;
  const main = await phase(target, seconds * 1000);
  // Let the last cancels' timers and CQEs land.
  await new Promise((r) => setTimeout(r, 20));
  const pending = ring.pending;
  const rssAfter = await settledRss();
  const heapAfter = process.memoryUsage().heapUsed;
  const fdsAfter = openFds();
  const measured = footprint({ rss: rssBaseline, fds: fdsBaseline }, { rss: rssAfter, fds: fdsAfter, rssPeak });
  result = {
    seed,
    concurrency,
    warmup: warm,
    main,
    opsPerSec: Math.round(main.ops / (main.ms / 1000)),
    pending,
    ringStats: { ...ring.stats },
    stats,
    errorsInWarmup: errorsBefore,
    errorSamples,
    heapBaseline,
    heapAfter,
    ...measured,
  };
} finally {
  clearTimeout(watchdog);
  ring.close();
  for (const w of workers) {
    sys().close(w.pipeR);
    sys().close(w.pipeW);
  }
  rmSync(dir, { recursive: true, force: true });
}
// Only the runtime's own fds (and the parked waker's eventfd) may outlive the ring and the pipes:
// none may still point at the ring, the workers' pipes or their files.
const exitFds = newFds(fdsStart, openFds());
result.fdsLeftAtExit = exitFds;
result.oursLeftAtExit = exitFds.filter((l) => {
  const target = l.slice(l.indexOf("→ ") + 2);
  return pipeTargets.has(target) || target === "anon_inode:[io_uring]" || target.startsWith(dir);
});
console.log(JSON.stringify(result));
