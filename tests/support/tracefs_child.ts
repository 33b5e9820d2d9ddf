/**
 * Child process for tests/trace.test.ts, run in a mount namespace where
 * tracefs has been unmounted: reports whether tracefs was there, then calls
 * ensureTracefs() and prints the outcome (the directory, or the KernelError)
 * as one JSON line.
 */
import { existsSync } from "node:fs";
import { ensureTracefs, KernelError, TRACEFS_ROOT } from "../../src/mod.ts";

const before = existsSync(`${TRACEFS_ROOT}/events`);
try {
  const root = ensureTracefs();
  console.log(JSON.stringify({ before, root, events: existsSync(`${root}/events/syscalls`) }));
} catch (e) {
  if (!(e instanceof KernelError)) throw e;
  console.log(JSON.stringify({ before, code: e.code, syscall: e.syscall, message: e.message, hint: e.hint }));
}
