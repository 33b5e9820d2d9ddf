/**
 * `<sys/mman.h>`, `<linux/mman.h>` and `<linux/memfd.h>`: mmap, madvise,
 * msync, mlockall, mremap and memfd_create flags, in header order.
 *
 * glibc's `<sys/mman.h>` and the kernel's `<linux/mman.h>` define the shared
 * names (MAP_SHARED, MAP_HUGE_SHIFT) with the same values, so one file checks
 * all three. `MAP_FAILED` is `(void *) -1`, a pointer, not a number: compare a
 * returned address with -1 (or 2^64 - 1) instead.
 *
 * @module
 */

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["sys/mman.h", "linux/mman.h", "linux/memfd.h"];

/** mmap/mprotect prot: pages may be read. */
export const PROT_READ = 0x1;
/** mmap/mprotect prot: pages may be written. */
export const PROT_WRITE = 0x2;
/** mmap/mprotect prot: pages may be executed. */
export const PROT_EXEC = 0x4;
/** mmap/mprotect prot: pages may not be accessed (a guard mapping). */
export const PROT_NONE = 0x0;
/** mprotect: extend the change down to the start of a grows-down mapping. */
export const PROT_GROWSDOWN = 0x01000000;
/** mprotect: extend the change up to the end of a grows-up mapping. */
export const PROT_GROWSUP = 0x02000000;

/** mmap flags: changes are shared with other mappings of the object. */
export const MAP_SHARED = 0x01;
/** mmap flags: changes are private (copy-on-write). */
export const MAP_PRIVATE = 0x02;
/** mmap flags: MAP_SHARED, but unknown flags fail with EOPNOTSUPP instead of being ignored. */
export const MAP_SHARED_VALIDATE = 0x03;
/** mmap flags: mask of the mapping type (SHARED, PRIVATE, SHARED_VALIDATE). */
export const MAP_TYPE = 0x0f;
/** mmap flags: place the mapping exactly at addr, replacing what was there. */
export const MAP_FIXED = 0x10;
/** mmap flags: compatibility no-op (a file mapping). */
export const MAP_FILE = 0;
/** mmap flags: not backed by a file; memory is zero-filled. */
export const MAP_ANONYMOUS = 0x20;
/** mmap flags: bit position of the log2 huge page size, with MAP_HUGETLB. */
export const MAP_HUGE_SHIFT = 26;
/** mmap flags: mask of the log2 huge page size, after shifting by MAP_HUGE_SHIFT. */
export const MAP_HUGE_MASK = 0x3f;
/** mmap flags (x86-64): map into the first 2 GiB. */
export const MAP_32BIT = 0x40;
/** mmap flags: a stack-like mapping that grows down. */
export const MAP_GROWSDOWN = 0x0100;
/** mmap flags: ignored by the kernel. */
export const MAP_DENYWRITE = 0x0800;
/** mmap flags: ignored by the kernel. */
export const MAP_EXECUTABLE = 0x1000;
/** mmap flags: mlock the pages (best effort; counts against RLIMIT_MEMLOCK). */
export const MAP_LOCKED = 0x2000;
/** mmap flags: reserve no swap space for this mapping. */
export const MAP_NORESERVE = 0x4000;
/** mmap flags: prefault the page tables (read-ahead for files). */
export const MAP_POPULATE = 0x008000;
/** mmap flags: with MAP_POPULATE, don't block on I/O. */
export const MAP_NONBLOCK = 0x010000;
/** mmap flags: a thread stack (no THP). */
export const MAP_STACK = 0x020000;
/** mmap flags: back with hugetlbfs pages (needs reserved hugepages). */
export const MAP_HUGETLB = 0x040000;
/** mmap flags: synchronous page faults for DAX (needs MAP_SHARED_VALIDATE). */
export const MAP_SYNC = 0x080000;
/** mmap flags: like MAP_FIXED, but fail with EEXIST instead of replacing a mapping (Linux 4.17). */
export const MAP_FIXED_NOREPLACE = 0x100000;

/** msync: schedule the write-back and return. */
export const MS_ASYNC = 1;
/** msync: write back and wait. */
export const MS_SYNC = 4;
/** msync: invalidate other mappings of the same file. */
export const MS_INVALIDATE = 2;

/** madvise: no special treatment. */
export const MADV_NORMAL = 0;
/** madvise: expect random access (no read-ahead). */
export const MADV_RANDOM = 1;
/** madvise: expect sequential access (aggressive read-ahead). */
export const MADV_SEQUENTIAL = 2;
/** madvise: the pages will be needed soon (start read-ahead). */
export const MADV_WILLNEED = 3;
/** madvise: drop the pages now; private anonymous memory reads back as zeros. */
export const MADV_DONTNEED = 4;
/** madvise: the pages may be freed lazily under memory pressure (anonymous private only). */
export const MADV_FREE = 8;
/** madvise: free the range and its backing store (shmem, hugetlbfs, some filesystems). */
export const MADV_REMOVE = 9;
/** madvise: don't map the range into a child after fork. */
export const MADV_DONTFORK = 10;
/** madvise: undo MADV_DONTFORK. */
export const MADV_DOFORK = 11;
/** madvise: KSM may merge identical pages. */
export const MADV_MERGEABLE = 12;
/** madvise: undo MADV_MERGEABLE. */
export const MADV_UNMERGEABLE = 13;
/** madvise: back the range with transparent huge pages. */
export const MADV_HUGEPAGE = 14;
/** madvise: never back the range with transparent huge pages. */
export const MADV_NOHUGEPAGE = 15;
/** madvise: leave the range out of core dumps. */
export const MADV_DONTDUMP = 16;
/** madvise: undo MADV_DONTDUMP. */
export const MADV_DODUMP = 17;
/** madvise: a child sees the range zero-filled after fork. */
export const MADV_WIPEONFORK = 18;
/** madvise: undo MADV_WIPEONFORK. */
export const MADV_KEEPONFORK = 19;
/** madvise: deactivate the pages, reclaim them first (Linux 5.4). */
export const MADV_COLD = 20;
/** madvise: reclaim the pages now (Linux 5.4). */
export const MADV_PAGEOUT = 21;
/** madvise: prefault the page tables readable, without mapping in writable pages (Linux 5.14). */
export const MADV_POPULATE_READ = 22;
/** madvise: prefault the page tables writable, allocating the pages (Linux 5.14). */
export const MADV_POPULATE_WRITE = 23;
/** madvise: like MADV_DONTNEED, also for mlocked pages (Linux 5.18). */
export const MADV_DONTNEED_LOCKED = 24;
/** madvise: collapse the range into transparent huge pages now, synchronously (Linux 6.1). */
export const MADV_COLLAPSE = 25;
/** madvise: poison the pages (testing; needs CAP_SYS_ADMIN). */
export const MADV_HWPOISON = 100;

/** posix_madvise: no special treatment. */
export const POSIX_MADV_NORMAL = 0;
/** posix_madvise: expect random access. */
export const POSIX_MADV_RANDOM = 1;
/** posix_madvise: expect sequential access. */
export const POSIX_MADV_SEQUENTIAL = 2;
/** posix_madvise: the pages will be needed soon. */
export const POSIX_MADV_WILLNEED = 3;
/** posix_madvise: a no-op in glibc (it does not drop pages, unlike MADV_DONTNEED). */
export const POSIX_MADV_DONTNEED = 4;

/** mlockall: lock the pages mapped now. */
export const MCL_CURRENT = 1;
/** mlockall: lock pages mapped in the future. */
export const MCL_FUTURE = 2;
/** mlockall: lock pages when they are first faulted in, not at once. */
export const MCL_ONFAULT = 4;

/** mremap: the kernel may move the mapping. */
export const MREMAP_MAYMOVE = 1;
/** mremap: move to new_address, replacing what was there (needs MAYMOVE). */
export const MREMAP_FIXED = 2;
/** mremap: move the pages and leave the old range mapped but empty (Linux 5.7). */
export const MREMAP_DONTUNMAP = 4;

/** /proc/sys/vm/overcommit_memory: heuristic overcommit (the default). */
export const OVERCOMMIT_GUESS = 0;
/** /proc/sys/vm/overcommit_memory: always overcommit. */
export const OVERCOMMIT_ALWAYS = 1;
/** /proc/sys/vm/overcommit_memory: never overcommit. */
export const OVERCOMMIT_NEVER = 2;

/** mmap flags: MAP_HUGETLB with 2 MiB pages (21 << MAP_HUGE_SHIFT). */
export const MAP_HUGE_2MB = 21 * 2 ** 26;
/** mmap flags: MAP_HUGETLB with 1 GiB pages (30 << MAP_HUGE_SHIFT). */
export const MAP_HUGE_1GB = 30 * 2 ** 26;

/** memfd_create: set FD_CLOEXEC on the new fd. */
export const MFD_CLOEXEC = 0x0001;
/** memfd_create: allow fcntl(F_ADD_SEALS). */
export const MFD_ALLOW_SEALING = 0x0002;
/** memfd_create: back the file with hugetlbfs pages. */
export const MFD_HUGETLB = 0x0004;
/** memfd_create: bit position of the log2 huge page size, with MFD_HUGETLB. */
export const MFD_HUGE_SHIFT = 26;
/** memfd_create: mask of the log2 huge page size, after shifting by MFD_HUGE_SHIFT. */
export const MFD_HUGE_MASK = 0x3f;
/** memfd_create: MFD_HUGETLB with 2 MiB pages. */
export const MFD_HUGE_2MB = 21 * 2 ** 26;
/** memfd_create: MFD_HUGETLB with 1 GiB pages. */
export const MFD_HUGE_1GB = 30 * 2 ** 26;

/** mlock2 flags: lock pages when they are first faulted in. */
export const MLOCK_ONFAULT = 0x01;
