/**
 * The native libraries, opened on first use, and the one place where a failed
 * native call becomes a KernelError.
 *
 * @module
 */
import { errnoReader, type Libc, libcSpec, type libcSymbols } from "../ffi/libc.ts";
import { type LibrarySpec, type LoadedLibrary, openLibrary } from "../ffi/library.ts";
import { libbpfSpec, type libbpfSymbols } from "../ffi/libbpf.ts";
import { liburingSpec, type liburingSymbols } from "../ffi/liburing.ts";
import { detectRuntime, platform } from "../ffi/runtime/mod.ts";
import type { SymbolTable } from "../ffi/runtime/types.ts";
import { ERRNO } from "../ffi/structs/errno.ts";
import { KernelError, type KernelErrorInit, notSupported } from "./errors.ts";

/** Throws a KernelError unless this is Linux under Bun or Deno. */
export function assertSupportedHost(): void {
  const os = platform();
  if (os !== "linux") {
    throw notSupported(
      `kernelkit on ${os}`,
      "uname",
      "io_uring, eBPF, XDP and hugetlb are Linux kernel features: run on Linux",
    );
  }
  if (detectRuntime() === null) {
    throw notSupported("this JS runtime", "dlopen", "run under Bun (bun:ffi) or Deno (Deno.dlopen)");
  }
}

const opened = new Map<string, LoadedLibrary<SymbolTable>>();

function load<T extends SymbolTable>(spec: LibrarySpec<T>): LoadedLibrary<T> {
  const hit = opened.get(spec.name);
  if (hit) return hit as unknown as LoadedLibrary<T>;
  assertSupportedHost();
  const r = openLibrary(spec);
  if (!r.ok) {
    const tried = r.attempts.map((a) => `${a.path} (${a.reason})`).join("; ");
    const missingSymbol = r.attempts.some((a) => /symbol/i.test(a.reason));
    throw new KernelError({
      errno: ERRNO.ENOENT,
      syscall: "dlopen",
      message: `${spec.name} could not be loaded: tried ${tried}`,
      hint: missingSymbol
        ? `the ${spec.name} found is too old for kernelkit: install a newer ${spec.package} (apt-get install ${spec.package}), or point ${spec.env} at one`
        : `install it with \`apt-get install ${spec.package}\`, or set ${spec.env} to the library's path`,
    });
  }
  opened.set(spec.name, r.library as unknown as LoadedLibrary<SymbolTable>);
  return r.library;
}

/** libc.so.6, opened on first use. */
export function libc(): Libc {
  return load(libcSpec);
}

/** liburing.so.2, opened on first use. */
export function liburing(): LoadedLibrary<typeof liburingSymbols> {
  return load(liburingSpec);
}

/** libbpf.so.1, opened on first use. */
export function libbpf(): LoadedLibrary<typeof libbpfSymbols> {
  return load(libbpfSpec);
}

/** libc's symbol functions, for terse call sites. */
export function sys(): Libc["symbols"] {
  return libc().symbols;
}

let readErrno: (() => number) | undefined;

/** The calling thread's errno; read it right after the failing call. */
export function errno(): number {
  readErrno ??= errnoReader(libc());
  return readErrno();
}

/**
 * Returns `ret` when it is not negative; otherwise throws a KernelError with
 * the errno the call left (libc style: -1 and errno).
 */
export function check(ret: number, syscall: string, extra: Omit<KernelErrorInit, "errno" | "syscall"> = {}): number {
  if (ret >= 0) return ret;
  throw new KernelError({ ...extra, errno: errno(), syscall });
}

/**
 * Returns `ret` when it is not negative; otherwise throws a KernelError for
 * errno -ret (kernel style, as libbpf and io_uring completions return).
 */
export function checkNegative(
  ret: number,
  syscall: string,
  extra: Omit<KernelErrorInit, "errno" | "syscall"> = {},
): number {
  if (ret >= 0) return ret;
  throw new KernelError({ ...extra, errno: -ret, syscall });
}

/**
 * Returns `fd` (as an int) when it can be a file descriptor: an int32 (the C `int` every
 * fd parameter is). Anything else (NaN, 1.5, Infinity, 2^32 + 3, 2^53) is a
 * KernelError EBADF naming `syscall`, because the FFI and the SQE's 32-bit
 * field would otherwise turn it into another, real fd (0, 1, 3).
 */
export function checkFd(fd: number, syscall: string): number {
  // `| 0` also makes -0 a 0, which Deno's FFI refuses for an int.
  if ((fd | 0) === fd) return fd | 0;
  throw badFd(fd, syscall);
}

/** The KernelError EBADF of {@link checkFd}, for callers that reject instead of throwing. */
export function badFd(fd: unknown, syscall: string): KernelError {
  return new KernelError({
    errno: ERRNO.EBADF,
    syscall,
    subject: `fd ${String(fd)}`,
    hint: "a file descriptor is an integer (0 to 2^31 - 1, or a negative constant such as AT_FDCWD); this value would reach the kernel as another fd",
  });
}

/**
 * NUL-terminated UTF-8 bytes of a string, for `const char *` parameters. A
 * string with a NUL byte in it is a KernelError EINVAL naming `syscall`: C
 * would see only the part before it ("data\0.txt" would open "data").
 */
export function cString(s: string, syscall = "a C string argument"): Uint8Array {
  const nul = typeof s === "string" ? s.indexOf("\0") : -1;
  if (nul >= 0) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall,
      message: `${syscall}: ${JSON.stringify(s)} has a NUL byte at index ${nul}, which would cut it short in C (EINVAL)`,
      hint: "remove the NUL byte: paths and names can't contain one",
    });
  }
  return new TextEncoder().encode(`${s}\0`);
}

/**
 * Opens an existing file with open(2) flags (never O_CREAT) and returns the fd;
 * throws a KernelError naming the path. The caller closes the fd.
 */
export function openExisting(path: string, flags: number, hint?: string): number {
  return check(sys().__open64_2(cString(path, "open"), flags), "open", { subject: path, hint });
}

export type { libcSymbols };
