/**
 * kernelkit: the Linux kernel's CPU-saving fast paths for Deno and Bun.
 *
 * io_uring rings, zero-copy transfer, eBPF and XDP, and huge pages, from
 * TypeScript over FFI, with no compiled addon.
 *
 * @module
 */
export { errnoName, errnoText, errnoValue, KernelError, type KernelErrorInit, notSupported } from "./errors.ts";
