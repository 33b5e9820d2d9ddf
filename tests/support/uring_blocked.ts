/**
 * Child process for tests/uring_setup.test.ts: tries to make a ring and
 * prints one JSON line, the KernelError's fields or {"ok": true}. Run under a
 * seccomp filter that denies io_uring_setup.
 */
import { KernelError, Ring } from "../../src/mod.ts";

try {
  new Ring({ entries: 8 }).close();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify(
    e instanceof KernelError
      ? { code: e.code, syscall: e.syscall, hint: e.hint, message: e.message }
      : { other: String(e) },
  ));
}
