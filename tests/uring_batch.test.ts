/**
 * The two API levels: the batch API (ring.prep.*, submit, submitAndWait,
 * completions, cqReady), and the promise API's one io_uring_enter per JS turn
 * and its back-pressure when more ops start than the SQ holds.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";
import { closeFds, pattern, pipe, throwsKernel, withTempDir } from "./support/uring.ts";
import { type Completion, CWD, Ring } from "../src/mod.ts";
import { O_CLOEXEC, O_CREAT, O_RDONLY, O_RDWR } from "../ffi/structs/fcntl.ts";
import { IOSQE_IO_LINK } from "../ffi/structs/io_uring.ts";

guardFile();

/** Copies completions (the ring reuses their objects), keyed by user data. */
function byUserData(list: readonly Completion[]): Map<number, { res: number; flags: number }> {
  const out = new Map<number, { res: number; flags: number }>();
  for (const c of list) {
    assert.ok(!out.has(c.userData), `user data ${c.userData} completed twice`);
    out.set(c.userData, { res: c.res, flags: c.flags });
  }
  return out;
}

/** Submits and waits until `n` batch completions have been drained; returns them by user data. */
function drain(ring: Ring, n: number): Map<number, { res: number; flags: number }> {
  const all: Completion[] = [];
  ring.submit();
  const deadline = performance.now() + 5000;
  while (all.length < n) {
    assert.ok(performance.now() < deadline, `${all.length} of ${n} completions after 5 s`);
    if (ring.cqReady() === 0) ring.submitAndWait(1);
    for (const c of ring.completions()) all.push({ ...c });
  }
  return byUserData(all);
}

test("batch: prep.write/read/readv/writev/fsync land their bytes and report res by userData", () =>
  withTempDir((dir) => {
    using ring = new Ring({ entries: 16 });
    const path = join(dir, "b");
    writeFileSync(path, "");
    const fd = openSync(ring, path, O_RDWR);
    const data = pattern(12_000, 9);
    ring.prep.write(fd, data.subarray(0, 4000), 0, 1);
    ring.prep.writev(fd, [data.subarray(4000, 8000), data.subarray(8000)], 4000, 2);
    assert.equal(ring.submit(), 2);
    let done = drain(ring, 2);
    assert.deepEqual(done.get(1), { res: 4000, flags: 0 });
    assert.equal(done.get(2)!.res, 8000);
    ring.prep.fsync(fd, 3);
    ring.prep.fsync(fd, 4, true);
    done = drain(ring, 2);
    assert.equal(done.get(3)!.res, 0);
    assert.equal(done.get(4)!.res, 0);
    assert.deepEqual(readFileSync(path), Buffer.from(data));

    const a = new Uint8Array(5000);
    const b = new Uint8Array(3000);
    const c = new Uint8Array(4000);
    ring.prep.read(fd, a, 0, 10);
    ring.prep.readv(fd, [b, c], 5000, 11);
    ring.prep.read(fd, new Uint8Array(100), 11_950, 12, 100);
    done = drain(ring, 3);
    assert.equal(done.get(10)!.res, 5000);
    assert.equal(done.get(11)!.res, 7000);
    assert.equal(done.get(12)!.res, 50, "short read at the end of the file");
    assert.deepEqual(a, data.subarray(0, 5000));
    assert.deepEqual(b, data.subarray(5000, 8000));
    assert.deepEqual(c, data.subarray(8000));
    closeSync(ring, fd);
  }));

test("batch: prep.openat/closeFd/nop/splice; failures come back as -errno, not as throws", () =>
  withTempDir((dir) => {
    using ring = new Ring({ entries: 16 });
    writeFileSync(join(dir, "in"), "spliced bytes");
    ring.prep.openat(CWD, join(dir, "in"), O_RDONLY | O_CLOEXEC, 0, 1);
    ring.prep.openat(CWD, join(dir, "missing"), O_RDONLY, 0, 2);
    ring.prep.nop(3);
    ring.prep.closeFd(999_999, 4);
    ring.prep.read(999_999, new Uint8Array(4), 0, 5);
    const done = drain(ring, 5);
    const fd = done.get(1)!.res;
    assert.ok(fd > 2, `openat gave ${fd}`);
    assert.equal(done.get(2)!.res, -2, "ENOENT");
    assert.equal(done.get(3)!.res, 0);
    assert.equal(done.get(4)!.res, -9, "EBADF");
    assert.equal(done.get(5)!.res, -9, "EBADF");

    const [r, w] = pipe();
    try {
      ring.prep.splice(fd, 0, w, -1, 100, 0, 6);
      assert.equal(drain(ring, 1).get(6)!.res, 13);
      const out = new Uint8Array(13);
      ring.prep.read(r, out, -1, 7);
      assert.equal(drain(ring, 1).get(7)!.res, 13);
      assert.equal(new TextDecoder().decode(out), "spliced bytes");
    } finally {
      closeFds(r, w);
    }
    ring.prep.closeFd(fd, 8);
    assert.equal(drain(ring, 1).get(8)!.res, 0);
  }));

test("batch: cqReady counts CQEs until completions() drains them; completions() is then empty", () => {
  using ring = new Ring({ entries: 16 });
  assert.equal(ring.cqReady(), 0);
  for (let i = 0; i < 10; i++) ring.prep.nop(100 + i);
  assert.equal(ring.cqReady(), 0, "nothing submitted yet");
  assert.equal(ring.pending, 10);
  assert.equal(ring.submit(), 10);
  assert.equal(ring.cqReady(), 10, "NOPs complete inside io_uring_enter");
  const got = ring.completions().map((c) => c.userData);
  assert.deepEqual(got.sort((x, y) => x - y), Array.from({ length: 10 }, (_, i) => 100 + i));
  assert.equal(ring.cqReady(), 0);
  assert.equal(ring.pending, 0);
  assert.equal(ring.completions().length, 0);
  assert.equal(ring.submit(), 0, "nothing to submit");
});

test("batch: submitAndWait(n) blocks until n completions are ready", () => {
  using ring = new Ring({ entries: 16 });
  const t0 = performance.now();
  ring.prep.timeout(30, 1);
  ring.prep.timeout(300, 2);
  ring.prep.timeout(5000, 3, 2); // ends after two other completions (timeouts don't count)
  ring.prep.nop(4);
  assert.equal(ring.submitAndWait(2), 4);
  const waited = performance.now() - t0;
  assert.ok(waited >= 25 && waited < 300, `returned after ${waited} ms`);
  const first = byUserData(ring.completions());
  assert.deepEqual([...first.keys()].sort(), [1, 4]);
  assert.equal(first.get(1)!.res, -62, "an expired timeout is -ETIME");
  assert.equal(first.get(4)!.res, 0);
  ring.submitAndWait(1);
  assert.equal(byUserData(ring.completions()).get(2)!.res, -62);
  assert.ok(performance.now() - t0 >= 295);
  ring.prep.nop(5);
  assert.equal(ring.submitAndWait(2), 1);
  const last = byUserData(ring.completions());
  assert.equal(last.get(5)!.res, 0);
  assert.equal(last.get(3)!.res, 0, "a timeout ended by its count is 0");
  assert.ok(performance.now() - t0 < 3000);
  assert.equal(ring.pending, 0);
});

test("batch: prep.flags(IOSQE_IO_LINK) chains ops; a failed link cancels the rest", () =>
  withTempDir((dir) => {
    using ring = new Ring({ entries: 16 });
    const path = join(dir, "l");
    writeFileSync(path, "");
    const fd = openSync(ring, path, O_RDWR);
    const data = pattern(4096, 4);
    const back = new Uint8Array(4096);
    ring.prep.flags(IOSQE_IO_LINK).write(fd, data, 0, 1);
    ring.prep.flags(IOSQE_IO_LINK).fsync(fd, 2);
    ring.prep.read(fd, back, 0, 3);
    let done = drain(ring, 3);
    assert.deepEqual([1, 2, 3].map((k) => done.get(k)!.res), [4096, 0, 4096]);
    assert.deepEqual(back, data);
    // flags() applies to the next prep only.
    ring.prep.flags(IOSQE_IO_LINK).read(999_999, back, 0, 4);
    ring.prep.nop(5);
    ring.prep.nop(6);
    done = drain(ring, 3);
    assert.deepEqual([4, 5, 6].map((k) => done.get(k)!.res), [-9, -125, 0]);
    closeSync(ring, fd);
  }));

test("batch: preps beyond the SQ size are submitted as it fills; every completion arrives once", () => {
  using ring = new Ring({ entries: 8 });
  for (let i = 0; i < 1000; i++) ring.prep.nop(i);
  assert.ok(ring.stats.enters >= 124, `${ring.stats.enters} enters while queueing 1000 on 8 entries`);
  const done = drain(ring, 1000);
  assert.equal(done.size, 1000);
  for (let i = 0; i < 1000; i++) assert.equal(done.get(i)?.res, 0, `userData ${i}`);
  assert.equal(ring.pending, 0);
});

test("batch: bad arguments, userData included, throw a KernelError EINVAL with a hint synchronously", () => {
  using ring = new Ring({ entries: 8 });
  const buf = new Uint8Array(8);
  throwsKernel(() => ring.prep.read(0, buf, 0, 1, 9), "EINVAL", "read");
  throwsKernel(() => ring.prep.write(1, buf, -7, 1), "EINVAL", "write");
  throwsKernel(() => ring.prep.readv(0, [], 0, 1), "EINVAL", "readv");
  throwsKernel(() => ring.prep.timeout(-1, 1), "EINVAL", "timeout");
  throwsKernel(() => ring.prep.readFixed(0, buf, 0, 1), "EINVAL", "read_fixed");
  for (const userData of [-1, 2 ** 32, 1.5, NaN]) assert.match(throwsKernel(() => ring.prep.nop(userData), "EINVAL", "nop").message, /userData/);
  assert.equal(ring.pending, 0, "nothing was queued");
  ring.prep.nop(2 ** 32 - 1);
  assert.equal(drain(ring, 1).get(2 ** 32 - 1)!.res, 0);
});

test("batch and promise ops share a ring: each completion goes to its own API", async () => {
  using ring = new Ring({ entries: 16 });
  const promised = [ring.nop(), ring.nop()];
  ring.prep.nop(41);
  ring.prep.nop(42);
  assert.deepEqual(await Promise.all(promised), [0, 0]);
  const done = byUserData(ring.completions());
  assert.deepEqual([...done.keys()].sort(), [41, 42]);
  assert.equal(ring.pending, 0);
});

test("promise API: ops started in one JS turn use one io_uring_enter", () =>
  withTempDir(async (dir) => {
    using ring = new Ring({ entries: 256 });
    writeFileSync(join(dir, "f"), pattern(64 * 1024, 8));
    const fd = await ring.openat(CWD, join(dir, "f"), O_RDONLY | O_CLOEXEC);
    let enters = ring.stats.enters;
    const nops = Array.from({ length: 200 }, () => ring.nop());
    assert.equal(ring.stats.enters, enters, "nothing is entered before the turn ends");
    assert.equal((await Promise.all(nops)).length, 200);
    assert.equal(ring.stats.enters - enters, 1, "200 NOPs of one turn");

    enters = ring.stats.enters;
    const bufs = Array.from({ length: 16 }, () => new Uint8Array(4096));
    const reads = bufs.map((b, i) => ring.read(fd, b, i * 4096));
    const more = [ring.nop(), ring.fsync(fd), ring.statx(fd, "", 0x1000)];
    assert.deepEqual(await Promise.all(reads), bufs.map(() => 4096));
    await Promise.all(more);
    assert.equal(ring.stats.enters - enters, 1, "16 reads, a NOP, an fsync and a statx of one turn");
    const file = readFileSync(join(dir, "f"));
    bufs.forEach((b, i) => assert.deepEqual(b, new Uint8Array(file.subarray(i * 4096, (i + 1) * 4096))));

    // Three turns, three enters.
    enters = ring.stats.enters;
    for (let turn = 0; turn < 3; turn++) await Promise.all([ring.nop(), ring.nop(), ring.nop()]);
    assert.equal(ring.stats.enters - enters, 3);
    await ring.closeFd(fd);
  }));

test("promise API: 10 000 ops on an 8-entry ring in one turn all complete (SQ back-pressure waits)", async () => {
  using ring = new Ring({ entries: 8 });
  const ops = Array.from({ length: 10_000 }, (_, i) => (i % 100 === 0 ? ring.timeout(1) : ring.nop()));
  assert.equal(ring.pending, 10_000);
  const settled = await Promise.allSettled(ops);
  assert.equal(settled.filter((s) => s.status === "fulfilled" && s.value === 0).length, 10_000);
  assert.equal(ring.pending, 0);
  assert.equal(ring.stats.completed, 10_000);
  // Filling 8 entries at a time takes about 10 000 / 8 enters, not one per op.
  assert.ok(ring.stats.enters >= 1250 && ring.stats.enters < 2500, `${ring.stats.enters} enters`);
});

/** openat through the batch API, synchronously. */
function openSync(ring: Ring, path: string, flags: number): number {
  ring.prep.openat(CWD, path, flags | O_CREAT | O_CLOEXEC, 0o644, 0xfffe);
  const fd = drain(ring, 1).get(0xfffe)!.res;
  assert.ok(fd >= 0, `openat ${path}: ${fd}`);
  return fd;
}

/** close through the batch API, synchronously. */
function closeSync(ring: Ring, fd: number): void {
  ring.prep.closeFd(fd, 0xffff);
  assert.equal(drain(ring, 1).get(0xffff)!.res, 0);
}
