/**
 * Child process for tests/uring_safety.test.ts: forces garbage collection
 * while thousands of io_uring reads are in flight, then checks every byte.
 * A crash (SIGSEGV) or a wild write shows up as the exit status or in the
 * report. Prints one JSON line.
 *
 * Run it with GC exposed: Bun has Bun.gc; Deno needs DENO_V8_FLAGS=--expose-gc.
 *
 * 1. 4000 file reads of assorted sizes (16 B to 8 KiB, some into views at an
 *    offset of a shared buffer), half of them pushed to io-wq workers with
 *    IOSQE_ASYNC, and GC forced while they run.
 * 2. Reads on empty pipes, which stay in flight until written: into buffers
 *    the caller keeps (their bytes are checked), and into buffers the caller
 *    dropped at once (only the ring holds them). GC runs several times while
 *    they wait; then fresh "decoy" arrays are allocated, the pipes are written,
 *    and the decoys must be untouched: no read landed in reused memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CWD, Ring } from "../../src/mod.ts";
import { sys } from "../../src/native.ts";

const g = globalThis as { Bun?: { gc(sync: boolean): void }; gc?: () => void };
function gc(): void {
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else throw new Error("no gc(): run Deno with DENO_V8_FLAGS=--expose-gc");
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function pipe(): [number, number] {
  const fds = new Int32Array(2);
  if (sys().pipe2(fds, 0o2000000) !== 0) throw new Error("pipe2 failed");
  return [fds[0], fds[1]];
}

const FILE_SIZE = 8 << 20;
const dir = mkdtempSync(join(tmpdir(), "kernelkit-gc-"));
const ring = new Ring({ entries: 256 });
const report: Record<string, unknown> = {};
try {
  // 1. File reads with GC while they run.
  const data = pattern(FILE_SIZE, 12345);
  writeFileSync(join(dir, "data"), data);
  const fd = await ring.openat(CWD, join(dir, "data"), 0o2000000);
  const sizes = [16, 100, 512, 4096, 8192, 33, 1000, 4097];
  // Every 5th read goes into its own window of one big shared buffer (a view
  // with a byteOffset); the rest into fresh arrays.
  const shared = new Uint8Array(800 * 8192);
  const reads: Array<{ buf: Uint8Array; off: number; p: Promise<number> }> = [];
  for (let i = 0; i < 4000; i++) {
    const size = sizes[i % sizes.length];
    const off = (i * 7919 * 37) % (FILE_SIZE - size);
    const buf = i % 5 === 0 ? shared.subarray((i / 5) * 8192, (i / 5) * 8192 + size) : new Uint8Array(size);
    reads.push({ buf, off, p: ring.read(fd, buf, off, size, { async: i % 2 === 0 }) });
    if (i % 500 === 499) {
      ring.submit(); // into the kernel now, then collect while the io-wq workers copy
      gc();
    }
  }
  ring.submit();
  gc();
  const junk = Array.from({ length: 20_000 }, (_, i) => new Uint8Array(16 + (i % 200)));
  gc();
  const results = await Promise.all(reads.map((r) => r.p));
  gc();
  let mismatches = 0;
  let shortReads = 0;
  reads.forEach((r, i) => {
    if (results[i] !== r.buf.length) shortReads++;
    for (let k = 0; k < r.buf.length; k++) {
      if (r.buf[k] !== data[r.off + k]) {
        mismatches++;
        break;
      }
    }
  });
  report.fileReads = { count: reads.length, shortReads, mismatches, junk: junk.length };
  await ring.closeFd(fd);

  // 2. Pipe reads that wait: kept buffers and dropped ones.
  const KEPT = 100;
  const DROPPED = 200;
  const VEC = 50;
  const pipes = Array.from({ length: KEPT + DROPPED + VEC }, () => pipe());
  const kept: Array<{ buf: Uint8Array; p: Promise<number> }> = [];
  for (let i = 0; i < KEPT; i++) {
    const buf = new Uint8Array(32 + i);
    kept.push({ buf, p: ring.read(pipes[i][0], buf, -1, buf.length) });
  }
  const refs: Array<WeakRef<Uint8Array>> = [];
  const dropped: Array<Promise<number>> = [];
  // In a function, so that no local of this scope holds the buffers.
  const startDropped = (i: number) => {
    const buf = new Uint8Array(64 + (i % 64));
    refs.push(new WeakRef(buf));
    dropped.push(ring.read(pipes[KEPT + i][0], buf, -1, buf.length));
  };
  for (let i = 0; i < DROPPED; i++) startDropped(i);
  const startVec = (i: number) => {
    const parts = [new Uint8Array(8), new Uint8Array(24 + (i % 8))];
    for (const part of parts) refs.push(new WeakRef(part));
    dropped.push(ring.readv(pipes[KEPT + DROPPED + i][0], parts, -1));
  };
  for (let i = 0; i < VEC; i++) startVec(i);
  await sleep(20);
  const inFlight = ring.pending;
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(10);
  }
  const aliveWhilePending = refs.filter((r) => r.deref() !== undefined).length;
  // Fresh arrays that would get the memory of any buffer freed too early.
  const decoys = Array.from({ length: 5000 }, (_, i) => new Uint8Array(64 + (i % 64)).fill(0xee));
  const writes: Array<Promise<number>> = [];
  for (let i = 0; i < pipes.length; i++) {
    const n = i < KEPT ? 32 + i : i < KEPT + DROPPED ? 64 + ((i - KEPT) % 64) : 32 + ((i - KEPT - DROPPED) % 8);
    writes.push(ring.write(pipes[i][1], pattern(n, i + 1)));
  }
  await Promise.all(writes);
  const keptResults = await Promise.all(kept.map((k) => k.p));
  const droppedResults = await Promise.all(dropped);
  let keptMismatches = 0;
  kept.forEach((k, i) => {
    const want = pattern(32 + i, i + 1);
    if (keptResults[i] !== want.length || k.buf.some((b, j) => b !== want[j])) keptMismatches++;
  });
  const droppedShort = droppedResults.filter((n, i) => n !== (i < DROPPED ? 64 + (i % 64) : 32 + ((i - DROPPED) % 8))).length;
  const decoysClobbered = decoys.filter((d) => d.some((b) => b !== 0xee)).length;
  for (const [r, w] of pipes) {
    sys().close(r);
    sys().close(w);
  }
  // Completed: the ring no longer holds the dropped buffers.
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(10);
  }
  const releasedAfter = refs.filter((r) => r.deref() === undefined).length;
  report.pipeReads = {
    inFlight,
    kept: kept.length,
    keptMismatches,
    dropped: refs.length,
    aliveWhilePending,
    droppedShort,
    decoysClobbered,
    releasedAfter,
  };
  report.pending = ring.pending;
} finally {
  ring.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
