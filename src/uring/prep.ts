/**
 * The batch API: queue SQEs yourself, submit when you choose, drain
 * completions into a reused array. For loops that drive the ring directly:
 *
 * ```ts
 * for (let i = 0; i < 32; i++) ring.prep.read(fd, bufs[i], i * 4096, i);
 * ring.submit();
 * for (const c of ring.completions()) use(c.userData, c.res);
 * ```
 *
 * Buffers given to a prep stay referenced until their completion is reaped.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import type { FixedBuffers } from "./memory.ts";
import * as ops from "./ops.ts";

/** The batch API's per-op context: the completion's user data and the SQE flags. */
export interface PrepContext {
  /** Reported back in the Completion (a u32). */
  userData: number;
  /** IOSQE_* flags. */
  flags: number;
}

function userData(value: number, op: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: op,
      subject: `userData ${value}`,
      hint: "userData is a u32 the Completion reports back: an integer from 0 to 2^32 - 1",
    });
  }
  return value;
}

/** `ring.prep`: one method per op, each taking the op's arguments and then `userData`. */
export class Prep {
  readonly #sink: ops.Sink<PrepContext, void>;
  readonly #fixed: () => FixedBuffers | undefined;
  readonly #assertOpen: (op: string) => void;
  readonly #ctx: PrepContext = { userData: 0, flags: 0 };
  #nextFlags = 0;

  /** Built by the Ring; not for direct use. */
  constructor(sink: ops.Sink<PrepContext, void>, fixed: () => FixedBuffers | undefined, assertOpen: (op: string) => void = () => {}) {
    this.#sink = sink;
    this.#fixed = fixed;
    this.#assertOpen = assertOpen;
  }

  #context(data: number, op: string): PrepContext {
    // Evaluated before the op's own argument checks: on a closed ring, EBADF comes first.
    this.#assertOpen(op);
    this.#ctx.userData = userData(data, op);
    this.#ctx.flags = this.#nextFlags;
    this.#nextFlags = 0;
    return this.#ctx;
  }

  /** IOSQE_* flags (IOSQE_IO_LINK, IOSQE_FIXED_FILE, ...) for the next prep only. */
  flags(flags: number): this {
    this.#nextFlags = flags;
    return this;
  }

  /** IORING_OP_NOP. */
  nop(userData: number): void {
    ops.nop(this.#sink, this.#context(userData, "nop"));
  }

  /** pread(2). */
  read(fd: number, buffer: ArrayBufferView, offset: number, userData: number, length: number = buffer.byteLength): void {
    ops.read(this.#sink, this.#context(userData, "read"), fd, buffer, offset, length);
  }

  /** pwrite(2). */
  write(fd: number, buffer: ArrayBufferView, offset: number, userData: number, length: number = buffer.byteLength): void {
    ops.write(this.#sink, this.#context(userData, "write"), fd, buffer, offset, length);
  }

  /** preadv(2). */
  readv(fd: number, buffers: readonly ArrayBufferView[], offset: number, userData: number): void {
    ops.readv(this.#sink, this.#context(userData, "readv"), fd, buffers, offset);
  }

  /** pwritev(2). */
  writev(fd: number, buffers: readonly ArrayBufferView[], offset: number, userData: number): void {
    ops.writev(this.#sink, this.#context(userData, "writev"), fd, buffers, offset);
  }

  /** IORING_OP_READ_FIXED into a registered buffer. */
  readFixed(fd: number, buffer: ArrayBufferView, offset: number, userData: number, length: number = buffer.byteLength): void {
    ops.readFixed(this.#sink, this.#context(userData, "read_fixed"), this.#fixed(), fd, buffer, offset, length);
  }

  /** IORING_OP_WRITE_FIXED from a registered buffer. */
  writeFixed(fd: number, buffer: ArrayBufferView, offset: number, userData: number, length: number = buffer.byteLength): void {
    ops.writeFixed(this.#sink, this.#context(userData, "write_fixed"), this.#fixed(), fd, buffer, offset, length);
  }

  /** fsync(2) (fdatasync with `datasync`). */
  fsync(fd: number, userData: number, datasync = false): void {
    ops.fsync(this.#sink, this.#context(userData, "fsync"), fd, datasync);
  }

  /** openat(2); the completion's res is the new fd. */
  openat(dirfd: number, path: string, flags: number, mode: number, userData: number): void {
    ops.openat(this.#sink, this.#context(userData, "openat"), dirfd, path, flags, mode);
  }

  /** close(2). */
  closeFd(fd: number, userData: number): void {
    ops.closeFd(this.#sink, this.#context(userData, "close"), fd);
  }

  /** IORING_OP_TIMEOUT of `ms`, or after `count` completions. */
  timeout(ms: number, userData: number, count = 0): void {
    ops.timeout(this.#sink, this.#context(userData, "timeout"), ms, count, false);
  }

  /** splice(2). */
  splice(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number, flags: number, userData: number): void {
    ops.splice(this.#sink, this.#context(userData, "splice"), fdIn, offIn, fdOut, offOut, length, flags);
  }
}
