/**
 * KernelError: the one error type kernelkit throws for a failed kernel or
 * library call. It says what failed (the syscall), why (the errno name and
 * text), to what (the subject), and what to do (the hint).
 *
 * @module
 */
import { ERRNO, ERRNO_TEXT, KERNEL_INTERNAL_ERRNO } from "../ffi/structs/errno.ts";

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries({ ...ERRNO, ...KERNEL_INTERNAL_ERRNO })) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}
// libuv and Node call 95 ENOTSUP; so does every feature-absence error here.
errnoNames.set(ERRNO.ENOTSUP, "ENOTSUP");

/** The symbolic name of an errno value ("ENOENT"), or "E<n>" when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** The value of an errno name (`errnoValue("EPERM") === 1`). */
export function errnoValue(name: string): number | undefined {
  return ERRNO[name] ?? KERNEL_INTERNAL_ERRNO[name];
}

/** libc's description of an errno value. */
export function errnoText(errno: number): string {
  return ERRNO_TEXT[errno] ?? `Unknown error ${errno}`;
}

/** What a KernelError is built from. */
export interface KernelErrorInit {
  /** The positive errno value. */
  readonly errno: number;
  /** The system call or library function that failed: "io_uring_setup", "bpf_prog_load", "dlopen". */
  readonly syscall: string;
  /** What the call acted on, for the message: a path, an interface, "ring of 64 entries". */
  readonly subject?: string;
  /** What to do about it. When omitted, a hint is chosen from the syscall and errno. */
  readonly hint?: string;
  /** The full message, when the default "syscall(subject) failed: CODE (text)" won't do. */
  readonly message?: string;
  /** The missing feature, for ENOTSUP and ENOSYS errors. */
  readonly feature?: string;
  /** A log that explains the failure, such as the BPF verifier's. */
  readonly log?: string;
  /** The underlying error, if any. */
  readonly cause?: unknown;
}

/**
 * A failed kernel or library call.
 *
 * `message` always names the syscall and the errno name, and ends with what to do.
 */
export class KernelError extends Error {
  /** The positive errno value. */
  readonly errno: number;
  /** The errno name: "ENOENT". */
  readonly code: string;
  /** The system call or library function that failed. */
  readonly syscall: string;
  /** What to do about it, when there is a known fix. */
  readonly hint: string | undefined;
  /** The missing feature, for ENOTSUP and ENOSYS errors. */
  readonly feature: string | undefined;
  /** A log that explains the failure, such as the BPF verifier's. */
  readonly log: string | undefined;

  /** Builds the error; the message is composed from the parts unless given. */
  constructor(init: KernelErrorInit) {
    const code = errnoName(init.errno);
    const hint = init.hint ?? defaultHint(init.syscall, code);
    const what = init.subject ? `${init.syscall}(${init.subject})` : init.syscall;
    const base = init.message ?? `${what} failed: ${code} (${errnoText(init.errno)})`;
    super(hint ? `${base}. ${hint[0].toUpperCase()}${hint.slice(1)}` : base, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "KernelError";
    this.errno = init.errno;
    this.code = code;
    this.syscall = init.syscall;
    this.hint = hint;
    this.feature = init.feature;
    this.log = init.log;
  }
}

/**
 * A feature this kernel, library or host lacks, as a KernelError with code
 * ENOTSUP (or ENOSYS when the system call itself is missing).
 */
export function notSupported(
  feature: string,
  syscall: string,
  hint: string,
  errno: number = ERRNO.ENOTSUP,
): KernelError {
  return new KernelError({
    errno,
    syscall,
    feature,
    hint,
    message: `${feature} is not supported here (${syscall}: ${errnoName(errno)})`,
  });
}

const privilegeHints: Record<string, string> = {
  bpf: "run as root or grant CAP_BPF (and CAP_NET_ADMIN for XDP, CAP_PERFMON for tracing)",
  io_uring_setup:
    "io_uring is disabled for this process: check the sysctl kernel.io_uring_disabled (0 enables it for all) and any seccomp filter, or run as root",
  mlock: "raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK",
  mmap: "for locked or hugetlb memory, raise RLIMIT_MEMLOCK or grant CAP_IPC_LOCK",
};

function family(syscall: string): string {
  if (syscall.startsWith("bpf") || syscall.startsWith("libbpf")) return "bpf";
  return syscall;
}

/** A hint for a syscall and errno name when the caller gave none. */
export function defaultHint(syscall: string, code: string): string | undefined {
  const fam = family(syscall);
  switch (code) {
    case "EPERM":
    case "EACCES":
      return privilegeHints[fam] ?? "check permissions, or run as root";
    case "ENOSYS":
      return `this kernel has no ${syscall}; upgrade the kernel or check that it was built with it`;
    case "EBADF":
      return "the file descriptor is closed or was never valid; check that the resource was not closed first";
    case "EMFILE":
    case "ENFILE":
      return "too many open files: close unused descriptors or raise the limit (ulimit -n)";
    case "ENOMEM":
      return fam === "mmap"
        ? "not enough memory of that kind: for hugetlb pages reserve a pool (kernelkit hugepages reserve), otherwise map less"
        : fam === "bpf"
        ? "the kernel could not allocate memory: raise RLIMIT_MEMLOCK on kernels before 5.11, or shrink the map"
        : "the kernel could not allocate memory: free some or ask for less";
    case "EINVAL":
      return "an argument is invalid for this call on this kernel: check sizes, alignment and flags";
    case "EFAULT":
      return "a buffer address was invalid: this is a kernelkit bug, please report it";
    case "ENOENT":
      return "check that the path or object exists";
    case "EEXIST":
      return "the object already exists: remove it first or choose another name";
    case "EBUSY":
      return "the resource is in use by someone else: release it first";
    case "EAGAIN":
      return "the resource is temporarily unavailable: try again, or raise the limit that was hit";
    case "ENOTSUP":
      return "this kernel or device does not support the operation";
    case "ENOSPC":
    case "EDQUOT":
      return "the file system is out of space (or quota): free some space, or write less; bytes whose writes completed are kept";
    case "EPIPE":
    case "ECONNRESET":
      return "the other end closed or reset the connection (or pipe): close this one and stop sending on it; other connections are unaffected";
    default:
      return undefined;
  }
}
