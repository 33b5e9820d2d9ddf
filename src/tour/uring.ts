/**
 * The io_uring row: random 4 KiB reads from a page-cached file, three ways,
 * in alternating rounds:
 *
 * - the classic path: one `pread` per read, so one system call each;
 * - a ring driven with the batch API: 32 reads queued in shared memory, then
 *   one `io_uring_enter` submits them and waits for their completions;
 * - a ring with SQPOLL: a kernel thread picks the reads up from shared
 *   memory, so submitting needs no system call while it is awake.
 *
 * Reported: reads per second, CPU time per read (every thread of this
 * process, the SQPOLL kernel thread included) and system calls per read.
 *
 * The system calls are counted in the kernel by kernelkit's own `syscount`
 * BPF program (`SysCount`) on this process's pid, in one more round of each
 * path after the timed ones (a sys_enter program slows every system call, so
 * CPU time is measured without it): the pread64 calls of the classic path and
 * the io_uring_enter calls of the rings, by syscall number, read before and
 * after each sample. The code's own counters (the loop's, and
 * `ring.stats.enters`) are the cross-check and, where BPF is not permitted,
 * the counts; the row then says so and why.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { BufferPool, closeFd, CWD, KernelError, pread, Ring, SysCount, syscallNumber } from "../mod.ts";
import { measure, type PathFigures, saving, type TourRow } from "./model.ts";
import { alternate, fmt, type Sample, type Side, tempDir, timed, type TourContext } from "./measure.ts";

const BLOCK = 4096;
const FILE_BYTES = 64 << 20;
const BLOCKS = FILE_BYTES / BLOCK;
const BATCH = 32;

type Partial = Pick<TourRow, "workload" | "figures" | "notes" | "saved" | "verdict">;

/**
 * Where the row's system call counts come from: kernelkit's syscount BPF
 * program on this process, or (when it can't start) the code's own counters,
 * with the reason.
 */
type Counting =
  | { readonly by: "syscount"; readonly counter: SysCount; readonly pread64: number; readonly enter: number }
  | { readonly by: "code"; readonly why: string; readonly error?: string };

/**
 * Starts counting this process's system calls with SysCount, registered with
 * the cleanups so that a signal detaches it too. Returns the counting and a
 * function that detaches it now (harmless when it never started).
 */
function startCounting(ctx: TourContext): { readonly counting: Counting; readonly stop: () => void } {
  const pread64 = syscallNumber("pread64");
  const enter = syscallNumber("io_uring_enter");
  if (pread64 === undefined || enter === undefined) {
    const why = `kernelkit has no system call numbers for ${process.arch}`;
    return { counting: { by: "code", why }, stop: () => {} };
  }
  try {
    const counter = SysCount.start({ pid: process.pid });
    const stop = ctx.cleanups.add("detach the syscount BPF program", () => counter.close());
    return { counting: { by: "syscount", counter, pread64, enter }, stop };
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    const refused = e.code === "EPERM" || e.code === "EACCES";
    const why = refused ? "BPF was not permitted" : "the syscount BPF program could not start";
    return { counting: { by: "code", why, error: e.message }, stop: () => {} };
  }
}

/** Calls of system call `nr` that this process (every thread) has made since `counter` started. */
function callsOf(counter: SysCount, nr: number): number {
  let n = 0;
  for (const c of counter.counts()) if (c.pid === process.pid && c.nr === nr) n += c.count;
  return n;
}

/** A xorshift32 stream of block numbers. */
function blocks(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x & (BLOCKS - 1);
  };
}

/** Measures the io_uring row. */
export async function ioUring(ctx: TourContext): Promise<Partial> {
  const rounds = ctx.quick ? 2 : 5;
  const roundMs = ctx.quick ? 120 : 400;
  ctx.progress.step(`io_uring: a ${FILE_BYTES >> 20} MiB file in the page cache, two rings (one with SQPOLL)`);
  const dir = tempDir(ctx, "uring");
  const path = join(dir.path, "data.bin");
  const content = new Uint8Array(FILE_BYTES);
  for (let i = 0; i < content.length; i += BLOCK) content[i] = (i / BLOCK) & 255;
  writeFileSync(path, content);

  const ring = new Ring({ entries: 64 });
  const closeRing = ctx.cleanups.add("close the io_uring ring", () => ring.close());
  const skippedNotes: string[] = [];
  let sqpoll: Ring | undefined;
  let closeSqpoll = () => {};
  try {
    const r = new Ring({ entries: 64, sqpoll: { idleMs: 50 } });
    sqpoll = r;
    closeSqpoll = ctx.cleanups.add("close the SQPOLL ring", () => r.close());
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    skippedNotes.push(`SQPOLL skipped: ${e.message}`);
  }
  const pool = new BufferPool({ count: BATCH, size: BLOCK });
  const closePool = ctx.cleanups.add("unmap the io_uring buffers", () => pool.close());
  const fd = await ring.openat(CWD, path, 0);
  const closeFile = ctx.cleanups.add("close the io_uring file", () => closeFd(fd));
  const buffer = new Uint8Array(BLOCK);
  for (let b = 0; b < BLOCKS; b++) pread(fd, buffer, b * BLOCK); // into the page cache
  ctx.progress.done();

  let seed = 0x9e3779b9;
  const check = (n: number) => {
    if (n !== BLOCK) throw new Error(`a short read: ${n} of ${BLOCK} bytes`);
  };

  const classic = (): Sample =>
    timed(() => {
      const next = blocks(seed++);
      const end = performance.now() + roundMs;
      let ops = 0;
      do {
        for (let i = 0; i < 256; i++) check(pread(fd, buffer, next() * BLOCK));
        ops += 256;
        ctx.progress.tick();
      } while (performance.now() < end);
      return { work: ops, extra: { own: ops } };
    });

  const bufs = pool.buffers;
  const batched = (): Sample =>
    timed(() => {
      const next = blocks(seed++);
      const end = performance.now() + roundMs;
      const enters0 = ring.stats.enters;
      let ops = 0;
      do {
        for (let i = 0; i < BATCH; i++) ring.prep.read(fd, bufs[i], next() * BLOCK, i);
        ring.submitAndWait(BATCH);
        let got = 0;
        while (got < BATCH) {
          const done = ring.completions();
          for (const c of done) check(c.res);
          got += done.length;
          if (got < BATCH) ring.submitAndWait(BATCH - got);
        }
        ops += BATCH;
        ctx.progress.tick();
      } while (performance.now() < end);
      return { work: ops, extra: { own: ring.stats.enters - enters0 } };
    });

  const nap = new Int32Array(new SharedArrayBuffer(4));
  const polled = (sqpoll: Ring) => (): Sample =>
    timed(() => {
      const next = blocks(seed++);
      const end = performance.now() + roundMs;
      const enters0 = sqpoll.stats.enters;
      let ops = 0;
      do {
        for (let i = 0; i < BATCH; i++) sqpoll.prep.read(fd, bufs[i], next() * BLOCK, i);
        sqpoll.submit();
        let got = 0;
        for (let spins = 0; got < BATCH; spins++) {
          const done = sqpoll.completions();
          for (const c of done) check(c.res);
          got += done.length;
          // On a small machine the SQ thread needs a core too: nap now and then.
          if (got < BATCH && spins >= 2000) Atomics.wait(nap, 0, 0, 0.02);
        }
        ops += BATCH;
        ctx.progress.tick();
      } while (performance.now() < end);
      return { work: ops, extra: { own: sqpoll.stats.enters - enters0 } };
    });

  const cpuPerOp = (s: Sample) => s.cpuUs / s.work;
  const opsPerSec = (s: Sample) => s.work / (s.wallMs / 1000);
  const syscallsPerOp = (s: Sample) => s.extra.syscalls / s.work;
  const headline = (s: Sample) =>
    `${fmt(opsPerSec(s) / 1000)} k reads/s, ${cpuPerOp(s).toFixed(2)} µs CPU, ${fmt(syscallsPerOp(s), 2)} syscalls/read`;
  const paths = [
    { name: "pread per read", run: classic, call: "pread64", own: "the loop's count" },
    { name: `ring, batches of ${BATCH}`, run: batched, call: "io_uring_enter", own: "ring.stats.enters" },
    ...(sqpoll
      ? [{ name: "ring + SQPOLL", run: polled(sqpoll), call: "io_uring_enter", own: "ring.stats.enters" }]
      : []),
  ] as const;

  // The timed rounds run untraced: an attached sys_enter program slows every system call down (it
  // measured 10 to 20% of a pread here), which would flatter the ring. Their system calls are the
  // code's own counts.
  const untraced: Side[] = paths.map((p) => ({
    name: p.name,
    headline,
    run: () => {
      const s = p.run();
      return { ...s, extra: { ...s.extra, syscalls: s.extra.own } };
    },
  }));
  const samples = await alternate(ctx, "io_uring", untraced, rounds);

  // Then one more round with kernelkit's syscount on this process: each sample reads the counters
  // of its system call before and after (outside its timed part, and by number: the other threads
  // make system calls of their own).
  const { counting, stop: stopCounting } = startCounting(ctx);
  let counted: Sample[][] | undefined;
  let lost = 0;
  try {
    if (counting.by === "syscount") {
      const { counter } = counting;
      const traced: Side[] = paths.map((p) => ({
        name: p.name,
        headline,
        run: () => {
          const nr = p.call === "pread64" ? counting.pread64 : counting.enter;
          const before = callsOf(counter, nr);
          const s = p.run();
          return { ...s, extra: { ...s.extra, syscalls: callsOf(counter, nr) - before } };
        },
      }));
      counted = await alternate(ctx, "io_uring, system calls counted by syscount (BPF)", traced, 1);
      lost = counter.lost;
    } else {
      ctx.progress.note(`io_uring: syscalls counted by the code itself: ${counting.why}`);
    }
  } finally {
    stopCounting();
  }

  closeFile();
  closePool();
  closeSqpoll();
  closeRing();
  dir.remove();

  const sum = (list: readonly Sample[], key: string) => list.reduce((n, s) => n + s.extra[key], 0);
  const figures: PathFigures[] = paths.map((p, i) => {
    const what = `${p.call}(2) calls`;
    let note: string;
    if (counted) {
      const traced = sum(counted[i], "syscalls");
      const own = sum(counted[i], "own");
      const check = traced === own
        ? `agrees with ${p.own}`
        : `${p.own} says ${own.toLocaleString("en-US")}, syscount ${traced.toLocaleString("en-US")}`;
      note = `${what} counted by syscount (${check})`;
    } else {
      note = p.call === "pread64"
        ? `one ${p.call}(2) per read, counted by the loop`
        : `${what} counted by the ring itself (${p.own})`;
    }
    if (p.name === "ring + SQPOLL") note += "; the SQ thread's CPU time counts as this process's";
    return {
      path: p.name,
      role: i === 0 ? "classic" : "fast",
      measures: [
        measure("CPU per read", "µs", "lower", samples[i].map(cpuPerOp)),
        measure("reads per second", "k/s", "higher", samples[i].map((s) => opsPerSec(s) / 1000)),
        measure("syscalls per read", "calls", "lower", (counted ?? samples)[i].map(syscallsPerOp)),
      ],
      note,
    };
  });
  const saved = saving(figures, "CPU per read");
  const syscalls = (i: number) => fmt(figures[i].measures[2].value, 2);
  const countingNotes = counting.by === "code"
    ? [
      `syscalls per read come from the code's own counters (one pread64 per read, counted by the loop; the ` +
      `rings' io_uring_enter calls, counted by ring.stats.enters), not from kernelkit's syscount BPF program: ` +
      `${counting.why}` + (counting.error ? `. SysCount.start said: ${counting.error}` : ""),
    ]
    : [
      `syscalls per read are counted in the kernel by kernelkit's syscount BPF program (SysCount, at sys_enter) on ` +
      `this process (pid ${process.pid}), in one more round of each path: pread64 calls on the classic path, ` +
      `io_uring_enter calls on the rings, read before and after each sample. The process's other threads (the ` +
      `runtime's, kernelkit's waker worker) make system calls too (futex, read, ...), so only these two are ` +
      `counted, by number; the loop's count and ring.stats.enters are the cross-check`,
      `CPU and reads per second come from the timed rounds, which run without the counting program: an attached ` +
      `sys_enter program makes every system call slower, which would flatter the ring`,
      ...(lost > 0 ? [`syscount lost ${lost} calls (its table was full): the counts are low`] : []),
    ];
  return {
    workload: `random ${BLOCK / 1024} KiB reads from a ${FILE_BYTES >> 20} MiB page-cached file, ${BATCH} in flight ` +
      `on the rings; ${rounds} rounds of ${roundMs} ms per path, medians` +
      (counted ? `, and one round more with syscount counting the system calls` : ""),
    figures,
    saved: {
      ...saved,
      text: `${saved.text}; syscalls per read: ${syscalls(0)} → ${syscalls(1)} (batched)` +
        (sqpoll ? `, ${syscalls(2)} (SQPOLL)` : ""),
    },
    verdict: saved.verdict,
    notes: [
      ...skippedNotes,
      ...countingNotes,
      "SQPOLL spends a kernel thread's core to save system calls: on a small or busy machine its CPU per read is " +
      "higher, not lower",
      "reads from the page cache are bound by the kernel's copy of 4 KiB; the ring saves the entries and exits, not the copy",
    ],
  };
}
