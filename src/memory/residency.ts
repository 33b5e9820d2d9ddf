/**
 * How a mapped range is backed right now, from /proc/self/smaps.
 *
 * @module
 */
import { readKernelFile } from "../system/procfs.ts";

/** What backs a range now, in bytes, summed over the kernel's VMAs inside it. */
export interface Residency {
  /** Resident in RAM (smaps Rss). hugetlb pages are not counted here: see the Hugetlb fields. */
  readonly rss: number;
  /** Of rss, in transparent huge pages (AnonHugePages). */
  readonly anonHugePages: number;
  /** Of rss, shared-memory pages in transparent huge pages (ShmemPmdMapped). */
  readonly shmemHugePages: number;
  /** Of rss, file pages mapped with huge page table entries (FilePmdMapped). */
  readonly fileHugePages: number;
  /** hugetlb pages mapped by this process only (Private_Hugetlb). */
  readonly privateHugetlb: number;
  /** hugetlb pages also mapped elsewhere (Shared_Hugetlb): a shared memfd mapped twice. */
  readonly sharedHugetlb: number;
  /** Locked in RAM by mlock (Locked). */
  readonly locked: number;
  /** Swapped out (Swap). */
  readonly swap: number;
  /** The page size the kernel maps the range with (KernelPageSize): 4096, or the hugetlb size. */
  readonly pageSize: number;
  /** How many VMAs (lines of /proc/self/maps) the range spans; advice on part of a range splits it. */
  readonly regions: number;
}

const fields = {
  Rss: "rss",
  AnonHugePages: "anonHugePages",
  ShmemPmdMapped: "shmemHugePages",
  FilePmdMapped: "fileHugePages",
  Private_Hugetlb: "privateHugetlb",
  Shared_Hugetlb: "sharedHugetlb",
  Locked: "locked",
  Swap: "swap",
  KernelPageSize: "pageSize",
} as const;

type Counts = { -readonly [K in keyof Residency]: number };

/** An all-zero residency, for an empty range. */
export function emptyResidency(): Residency {
  return {
    rss: 0,
    anonHugePages: 0,
    shmemHugePages: 0,
    fileHugePages: 0,
    privateHugetlb: 0,
    sharedHugetlb: 0,
    locked: 0,
    swap: 0,
    pageSize: 0,
    regions: 0,
  };
}

/**
 * Sums the smaps figures of the VMAs inside [address, address + length).
 * kernelkit keeps a guard page on each side of its mappings, so the kernel
 * never merges a neighbour's VMA into one of them and the sums are exactly
 * this range's.
 */
export function residencyOf(address: number, length: number, smaps?: string): Residency {
  const out: Counts = emptyResidency();
  if (length === 0) return out;
  const end = address + length;
  const text = smaps ?? readKernelFile("/proc/self/smaps") ?? "";
  let inside = false;
  for (const line of text.split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) {
      const lo = parseInt(range[1], 16);
      const hi = parseInt(range[2], 16);
      inside = lo < end && hi > address;
      if (inside) out.regions++;
      continue;
    }
    if (!inside) continue;
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (!m || !Object.hasOwn(fields, m[1])) continue;
    const key = fields[m[1] as keyof typeof fields];
    const bytes = Number(m[2]) * 1024;
    if (key === "pageSize") out.pageSize = Math.max(out.pageSize, bytes);
    else out[key] += bytes;
  }
  return out;
}
