/**
 * madvise(2) by name: what each piece of advice means, and the kernel that
 * first had it.
 *
 * @module
 */
import {
  MADV_COLD,
  MADV_COLLAPSE,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
} from "../../ffi/structs/mman.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError, notSupported } from "../errors.ts";
import { errno, sys } from "../native.ts";
import { readKernelFile } from "../system/procfs.ts";

/**
 * Advice for a mapped range, by name:
 * - `"normal"`: no special treatment;
 * - `"willneed"`: read the pages in soon; `"dontneed"`: drop them now (private
 *   anonymous memory reads back as zeros, file pages are read again);
 * - `"free"`: the kernel may take the pages lazily under memory pressure
 *   (private anonymous memory only; Linux 4.5);
 * - `"sequential"`, `"random"`: the access pattern, for read-ahead;
 * - `"hugepage"`, `"nohugepage"`: allow or forbid transparent huge pages;
 * - `"collapse"`: turn the range into transparent huge pages now (Linux 6.1);
 * - `"cold"`, `"pageout"`: deactivate or reclaim the pages (Linux 5.4);
 * - `"populate-read"`, `"populate-write"`: fault the pages in now, readable or
 *   writable, without touching them from JS (Linux 5.14).
 */
export type Advice =
  | "normal"
  | "willneed"
  | "dontneed"
  | "free"
  | "sequential"
  | "random"
  | "hugepage"
  | "nohugepage"
  | "collapse"
  | "cold"
  | "pageout"
  | "populate-read"
  | "populate-write";

const table: Record<
  Advice,
  { readonly value: number; readonly since: readonly [number, number]; readonly name: string }
> = {
  normal: { value: MADV_NORMAL, since: [2, 4], name: "MADV_NORMAL" },
  willneed: { value: MADV_WILLNEED, since: [2, 4], name: "MADV_WILLNEED" },
  dontneed: { value: MADV_DONTNEED, since: [2, 4], name: "MADV_DONTNEED" },
  free: { value: MADV_FREE, since: [4, 5], name: "MADV_FREE" },
  sequential: { value: MADV_SEQUENTIAL, since: [2, 4], name: "MADV_SEQUENTIAL" },
  random: { value: MADV_RANDOM, since: [2, 4], name: "MADV_RANDOM" },
  hugepage: { value: MADV_HUGEPAGE, since: [2, 6], name: "MADV_HUGEPAGE" },
  nohugepage: { value: MADV_NOHUGEPAGE, since: [2, 6], name: "MADV_NOHUGEPAGE" },
  collapse: { value: MADV_COLLAPSE, since: [6, 1], name: "MADV_COLLAPSE" },
  cold: { value: MADV_COLD, since: [5, 4], name: "MADV_COLD" },
  pageout: { value: MADV_PAGEOUT, since: [5, 4], name: "MADV_PAGEOUT" },
  "populate-read": { value: MADV_POPULATE_READ, since: [5, 14], name: "MADV_POPULATE_READ" },
  "populate-write": { value: MADV_POPULATE_WRITE, since: [5, 14], name: "MADV_POPULATE_WRITE" },
};

/** Every advice name {@link Advice} allows. */
export const ADVICE_NAMES: readonly Advice[] = Object.keys(table) as Advice[];

/** The running kernel's major and minor version, from /proc/sys/kernel/osrelease. */
export function kernelVersion(): readonly [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(readKernelFile("/proc/sys/kernel/osrelease") ?? "");
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

const older = (a: readonly [number, number], b: readonly [number, number]): boolean =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/**
 * madvise()s [address, address + length) with `advice`; `subject` names the
 * range in errors. Advice the kernel is too old for is a KernelError with
 * ENOTSUP; an unknown name is EINVAL.
 */
export function applyAdvice(address: number, length: number, advice: Advice, subject: string): void {
  const entry = Object.hasOwn(table, advice) ? table[advice] : undefined;
  if (!entry) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "madvise",
      subject,
      message: `madvise(${subject}): ${JSON.stringify(advice)} is not a kind of advice`,
      hint: `use one of: ${ADVICE_NAMES.join(", ")}`,
    });
  }
  if (length === 0) return;
  if (sys().madvise(address, length, entry.value) === 0) return;
  const e = errno();
  const version = kernelVersion();
  if (e === ERRNO.EINVAL && older(version, entry.since)) {
    throw notSupported(
      `${entry.name} ("${advice}")`,
      "madvise",
      `it needs Linux ${entry.since.join(".")}; this kernel is ${version.join(".")}`,
    );
  }
  if (e === ERRNO.EINVAL && (advice === "hugepage" || advice === "nohugepage" || advice === "collapse")) {
    if (readKernelFile("/sys/kernel/mm/transparent_hugepage/enabled") === undefined) {
      throw notSupported(
        `${entry.name} ("${advice}")`,
        "madvise",
        "this kernel was built without transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)",
      );
    }
  }
  throw new KernelError({
    errno: e,
    syscall: "madvise",
    subject: `${subject}, ${entry.name}`,
    hint: e === ERRNO.EINVAL
      ? `${entry.name} does not apply to this kind of mapping (e.g. "free" needs private anonymous memory, "dontneed" fails on locked pages)`
      : e === ERRNO.EFAULT || e === ERRNO.ENOMEM
      ? "the pages could not be faulted in: the file may be shorter than the mapping, or memory ran out"
      : undefined,
  });
}
