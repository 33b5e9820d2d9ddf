/**
 * kernelkit: the Linux kernel's CPU-saving fast paths for Deno and Bun.
 *
 * io_uring rings, zero-copy transfer, eBPF and XDP, and huge pages, from
 * TypeScript over FFI, with no compiled addon.
 *
 * @module
 */
export { doctor, type DoctorReport, type DoctorRow } from "./system/doctor.ts";
export { errnoName, errnoText, errnoValue, KernelError, type KernelErrorInit, notSupported } from "./errors.ts";
