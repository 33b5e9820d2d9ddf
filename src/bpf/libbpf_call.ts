/**
 * Calling libbpf: turning its results (a negative errno, or NULL with errno
 * set, or one of libbpf's own 4000-range codes) into KernelErrors, and
 * memory that native code may keep a pointer to.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import {
  LIBBPF_ERRNO__ENDIAN,
  LIBBPF_ERRNO__FORMAT,
  LIBBPF_ERRNO__LIBELF,
  LIBBPF_ERRNO__PROG2BIG,
  LIBBPF_ERRNO__PROGTYPE,
  LIBBPF_ERRNO__VERIFY,
} from "../../ffi/structs/libbpf.ts";
import { KernelError, type KernelErrorInit } from "../errors.ts";
import { errno, libbpf } from "../native.ts";

type Extra = Omit<KernelErrorInit, "errno" | "syscall">;

/** libbpf's own codes (4000 and up) as the closest errno, so that `code` stays meaningful. */
const libbpfCodes: Record<number, number> = {
  [LIBBPF_ERRNO__LIBELF]: ERRNO.ENOEXEC,
  [LIBBPF_ERRNO__FORMAT]: ERRNO.ENOEXEC,
  [LIBBPF_ERRNO__ENDIAN]: ERRNO.ENOEXEC,
  [LIBBPF_ERRNO__VERIFY]: ERRNO.EACCES,
  [LIBBPF_ERRNO__PROG2BIG]: ERRNO.E2BIG,
  [LIBBPF_ERRNO__PROGTYPE]: ERRNO.ENOTSUP,
};

/** libbpf's description of an error code (positive), from libbpf_strerror. */
export function libbpfText(err: number): string {
  const buf = new Uint8Array(256);
  libbpf().symbols.libbpf_strerror(err, buf, buf.length);
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/** A KernelError for a positive libbpf or kernel error code. */
export function libbpfError(err: number, syscall: string, extra: Extra = {}): KernelError {
  if (err >= 4000) {
    const what = extra.subject ? `${syscall}(${extra.subject})` : syscall;
    return new KernelError({
      message: `${what} failed: ${libbpfText(err)}`,
      ...extra,
      errno: libbpfCodes[err] ?? ERRNO.EINVAL,
      syscall,
    });
  }
  return new KernelError({ ...extra, errno: err, syscall });
}

/** Returns `ret` unless it is negative (a libbpf int result); then throws. */
export function checkLibbpf(ret: number, syscall: string, extra: Extra = {}): number {
  if (ret >= 0) return ret;
  throw libbpfError(-ret, syscall, extra);
}

/** Returns the pointer unless it is NULL (libbpf 1.x sets errno then); then throws. */
export function checkPointer(address: number, syscall: string, extra: Extra = {}): number {
  if (address !== 0) return address;
  const err = errno();
  throw libbpfError(err === 0 ? ERRNO.EINVAL : err, syscall, extra);
}

/**
 * A zeroed byte array whose storage won't move, for native code that keeps
 * its address past one call (libbpf's log buffer). Touching `.buffer` first
 * makes Bun move the data out of line now, not later.
 */
export function stableBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(length));
  void bytes.buffer;
  return bytes;
}

/** A NUL-terminated string at the start of `bytes`. */
export function decodeCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}
