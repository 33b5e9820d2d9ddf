/**
 * `<sys/resource.h>`: struct rlimit and the limits kernelkit reads or raises
 * (RLIMIT_MEMLOCK for BPF maps and registered buffers on older kernels,
 * RLIMIT_NOFILE for many sockets), and the getpriority/setpriority targets.
 *
 * @module
 */
import { type Struct, struct, u64 } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["sys/resource.h"];

/** Resource: the number of open file descriptors (one more than the highest fd). */
export const RLIMIT_NOFILE = 7;
/**
 * Resource: bytes of locked memory. Before Linux 5.11 BPF maps and programs
 * were charged here; io_uring registered buffers still are, unless the caller
 * has CAP_IPC_LOCK.
 */
export const RLIMIT_MEMLOCK = 8;

/**
 * No limit: `(rlim_t) -1`, 2^64 - 1, which a JS number can't hold exactly.
 * Written with a u64 writer, -1 stores all ones, which is RLIM_INFINITY. A u64
 * reader returns 2 ** 64 for it (rounded); compare with that, or use readBigInt.
 */
export const RLIM_INFINITY = -1;

/** struct rlimit: the soft (cur) and hard (max) limit, for getrlimit/setrlimit/prlimit (16 bytes). */
export const rlimit: Struct = struct("rlimit", [
  ["rlim_cur", u64],
  ["rlim_max", u64],
]);

/** The lowest (most favourable) nice value. */
export const PRIO_MIN = -20;
/** The highest nice value + 1 (nice values run from -20 to 19). */
export const PRIO_MAX = 20;
/** getpriority/setpriority: who is a process id (0: the caller). */
export const PRIO_PROCESS = 0;
/** getpriority/setpriority: who is a process group id. */
export const PRIO_PGRP = 1;
/** getpriority/setpriority: who is a user id. */
export const PRIO_USER = 2;
