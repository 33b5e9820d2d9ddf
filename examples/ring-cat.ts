/**
 * Prints files like cat(1), reading each with one io_uring: the open, the
 * size lookup, every 1 MiB chunk and the close go through the ring.
 *
 *   bun examples/ring-cat.ts /etc/hostname /etc/os-release
 *   deno run -A examples/ring-cat.ts /etc/hostname
 */
import process from "node:process";
import { KernelError, readFile, Ring } from "../src/mod.ts";

using ring = new Ring({ entries: 64 });
for (const path of process.argv.slice(2)) {
  try {
    process.stdout.write(await readFile(path, { ring }));
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    console.error(`ring-cat: ${e.message}`);
    process.exitCode = 1;
  }
}
