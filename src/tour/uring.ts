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
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BufferPool, closeFd, CWD, KernelError, pread, Ring } from "../mod.ts";
import { measure, type PathFigures, saving, type TourRow } from "./model.ts";
import { alternate, fmt, type Sample, type Side, tempDir, timed, type TourContext } from "./measure.ts";

const BLOCK = 4096;
const FILE_BYTES = 64 << 20;
const BLOCKS = FILE_BYTES / BLOCK;
const BATCH = 32;

type Partial = Pick<TourRow, "workload" | "figures" | "notes" | "saved" | "verdict">;

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
      return { work: ops, extra: { syscalls: ops } };
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
      return { work: ops, extra: { syscalls: ring.stats.enters - enters0 } };
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
      return { work: ops, extra: { syscalls: sqpoll.stats.enters - enters0 } };
    });

  const cpuPerOp = (s: Sample) => s.cpuUs / s.work;
  const opsPerSec = (s: Sample) => s.work / (s.wallMs / 1000);
  const syscallsPerOp = (s: Sample) => s.extra.syscalls / s.work;
  const headline = (s: Sample) =>
    `${fmt(opsPerSec(s) / 1000)} k reads/s, ${cpuPerOp(s).toFixed(2)} µs CPU, ${fmt(syscallsPerOp(s), 2)} syscalls/read`;
  const sides: Array<Side & { note: string }> = [
    { name: "pread per read", run: classic, headline, note: "one pread64(2) per read, counted by the loop" },
    {
      name: `ring, batches of ${BATCH}`,
      run: batched,
      headline,
      note: "io_uring_enter calls counted by the ring itself (ring.stats.enters)",
    },
    ...(sqpoll
      ? [{
        name: "ring + SQPOLL",
        run: polled(sqpoll),
        headline,
        note: "io_uring_enter calls counted by the ring itself; the SQ thread's CPU time counts as this process's",
      }]
      : []),
  ];
  const samples = await alternate(ctx, "io_uring", sides, rounds);

  closeFile();
  closePool();
  closeSqpoll();
  closeRing();
  dir.remove();

  const figures: PathFigures[] = sides.map((side, i) => ({
    path: side.name,
    role: i === 0 ? "classic" : "fast",
    measures: [
      measure("CPU per read", "µs", "lower", samples[i].map(cpuPerOp)),
      measure("reads per second", "k/s", "higher", samples[i].map((s) => opsPerSec(s) / 1000)),
      measure("syscalls per read", "calls", "lower", samples[i].map(syscallsPerOp)),
    ],
    note: side.note,
  }));
  const saved = saving(figures, "CPU per read");
  const syscalls = (i: number) => fmt(figures[i].measures[2].value, 2);
  return {
    workload: `random ${BLOCK / 1024} KiB reads from a ${FILE_BYTES >> 20} MiB page-cached file, ${BATCH} in flight ` +
      `on the rings; ${rounds} rounds of ${roundMs} ms per path, medians`,
    figures,
    saved: {
      ...saved,
      text: `${saved.text}; syscalls per read: ${syscalls(0)} → ${syscalls(1)} (batched)` +
        (sqpoll ? `, ${syscalls(2)} (SQPOLL)` : ""),
    },
    verdict: saved.verdict,
    notes: [
      ...skippedNotes,
      "syscalls per read count pread64 calls (classic) and io_uring_enter calls (rings), made by this code; " +
      "they are not traced with BPF",
      "SQPOLL spends a kernel thread's core to save system calls: on a small or busy machine its CPU per read is " +
      "higher, not lower",
      "reads from the page cache are bound by the kernel's copy of 4 KiB; the ring saves the entries and exits, not the copy",
    ],
  };
}
