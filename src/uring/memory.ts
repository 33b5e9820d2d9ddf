/**
 * Argument memory of io_uring ops: iovec arrays, timespecs, and the table of
 * registered (fixed) buffers.
 *
 * @module
 */
import { viewAddress } from "../../ffi/runtime/address.ts";
import { IORING_REGISTER_BUFFERS, IORING_UNREGISTER_BUFFERS } from "../../ffi/structs/io_uring.ts";
import { __kernel_timespec } from "../../ffi/structs/time.ts";
import { iovec, UIO_MAXIOV } from "../../ffi/structs/uio.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { checkNegative, liburing } from "../native.ts";

/** Checks a view can be lent for `length` bytes and returns its address (see ring.ts). */
export type Lend = (op: string, fd: number, view: ArrayBufferView, length: number) => number;

const iovBase = iovec.writer("iov_base");
const iovLen = iovec.writer("iov_len");

/** A struct iovec array describing `buffers`, as JS memory to keep with the op. */
export function iovecs(op: string, fd: number, buffers: readonly ArrayBufferView[], lend: Lend): Uint8Array {
  if (buffers.length === 0 || buffers.length > UIO_MAXIOV) {
    throw new KernelError({
      errno: 22,
      syscall: op,
      subject: `fd ${fd}, ${buffers.length} buffers`,
      hint: `pass from 1 to ${UIO_MAXIOV} buffers`,
    });
  }
  const bytes = iovec.alloc(buffers.length);
  const view = new DataView(bytes.buffer);
  buffers.forEach((b, i) => {
    iovBase(view, i * iovec.size, lend(op, fd, b, b.byteLength));
    iovLen(view, i * iovec.size, b.byteLength);
  });
  return bytes;
}

/** A struct __kernel_timespec of `ms` milliseconds, as JS memory to keep with the op. */
export function timespec(op: string, ms: number): Uint8Array {
  // Past 2^53 ms the seconds no longer fit the timespec's halves: 1e300 ms used to expire at once.
  if (!Number.isFinite(ms) || ms < 0 || ms > Number.MAX_SAFE_INTEGER) {
    throw new KernelError({
      errno: 22,
      syscall: op,
      subject: `${ms} ms`,
      hint: "the time must be a finite number of milliseconds from 0 to 2^53 - 1",
    });
  }
  const bytes = __kernel_timespec.alloc();
  const view = new DataView(bytes.buffer);
  const sec = Math.floor(ms / 1000);
  __kernel_timespec.write(view, 0, "tv_sec", sec);
  __kernel_timespec.write(view, 0, "tv_nsec", Math.round((ms - sec * 1000) * 1e6));
  return bytes;
}

/** The largest buffer IORING_REGISTER_BUFFERS accepts: 1 GiB (the kernel's io_buffer_validate). */
export const MAX_REGISTERED_BUFFER = 2 ** 30;

/** Buffers registered with a ring, found by address for READ_FIXED and WRITE_FIXED. */
export class FixedBuffers {
  readonly #starts: number[];
  readonly #ends: number[];
  /** The registered views and their iovec array: kept alive while registered. */
  readonly keep: readonly unknown[];

  private constructor(starts: number[], ends: number[], keep: unknown[]) {
    this.#starts = starts;
    this.#ends = ends;
    this.keep = keep;
  }

  /** IORING_REGISTER_BUFFERS of `buffers` on the ring `ringFd`. */
  static register(ringFd: number, buffers: readonly ArrayBufferView[], lend: Lend): FixedBuffers {
    // The kernel takes at most 1 GiB per registered buffer and answers EFAULT beyond it (io_buffer_validate).
    const big = buffers.findIndex((b) => b.byteLength > MAX_REGISTERED_BUFFER);
    if (big >= 0) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "io_uring_register",
        subject: `IORING_REGISTER_BUFFERS, buffer ${big} of ${buffers[big].byteLength} bytes`,
        hint: "the kernel registers at most 1 GiB per buffer: register a large mapping as several subarrays of up to 1 GiB",
      });
    }
    const iov = iovecs("io_uring_register", ringFd, buffers, lend);
    checkNegative(
      liburing().symbols.io_uring_register(ringFd, IORING_REGISTER_BUFFERS, viewAddress(iov), buffers.length),
      "io_uring_register",
      { subject: `IORING_REGISTER_BUFFERS, ${buffers.length} buffers` },
    );
    const starts = buffers.map((b) => viewAddress(b));
    return new FixedBuffers(starts, buffers.map((b, i) => starts[i] + b.byteLength), [iov, ...buffers]);
  }

  /** IORING_UNREGISTER_BUFFERS. */
  unregister(ringFd: number): void {
    checkNegative(
      liburing().symbols.io_uring_register(ringFd, IORING_UNREGISTER_BUFFERS, 0, 0),
      "io_uring_register",
      { subject: "IORING_UNREGISTER_BUFFERS" },
    );
  }

  /** The index of the registered buffer holding [addr, addr + length), or -1. */
  indexOf(addr: number, length: number): number {
    for (let i = 0; i < this.#starts.length; i++) {
      if (addr >= this.#starts[i] && addr + length <= this.#ends[i]) return i;
    }
    return -1;
  }
}
