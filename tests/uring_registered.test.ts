/**
 * Registered resources: files (registerFiles + { fixedFile: true }) and
 * buffers (registerBuffers + readFixed/writeFixed), in both API levels.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";
import { closeFds, fdOpen, pattern, pipe, rejectsKernel, throwsKernel, withTempDir } from "./support/uring.ts";
import { BufferPool, CWD, mapMemory, Ring } from "../src/mod.ts";
import { O_CLOEXEC, O_RDONLY, O_RDWR } from "../ffi/structs/fcntl.ts";
import { IOSQE_FIXED_FILE } from "../ffi/structs/io_uring.ts";

guardFile();

const SIZE = 64 * 1024;

test("registerFiles: ops take an index with fixedFile, even after the fd itself is closed", () =>
  withTempDir(async (dir) => {
    using ring = new Ring({ entries: 16 });
    const data = pattern(SIZE, 21);
    writeFileSync(join(dir, "a"), data);
    writeFileSync(join(dir, "b"), new Uint8Array(SIZE));
    const a = await ring.openat(CWD, join(dir, "a"), O_RDONLY | O_CLOEXEC);
    const b = await ring.openat(CWD, join(dir, "b"), O_RDWR | O_CLOEXEC);
    ring.registerFiles([a, b]);
    assert.match(readFileSync(`/proc/self/fdinfo/${ring.fd}`, "utf8"), /UserFiles:\s+2/);
    // The registration holds its own reference: the fds can go.
    await ring.closeFd(a);
    await ring.closeFd(b);
    assert.equal(fdOpen(a), false);

    const buf = new Uint8Array(4096);
    assert.equal(await ring.read(0, buf, 8192, 4096, { fixedFile: true }), 4096);
    assert.deepEqual(buf, data.subarray(8192, 12_288));
    assert.equal(await ring.write(1, data.subarray(0, 1000), 500, 1000, { fixedFile: true }), 1000);
    assert.equal(await ring.fsync(1, { fixedFile: true }), 0);
    assert.deepEqual(readFileSync(join(dir, "b")).subarray(500, 1500), Buffer.from(data.subarray(0, 1000)));
    const parts = [new Uint8Array(10), new Uint8Array(20)];
    assert.equal(await ring.readv(0, parts, 0, { fixedFile: true }), 30);
    assert.deepEqual(parts[1], data.subarray(10, 30));

    // An index past the table.
    await rejectsKernel(() => ring.read(2, buf, 0, 16, { fixedFile: true }), "EBADF", "read");

    // The batch API: IOSQE_FIXED_FILE through prep.flags.
    const small = new Uint8Array(100);
    ring.prep.flags(IOSQE_FIXED_FILE).read(0, small, 100, 7);
    ring.submitAndWait(1);
    const [c] = ring.completions();
    assert.equal(c.userData, 7);
    assert.equal(c.res, 100);
    assert.deepEqual(small, data.subarray(100, 200));

    const twice = throwsKernel(() => ring.registerFiles([0]), "EBUSY", "io_uring_register");
    assert.match(twice.hint!, /already registered/);
    ring.unregisterFiles();
    assert.match(readFileSync(`/proc/self/fdinfo/${ring.fd}`, "utf8"), /UserFiles:\s+0/);
    await rejectsKernel(() => ring.read(0, buf, 0, 16, { fixedFile: true }), "EBADF", "read");
    const none = throwsKernel(() => ring.unregisterFiles(), "ENXIO", "io_uring_register");
    assert.match(none.hint!, /no files are registered/);
    // And again, with a pipe.
    const [r, w] = pipe();
    try {
      ring.registerFiles([r, w]);
      assert.equal(await ring.write(1, new Uint8Array([3, 1, 4]), -1, 3, { fixedFile: true }), 3);
      const got = new Uint8Array(3);
      assert.equal(await ring.read(0, got, -1, 3, { fixedFile: true }), 3);
      assert.deepEqual([...got], [3, 1, 4]);
    } finally {
      closeFds(r, w);
    }
  }));

test("registerFiles: a bad fd in the table is EBADF from io_uring_register", () => {
  using ring = new Ring({ entries: 4 });
  throwsKernel(() => ring.registerFiles([987_654]), "EBADF", "io_uring_register");
  // Nothing was registered.
  throwsKernel(() => ring.unregisterFiles(), "ENXIO", "io_uring_register");
});

test("registerBuffers: readFixed/writeFixed move real bytes through a BufferPool's registered buffers", () =>
  withTempDir(async (dir) => {
    using ring = new Ring({ entries: 16 });
    using pool = new BufferPool({ count: 8, size: 16 * 1024 });
    const data = pattern(SIZE, 33);
    writeFileSync(join(dir, "f"), data);
    const fd = await ring.openat(CWD, join(dir, "f"), O_RDWR | O_CLOEXEC);
    try {
      pool.register(ring);
      assert.match(readFileSync(`/proc/self/fdinfo/${ring.fd}`, "utf8"), /UserBufs:\s+8/);
      // Four whole buffers at once, in one turn.
      const reads = [0, 1, 2, 3].map((i) => ring.readFixed(fd, pool.buffer(i), i * 16 * 1024));
      assert.deepEqual(await Promise.all(reads), [16384, 16384, 16384, 16384]);
      for (let i = 0; i < 4; i++) assert.deepEqual(pool.buffer(i), data.subarray(i * 16384, (i + 1) * 16384));
      // A part of a buffer, with a length.
      const part = pool.buffer(5).subarray(100, 1100);
      assert.equal(await ring.readFixed(fd, part, 7, 500), 500);
      assert.deepEqual(part.subarray(0, 500), data.subarray(7, 507));
      // writeFixed.
      pool.buffer(6).fill(0xab);
      assert.equal(await ring.writeFixed(fd, pool.buffer(6).subarray(0, 3000), 1000), 3000);
      const disk = readFileSync(join(dir, "f"));
      assert.ok(disk.subarray(1000, 4000).every((x) => x === 0xab));
      assert.deepEqual(disk.subarray(4000), Buffer.from(data.subarray(4000)));
      // The batch API.
      ring.prep.readFixed(fd, pool.buffer(7), 0, 77, 64);
      ring.prep.writeFixed(fd, pool.buffer(6).subarray(0, 10), SIZE, 78);
      ring.submitAndWait(2);
      const done = new Map(ring.completions().map((c) => [c.userData, c.res]));
      assert.equal(done.get(77), 64);
      assert.equal(done.get(78), 10);
      assert.deepEqual(pool.buffer(7).subarray(0, 64), new Uint8Array(disk.subarray(0, 64)));
      assert.equal(readFileSync(join(dir, "f")).length, SIZE + 10);
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("registerBuffers: a buffer outside the registered ones is EINVAL with a hint; so is none registered", () =>
  withTempDir(async (dir) => {
    using ring = new Ring({ entries: 8 });
    writeFileSync(join(dir, "f"), pattern(8192));
    const fd = await ring.openat(CWD, join(dir, "f"), O_RDONLY | O_CLOEXEC);
    const m = mapMemory(4 * 4096);
    try {
      const plain = new Uint8Array(4096);
      let e = await rejectsKernel(() => ring.readFixed(fd, plain, 0), "EINVAL", "read_fixed");
      assert.match(e.hint!, /not inside a registered buffer/);
      ring.registerBuffers([m.bytes.subarray(0, 8192), plain]);
      assert.equal(await ring.readFixed(fd, plain, 0), 4096, "a JS buffer may be registered too");
      assert.equal(await ring.readFixed(fd, m.bytes.subarray(4096, 8192), 4096), 4096);
      // Outside every registered range, or straddling the end of one.
      e = await rejectsKernel(() => ring.readFixed(fd, m.bytes.subarray(8192, 12_288), 0), "EINVAL", "read_fixed");
      assert.match(e.message, /read_fixed\(fd \d+\)/);
      await rejectsKernel(() => ring.readFixed(fd, m.bytes.subarray(4096, 12_288), 0), "EINVAL", "read_fixed");
      await rejectsKernel(() => ring.writeFixed(fd, new Uint8Array(16), 0), "EINVAL", "write_fixed");
      throwsKernel(() => ring.prep.readFixed(fd, new Uint8Array(16), 0, 1), "EINVAL", "read_fixed");
      // Registering twice is refused; after unregistering, nothing is registered.
      e = throwsKernel(() => ring.registerBuffers([plain]), "EBUSY", "io_uring_register");
      assert.match(e.hint!, /unregisterBuffers/);
      ring.unregisterBuffers();
      assert.match(readFileSync(`/proc/self/fdinfo/${ring.fd}`, "utf8"), /UserBufs:\s+0/);
      await rejectsKernel(() => ring.readFixed(fd, plain, 0), "EINVAL", "read_fixed");
      ring.unregisterBuffers(); // harmless when none are registered
      // Registration takes from 1 buffer.
      throwsKernel(() => ring.registerBuffers([]), "EINVAL", "io_uring_register");
      ring.registerBuffers([plain]);
      assert.equal(await ring.readFixed(fd, plain.subarray(0, 10), 0), 10);
      assert.equal(ring.pending, 0);
    } finally {
      await ring.closeFd(fd);
      m.close();
    }
  }));

test("registerBuffers: a buffer over the kernel's 1 GiB limit is EINVAL saying so, before the kernel's EFAULT", () => {
  using ring = new Ring({ entries: 8 });
  // Address space only: nothing is populated or pinned.
  using big = mapMemory(2 ** 30 + 4096);
  const e = throwsKernel(() => ring.registerBuffers([new Uint8Array(64), big.bytes]), "EINVAL", "io_uring_register");
  assert.match(e.message, /buffer 1 of 1073745920 bytes/);
  assert.match(e.hint!, /at most 1 GiB per buffer/);
  // Nothing was registered: a later registration of small buffers works.
  ring.registerBuffers([big.bytes.subarray(0, 4096)]);
  ring.unregisterBuffers();
});
