/**
 * Memory safety and lifetime: buffers stay put under GC while the kernel
 * writes them, a closed ring refuses every call with EBADF (never a crash),
 * close() with ops in flight cancels them, programs exit on their own, and a
 * million ops leave no fds or memory behind.
 *
 * The GC, exit and million-op checks run in child processes of the same
 * runtime: a crash shows as an exit status, the counts are the child's own, and
 * Deno can be given --expose-gc (as DENO_V8_FLAGS).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";
import { runScript, runtimeName } from "./support/process.ts";
import { assertKernelError, closeFds, fdOpen, handled, pipe, POLLIN, sleep, throwsKernel } from "./support/uring.ts";
import { CWD, KernelError, ProvidedBuffers, Ring } from "../src/mod.ts";
import { RingCore } from "../src/uring/core.ts";
import { Prep } from "../src/uring/prep.ts";

guardFile();

const support = new URL("./support/", import.meta.url).pathname;
const gcEnv = { DENO_V8_FLAGS: "--expose-gc" };

/** The last line of a child's stdout, as JSON. */
// deno-lint-ignore no-explicit-any
function lastJson(stdout: string): Record<string, any> {
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

test(`gc: forced GC while 4000 file reads and 350 pipe reads are in flight; every byte checked (${runtimeName})`, () => {
  const r = runScript(join(support, "uring_gc.ts"), [], { env: gcEnv, timeoutMs: 60_000 });
  assert.equal(r.signal, null, `the child died of ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const out = lastJson(r.stdout);
  assert.deepEqual(out.fileReads, { count: 4000, shortReads: 0, mismatches: 0, junk: 20_000 });
  const p = out.pipeReads;
  assert.equal(p.inFlight, 350, "all pipe reads were waiting during GC");
  assert.equal(p.keptMismatches, 0);
  assert.equal(p.aliveWhilePending, p.dropped, "the ring let go of a buffer the kernel was still going to write");
  assert.equal(p.droppedShort, 0);
  assert.equal(p.decoysClobbered, 0, "a read landed in memory that was reused");
  assert.ok(p.releasedAfter > 0, "completed ops still hold every buffer they were given");
  assert.equal(out.pending, 0);
}, { timeout: 60_000 });

/** Arguments for each method of a closed ring: every method must refuse with EBADF. */
function closedCalls(ring: Ring, group: ProvidedBuffers, registered: Uint8Array): Record<string, () => unknown> {
  const buf = new Uint8Array(16);
  const handler = () => {};
  return {
    nop: () => ring.nop(),
    read: () => ring.read(0, buf, 0),
    write: () => ring.write(1, buf, 0),
    readv: () => ring.readv(0, [buf], 0),
    writev: () => ring.writev(1, [buf], 0),
    readFixed: () => ring.readFixed(0, registered, 0),
    writeFixed: () => ring.writeFixed(1, registered, 0),
    fsync: () => ring.fsync(1),
    fdatasync: () => ring.fdatasync(1),
    fallocate: () => ring.fallocate(1, 0, 0, 4096),
    fadvise: () => ring.fadvise(0, 0, 0, 0),
    madvise: () => ring.madvise(buf, 0),
    openat: () => ring.openat(CWD, "/etc/hostname", 0),
    openat2: () => ring.openat2(CWD, "/etc/hostname", { flags: 0 }),
    closeFd: () => ring.closeFd(12345),
    statx: () => ring.statx(CWD, "/"),
    unlinkat: () => ring.unlinkat(CWD, "/nonexistent/x"),
    renameat: () => ring.renameat(CWD, "/nonexistent/a", CWD, "/nonexistent/b"),
    mkdirat: () => ring.mkdirat(CWD, "/nonexistent/d"),
    symlinkat: () => ring.symlinkat("t", CWD, "/nonexistent/l"),
    linkat: () => ring.linkat(CWD, "/nonexistent/a", CWD, "/nonexistent/b"),
    timeout: () => ring.timeout(1),
    linkTimeout: () => ring.linkTimeout(1),
    pollAdd: () => ring.pollAdd(0, POLLIN),
    splice: () => ring.splice(0, -1, 1, -1, 16),
    tee: () => ring.tee(0, 1, 16),
    accept: () => ring.accept(0),
    acceptMultishot: () => ring.acceptMultishot(0, handler),
    connect: () => ring.connect(0, new Uint8Array(16)),
    recv: () => ring.recv(0, buf),
    recvMultishot: () => ring.recvMultishot(0, group, handler),
    send: () => ring.send(1, buf),
    sendmsg: () => ring.sendmsg(1, [buf]),
    sendZc: () => ring.sendZc(1, buf),
    shutdown: () => ring.shutdown(0, 2),
    registerBuffers: () => ring.registerBuffers([buf]),
    unregisterBuffers: () => ring.unregisterBuffers(),
    registerFiles: () => ring.registerFiles([0]),
    unregisterFiles: () => ring.unregisterFiles(),
    probe: () => ring.probe(),
    cqReady: () => ring.cqReady(),
    submit: () => ring.submit(),
    submitAndWait: () => ring.submitAndWait(1),
    completions: () => ring.completions(),
    "prep.nop": () => ring.prep.nop(1),
    "prep.read": () => ring.prep.read(0, buf, 0, 1),
    "prep.write": () => ring.prep.write(1, buf, 0, 1),
    "prep.readv": () => ring.prep.readv(0, [buf], 0, 1),
    "prep.writev": () => ring.prep.writev(1, [buf], 0, 1),
    "prep.readFixed": () => ring.prep.readFixed(0, registered, 0, 1),
    "prep.writeFixed": () => ring.prep.writeFixed(1, registered, 0, 1),
    "prep.fsync": () => ring.prep.fsync(1, 1),
    "prep.openat": () => ring.prep.openat(CWD, "/etc/hostname", 0, 0, 1),
    "prep.closeFd": () => ring.prep.closeFd(12345, 1),
    "prep.timeout": () => ring.prep.timeout(1, 1),
    "prep.splice": () => ring.prep.splice(0, -1, 1, -1, 16, 0, 1),
  };
}

/** Methods a closed ring accepts without error, and why. */
const harmlessAfterClose: Record<string, string> = {
  close: "closing twice is harmless",
  cancelStream: "nothing is in flight on a closed ring: canceling is a no-op",
  cancelFd: "nothing is in flight on a closed ring: canceling is a no-op",
  "prep.flags": "only sets the flags of the next prep, which then throws",
};

function methodNames(): string[] {
  const names = new Set<string>();
  for (const proto of [Ring.prototype, RingCore.prototype]) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name)!;
      if (name !== "constructor" && typeof d.value === "function") names.add(name);
    }
  }
  for (const name of Object.getOwnPropertyNames(Prep.prototype)) {
    if (name !== "constructor") names.add(`prep.${name}`);
  }
  return [...names];
}

test("closed ring: every method throws or rejects EBADF with a hint, and nothing crashes", async () => {
  const ring = new Ring({ entries: 8 });
  const registered = new Uint8Array(16);
  // So that readFixed/writeFixed get past their "is it registered" check to the closed ring.
  ring.registerBuffers([registered]);
  const group = new ProvidedBuffers(ring, { count: 4, size: 64, group: 1 });
  group.close();
  ring.close();
  const calls = closedCalls(ring, group, registered);
  // protected methods (assertOpen, unsupported, submitOp, ...) are not part of the API.
  const isProtected = (n: string) => ["assertOpen", "unsupported", "submitOp", "submitStream", "prepOp", "cancelOp", "placeInternal"].includes(n);
  for (const name of methodNames()) {
    if (isProtected(name) || name in harmlessAfterClose) continue;
    assert.ok(name in calls, `Ring has a method "${name}" that this test doesn't call yet: add it to closedCalls()`);
  }
  for (const [name, call] of Object.entries(calls)) {
    let outcome: unknown;
    try {
      const r = call();
      outcome = r instanceof Promise ? await r.then((v) => ({ resolved: v }), (e) => e) : { returned: r };
    } catch (e) {
      outcome = e;
    }
    assert.ok(outcome instanceof KernelError, `${name}: ${JSON.stringify(outcome)}`);
    assertKernelError(outcome, "EBADF", outcome.syscall);
    assert.match(outcome.hint!, /closed/, name);
    assert.match(outcome.message, /a closed io_uring/, name);
  }
  // The harmless ones really are.
  ring.close();
  ring.cancelFd(0);
  ring.cancelStream(0);
  assert.equal(ring.pending, 0);
  assert.equal(ring.closed, true);
  // Named after the op, or the syscall for ring-level calls.
  const e = await ring.read(0, new Uint8Array(1)).catch((x) => x);
  assertKernelError(e, "EBADF", "read");
  assertKernelError(await ring.statx(CWD, "/").catch((x) => x), "EBADF", "statx");
  throwsKernel(() => ring.submit(), "EBADF", "io_uring_enter");
  throwsKernel(() => ring.cqReady(), "EBADF", "io_uring_enter");
  throwsKernel(() => ring.registerFiles([0]), "EBADF", "io_uring_register");
  throwsKernel(() => ring.prep.nop(1), "EBADF", "nop");
});

test("close: ops in flight reject with ECANCELED, their buffers stay untouched, and the process carries on", async () => {
  const ring = new Ring({ entries: 8 });
  const [r, w] = pipe();
  try {
    const buf = new Uint8Array(16).fill(0xcc);
    const parts = [new Uint8Array(4).fill(0xcc), new Uint8Array(4).fill(0xcc)];
    const ops = {
      read: handled(ring.read(r, buf)),
      readv: handled(ring.readv(r, parts)),
      poll_add: handled(ring.pollAdd(r, POLLIN)),
      timeout: handled(ring.timeout(60_000)),
      link: handled(ring.read(r, new Uint8Array(4), -1, 4, { link: "soft" })),
      link_timeout: handled(ring.linkTimeout(60_000)),
    };
    const batchBuf = new Uint8Array(8).fill(0xcc);
    ring.prep.read(r, batchBuf, -1, 1);
    ring.submit();
    await sleep(20);
    assert.equal(ring.pending, 7);
    const t0 = performance.now();
    ring.close();
    assert.ok(performance.now() - t0 < 1000, "close() waited for canceled ops too long");
    assert.equal(ring.pending, 0);
    assert.equal(fdOpen(ring.fd), false);
    for (const [name, p] of Object.entries(ops)) {
      if (name === "link_timeout") {
        // Canceled with its read: rejected, or resolved "did not fire".
        const v = await p.then((x) => x, (x) => x);
        assert.ok(v === false || (v instanceof KernelError && v.code === "ECANCELED"), `${name}: ${v}`);
        continue;
      }
      const e = await p.then(() => null, (x) => x);
      assertKernelError(e, "ECANCELED", name === "link" ? "read" : name);
      assert.match(e.message, /canceled: the ring was closed/);
    }
    // Data written now reaches nobody's old buffer.
    sysWrite(w, 64);
    await sleep(20);
    assert.ok(buf.every((b) => b === 0xcc) && parts.every((p) => p.every((b) => b === 0xcc)) && batchBuf.every((b) => b === 0xcc));
    // And a new ring works.
    using again = new Ring({ entries: 8 });
    const got = new Uint8Array(64);
    assert.equal(await again.read(r, got), 64);
  } finally {
    ring.close();
    closeFds(r, w);
  }
});

/** Writes `n` bytes of 0x11 to a pipe with a throwaway ring, synchronously. */
function sysWrite(fd: number, n: number): void {
  using ring = new Ring({ entries: 2 });
  ring.prep.write(fd, new Uint8Array(n).fill(0x11), -1, 1);
  ring.submitAndWait(1);
  assert.equal(ring.completions()[0].res, n);
}

for (const mode of ["close", "dispose", "inflight", "leave"]) {
  test(`exit: a program that opens a ring, waits on ops and ${mode === "leave" ? "never closes it" : mode === "inflight" ? "closes it with a read in flight" : mode === "dispose" ? "lets `using` close it" : "closes it"} exits on its own`, () => {
    const t0 = performance.now();
    const r = runScript(join(support, "uring_exit.ts"), [mode], { timeoutMs: 20_000 });
    const took = performance.now() - t0;
    assert.equal(r.signal, null, `killed by ${r.signal} after ${took} ms (it did not exit on its own): ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`done ${mode}`));
    if (mode === "inflight") assert.match(r.stdout, /read: ECANCELED/);
  }, { timeout: 30_000 });
}

test("a million NOPs on one ring leave no fd and under 10 MB of RSS behind", () => {
  const r = runScript(join(support, "uring_million.ts"), [], { env: gcEnv, timeoutMs: 60_000 });
  assert.equal(r.signal, null, `the child died of ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const out = lastJson(r.stdout);
  assert.ok(out.nops >= 1_270_000, `${out.nops} NOPs`);
  assert.equal(out.bad, 0);
  assert.equal(out.promisedDone, 200_000);
  assert.equal(out.pending, 0);
  assert.equal(out.afterBatch.fds, out.before.fds, "fds after a million batch NOPs");
  assert.equal(out.afterAll.fds, out.before.fds, "fds after 200 000 more through the promise API");
  const growth = out.afterBatch.rss - out.before.rss;
  assert.ok(growth < 10 * 2 ** 20, `RSS grew ${(growth / 2 ** 20).toFixed(1)} MiB over a million NOPs`);
  // The promise API's in-flight table gives everything back: the live heap doesn't grow.
  assert.ok(out.heapGrowth < 2 * 2 ** 20, `the JS heap in use grew ${out.heapGrowth} bytes over 200 000 promise NOPs`);
  // Batches of 256: about one enter per batch, not one per op.
  assert.ok(out.enters < out.nops / 100, `${out.enters} enters for ${out.nops} NOPs`);
}, { timeout: 60_000 });

test("a loop awaiting one page-cache read after another still lets timers and other I/O run", async () => {
  // Reads from the page cache complete at submit time, so without a yield the loop would run
  // on microtasks alone: a timer set before it would never fire.
  using ring = new Ring();
  const fd = await ring.openat(CWD, "/proc/self/exe", 0);
  const buf = new Uint8Array(4096);
  let fired = false;
  const timer = setTimeout(() => (fired = true), 5);
  let reads = 0;
  try {
    while (!fired && reads < 2_000_000) {
      assert.equal(await ring.read(fd, buf, 0), 4096);
      reads++;
    }
  } finally {
    clearTimeout(timer);
    await ring.closeFd(fd);
  }
  assert.ok(fired, `the 5 ms timer never fired during ${reads} reads`);
  assert.ok(reads > 0);
});
