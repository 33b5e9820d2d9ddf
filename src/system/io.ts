/**
 * Blocking `read`, `write`, `pread`, `pwrite` and `closeFd` through libc: the
 * classic path, one system call per call.
 *
 * They exist so that the classic path can be measured from the same process
 * and through the same FFI as the fast paths (`kernelkit tour` times one
 * `pread` per 4 KiB read against a batched ring), and for small, rare I/O on
 * fds kernelkit opened, where a ring is not worth it. Each call blocks the JS
 * thread until the kernel returns; for anything on a hot path, use a `Ring`.
 *
 * ```ts
 * const buf = new Uint8Array(4096);
 * const n = pread(fd, buf, 8192); // one pread64(2): bytes read, 0 at end of file
 * ```
 *
 * @module
 */
import { unlendable, viewAddress } from "../../ffi/runtime/address.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { checkFd, errno, sys } from "../native.ts";

function lend(syscall: string, fd: number, buffer: ArrayBufferView, length: number | undefined): number {
  const why = unlendable(buffer);
  const n = length ?? buffer.byteLength;
  if (why !== null || !Number.isSafeInteger(n) || n < 0 || n > buffer.byteLength) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall,
      subject: `fd ${fd}`,
      hint: why ?? `length must be an integer from 0 to the buffer's ${buffer.byteLength} bytes, got ${n}`,
    });
  }
  return n;
}

function checkOffset(syscall: string, fd: number, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall,
      subject: `fd ${fd}`,
      hint: `offset must be a safe integer >= 0, got ${offset}`,
    });
  }
}

/** Runs one call, retrying on EINTR; throws a KernelError for any other failure. */
function retry(syscall: string, fd: number, call: () => number): number {
  for (;;) {
    const r = call();
    if (r >= 0) return r;
    const e = errno();
    if (e !== ERRNO.EINTR) throw new KernelError({ errno: e, syscall, subject: `fd ${fd}` });
  }
}

/**
 * pread(2): reads up to `length` bytes (default: the buffer's length) from
 * `fd` at `offset`, without moving the file position. Returns the bytes
 * read, 0 at end of file. Blocks the JS thread; throws a KernelError (EBADF,
 * EISDIR, ESPIPE ...) on failure.
 */
export function pread(fd: number, buffer: ArrayBufferView, offset: number, length?: number): number {
  fd = checkFd(fd, "pread64");
  const n = lend("pread64", fd, buffer, length);
  checkOffset("pread64", fd, offset);
  const address = viewAddress(buffer);
  return retry("pread64", fd, () => sys().pread64(fd, address, n, offset));
}

/**
 * pwrite(2): writes up to `length` bytes (default: the buffer's length) to
 * `fd` at `offset`, without moving the file position. Returns the bytes
 * written, which may be fewer than asked. Blocks the JS thread; throws a
 * KernelError on failure.
 */
export function pwrite(fd: number, buffer: ArrayBufferView, offset: number, length?: number): number {
  fd = checkFd(fd, "pwrite64");
  const n = lend("pwrite64", fd, buffer, length);
  checkOffset("pwrite64", fd, offset);
  const address = viewAddress(buffer);
  return retry("pwrite64", fd, () => sys().pwrite64(fd, address, n, offset));
}

/**
 * read(2): reads up to `length` bytes (default: the buffer's length) from
 * `fd` at its file position. Returns the bytes read, 0 at end of file (or
 * when a socket's peer finished sending). Blocks the JS thread; on a
 * non-blocking fd with nothing to read it throws a KernelError (EAGAIN).
 */
export function read(fd: number, buffer: ArrayBufferView, length?: number): number {
  fd = checkFd(fd, "read");
  const n = lend("read", fd, buffer, length);
  const address = viewAddress(buffer);
  return retry("read", fd, () => sys().read(fd, address, n));
}

/**
 * write(2): writes up to `length` bytes (default: the buffer's length) to
 * `fd`. Returns the bytes written, which may be fewer than asked (a socket
 * whose buffer filled up): loop until all is written. Blocks the JS thread;
 * throws a KernelError on failure (EPIPE when a socket's peer is gone).
 */
export function write(fd: number, buffer: ArrayBufferView, length?: number): number {
  fd = checkFd(fd, "write");
  const n = lend("write", fd, buffer, length);
  const address = viewAddress(buffer);
  return retry("write", fd, () => sys().write(fd, address, n));
}

/**
 * close(2): closes `fd` now. For fds that no object owns (a file opened with
 * `ring.openat`); a `TcpSocket`, `Ring` or `Mapping` closes its own. Closing an
 * fd that is not open throws a KernelError (EBADF).
 */
export function closeFd(fd: number): void {
  fd = checkFd(fd, "close");
  // No retry on EINTR: Linux has released the fd even then, and a retry could close a reused one.
  if (sys().close(fd) < 0) {
    const e = errno();
    if (e !== ERRNO.EINTR) throw new KernelError({ errno: e, syscall: "close", subject: `fd ${fd}` });
  }
}
