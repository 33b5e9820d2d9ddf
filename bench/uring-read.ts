/**
 * Claim: random 4 KiB reads from a page-cached file through kernelkit's ring
 * run at C liburing's speed (target ≥ 0.9×), and well ahead of the runtimes'
 * own async file APIs: node:fs promises (≥ 2×), `Bun.file().slice()` (≥ 4×,
 * under Bun) and Deno's async file reads (≥ 8×, under Deno).
 *
 * Every side keeps 32 reads in flight (QD 32) at random 4 KiB-aligned offsets
 * of a 1 GiB file, made once in a temp dir, written, synced and read once so
 * that it sits in the page cache; it is deleted at the end. kernelkit reads
 * with the promise API (`ring.read`) into a BufferPool. The C peer is built
 * with `gcc -O2 -luring` here. The sides alternate over several rounds; the
 * figures are the medians of the rounds.
 *
 *   bun bench/uring-read.ts
 *   deno run -A bench/uring-read.ts
 */
import { execFileSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { open as openPromise } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { BufferPool, CWD, Ring } from "../src/mod.ts";

const FILE_SIZE = 1 << 30;
const BLOCK = 4096;
const BLOCKS = FILE_SIZE / BLOCK;
const QD = 32;
const ROUNDS = 7;
const ROUND_MS = 500;
const WARMUP_MS = 300;
const O_RDONLY = 0;

const C_SOURCE = String.raw`
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint32_t rng = 2463534242u;
static inline uint32_t next_block(void) {
  rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
  return rng & (${BLOCKS}u - 1);
}

/* usage: read PATH QD MS: QD random 4 KiB reads in flight for MS milliseconds */
int main(int argc, char **argv) {
  if (argc != 4) return 2;
  unsigned qd = (unsigned)atoi(argv[2]);
  double ms = atof(argv[3]);
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror("open"); return 1; }
  struct io_uring ring;
  int r = io_uring_queue_init(64, &ring, 0);
  if (r < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r)); return 1; }
  char *bufs;
  if (posix_memalign((void **)&bufs, 4096, (size_t)qd * ${BLOCK})) return 1;
  memset(bufs, 0, (size_t)qd * ${BLOCK});
  for (unsigned i = 0; i < qd; i++) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, bufs + (size_t)i * ${BLOCK}, ${BLOCK}, (uint64_t)next_block() * ${BLOCK});
    sqe->user_data = i;
  }
  unsigned long long ops = 0, bad = 0;
  double start = now_ns(), end = start + ms * 1e6, t;
  struct io_uring_cqe *cqe;
  unsigned head, seen;
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      if (cqe->res != ${BLOCK}) bad++;
      unsigned i = (unsigned)cqe->user_data;
      struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
      io_uring_prep_read(sqe, fd, bufs + (size_t)i * ${BLOCK}, ${BLOCK}, (uint64_t)next_block() * ${BLOCK});
      sqe->user_data = i;
      seen++;
    }
    io_uring_cq_advance(&ring, seen);
    ops += seen;
    t = now_ns();
    if (t >= end) break;
  }
  printf("%llu %.0f %llu\n", ops, t - start, bad);
  io_uring_queue_exit(&ring);
  close(fd);
  return 0;
}
`;

interface BunLike {
  readonly version: string;
  file(path: string): { slice(begin: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> } };
}
const g = globalThis as unknown as { Bun?: BunLike; Deno?: typeof Deno };
const rt = g.Bun
  ? { name: "bun", version: g.Bun.version }
  : g.Deno
  ? { name: "deno", version: g.Deno.version.deno }
  : { name: "node", version: process.version };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A xorshift32 stream of block numbers, one per reader. */
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

/** Runs `qd` readers, each looping over `readOne` until `ms` pass; returns reads/s. */
async function qdRound(ms: number, readOne: (reader: number, offset: number) => Promise<number>): Promise<number> {
  let ops = 0;
  let short = 0;
  let stop = false;
  const start = performance.now();
  const end = start + ms;
  const reader = async (i: number) => {
    const next = blocks(0x9e3779b9 * (i + 1) + Math.floor(start));
    while (!stop) {
      if ((await readOne(i, next() * BLOCK)) !== BLOCK) short++;
      if ((++ops & 63) === 0 && performance.now() >= end) stop = true;
    }
  };
  const readers: Promise<void>[] = [];
  for (let i = 0; i < QD; i++) readers.push(reader(i));
  await Promise.all(readers);
  const elapsed = performance.now() - start;
  if (short > 0) throw new Error(`${short} short reads`);
  return ops / (elapsed / 1000);
}

function cRound(bin: string, path: string, ms: number): number {
  const [ops, ns, bad] = execFileSync(bin, [path, String(QD), String(ms)]).toString().trim().split(" ").map(Number);
  if (bad > 0) throw new Error(`C peer: ${bad} short reads`);
  return ops / (ns / 1e9);
}

interface Side {
  readonly name: string;
  readonly round: (ms: number) => Promise<number>;
  readonly results: number[];
}

/** The 1-minute load average: the machine may be shared, and wall-clock rates show it. */
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];
const loadBefore = loadavg();

const dir = mkdtempSync(join(tmpdir(), "kernelkit-bench-read-"));
const path = join(dir, "data.bin");
const sides: Side[] = [];
const cleanups: Array<() => void | Promise<void>> = [];
let prepMs = 0;
try {
  // The C peer.
  const src = join(dir, "read.c");
  const bin = join(dir, "read");
  writeFileSync(src, C_SOURCE);
  execFileSync("gcc", ["-O2", "-o", bin, src, "-luring"], { stdio: ["ignore", "inherit", "inherit"] });

  // The file: written, synced (no writeback during the rounds), then read once.
  const t0 = performance.now();
  const chunk = new Uint8Array(16 << 20);
  randomFillSync(chunk);
  const wfd = openSync(path, "w");
  for (let off = 0; off < FILE_SIZE; off += chunk.length) {
    chunk[0] = off / chunk.length; // no two chunks alike
    writeSync(wfd, chunk, 0, chunk.length, off);
  }
  fsyncSync(wfd);
  closeSync(wfd);
  const rfd = openSync(path, "r");
  for (let off = 0; off < FILE_SIZE; off += chunk.length) readSync(rfd, chunk, 0, chunk.length, off);
  closeSync(rfd);
  prepMs = performance.now() - t0;

  // kernelkit: the promise API, into buffers of a BufferPool.
  const ring = new Ring({ entries: 64 });
  cleanups.push(() => ring.close());
  const pool = new BufferPool({ count: QD, size: BLOCK });
  cleanups.push(() => pool.close());
  const kfd = await ring.openat(CWD, path, O_RDONLY);
  cleanups.push(async () => void await ring.closeFd(kfd));
  const kbufs = pool.buffers;
  sides.push({
    name: "kernelkit ring.read",
    round: (ms) => qdRound(ms, (i, off) => ring.read(kfd, kbufs[i], off, BLOCK)),
    results: [],
  });

  sides.push({ name: "C liburing", round: (ms) => Promise.resolve(cRound(bin, path, ms)), results: [] });

  // node:fs promises: one FileHandle, positional reads (pread) from 32 readers.
  const fh = await openPromise(path, "r");
  cleanups.push(() => fh.close());
  const nbufs = Array.from({ length: QD }, () => new Uint8Array(BLOCK));
  sides.push({
    name: "node:fs promises (FileHandle.read)",
    round: (ms) => qdRound(ms, async (i, off) => (await fh.read(nbufs[i], 0, BLOCK, off)).bytesRead),
    results: [],
  });

  if (g.Bun) {
    const bun = g.Bun;
    sides.push({
      name: "Bun.file().slice().arrayBuffer()",
      round: (ms) => qdRound(ms, async (_i, off) => (await bun.file(path).slice(off, off + BLOCK).arrayBuffer()).byteLength),
      results: [],
    });
  }
  if (g.Deno) {
    // Deno's files have no positional async read: each reader owns a file, seeks, reads.
    const deno = g.Deno;
    const files = await Promise.all(Array.from({ length: QD }, () => deno.open(path, { read: true })));
    cleanups.push(() => files.forEach((f) => f.close()));
    const dbufs = Array.from({ length: QD }, () => new Uint8Array(BLOCK));
    sides.push({
      name: "Deno.open + seek + read",
      round: async (ms) =>
        await qdRound(ms, async (i, off) => {
          await files[i].seek(off, deno.SeekMode.Start);
          return (await files[i].read(dbufs[i])) ?? 0;
        }),
      results: [],
    });
  }

  for (const s of sides) await s.round(WARMUP_MS);
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order each round, so that no side always runs first.
    for (let k = 0; k < sides.length; k++) {
      const s = sides[(k + r) % sides.length];
      s.results.push(await s.round(ROUND_MS));
    }
  }
} finally {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (e) {
      console.error("cleanup:", e);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

const kk = sides[0];
const targets: Record<string, number> = {
  "C liburing": 0.9,
  "node:fs promises (FileHandle.read)": 2,
  "Bun.file().slice().arrayBuffer()": 4,
  "Deno.open + seek + read": 8,
};
const ids: Record<string, string> = {
  "C liburing": "c-liburing",
  "node:fs promises (FileHandle.read)": "node-fs-promises",
  "Bun.file().slice().arrayBuffer()": "bun-file-slice",
  "Deno.open + seek + read": "deno-file-read",
};
const k = (x: number) => (x / 1e3).toFixed(0);
console.log(
  `random 4 KiB reads, 1 GiB page-cached file, QD ${QD}: ${rt.name} ${rt.version}; ` +
    `${ROUNDS} rounds of ${ROUND_MS} ms per side, medians (file made and cached in ${(prepMs / 1000).toFixed(1)} s); ` +
    `load average ${loadBefore} before, ${loadavg()} after`,
);
console.log("");
console.log("| side | kreads/s | kernelkit ÷ side | target | |");
console.log("|---|---:|---:|---:|---|");
console.log(`| ${kk.name} | ${k(median(kk.results))} | | | |`);
for (const s of sides.slice(1)) {
  const ratio = median(kk.results) / median(s.results);
  const target = targets[s.name];
  console.log(`| ${s.name} | ${k(median(s.results))} | ${ratio.toFixed(2)}× | ≥ ${target}× | ${ratio >= target ? "met" : "MISSED"} |`);
}
console.log("");
for (const s of sides) console.log(`rounds ${s.name}: ${s.results.map(k).join(" ")}`);
console.log("");
for (const s of sides.slice(1)) {
  const x = median(kk.results);
  const y = median(s.results);
  console.log(JSON.stringify({
    bench: `uring-read/qd${QD}-vs-${ids[s.name]}`,
    kernelkit: Math.round(x),
    peer: Math.round(y),
    ratio: Number((x / y).toFixed(3)),
    unit: "reads/s",
    runtime: `${rt.name} ${rt.version}`,
    peer_name: s.name,
    target: targets[s.name],
  }));
}
