/**
 * Every op of Ring's promise API against the real kernel, checked by its
 * effect: bytes on disk, fds opened and closed, files created, renamed,
 * linked and removed. Bad input to an op is a KernelError with a hint.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { guardFile, skipUnless, test } from "./harness.ts";
import {
  closeFds,
  fdOpen,
  monotonicMs,
  pattern,
  pipe,
  POLLIN,
  POLLOUT,
  rejectsKernel,
  sleep,
  withTempDir,
} from "./support/uring.ts";
import { CWD, mapMemory, Ring } from "../src/mod.ts";
import {
  AT_REMOVEDIR,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POSIX_FADV_DONTNEED,
  POSIX_FADV_SEQUENTIAL,
  RESOLVE_BENEATH,
  RESOLVE_NO_SYMLINKS,
} from "../ffi/structs/fcntl.ts";
import { MADV_DONTNEED } from "../ffi/structs/mman.ts";

guardFile();

const RENAME_NOREPLACE = 1;

// One ring for the whole file: under `deno test` every ring's first wait
// starts (and type-checks) a waker worker, which costs about a second.
const ring = new Ring({ entries: 64 });

/** Opens `path` through the ring. */
function open(path: string, flags: number, mode = 0o644): Promise<number> {
  return ring.openat(CWD, path, flags | O_CLOEXEC, mode);
}

test("nop: resolves with 0", async () => {
  assert.deepEqual(await Promise.all([ring.nop(), ring.nop(), ring.nop()]), [0, 0, 0]);
});

test("write and read: bytes land on disk at the offset and come back", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "data");
    const data = pattern(10_000, 7);
    const fd = await open(path, O_RDWR | O_CREAT);
    try {
      assert.equal(await ring.write(fd, data, 0), 10_000);
      assert.equal(await ring.write(fd, new Uint8Array([1, 2, 3]), 20_000), 3);
      const disk = readFileSync(path);
      assert.equal(disk.length, 20_003);
      assert.deepEqual(disk.subarray(0, 10_000), Buffer.from(data));
      assert.ok(disk.subarray(10_000, 20_000).every((b) => b === 0), "a hole reads as zeros");
      assert.deepEqual([...disk.subarray(20_000)], [1, 2, 3]);

      const back = new Uint8Array(10_000);
      assert.equal(await ring.read(fd, back, 0), 10_000);
      assert.deepEqual(back, data);
      // A length and a view with a byteOffset: only that window is written.
      const window = new Uint8Array(64).fill(0xee);
      assert.equal(await ring.read(fd, window.subarray(8), 100, 16), 16);
      assert.deepEqual(window.subarray(8, 24), data.subarray(100, 116));
      assert.ok(window.subarray(0, 8).every((b) => b === 0xee) && window.subarray(24).every((b) => b === 0xee));
      // Short read at the end of the file, then 0 past it.
      const tail = new Uint8Array(10);
      assert.equal(await ring.read(fd, tail, 19_998), 5);
      assert.deepEqual([...tail.subarray(0, 5)], [0, 0, 1, 2, 3]);
      assert.equal(await ring.read(fd, tail, 30_000), 0);
      // Other typed arrays are lent by their bytes.
      const words = new Uint32Array(4);
      assert.equal(await ring.read(fd, words, 0), 16);
      assert.deepEqual(new Uint8Array(words.buffer), data.subarray(0, 16));
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("write and read at offset -1 use and advance the file position", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "seq");
    const fd = await open(path, O_RDWR | O_CREAT);
    try {
      for (const chunk of ["abc", "def", "gh"]) {
        assert.equal(await ring.write(fd, new TextEncoder().encode(chunk)), chunk.length);
      }
      assert.equal(readFileSync(path, "utf8"), "abcdefgh");
      const fd2 = await open(path, O_RDONLY);
      try {
        const a = new Uint8Array(3);
        const b = new Uint8Array(3);
        assert.equal(await ring.read(fd2, a), 3);
        assert.equal(await ring.read(fd2, b, -1), 3);
        assert.equal(new TextDecoder().decode(a) + new TextDecoder().decode(b), "abcdef");
      } finally {
        await ring.closeFd(fd2);
      }
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("writev and readv: gather and scatter across views in order", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "vec");
    const data = pattern(9000, 3);
    const fd = await open(path, O_RDWR | O_CREAT);
    try {
      const parts = [data.subarray(0, 1), data.subarray(1, 4096), data.subarray(4096)];
      assert.equal(await ring.writev(fd, parts, 100), 9000);
      const disk = readFileSync(path);
      assert.equal(disk.length, 9100);
      assert.deepEqual(disk.subarray(100), Buffer.from(data));

      const backing = new Uint8Array(10_000).fill(0xaa);
      const a = backing.subarray(10, 4010);
      const b = new Uint8Array(5000);
      assert.equal(await ring.readv(fd, [a, b], 100), 9000);
      assert.deepEqual(a, data.subarray(0, 4000));
      assert.deepEqual(b, data.subarray(4000));
      assert.ok(backing.subarray(0, 10).every((x) => x === 0xaa) && backing.subarray(4010).every((x) => x === 0xaa));
      // Past the end: what is there, then zero.
      const c = new Uint8Array(50);
      assert.equal(await ring.readv(fd, [c, new Uint8Array(50)], 9050), 50);
      assert.deepEqual(c, data.subarray(8950));
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("fsync and fdatasync: 0 on a file, EINVAL on a pipe (which cannot be synced)", () =>
  withTempDir(async (dir) => {
    const fd = await open(join(dir, "f"), O_WRONLY | O_CREAT);
    const [r, w] = pipe();
    try {
      await ring.write(fd, new Uint8Array(4096).fill(1), 0);
      assert.equal(await ring.fsync(fd), 0);
      assert.equal(await ring.fdatasync(fd), 0);
      assert.equal(await ring.fsync(fd, { datasync: true }), 0);
      assert.equal(statSync(join(dir, "f")).size, 4096);
      await rejectsKernel(() => ring.fsync(w), "EINVAL", "fsync");
      await rejectsKernel(() => ring.fdatasync(r), "EINVAL", "fsync");
    } finally {
      await ring.closeFd(fd);
      closeFds(r, w);
    }
  }));

test("fallocate: allocates (growing the file or not) and punches holes that read as zeros", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "alloc");
    const fd = await open(path, O_RDWR | O_CREAT);
    try {
      assert.equal(await ring.fallocate(fd, 0, 0, 1 << 20), 0);
      assert.equal(statSync(path).size, 1 << 20);
      assert.ok(statSync(path).blocks * 512 >= 1 << 20, "blocks allocated");
      // KEEP_SIZE: blocks past the end, size unchanged.
      assert.equal(await ring.fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20), 0);
      assert.equal(statSync(path).size, 1 << 20);
      assert.ok(statSync(path).blocks * 512 >= 2 << 20, `${statSync(path).blocks} blocks`);
      // Punch a hole into written data.
      await ring.write(fd, new Uint8Array(65536).fill(0x5a), 0);
      assert.equal(await ring.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192), 0);
      const disk = readFileSync(path);
      assert.ok(disk.subarray(0, 4096).every((b) => b === 0x5a));
      assert.ok(disk.subarray(4096, 12288).every((b) => b === 0), "the hole reads as zeros");
      assert.ok(disk.subarray(12288, 65536).every((b) => b === 0x5a));
      // PUNCH_HOLE without KEEP_SIZE is refused by the kernel (EOPNOTSUPP, which is errno 95, ENOTSUP).
      await rejectsKernel(() => ring.fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), "ENOTSUP", "fallocate");
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("fadvise: 0 for real advice; EINVAL for an unknown one; EBADF for a closed fd", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "adv");
    writeFileSync(path, pattern(1 << 16));
    const fd = await open(path, O_RDONLY);
    try {
      assert.equal(await ring.fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
      assert.equal(await ring.fadvise(fd, 0, 1 << 16, POSIX_FADV_DONTNEED), 0);
      await rejectsKernel(() => ring.fadvise(fd, 0, 0, 77), "EINVAL", "fadvise");
    } finally {
      await ring.closeFd(fd);
    }
    await rejectsKernel(() => ring.fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), "EBADF", "fadvise");
  }));

test("madvise: MADV_DONTNEED drops private anonymous pages, which then read as zeros", async () => {
  const m = mapMemory(4 * 4096, { populate: true });
  try {
    m.bytes.fill(0x77);
    assert.equal(await ring.madvise(m.bytes.subarray(4096, 3 * 4096), MADV_DONTNEED), 0);
    assert.ok(m.bytes.subarray(0, 4096).every((b) => b === 0x77));
    assert.ok(m.bytes.subarray(4096, 3 * 4096).every((b) => b === 0), "dropped pages read as zeros");
    assert.ok(m.bytes.subarray(3 * 4096).every((b) => b === 0x77));
    await rejectsKernel(() => ring.madvise(m.bytes.subarray(0, 4096), 9999), "EINVAL", "madvise");
  } finally {
    m.close();
  }
});

test("openat: creates with the mode, opens relative to a directory fd, and fails with ENOENT/EEXIST", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "made");
    const fd = await ring.openat(CWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600);
    assert.ok(fd > 2 && fdOpen(fd));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(await ring.write(fd, new TextEncoder().encode("hi")), 2);
    await ring.closeFd(fd);
    assert.equal(readFileSync(path, "utf8"), "hi");

    const dirfd = await ring.openat(CWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    try {
      const rel = await ring.openat(dirfd, "made", O_RDONLY | O_CLOEXEC);
      const buf = new Uint8Array(2);
      assert.equal(await ring.read(rel, buf, 0), 2);
      assert.equal(new TextDecoder().decode(buf), "hi");
      await ring.closeFd(rel);
      const e = await rejectsKernel(() => ring.openat(dirfd, "made", O_WRONLY | O_CREAT | O_EXCL), "EEXIST", "openat");
      assert.match(e.message, /openat\(made\)/);
      const e2 = await rejectsKernel(() => ring.openat(CWD, join(dir, "nope"), O_RDONLY), "ENOENT", "openat");
      assert.ok(e2.message.includes(join(dir, "nope")), e2.message);
    } finally {
      await ring.closeFd(dirfd);
    }
  }));

test("openat2: opens with open_how; RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS refuse what they should", () =>
  withTempDir(async (dir) => {
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "outside"), "out");
    writeFileSync(join(dir, "sub", "inside"), "in");
    symlinkSync("inside", join(dir, "sub", "link"));
    const sub = await ring.openat2(CWD, join(dir, "sub"), { flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC });
    try {
      const fd = await ring.openat2(sub, "inside", { flags: O_RDONLY | O_CLOEXEC, resolve: RESOLVE_BENEATH });
      const buf = new Uint8Array(8);
      assert.equal(await ring.read(fd, buf, 0), 2);
      assert.equal(new TextDecoder().decode(buf.subarray(0, 2)), "in");
      await ring.closeFd(fd);
      const created = await ring.openat2(sub, "new", { flags: O_WRONLY | O_CREAT | O_CLOEXEC, mode: 0o640 });
      await ring.closeFd(created);
      assert.equal(statSync(join(dir, "sub", "new")).mode & 0o777, 0o640);
      // These errnos carry no hint in kernelkit: the assertions skip it.
      const beneath = await ring.openat2(sub, "../outside", { flags: O_RDONLY, resolve: RESOLVE_BENEATH }).catch((e) => e);
      assert.equal(beneath.code, "EXDEV");
      assert.equal(beneath.syscall, "openat2");
      assert.match(beneath.message, /openat2\(\.\.\/outside\) failed: EXDEV/);
      const noLinks = await ring.openat2(sub, "link", { flags: O_RDONLY, resolve: RESOLVE_NO_SYMLINKS }).catch((e) => e);
      assert.equal(noLinks.code, "ELOOP");
      assert.equal(noLinks.syscall, "openat2");
      // Through the link without the flag: fine.
      const vialink = await ring.openat2(sub, "link", { flags: O_RDONLY | O_CLOEXEC });
      await ring.closeFd(vialink);
      await rejectsKernel(() => ring.openat2(sub, "missing", { flags: O_RDONLY }), "ENOENT", "openat2");
    } finally {
      await ring.closeFd(sub);
    }
  }));

test("closeFd: closes the fd (it disappears from /proc/self/fd); a closed fd is EBADF", () =>
  withTempDir(async (dir) => {
    const fd = await open(join(dir, "c"), O_WRONLY | O_CREAT);
    assert.ok(fdOpen(fd));
    assert.equal(await ring.closeFd(fd), 0);
    assert.equal(fdOpen(fd), false);
    await rejectsKernel(() => ring.closeFd(fd), "EBADF", "close");
    await rejectsKernel(() => ring.write(fd, new Uint8Array(1)), "EBADF", "write");
    await rejectsKernel(() => ring.read(fd, new Uint8Array(1)), "EBADF", "read");
    await rejectsKernel(() => ring.read(999_999, new Uint8Array(1)), "EBADF", "read");
    await rejectsKernel(() => ring.readv(-5, [new Uint8Array(1)]), "EBADF", "readv");
  }));

test("statx: size, type, mode, links and inode agree with the file system", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "s");
    writeFileSync(path, pattern(12_345), { mode: 0o640 });
    linkSync(path, join(dir, "s2"));
    const st = await ring.statx(CWD, path);
    const ref = statSync(path);
    assert.equal(st.size, 12_345);
    assert.equal(st.isFile, true);
    assert.equal(st.isDirectory, false);
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.nlink, 2);
    assert.equal(st.ino, Number(ref.ino));
    assert.equal(st.uid, ref.uid);
    assert.ok(Math.abs(st.mtimeMs - ref.mtimeMs) < 1, `${st.mtimeMs} vs ${ref.mtimeMs}`);
    assert.ok(st.blocks * 512 >= 12_345);
    const d = await ring.statx(CWD, dir);
    assert.equal(d.isDirectory, true);
    assert.equal(d.isFile, false);
    const e = await rejectsKernel(() => ring.statx(CWD, join(dir, "none")), "ENOENT", "statx");
    assert.ok(e.message.includes("none"));
  }));

test("unlinkat: removes files, and directories with AT_REMOVEDIR", () =>
  withTempDir(async (dir) => {
    writeFileSync(join(dir, "f"), "x");
    mkdirSync(join(dir, "d"));
    assert.equal(await ring.unlinkat(CWD, join(dir, "f")), 0);
    assert.equal(existsSync(join(dir, "f")), false);
    await rejectsKernel(() => ring.unlinkat(CWD, join(dir, "f")), "ENOENT", "unlinkat");
    const isDir = await ring.unlinkat(CWD, join(dir, "d")).catch((e) => e);
    assert.equal(isDir.code, "EISDIR");
    assert.equal(await ring.unlinkat(CWD, join(dir, "d"), AT_REMOVEDIR), 0);
    assert.equal(existsSync(join(dir, "d")), false);
  }));

test("renameat: moves the file; RENAME_NOREPLACE refuses to overwrite", () =>
  withTempDir(async (dir) => {
    writeFileSync(join(dir, "a"), "A");
    writeFileSync(join(dir, "b"), "B");
    const ino = statSync(join(dir, "a")).ino;
    assert.equal(await ring.renameat(CWD, join(dir, "a"), CWD, join(dir, "c")), 0);
    assert.equal(existsSync(join(dir, "a")), false);
    assert.equal(readFileSync(join(dir, "c"), "utf8"), "A");
    assert.equal(statSync(join(dir, "c")).ino, ino);
    const e = await rejectsKernel(
      () => ring.renameat(CWD, join(dir, "c"), CWD, join(dir, "b"), RENAME_NOREPLACE),
      "EEXIST",
      "renameat",
    );
    assert.ok(e.message.includes(`${join(dir, "c")} -> ${join(dir, "b")}`), e.message);
    assert.equal(readFileSync(join(dir, "b"), "utf8"), "B");
    // Without the flag it replaces.
    assert.equal(await ring.renameat(CWD, join(dir, "c"), CWD, join(dir, "b")), 0);
    assert.equal(readFileSync(join(dir, "b"), "utf8"), "A");
  }));

test("mkdirat: creates a directory with the mode; EEXIST the second time", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "nd");
    assert.equal(await ring.mkdirat(CWD, path, 0o700), 0);
    assert.ok(statSync(path).isDirectory());
    assert.equal(statSync(path).mode & 0o777, 0o700);
    await rejectsKernel(() => ring.mkdirat(CWD, path), "EEXIST", "mkdirat");
    await rejectsKernel(() => ring.mkdirat(CWD, join(dir, "no", "such")), "ENOENT", "mkdirat");
  }));

test("symlinkat and linkat: a symlink to the target, and a hard link to the same inode", () =>
  withTempDir(async (dir) => {
    writeFileSync(join(dir, "t"), "target");
    const dirfd = await ring.openat(CWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    try {
      assert.equal(await ring.symlinkat("t", dirfd, "sym"), 0);
      assert.ok(lstatSync(join(dir, "sym")).isSymbolicLink());
      assert.equal(readlinkSync(join(dir, "sym")), "t");
      assert.equal(readFileSync(join(dir, "sym"), "utf8"), "target");
      await rejectsKernel(() => ring.symlinkat("t", dirfd, "sym"), "EEXIST", "symlinkat");

      assert.equal(await ring.linkat(dirfd, "t", dirfd, "hard"), 0);
      assert.equal(statSync(join(dir, "hard")).ino, statSync(join(dir, "t")).ino);
      assert.equal(statSync(join(dir, "t")).nlink, 2);
      await rejectsKernel(() => ring.linkat(dirfd, "missing", dirfd, "h2"), "ENOENT", "linkat");
    } finally {
      await ring.closeFd(dirfd);
    }
  }));

test("timeout: resolves with 0 after the delay, or early once `count` completions were posted", async () => {
  let t0 = performance.now();
  assert.equal(await ring.timeout(40), 0);
  const waited = performance.now() - t0;
  assert.ok(waited >= 38 && waited < 2000, `${waited} ms`);
  // count: 3 nops complete it long before its 10 s.
  t0 = performance.now();
  const counted = ring.timeout(10_000, { count: 3 });
  await Promise.all([ring.nop(), ring.nop(), ring.nop()]);
  assert.equal(await counted, 0);
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(await ring.timeout(0), 0);
  assert.equal(await ring.timeout(1.5), 0);
});

test("timeout: an absolute time in the past (1 ms after boot) fires at once", async () => {
  const t0 = performance.now();
  assert.equal(await ring.timeout(1, { absolute: true }), 0);
  assert.ok(performance.now() - t0 < 1000);
});

skipUnless(
  monotonicMs() === null ? "reading CLOCK_MONOTONIC from /proc/timer_list needs root" : null,
  "timeout: an absolute time is a CLOCK_MONOTONIC deadline, not a delay",
  async () => {
    const now = monotonicMs()!;
    const t0 = performance.now();
    assert.equal(await ring.timeout(now + 60, { absolute: true }), 0);
    const waited = performance.now() - t0;
    // As a delay, `now + 60` ms would be the machine's uptime: far longer than this.
    assert.ok(waited >= 30 && waited < 3000, `${waited} ms`);
  },
);

test("pollAdd: on a pipe, waits for POLLIN until data arrives; POLLOUT is ready at once", async () => {
  const [r, w] = pipe();
  try {
    assert.equal(await ring.pollAdd(w, POLLOUT), POLLOUT);
    let fired = false;
    const readable = ring.pollAdd(r, POLLIN).then((v) => {
      fired = true;
      return v;
    });
    await sleep(30);
    assert.equal(fired, false, "POLLIN fired on an empty pipe");
    assert.equal(await ring.write(w, new Uint8Array([1])), 1);
    assert.equal((await readable) & POLLIN, POLLIN);
    await rejectsKernel(() => ring.pollAdd(987_654, POLLIN), "EBADF", "poll_add");
  } finally {
    closeFds(r, w);
  }
});

test("splice: file -> pipe -> file moves the bytes", () =>
  withTempDir(async (dir) => {
    const data = pattern(50_000, 11);
    writeFileSync(join(dir, "src"), data);
    const src = await open(join(dir, "src"), O_RDONLY);
    const dst = await open(join(dir, "dst"), O_WRONLY | O_CREAT);
    const [r, w] = pipe();
    try {
      let moved = 0;
      while (moved < data.length) {
        const n = await ring.splice(src, 1000 + moved, w, -1, Math.min(16_384, data.length - 1000 - moved));
        if (n === 0) break;
        let out = 0;
        while (out < n) out += await ring.splice(r, -1, dst, moved + out, n - out);
        moved += n;
        if (moved >= data.length - 1000) break;
      }
      assert.equal(moved, data.length - 1000);
      assert.deepEqual(readFileSync(join(dir, "dst")), Buffer.from(data.subarray(1000)));
      // Neither end a pipe: the kernel refuses.
      await rejectsKernel(() => ring.splice(src, 0, dst, 0, 10), "EINVAL", "splice");
    } finally {
      await ring.closeFd(src);
      await ring.closeFd(dst);
      closeFds(r, w);
    }
  }));

test("tee: duplicates pipe data into a second pipe without consuming it", async () => {
  const [ar, aw] = pipe();
  const [br, bw] = pipe();
  try {
    const data = pattern(3000, 5);
    assert.equal(await ring.write(aw, data), 3000);
    assert.equal(await ring.tee(ar, bw, 3000), 3000);
    const fromA = new Uint8Array(3000);
    const fromB = new Uint8Array(3000);
    assert.equal(await ring.read(ar, fromA), 3000);
    assert.equal(await ring.read(br, fromB), 3000);
    assert.deepEqual(fromA, data);
    assert.deepEqual(fromB, data);
    // A pipe into itself is refused; a read end as the output is not writable.
    await rejectsKernel(() => ring.tee(ar, aw, 10), "EINVAL", "tee");
    await rejectsKernel(() => ring.tee(ar, br, 10), "EBADF", "tee");
  } finally {
    closeFds(ar, aw, br, bw);
  }
});

test("bad input: a buffer too small, bad offsets and lengths reject with EINVAL and a hint, before the kernel", async () => {
  const buf = new Uint8Array(8);
  const enters = ring.stats.enters;
  let e = await rejectsKernel(() => ring.read(0, buf, 0, 9), "EINVAL", "read");
  assert.match(e.hint!, /length must be an integer from 0 to the buffer's 8 bytes/);
  e = await rejectsKernel(() => ring.write(1, buf, 0, 100), "EINVAL", "write");
  assert.match(e.message, /100 bytes/);
  for (const offset of [-2, -5, NaN, 1.5, Infinity, 2 ** 53]) {
    e = await rejectsKernel(() => ring.read(0, buf, offset), "EINVAL", "read");
    assert.match(e.hint!, /offset must be a safe integer >= 0, or -1/);
    await rejectsKernel(() => ring.write(1, buf, offset), "EINVAL", "write");
    await rejectsKernel(() => ring.readv(0, [buf], offset), "EINVAL", "readv");
  }
  for (const length of [-1, NaN, 2.5]) await rejectsKernel(() => ring.read(0, buf, 0, length), "EINVAL", "read");
  await rejectsKernel(() => ring.readv(0, []), "EINVAL", "readv");
  await rejectsKernel(() => ring.writev(1, [buf, "x" as unknown as Uint8Array]), "EINVAL", "writev");
  await rejectsKernel(() => ring.read(0, [1, 2, 3] as unknown as Uint8Array), "EINVAL", "read");
  await rejectsKernel(() => ring.fallocate(0, 0, 0, -1), "EINVAL", "fallocate");
  await rejectsKernel(() => ring.fadvise(0, -3, 0, 0), "EINVAL", "fadvise");
  await rejectsKernel(() => ring.splice(0, -2, 1, -1, 10), "EINVAL", "splice");
  await rejectsKernel(() => ring.tee(0, 1, NaN), "EINVAL", "tee");
  for (const ms of [-1, NaN, Infinity]) {
    e = await rejectsKernel(() => ring.timeout(ms), "EINVAL", "timeout");
    assert.match(e.hint!, /finite number of milliseconds/);
  }
  // A transferred (detached) buffer and a resizable one can't be lent.
  const moved = new Uint8Array(16);
  structuredClone(moved.buffer, { transfer: [moved.buffer] });
  e = await rejectsKernel(() => ring.read(0, moved), "EINVAL", "read");
  assert.match(e.hint!, /detached/);
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
  e = await rejectsKernel(() => ring.read(0, new Uint8Array(new Resizable(16, { maxByteLength: 64 }))), "EINVAL", "read");
  assert.match(e.hint!, /resizable/);
  assert.equal(ring.stats.enters, enters, "nothing reached the kernel");
  assert.equal(ring.pending, 0);
});

test("ops: the file's ring ends with nothing pending and closes", () => {
  assert.equal(ring.pending, 0);
  assert.equal(ring.cqReady(), 0);
  ring.close();
  assert.equal(ring.closed, true);
});
