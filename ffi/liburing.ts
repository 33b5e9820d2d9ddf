/**
 * liburing.so.2: the symbol table.
 *
 * Only the three raw system-call wrappers are bound. liburing 2.3 (Debian 12)
 * exports them as plain functions; its `io_uring_prep_*` helpers are static
 * inline, and the layout of its `struct io_uring` changes between versions, so
 * kernelkit drives the kernel ABI itself over the mmapped rings.
 *
 * @module
 */
import type { LibrarySpec } from "./library.ts";

/** liburing's symbols, each with its C prototype. */
export const liburingSymbols = {
  /** int io_uring_setup(unsigned int entries, struct io_uring_params *p); */
  io_uring_setup: { args: ["u32", "buffer"], returns: "i32" },
  /** int io_uring_enter(unsigned int fd, unsigned int to_submit, unsigned int min_complete, unsigned int flags, sigset_t *sig); */
  io_uring_enter: { args: ["u32", "u32", "u32", "u32", "ptr"], returns: "i32" },
  /** int io_uring_enter2(unsigned int fd, unsigned int to_submit, unsigned int min_complete, unsigned int flags, sigset_t *sig, size_t sz); */
  io_uring_enter2: { args: ["u32", "u32", "u32", "u32", "ptr", "usize"], returns: "i32" },
  /** int io_uring_register(unsigned int fd, unsigned int opcode, const void *arg, unsigned int nr_args); */
  io_uring_register: { args: ["u32", "u32", "ptr", "u32"], returns: "i32" },
  /** int io_uring_major_version(void); liburing 2.4 and later. */
  io_uring_major_version: { args: [], returns: "i32", optional: true },
  /** int io_uring_minor_version(void); liburing 2.4 and later. */
  io_uring_minor_version: { args: [], returns: "i32", optional: true },
} as const;

/** How to find liburing. */
export const liburingSpec: LibrarySpec<typeof liburingSymbols> = {
  name: "liburing",
  candidates: ["liburing.so.2"],
  env: "KERNELKIT_LIBURING",
  package: "liburing2",
  symbols: liburingSymbols,
};
