import assert from "node:assert/strict";
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";
import { KernelError, mapFile } from "../src/mod.ts";

guardFile();

const dir = mkdtempSync(join(tmpdir(), "kernelkit-mapfile-"));
const GiB = 2 ** 30;

function throwsKernel(fn: () => unknown, code: string): KernelError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof KernelError, `not a KernelError: ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`did not throw ${code}`);
}

/** `n` bytes where byte i is i * 7 mod 251. */
const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 251);

test("mapFile: an empty file gives an empty view; close and sync are harmless", () => {
  const path = join(dir, "empty");
  writeFileSync(path, "");
  for (const mode of ["r", "rw"] as const) {
    const f = mapFile(path, { mode });
    assert.equal(f.bytes.length, 0);
    assert.equal(f.size, 0);
    assert.equal(f.address, 0);
    assert.equal(f.residency().rss, 0);
    f.sync();
    f.close();
    f.close();
    assert.equal(f.closed, true);
  }
  // Length 0 of a longer file is empty too.
  writeFileSync(path, "abc");
  using f = mapFile(path, { offset: 3 });
  assert.equal(f.bytes.length, 0);
});

test("mapFile: a 1-byte file round-trips in rw mode and reads back in r mode", () => {
  const path = join(dir, "one");
  writeFileSync(path, "a");
  {
    using f = mapFile(path, { mode: "rw" });
    assert.equal(f.bytes.length, 1);
    assert.equal(f.bytes[0], 0x61);
    f.bytes[0] = 0x62;
    f.sync();
  }
  assert.equal(readFileSync(path, "utf8"), "b");
  using r = mapFile(path);
  assert.equal(r.mode, "r");
  assert.equal(String.fromCharCode(r.bytes[0]), "b");
});

test("mapFile: r mode is private: writes to the view never reach the file", () => {
  const path = join(dir, "private");
  writeFileSync(path, "hello");
  {
    using f = mapFile(path);
    f.bytes[0] = 0x4a;
    assert.equal(f.bytes[0], 0x4a);
  }
  {
    using f = mapFile(path, { mode: "rw", shared: false });
    f.bytes[1] = 0x41;
    f.sync();
  }
  assert.equal(readFileSync(path, "utf8"), "hello");
});

test("mapFile: a 3 GiB sparse file round-trips, touching only a few pages", () => {
  const path = join(dir, "sparse");
  const fd = openSync(path, "w");
  ftruncateSync(fd, 3 * GiB);
  closeSync(fd);
  const spots = [0, 1.5 * GiB + 3, 3 * GiB - 1];
  {
    using f = mapFile(path, { mode: "rw", advice: "random" });
    assert.equal(f.size, 3 * GiB);
    for (const at of spots) {
      assert.equal(f.bytes[at], 0);
      f.bytes[at] = 0x5a;
    }
    f.sync();
    assert.ok(f.residency().rss <= 64 * 4096, `rss ${f.residency().rss}`);
  }
  const one = new Uint8Array(1);
  const rfd = openSync(path, "r");
  try {
    for (const at of spots) {
      readSync(rfd, one, 0, 1, at);
      assert.equal(one[0], 0x5a, `byte at ${at}`);
    }
  } finally {
    closeSync(rfd);
  }
  const st = statSync(path);
  assert.equal(st.size, 3 * GiB);
  assert.ok(st.blocks * 512 <= 1024 * 1024, `the file stayed sparse: ${st.blocks * 512} bytes allocated`);
  rmSync(path);
});

test("mapFile: offsets that aren't page-aligned are handled", () => {
  const path = join(dir, "offset");
  const data = pattern(3 * 4096 + 100);
  writeFileSync(path, data);
  for (const [offset, length] of [[1, 10], [4097, 5000], [8191, 4197], [12_387, 1]]) {
    using f = mapFile(path, { offset, length });
    assert.equal(f.offset, offset);
    assert.equal(f.address % 4096, offset % 4096);
    assert.deepEqual(f.bytes, data.subarray(offset, offset + length));
  }
  {
    using f = mapFile(path, { mode: "rw", offset: 4097 });
    assert.equal(f.size, data.length - 4097);
    f.bytes[0] = 0xee;
    f.sync({ wait: false });
  }
  assert.equal(readFileSync(path)[4097], 0xee);
});

test("mapFile: bad input is a KernelError that names the call", () => {
  const path = join(dir, "small");
  writeFileSync(path, "0123456789");
  assert.equal(throwsKernel(() => mapFile(join(dir, "missing")), "ENOENT").syscall, "open");
  throwsKernel(() => mapFile(dir), "EISDIR");
  throwsKernel(() => mapFile("/dev/null"), "ENODEV");
  throwsKernel(() => mapFile(path, { offset: 11 }), "EINVAL");
  const past = throwsKernel(() => mapFile(path, { offset: 5, length: 6 }), "EINVAL");
  assert.match(past.hint!, /SIGBUS/);
  for (const offset of [-1, 1.5, NaN]) throwsKernel(() => mapFile(path, { offset }), "EINVAL");
  throwsKernel(() => mapFile(path, { length: -2 }), "EINVAL");
  throwsKernel(() => mapFile(path, { mode: "w" as "rw" }), "EINVAL");
  throwsKernel(() => mapFile(path, { advice: "backwards" as "random" }), "EINVAL");
  const f = mapFile(path);
  f.close();
  assert.equal(throwsKernel(() => f.sync(), "EBADF").syscall, "msync");
});

test("mapFile: cleanup", () => {
  rmSync(dir, { recursive: true, force: true });
});
