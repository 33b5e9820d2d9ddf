/**
 * `<linux/capability.h>`: capability numbers and the capget/capset structs.
 *
 * `kernelkit doctor` names the capability a feature lacks with these. A
 * capability's bit is `1 << (n & 31)` in word `n >> 5` of the data array.
 *
 * @module
 */
import { i32, type Struct, struct, u32 } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["linux/capability.h"];

/** capget/capset header version for 64-bit capability sets (two data structs). */
export const _LINUX_CAPABILITY_VERSION_3 = 0x20080522;
/** Number of __user_cap_data_struct entries for _LINUX_CAPABILITY_VERSION_3. */
export const _LINUX_CAPABILITY_U32S_3 = 2;

/** struct __user_cap_header_struct: capget/capset header; pid 0 is the caller. */
export const __user_cap_header_struct: Struct = struct("__user_cap_header_struct", [
  ["version", u32],
  ["pid", i32],
]);

/** struct __user_cap_data_struct: one 32-bit word of the three capability sets. */
export const __user_cap_data_struct: Struct = struct("__user_cap_data_struct", [
  ["effective", u32],
  ["permitted", u32],
  ["inheritable", u32],
]);

/** Capability: change file ownership. */
export const CAP_CHOWN = 0;
/** Capability: bypass file read, write and execute permission checks. */
export const CAP_DAC_OVERRIDE = 1;
/** Capability: bypass file read and directory search permission checks. */
export const CAP_DAC_READ_SEARCH = 2;
/** Capability: bypass checks that need the file's owner (O_NOATIME, chmod). */
export const CAP_FOWNER = 3;
/** Capability: keep set-user-ID and set-group-ID bits on modification. */
export const CAP_FSETID = 4;
/** Capability: send signals to any process. */
export const CAP_KILL = 5;
/** Capability: change group ids. */
export const CAP_SETGID = 6;
/** Capability: change user ids. */
export const CAP_SETUID = 7;
/** Capability: change capability sets. */
export const CAP_SETPCAP = 8;
/** Capability: set the immutable and append-only file attributes. */
export const CAP_LINUX_IMMUTABLE = 9;
/** Capability: bind ports below 1024. */
export const CAP_NET_BIND_SERVICE = 10;
/** Capability: broadcast and listen to multicast. */
export const CAP_NET_BROADCAST = 11;
/** Capability: network administration: attach XDP, configure interfaces, netns. */
export const CAP_NET_ADMIN = 12;
/** Capability: raw and packet sockets (AF_PACKET, SOCK_RAW). */
export const CAP_NET_RAW = 13;
/** Capability: lock memory beyond RLIMIT_MEMLOCK (mlock, io_uring registered buffers, hugetlb shm). */
export const CAP_IPC_LOCK = 14;
/** Capability: bypass System V IPC permission checks. */
export const CAP_IPC_OWNER = 15;
/** Capability: load and unload kernel modules. */
export const CAP_SYS_MODULE = 16;
/** Capability: raw I/O (iopl, /dev/mem). */
export const CAP_SYS_RAWIO = 17;
/** Capability: chroot. */
export const CAP_SYS_CHROOT = 18;
/** Capability: ptrace any process. */
export const CAP_SYS_PTRACE = 19;
/** Capability: process accounting. */
export const CAP_SYS_PACCT = 20;
/** Capability: system administration; before CAP_BPF and CAP_PERFMON (Linux 5.8) also BPF and tracing. */
export const CAP_SYS_ADMIN = 21;
/** Capability: reboot. */
export const CAP_SYS_BOOT = 22;
/** Capability: raise priority, set CPU affinity of other processes, real-time scheduling. */
export const CAP_SYS_NICE = 23;
/** Capability: override resource limits (RLIMIT_NOFILE, pipe sizes beyond pipe-max-size). */
export const CAP_SYS_RESOURCE = 24;
/** Capability: set the system clock. */
export const CAP_SYS_TIME = 25;
/** Capability: configure terminals (vhangup). */
export const CAP_SYS_TTY_CONFIG = 26;
/** Capability: create device files. */
export const CAP_MKNOD = 27;
/** Capability: take file leases on files one doesn't own. */
export const CAP_LEASE = 28;
/** Capability: write to the audit log. */
export const CAP_AUDIT_WRITE = 29;
/** Capability: configure auditing. */
export const CAP_AUDIT_CONTROL = 30;
/** Capability: set file capabilities. */
export const CAP_SETFCAP = 31;
/** Capability: override mandatory access control. */
export const CAP_MAC_OVERRIDE = 32;
/** Capability: configure mandatory access control. */
export const CAP_MAC_ADMIN = 33;
/** Capability: privileged syslog operations; see kernel addresses. */
export const CAP_SYSLOG = 34;
/** Capability: set wake-up alarms. */
export const CAP_WAKE_ALARM = 35;
/** Capability: block system suspend. */
export const CAP_BLOCK_SUSPEND = 36;
/** Capability: read the audit log over multicast netlink. */
export const CAP_AUDIT_READ = 37;
/** Capability: perf events and BPF tracing (Linux 5.8; with CAP_BPF for kprobes and fentry). */
export const CAP_PERFMON = 38;
/** Capability: bpf(): maps and most program types (Linux 5.8); XDP also needs CAP_NET_ADMIN. */
export const CAP_BPF = 39;
/** Capability: checkpoint/restore operations. */
export const CAP_CHECKPOINT_RESTORE = 40;
/** The highest capability of the installed header; /proc/sys/kernel/cap_last_cap has the kernel's. */
export const CAP_LAST_CAP = 40;
