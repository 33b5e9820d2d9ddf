/**
 * The host's hugetlb pools: what each page size has (total, free, reserved,
 * surplus, per NUMA node), and setting a pool's size.
 *
 * A pool is the kernel's stock of pre-allocated huge pages of one size, kept
 * under /sys/kernel/mm/hugepages/hugepages-<kB>kB. Mappings with
 * `pages: "2MB"` or `"1GB"` take their pages from it; memory in a pool is not
 * available to anything else, even while no mapping uses it. A pool set here
 * lasts until reboot: {@link persistentPoolSetting} gives the line that makes it
 * permanent.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError, notSupported } from "../errors.ts";
import { listKernelDir, readKernelFile, writeKernelFile } from "./procfs.ts";

/** Where the kernel lists its hugetlb pools. */
export const HUGEPAGES_SYSFS = "/sys/kernel/mm/hugepages";

/** A page size: a number of bytes, or a string with a binary unit ("2MB", "1GB", "2MiB", "2048kB"). */
export type PageSizeInput = number | string;

/** One NUMA node's share of a pool. */
export interface HugePageNodeCounts {
  /** The node number. */
  readonly node: number;
  /** Persistent pages on this node. */
  readonly total: number;
  /** Pages on this node that no mapping uses. */
  readonly free: number;
  /** Surplus (overcommitted) pages on this node. */
  readonly surplus: number;
}

/** One hugetlb pool, as the kernel reports it. */
export interface HugePagePool {
  /** The page size, as kernelkit names it: "2MB", "1GB". */
  readonly size: string;
  /** The page size in bytes. */
  readonly bytes: number;
  /** The persistent pool size (nr_hugepages). */
  readonly total: number;
  /** Pages that no mapping uses yet (free_hugepages). Reserved pages count as free. */
  readonly free: number;
  /** Pages promised to mappings but not faulted in yet (resv_hugepages). */
  readonly reserved: number;
  /** Pages beyond the persistent pool: overcommitted, or still in use after the pool shrank. */
  readonly surplus: number;
  /** How many surplus pages the kernel may allocate on demand (nr_overcommit_hugepages). */
  readonly overcommit: number;
  /** Pages mapped by some process now: total + surplus - free. */
  readonly inUse: number;
  /** True for the size that MAP_HUGETLB without a size flag uses (Hugepagesize in /proc/meminfo). */
  readonly isDefault: boolean;
  /** The pool's sysfs directory. */
  readonly path: string;
  /** Per-node figures, from /sys/devices/system/node; empty when the kernel has no NUMA. */
  readonly nodes: readonly HugePageNodeCounts[];
}

/** Every hugetlb pool of this host. */
export interface HugePagesStatus {
  /** One entry per page size, smallest first; empty when the kernel has no hugetlb. */
  readonly pools: readonly HugePagePool[];
  /** The default huge page size in bytes, or undefined when the kernel has no hugetlb. */
  readonly defaultSize: number | undefined;
}

/** The outcome of {@link HugePages.reserve} or {@link HugePages.release}. */
export interface HugePageReservation {
  /** The page size, as kernelkit names it: "2MB", "1GB". */
  readonly size: string;
  /** The page size in bytes. */
  readonly bytes: number;
  /** The pool size asked for. */
  readonly requested: number;
  /** The pool size before. */
  readonly before: number;
  /** The pool size now, as the kernel reports it (unchanged in a dry run). */
  readonly total: number;
  /** Free pages now. */
  readonly free: number;
  /** Surplus pages now: after a release, pages still mapped by processes. */
  readonly surplus: number;
  /** True when the pool file was written; false when it already had the size, or in a dry run. */
  readonly changed: boolean;
  /** True when nothing was written because a dry run was asked for. */
  readonly dryRun: boolean;
  /** True when the pool has the size asked for (a dry run says whether it already has). */
  readonly ok: boolean;
  /** Why the kernel gave fewer pages than asked, or what a release left behind. */
  readonly reason: string | undefined;
  /** The file written (or that would be). */
  readonly file: string;
}

/** Options of {@link HugePages.reserve} and {@link HugePages.release}. */
export interface PoolWriteOptions {
  /** Report what would change, and write nothing. */
  readonly dryRun?: boolean;
}

/** The host's hugetlb pools: see {@link hugePages}. */
export interface HugePages {
  /** Reads every pool under /sys/kernel/mm/hugepages. Never throws; no pools means no hugetlb. */
  status(): HugePagesStatus;
  /** The pool of one page size, or undefined when the kernel has none of that size. */
  pool(size: PageSizeInput): HugePagePool | undefined;
  /**
   * Sets the persistent pool of `size` pages to `count` pages (not `count`
   * more) and says how many the kernel really gave, and why when fewer.
   * Needs root. Idempotent: a pool that already has `count` pages is not written.
   */
  reserve(size: PageSizeInput, count: number, options?: PoolWriteOptions): HugePageReservation;
  /**
   * Empties the persistent pool of `size` pages. Pages still mapped by a
   * process stay (as surplus) until it unmaps them. Needs root.
   */
  release(size: PageSizeInput, options?: PoolWriteOptions): HugePageReservation;
}

const UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a size: a number of bytes, or a number with a binary unit (k, M, G,
 * T, with or without "B" or "iB": "2MB" and "2MiB" are both 2097152, as in the
 * kernel's MAP_HUGE_2MB). Throws a KernelError (EINVAL) for anything else.
 */
export function parseSize(input: PageSizeInput): number {
  if (typeof input === "number") {
    if (Number.isSafeInteger(input) && input > 0) return input;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(input);
    if (m) {
      const bytes = Number(m[1]) * UNITS[m[2].toLowerCase()];
      if (Number.isSafeInteger(bytes) && bytes > 0) return bytes;
    }
  }
  throw new KernelError({
    errno: ERRNO.EINVAL,
    syscall: "parseSize",
    message: `${JSON.stringify(input)} is not a size`,
    hint: "give a positive whole number of bytes, or a number with a binary unit: 4096, 2MB, 1GB, 8GiB",
  });
}

/** kernelkit's name for a page size: 2097152 gives "2MB", 1073741824 gives "1GB", 65536 "64KB". */
export function pageSizeName(bytes: number): string {
  for (const [unit, scale] of [["GB", 1024 ** 3], ["MB", 1024 ** 2], ["KB", 1024]] as const) {
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return `${bytes}B`;
}

/** The sysfs directory of the pool of `bytes` pages. */
export function poolPath(bytes: number): string {
  return `${HUGEPAGES_SYSFS}/hugepages-${bytes / 1024}kB`;
}

const count = (path: string): number => Number(readKernelFile(path) ?? "0") || 0;

function nodeCounts(dirName: string): HugePageNodeCounts[] {
  const out: HugePageNodeCounts[] = [];
  for (const entry of listKernelDir("/sys/devices/system/node")) {
    const m = /^node(\d+)$/.exec(entry);
    if (!m) continue;
    const base = `/sys/devices/system/node/${entry}/hugepages/${dirName}`;
    if (readKernelFile(`${base}/nr_hugepages`) === undefined) continue;
    out.push({
      node: Number(m[1]),
      total: count(`${base}/nr_hugepages`),
      free: count(`${base}/free_hugepages`),
      surplus: count(`${base}/surplus_hugepages`),
    });
  }
  return out.sort((a, b) => a.node - b.node);
}

function defaultHugePageSize(): number | undefined {
  const line = (readKernelFile("/proc/meminfo") ?? "").split("\n").find((l) => l.startsWith("Hugepagesize:"));
  const kb = line ? /(\d+)\s*kB/.exec(line)?.[1] : undefined;
  return kb === undefined ? undefined : Number(kb) * 1024;
}

function readPool(dirName: string, defaultSize: number | undefined): HugePagePool | undefined {
  const kb = /^hugepages-(\d+)kB$/.exec(dirName)?.[1];
  if (kb === undefined) return undefined;
  const bytes = Number(kb) * 1024;
  const path = `${HUGEPAGES_SYSFS}/${dirName}`;
  if (readKernelFile(`${path}/nr_hugepages`) === undefined) return undefined;
  const total = count(`${path}/nr_hugepages`);
  const free = count(`${path}/free_hugepages`);
  const surplus = count(`${path}/surplus_hugepages`);
  return {
    size: pageSizeName(bytes),
    bytes,
    total,
    free,
    reserved: count(`${path}/resv_hugepages`),
    surplus,
    overcommit: count(`${path}/nr_overcommit_hugepages`),
    inUse: Math.max(0, total + surplus - free),
    isDefault: bytes === defaultSize,
    path,
    nodes: nodeCounts(dirName),
  };
}

function status(): HugePagesStatus {
  const defaultSize = defaultHugePageSize();
  const pools = listKernelDir(HUGEPAGES_SYSFS)
    .map((d) => readPool(d, defaultSize))
    .filter((p): p is HugePagePool => p !== undefined)
    .sort((a, b) => a.bytes - b.bytes);
  return { pools, defaultSize: pools.length ? defaultSize : undefined };
}

function pool(size: PageSizeInput): HugePagePool | undefined {
  const bytes = parseSize(size);
  return readPool(`hugepages-${bytes / 1024}kB`, defaultHugePageSize());
}

/** The pool of `size`, or a KernelError (ENOTSUP) saying which sizes this kernel has. */
export function requirePool(size: PageSizeInput, syscall: string): HugePagePool {
  const p = pool(size);
  if (p) return p;
  const have = status().pools.map((x) => x.size);
  const name = pageSizeName(parseSize(size));
  throw notSupported(
    `hugetlb pages of ${name}`,
    syscall,
    have.length
      ? `this kernel has pools of ${have.join(", ")} only (${HUGEPAGES_SYSFS} has no hugepages-${
        parseSize(size) / 1024
      }kB); ${name} pages need CPU and kernel support (for 1GB: the pdpe1gb CPU flag)`
      : 'this kernel was built without CONFIG_HUGETLBFS: use pages: "transparent" instead',
  );
}

function memAvailable(): number | undefined {
  const line = (readKernelFile("/proc/meminfo") ?? "").split("\n").find((l) => l.startsWith("MemAvailable:"));
  const kb = line ? /(\d+)\s*kB/.exec(line)?.[1] : undefined;
  return kb === undefined ? undefined : Number(kb) * 1024;
}

const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`;

function shortfallReason(p: HugePagePool, requested: number): string {
  const missing = requested - p.total;
  const need = missing * p.bytes;
  const avail = memAvailable();
  const boot = `or reserve them at boot with the kernel parameters "hugepagesz=${
    p.size.replace("B", "")
  } hugepages=${requested}"`;
  if (avail !== undefined && need > avail) {
    return `the kernel gave ${p.total} of ${requested} ${p.size} pages: ${
      mib(need)
    } more are needed and only ${mib(avail)} is available; free memory or ask for fewer, ${boot}`;
  }
  return `the kernel gave ${p.total} of ${requested} ${p.size} pages: free memory is too fragmented to find ${missing} more contiguous ${p.size} blocks; compact it (echo 1 > /proc/sys/vm/compact_memory) and drop the page cache (echo 3 > /proc/sys/vm/drop_caches), then try again, ${boot}`;
}

const rootHint = (what: string): string =>
  `changing a hugetlb pool needs root: run \`sudo kernelkit hugepages ${what}\`, or write the count to the pool's nr_hugepages as root`;

function setPool(
  size: PageSizeInput,
  requested: number,
  options: PoolWriteOptions,
  what: string,
): HugePageReservation {
  if (!Number.isSafeInteger(requested) || requested < 0) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "write",
      message: `${requested} is not a page count`,
      hint: "give a whole number of pages, 0 or more",
    });
  }
  const before = requirePool(size, "write");
  const file = `${before.path}/nr_hugepages`;
  const dryRun = options.dryRun === true;
  let after = before;
  let changed = false;
  if (!dryRun && before.total !== requested) {
    writeKernelFile(file, String(requested), rootHint(what));
    changed = true;
    after = pool(before.bytes) ?? before;
  }
  let reason: string | undefined;
  if (!dryRun && after.total < requested) reason = shortfallReason(after, requested);
  else if (!dryRun && after.surplus > 0 && requested < before.total) {
    reason =
      `${after.surplus} ${after.size} pages are still mapped by processes; they stay as surplus until unmapped`;
  } else if (dryRun) {
    reason = before.total === requested
      ? `the pool already has ${requested} pages; nothing to write`
      : `would write ${requested} to ${file} (now ${before.total})`;
  }
  return {
    size: after.size,
    bytes: after.bytes,
    requested,
    before: before.total,
    total: after.total,
    free: after.free,
    surplus: after.surplus,
    changed,
    dryRun,
    ok: after.total === requested,
    reason,
    file,
  };
}

/**
 * The host's hugetlb pools.
 *
 * ```ts
 * const r = hugePages.reserve("2MB", 64); // needs root
 * if (!r.ok) console.warn(r.reason);
 * ```
 */
export const hugePages: HugePages = {
  status,
  pool,
  reserve: (size, n, options = {}) =>
    setPool(size, n, options, `reserve ${n} --size ${pageSizeName(parseSize(size))}`),
  release: (size, options = {}) =>
    setPool(size, 0, options, `release --size ${pageSizeName(parseSize(size))}`),
};

/** How to make a pool size survive a reboot. */
export interface PersistentPoolSetting {
  /** "sysctl" for the default page size; "boot" (kernel parameters) for the others, which have no sysctl. */
  readonly kind: "sysctl" | "boot";
  /** The line to add: `vm.nr_hugepages = 64`, or `hugepagesz=1G hugepages=4`. */
  readonly line: string;
  /** Where the line goes. */
  readonly where: string;
}

/** The setting that gives a pool of `count` pages of `size` at every boot. */
export function persistentPoolSetting(size: PageSizeInput, count: number): PersistentPoolSetting {
  const bytes = parseSize(size);
  if (bytes === defaultHugePageSize()) {
    return { kind: "sysctl", line: `vm.nr_hugepages = ${count}`, where: "/etc/sysctl.d/80-hugepages.conf" };
  }
  return {
    kind: "boot",
    line: `hugepagesz=${pageSizeName(bytes).replace("B", "")} hugepages=${count}`,
    where: "the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub)",
  };
}
