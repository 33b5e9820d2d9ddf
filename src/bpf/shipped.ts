/**
 * The BPF objects shipped in kernelkit's `bpf/` directory, found next to the
 * source that loads them.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";

/** The path of `bpf/<file>` in this copy of kernelkit; ENOENT when kernelkit is not on a local file system. */
export function shippedObjectPath(file: string): string {
  const url = new URL(`../../bpf/${file}`, import.meta.url);
  if (url.protocol !== "file:") {
    throw new KernelError({
      errno: ERRNO.ENOENT,
      syscall: "open",
      subject: url.href,
      message: `the shipped BPF object is not a local file (${url.href})`,
      hint: `pass \`object\` with the path or bytes of ${file}`,
    });
  }
  return fileURLToPath(url);
}
