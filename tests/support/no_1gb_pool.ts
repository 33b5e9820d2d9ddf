/**
 * Child process for tests/hugepages.test.ts, run in a mount namespace where
 * /sys/kernel/mm/hugepages lists no 1 GiB pool: asks for "1GB" pages and
 * prints the error as JSON.
 */
import { KernelError, mapMemory } from "../../src/mod.ts";

try {
  mapMemory(2 ** 30, { pages: "1GB" }).close();
  console.log(JSON.stringify({ mapped: true }));
} catch (e) {
  if (!(e instanceof KernelError)) throw e;
  console.log(JSON.stringify({ code: e.code, syscall: e.syscall, feature: e.feature, message: e.message }));
}
