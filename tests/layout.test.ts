import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { guardFile, skipUnless, test } from "./harness.ts";
import { declarationsOf, mismatches } from "./support/layout_check.ts";
import { array, i32, struct, u16, u32, u64, u8, union } from "../ffi/layout.ts";
import * as uring from "../ffi/structs/io_uring.ts";

guardFile();

function gccMissing(): string | null {
  try {
    execFileSync("gcc", ["--version"], { stdio: "ignore" });
    return null;
  } catch {
    return "gcc is not installed (apt-get install gcc)";
  }
}

const structsDir = new URL("../ffi/structs/", import.meta.url);
const modules = readdirSync(structsDir).filter((f) => f.endsWith(".ts")).sort();

test("ffi/structs has declaration modules", () => {
  assert.ok(modules.length >= 5, `only ${modules.join(", ")}`);
});

for (const file of modules) {
  skipUnless(gccMissing(), `layout: ffi/structs/${file} matches the C headers`, async () => {
    const mod = await import(new URL(file, structsDir).href);
    const d = declarationsOf(mod);
    assert.ok(d.headers.length > 0, `${file} exports no HEADERS`);
    assert.ok(d.structs.size + d.constants.size > 0, `${file} declares nothing`);
    assert.deepEqual(mismatches(d), []);
  });
}

skipUnless(gccMissing(), "layout: a single wrong offset is caught", () => {
  // io_uring_cqe with res and flags swapped: same size, two wrong offsets.
  const wrong = struct("io_uring_cqe", [["user_data", u64], ["flags", u32], ["res", i32]]);
  const bad = mismatches({
    headers: ["linux/io_uring.h"],
    structs: new Map([["io_uring_cqe", wrong]]),
    constants: new Map([["IORING_OP_READ", 23]]),
  });
  assert.equal(bad.length, 3, bad.join("\n"));
});

test("layout DSL follows the C rules for padding, unions and packing", () => {
  const s = struct("t", [["a", u8], ["b", u64], ["c", u16]]);
  assert.deepEqual([s.size, s.align, s.offsetof("b"), s.offsetof("c")], [24, 8, 8, 16]);
  const p = struct("p", [["a", u8], ["b", u32]], { packed: true });
  assert.deepEqual([p.size, p.align, p.offsetof("b")], [5, 1, 1]);
  const u = union("u", [["x", u8], ["y", array(u32, 3)]]);
  assert.deepEqual([u.size, u.align], [12, 4]);
  const n = struct("n", [["h", u16], ["", union("", [["v", u32], ["w", u16]])], ["inner", s]]);
  assert.deepEqual([n.offsetof("v"), n.offsetof("w"), n.offsetof("inner.c"), n.size], [4, 4, 24, 32]);
  assert.throws(() => n.offsetof("nope"), RangeError);
});

test("layout accessors round-trip u64 halves without BigInt", () => {
  const sqe = uring.io_uring_sqe;
  const dv = new DataView(new ArrayBuffer(sqe.size * 2));
  const base = sqe.size;
  sqe.writer("addr")(dv, base, 2 ** 47 + 12345);
  assert.equal(sqe.reader("addr")(dv, base), 2 ** 47 + 12345);
  assert.equal(sqe.readBigInt(dv, base, "addr"), 2n ** 47n + 12345n);
  sqe.write(dv, base, "fd", -1);
  assert.equal(sqe.read(dv, base, "fd"), -1);
  sqe.writer("off")(dv, base, -1);
  assert.equal(sqe.readBigInt(dv, base, "off"), 2n ** 64n - 1n);
  assert.equal(dv.getUint32(0, true), 0, "wrote outside the base");
});

test("IORING_OP_NAMES index the opcodes", () => {
  uring.IORING_OP_NAMES.forEach((name, i) => {
    assert.equal((uring as Record<string, unknown>)[`IORING_OP_${name.toUpperCase()}`], i, name);
  });
  assert.equal(uring.IORING_OP_NAMES.length, uring.IORING_OP_LAST);
});
