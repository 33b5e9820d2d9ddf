import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { SYSCALL_NAMES_X86_64 } from "../ffi/syscall_names.ts";
import { syscallName, syscallNumber } from "../src/mod.ts";

guardFile();

const header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

skipUnless(
  existsSync(header) ? null : `${header} is missing (apt-get install linux-libc-dev)`,
  "syscall names: the generated table matches <asm/unistd_64.h>, both ways",
  () => {
    const defined = new Map<number, string>();
    for (const m of readFileSync(header, "utf8").matchAll(/^#define\s+__NR_(\w+)\s+(\d+)\s*$/gm)) {
      defined.set(Number(m[2]), m[1]);
    }
    assert.ok(defined.size > 300, `only ${defined.size} syscalls in ${header}`);
    const table = new Map(Object.entries(SYSCALL_NAMES_X86_64).map(([nr, name]) => [Number(nr), name]));
    assert.deepEqual([...table].sort((a, b) => a[0] - b[0]), [...defined].sort((a, b) => a[0] - b[0]));
  },
);

test("syscall names: names by number and numbers by name", () => {
  if (process.arch !== "x64") {
    assert.equal(syscallName(110), "syscall_110");
    return;
  }
  assert.equal(syscallName(0), "read");
  assert.equal(syscallName(110), "getppid");
  assert.equal(syscallName(257), "openat");
  assert.equal(syscallName(100_000), "syscall_100000");
  assert.equal(syscallNumber("getppid"), 110);
  assert.equal(syscallNumber("syscall_451"), 451);
  assert.equal(syscallNumber("kk_no_such_call"), undefined);
});
