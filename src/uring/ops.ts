/**
 * How each io_uring op is encoded into an SQE, written once for both API
 * levels: the promise API (`ring.read`) and the batch API (`ring.prep.read`)
 * pass a different sink. Arguments follow the system call each op stands for.
 *
 * Every encoder validates its input and throws a KernelError (EINVAL, named
 * after the op) before anything reaches the kernel.
 *
 * @module
 */
import { unlendable, viewAddress } from "../../ffi/runtime/address.ts";
import { open_how } from "../../ffi/structs/fcntl.ts";
import { msghdr } from "../../ffi/structs/socket.ts";
import {
  IORING_FSYNC_DATASYNC,
  IORING_OP_ACCEPT,
  IORING_OP_CONNECT,
  IORING_OP_RECV,
  IORING_OP_SEND,
  IORING_OP_SEND_ZC,
  IORING_OP_SENDMSG,
  IORING_OP_SHUTDOWN,
  IORING_OP_CLOSE,
  IORING_OP_FADVISE,
  IORING_OP_FALLOCATE,
  IORING_OP_FSYNC,
  IORING_OP_LINK_TIMEOUT,
  IORING_OP_LINKAT,
  IORING_OP_MADVISE,
  IORING_OP_MKDIRAT,
  IORING_OP_NOP,
  IORING_OP_OPENAT,
  IORING_OP_OPENAT2,
  IORING_OP_POLL_ADD,
  IORING_OP_READ,
  IORING_OP_READ_FIXED,
  IORING_OP_READV,
  IORING_OP_RENAMEAT,
  IORING_OP_SPLICE,
  IORING_OP_STATX,
  IORING_OP_SYMLINKAT,
  IORING_OP_TEE,
  IORING_OP_TIMEOUT,
  IORING_OP_UNLINKAT,
  IORING_OP_WRITE,
  IORING_OP_WRITE_FIXED,
  IORING_OP_WRITEV,
  IORING_TIMEOUT_ABS,
} from "../../ffi/structs/io_uring.ts";
import { statx } from "../../ffi/structs/stat.ts";
import { KernelError } from "../errors.ts";
import { checkFd, cString } from "../native.ts";
import { type FixedBuffers, iovecs, timespec } from "./memory.ts";
import { setBufIndex, setFileIndex, setIoprio } from "./sqe.ts";

/** Fills SQE fields beyond the common ones. */
export type Extra = (sqes: Uint32Array, index: number) => void;

/**
 * Where an encoded op goes. `keep` is every piece of memory the kernel will
 * touch; `okErrno` is an errno that means success for this op (ETIME for a
 * timeout); `ctx` is the API level's own argument (op options, user data).
 */
export type Sink<C, R> = (
  opcode: number,
  fd: number,
  off: number,
  addr: number,
  len: number,
  opFlags: number,
  keep: unknown,
  subject: string | undefined,
  extra: Extra | undefined,
  okErrno: number,
  ctx: C,
) => R;

/** errno of an expired timeout, which is its normal end. */
export const ETIME = 62;

function invalid(op: string, subject: string, hint: string): KernelError {
  return new KernelError({ errno: 22, syscall: op, subject, hint });
}

/** Checks that `view` can be lent to the kernel for `length` bytes; returns its address. */
export function lend(op: string, fd: number, view: ArrayBufferView, length: number): number {
  if (!ArrayBuffer.isView(view)) {
    throw invalid(op, `fd ${fd}`, "the buffer must be a typed array or DataView");
  }
  const why = unlendable(view);
  if (why) throw invalid(op, `fd ${fd}`, `the buffer can't be lent to the kernel: ${why}`);
  if (!Number.isInteger(length) || length < 0 || length > view.byteLength) {
    throw invalid(op, `fd ${fd}, ${length} bytes`, `the length must be an integer from 0 to the buffer's ${view.byteLength} bytes`);
  }
  return viewAddress(view);
}

function offset(op: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < -1) {
    throw invalid(op, `offset ${value}`, "the offset must be a safe integer >= 0, or -1 for the current position");
  }
  return value;
}

function count(op: string, what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(op, `${what} ${value}`, `${what} must be a safe integer >= 0`);
  return value;
}

function fixedIndex(op: string, fd: number, fixed: FixedBuffers | undefined, addr: number, length: number): Extra {
  const index = fixed?.indexOf(addr, length) ?? -1;
  if (index < 0) {
    throw invalid(op, `fd ${fd}`, "the buffer is not inside a registered buffer: pass one given to registerBuffers()");
  }
  return (s, i) => setBufIndex(s, i, index);
}

/** IORING_OP_NOP. */
export function nop<C, R>(sink: Sink<C, R>, ctx: C): R {
  return sink(IORING_OP_NOP, -1, 0, 0, 0, 0, undefined, undefined, undefined, 0, ctx);
}

/** pread(2). */
export function read<C, R>(sink: Sink<C, R>, ctx: C, fd: number, buf: ArrayBufferView, off: number, len: number): R {
  const addr = lend("read", fd, buf, len);
  return sink(IORING_OP_READ, fd, offset("read", off), addr, len, 0, buf, undefined, undefined, 0, ctx);
}

/** pwrite(2). */
export function write<C, R>(sink: Sink<C, R>, ctx: C, fd: number, buf: ArrayBufferView, off: number, len: number): R {
  const addr = lend("write", fd, buf, len);
  return sink(IORING_OP_WRITE, fd, offset("write", off), addr, len, 0, buf, undefined, undefined, 0, ctx);
}

/** preadv(2). */
export function readv<C, R>(sink: Sink<C, R>, ctx: C, fd: number, bufs: readonly ArrayBufferView[], off: number): R {
  const iov = iovecs("readv", fd, bufs, lend);
  return sink(IORING_OP_READV, fd, offset("readv", off), viewAddress(iov), bufs.length, 0, [iov, bufs], undefined, undefined, 0, ctx);
}

/** pwritev(2). */
export function writev<C, R>(sink: Sink<C, R>, ctx: C, fd: number, bufs: readonly ArrayBufferView[], off: number): R {
  const iov = iovecs("writev", fd, bufs, lend);
  return sink(IORING_OP_WRITEV, fd, offset("writev", off), viewAddress(iov), bufs.length, 0, [iov, bufs], undefined, undefined, 0, ctx);
}

/** IORING_OP_READ_FIXED: read into a registered buffer. */
export function readFixed<C, R>(
  sink: Sink<C, R>,
  ctx: C,
  fixed: FixedBuffers | undefined,
  fd: number,
  buf: ArrayBufferView,
  off: number,
  len: number,
): R {
  const addr = lend("read_fixed", fd, buf, len);
  const extra = fixedIndex("read_fixed", fd, fixed, addr, len);
  return sink(IORING_OP_READ_FIXED, fd, offset("read_fixed", off), addr, len, 0, buf, undefined, extra, 0, ctx);
}

/** IORING_OP_WRITE_FIXED: write from a registered buffer. */
export function writeFixed<C, R>(
  sink: Sink<C, R>,
  ctx: C,
  fixed: FixedBuffers | undefined,
  fd: number,
  buf: ArrayBufferView,
  off: number,
  len: number,
): R {
  const addr = lend("write_fixed", fd, buf, len);
  const extra = fixedIndex("write_fixed", fd, fixed, addr, len);
  return sink(IORING_OP_WRITE_FIXED, fd, offset("write_fixed", off), addr, len, 0, buf, undefined, extra, 0, ctx);
}

/** fsync(2), or fdatasync(2). */
export function fsync<C, R>(sink: Sink<C, R>, ctx: C, fd: number, datasync: boolean): R {
  return sink(IORING_OP_FSYNC, fd, 0, 0, 0, datasync ? IORING_FSYNC_DATASYNC : 0, undefined, undefined, undefined, 0, ctx);
}

/** fallocate(2). */
export function fallocate<C, R>(sink: Sink<C, R>, ctx: C, fd: number, mode: number, off: number, len: number): R {
  count("fallocate", "length", len);
  return sink(IORING_OP_FALLOCATE, fd, offset("fallocate", off), len, mode, 0, undefined, undefined, undefined, 0, ctx);
}

/** posix_fadvise(2). */
export function fadvise<C, R>(sink: Sink<C, R>, ctx: C, fd: number, off: number, len: number, advice: number): R {
  count("fadvise", "length", len);
  return sink(IORING_OP_FADVISE, fd, offset("fadvise", off), 0, len, advice, undefined, undefined, undefined, 0, ctx);
}

/** madvise(2) over the memory of `view`. */
export function madvise<C, R>(sink: Sink<C, R>, ctx: C, view: ArrayBufferView, advice: number): R {
  const addr = lend("madvise", -1, view, view.byteLength);
  return sink(IORING_OP_MADVISE, -1, 0, addr, view.byteLength, advice, view, undefined, undefined, 0, ctx);
}

/** openat(2). */
export function openat<C, R>(sink: Sink<C, R>, ctx: C, dirfd: number, path: string, flags: number, mode: number): R {
  const p = cString(path, "openat");
  return sink(IORING_OP_OPENAT, dirfd, 0, viewAddress(p), mode, flags, p, path, undefined, 0, ctx);
}

/** openat2(2) with a struct open_how. */
export function openat2<C, R>(
  sink: Sink<C, R>,
  ctx: C,
  dirfd: number,
  path: string,
  flags: number,
  mode: number,
  resolve: number,
): R {
  const p = cString(path, "openat2");
  const how = open_how.alloc();
  const v = new DataView(how.buffer);
  open_how.write(v, 0, "flags", flags);
  open_how.write(v, 0, "mode", mode);
  open_how.write(v, 0, "resolve", resolve);
  return sink(IORING_OP_OPENAT2, dirfd, viewAddress(how), viewAddress(p), open_how.size, 0, [p, how], path, undefined, 0, ctx);
}

/** close(2). */
export function closeFd<C, R>(sink: Sink<C, R>, ctx: C, fd: number): R {
  return sink(IORING_OP_CLOSE, fd, 0, 0, 0, 0, undefined, undefined, undefined, 0, ctx);
}

/** statx(2) into `out`, a buffer of at least sizeof(struct statx). */
export function statxInto<C, R>(
  sink: Sink<C, R>,
  ctx: C,
  dirfd: number,
  path: string,
  flags: number,
  mask: number,
  out: Uint8Array,
): R {
  lend("statx", dirfd, out, statx.size);
  const p = cString(path, "statx");
  return sink(IORING_OP_STATX, dirfd, viewAddress(out), viewAddress(p), mask, flags, [p, out], path, undefined, 0, ctx);
}

/** unlinkat(2). */
export function unlinkat<C, R>(sink: Sink<C, R>, ctx: C, dirfd: number, path: string, flags: number): R {
  const p = cString(path, "unlinkat");
  return sink(IORING_OP_UNLINKAT, dirfd, 0, viewAddress(p), 0, flags, p, path, undefined, 0, ctx);
}

/** renameat2(2). */
export function renameat<C, R>(
  sink: Sink<C, R>,
  ctx: C,
  oldDirfd: number,
  oldPath: string,
  newDirfd: number,
  newPath: string,
  flags: number,
): R {
  const a = cString(oldPath, "renameat");
  const b = cString(newPath, "renameat");
  const subject = `${oldPath} -> ${newPath}`;
  return sink(IORING_OP_RENAMEAT, oldDirfd, viewAddress(b), viewAddress(a), newDirfd, flags, [a, b], subject, undefined, 0, ctx);
}

/** mkdirat(2). */
export function mkdirat<C, R>(sink: Sink<C, R>, ctx: C, dirfd: number, path: string, mode: number): R {
  const p = cString(path, "mkdirat");
  return sink(IORING_OP_MKDIRAT, dirfd, 0, viewAddress(p), mode, 0, p, path, undefined, 0, ctx);
}

/** symlinkat(2). */
export function symlinkat<C, R>(sink: Sink<C, R>, ctx: C, target: string, newDirfd: number, linkPath: string): R {
  const t = cString(target, "symlinkat");
  const l = cString(linkPath, "symlinkat");
  return sink(IORING_OP_SYMLINKAT, newDirfd, viewAddress(l), viewAddress(t), 0, 0, [t, l], linkPath, undefined, 0, ctx);
}

/** linkat(2). */
export function linkat<C, R>(
  sink: Sink<C, R>,
  ctx: C,
  oldDirfd: number,
  oldPath: string,
  newDirfd: number,
  newPath: string,
  flags: number,
): R {
  const a = cString(oldPath, "linkat");
  const b = cString(newPath, "linkat");
  const subject = `${oldPath} -> ${newPath}`;
  return sink(IORING_OP_LINKAT, oldDirfd, viewAddress(b), viewAddress(a), newDirfd, flags, [a, b], subject, undefined, 0, ctx);
}

/** IORING_OP_TIMEOUT: `ms` from now (or at `ms` on CLOCK_MONOTONIC), or after `events` completions. */
export function timeout<C, R>(sink: Sink<C, R>, ctx: C, ms: number, events: number, absolute: boolean): R {
  const ts = timespec("timeout", ms);
  const flags = absolute ? IORING_TIMEOUT_ABS : 0;
  count("timeout", "count", events);
  return sink(IORING_OP_TIMEOUT, -1, events, viewAddress(ts), 1, flags, ts, `${ms} ms`, undefined, ETIME, ctx);
}

/** IORING_OP_LINK_TIMEOUT for the op linked just before it. */
export function linkTimeout<C, R>(sink: Sink<C, R>, ctx: C, ms: number): R {
  const ts = timespec("link_timeout", ms);
  return sink(IORING_OP_LINK_TIMEOUT, -1, 0, viewAddress(ts), 1, 0, ts, `${ms} ms`, undefined, ETIME, ctx);
}

/** IORING_OP_POLL_ADD: poll(2) on one fd. */
export function pollAdd<C, R>(sink: Sink<C, R>, ctx: C, fd: number, events: number): R {
  return sink(IORING_OP_POLL_ADD, fd, 0, 0, 0, events, undefined, undefined, undefined, 0, ctx);
}

/** splice(2); -1 offsets for pipes. */
export function splice<C, R>(
  sink: Sink<C, R>,
  ctx: C,
  fdIn: number,
  offIn: number,
  fdOut: number,
  offOut: number,
  len: number,
  flags: number,
): R {
  checkFd(fdIn, "splice");
  offset("splice", offIn);
  count("splice", "length", len);
  const subject = `fd ${fdIn} -> fd ${fdOut}`;
  return sink(IORING_OP_SPLICE, fdOut, offset("splice", offOut), offIn, len, flags, undefined, subject, (s, i) => setFileIndex(s, i, fdIn), 0, ctx);
}

/** tee(2). */
export function tee<C, R>(sink: Sink<C, R>, ctx: C, fdIn: number, fdOut: number, len: number, flags: number): R {
  checkFd(fdIn, "tee");
  count("tee", "length", len);
  const subject = `fd ${fdIn} -> fd ${fdOut}`;
  return sink(IORING_OP_TEE, fdOut, 0, 0, len, flags, undefined, subject, (s, i) => setFileIndex(s, i, fdIn), 0, ctx);
}

/** accept4(2); `addr`, when given, receives the peer's sockaddr (its length word follows it). */
export function accept<C, R>(sink: Sink<C, R>, ctx: C, fd: number, flags: number, ioprio = 0): R {
  return sink(IORING_OP_ACCEPT, fd, 0, 0, 0, flags, undefined, `socket fd ${fd}`, ioprio ? (s, i) => setIoprio(s, i, ioprio) : undefined, 0, ctx);
}

/** connect(2) to the sockaddr in `address`. */
export function connect<C, R>(sink: Sink<C, R>, ctx: C, fd: number, address: Uint8Array, subject: string): R {
  const addr = lend("connect", fd, address, address.byteLength);
  return sink(IORING_OP_CONNECT, fd, address.byteLength, addr, 0, 0, address, subject, undefined, 0, ctx);
}

/** recv(2) into `buf`. */
export function recv<C, R>(sink: Sink<C, R>, ctx: C, fd: number, buf: ArrayBufferView, len: number, flags: number): R {
  const addr = lend("recv", fd, buf, len);
  return sink(IORING_OP_RECV, fd, 0, addr, len, flags, buf, undefined, undefined, 0, ctx);
}

/** send(2) from `buf`. */
export function send<C, R>(sink: Sink<C, R>, ctx: C, fd: number, buf: ArrayBufferView, len: number, flags: number): R {
  const addr = lend("send", fd, buf, len);
  return sink(IORING_OP_SEND, fd, 0, addr, len, flags, buf, undefined, undefined, 0, ctx);
}

/** send(2) without copying the payload (IORING_OP_SEND_ZC): a result CQE, then a notification CQE. */
export function sendZc<C, R>(sink: Sink<C, R>, ctx: C, fd: number, buf: ArrayBufferView, len: number, flags: number): R {
  const addr = lend("send_zc", fd, buf, len);
  return sink(IORING_OP_SEND_ZC, fd, 0, addr, len, flags, buf, undefined, undefined, 0, ctx);
}

/** sendmsg(2) of `buffers` (gathered) with a struct msghdr built here. */
export function sendmsg<C, R>(sink: Sink<C, R>, ctx: C, fd: number, buffers: readonly ArrayBufferView[], flags: number): R {
  const iov = iovecs("sendmsg", fd, buffers, lend);
  const msg = msghdr.alloc();
  const v = new DataView(msg.buffer);
  msghdr.write(v, 0, "msg_iov", viewAddress(iov));
  msghdr.write(v, 0, "msg_iovlen", buffers.length);
  return sink(IORING_OP_SENDMSG, fd, 0, viewAddress(msg), 1, flags, [msg, iov, buffers], undefined, undefined, 0, ctx);
}

/** shutdown(2). */
export function shutdown<C, R>(sink: Sink<C, R>, ctx: C, fd: number, how: number): R {
  return sink(IORING_OP_SHUTDOWN, fd, 0, 0, how, 0, undefined, undefined, undefined, 0, ctx);
}
