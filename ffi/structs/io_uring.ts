/**
 * `<linux/io_uring.h>`: the io_uring ABI, in header order.
 *
 * Constants are those of the installed UAPI header (Linux 6.1 on Debian 12).
 * Opcodes added by later kernels are named in {@link IORING_OP_NAMES_AFTER_6_1},
 * so that a probe of a newer kernel can still name what it reports.
 *
 * @module
 */
import { array, type Struct, struct, u16, u32, u64, u8, i32, union } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["linux/io_uring.h"];

/** struct io_uring_sqe: a submission queue entry (64 bytes). */
export const io_uring_sqe: Struct = struct("io_uring_sqe", [
  ["opcode", u8],
  ["flags", u8],
  ["ioprio", u16],
  ["fd", i32],
  ["", union("", [
    ["off", u64],
    ["addr2", u64],
    ["", struct("", [["cmd_op", u32], ["__pad1", u32]])],
  ])],
  ["", union("", [["addr", u64], ["splice_off_in", u64]])],
  ["len", u32],
  ["", union("", [
    ["rw_flags", u32],
    ["fsync_flags", u32],
    ["poll_events", u16],
    ["poll32_events", u32],
    ["sync_range_flags", u32],
    ["msg_flags", u32],
    ["timeout_flags", u32],
    ["accept_flags", u32],
    ["cancel_flags", u32],
    ["open_flags", u32],
    ["statx_flags", u32],
    ["fadvise_advice", u32],
    ["splice_flags", u32],
    ["rename_flags", u32],
    ["unlink_flags", u32],
    ["hardlink_flags", u32],
    ["xattr_flags", u32],
    ["msg_ring_flags", u32],
    ["uring_cmd_flags", u32],
  ])],
  ["user_data", u64],
  ["", union("", [["buf_index", u16], ["buf_group", u16]], { packed: true })],
  ["personality", u16],
  ["", union("", [
    ["splice_fd_in", i32],
    ["file_index", u32],
    ["", struct("", [["addr_len", u16], ["__pad3", array(u16, 1)]])],
  ])],
  ["", union("", [
    ["", struct("", [["addr3", u64], ["__pad2", array(u64, 1)]])],
    ["cmd", array(u8, 0)],
  ])],
]);

/** sqe->file_index: let the kernel pick a free direct descriptor. */
export const IORING_FILE_INDEX_ALLOC = 0xffffffff;

/** sqe->flags bit numbers. */
export const IOSQE_FIXED_FILE_BIT = 0;
/** See IOSQE_IO_DRAIN. */
export const IOSQE_IO_DRAIN_BIT = 1;
/** See IOSQE_IO_LINK. */
export const IOSQE_IO_LINK_BIT = 2;
/** See IOSQE_IO_HARDLINK. */
export const IOSQE_IO_HARDLINK_BIT = 3;
/** See IOSQE_ASYNC. */
export const IOSQE_ASYNC_BIT = 4;
/** See IOSQE_BUFFER_SELECT. */
export const IOSQE_BUFFER_SELECT_BIT = 5;
/** See IOSQE_CQE_SKIP_SUCCESS. */
export const IOSQE_CQE_SKIP_SUCCESS_BIT = 6;

/** sqe->flags: fd is an index into the registered file table. */
export const IOSQE_FIXED_FILE = 1 << 0;
/** sqe->flags: issue after all in-flight requests complete. */
export const IOSQE_IO_DRAIN = 1 << 1;
/** sqe->flags: link the next SQE; it starts when this one succeeds. */
export const IOSQE_IO_LINK = 1 << 2;
/** sqe->flags: like IO_LINK, but the chain survives a failure. */
export const IOSQE_IO_HARDLINK = 1 << 3;
/** sqe->flags: always go async (io-wq). */
export const IOSQE_ASYNC = 1 << 4;
/** sqe->flags: pick a buffer from sqe->buf_group. */
export const IOSQE_BUFFER_SELECT = 1 << 5;
/** sqe->flags: post no CQE when the request succeeds. */
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

/** io_uring_setup flag: busy-poll for completions (O_DIRECT block devices). */
export const IORING_SETUP_IOPOLL = 1 << 0;
/** io_uring_setup flag: a kernel thread polls the SQ. */
export const IORING_SETUP_SQPOLL = 1 << 1;
/** io_uring_setup flag: sq_thread_cpu is valid. */
export const IORING_SETUP_SQ_AFF = 1 << 2;
/** io_uring_setup flag: cq_entries is valid. */
export const IORING_SETUP_CQSIZE = 1 << 3;
/** io_uring_setup flag: clamp ring sizes to the maximum. */
export const IORING_SETUP_CLAMP = 1 << 4;
/** io_uring_setup flag: share the io-wq of wq_fd. */
export const IORING_SETUP_ATTACH_WQ = 1 << 5;
/** io_uring_setup flag: start disabled. */
export const IORING_SETUP_R_DISABLED = 1 << 6;
/** io_uring_setup flag: keep submitting after a failed SQE. */
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
/** io_uring_setup flag: run task work cooperatively, without IPIs. */
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
/** io_uring_setup flag: set IORING_SQ_TASKRUN when task work is pending. */
export const IORING_SETUP_TASKRUN_FLAG = 1 << 9;
/** io_uring_setup flag: 128-byte SQEs. */
export const IORING_SETUP_SQE128 = 1 << 10;
/** io_uring_setup flag: 32-byte CQEs. */
export const IORING_SETUP_CQE32 = 1 << 11;
/** io_uring_setup flag: one task submits. */
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
/** io_uring_setup flag: run task work only when waiting for events. */
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;

/** The opcodes of enum io_uring_op, in order, as named by the 6.1 header. */
export const IORING_OP_NOP = 0;
/** readv(2) */
export const IORING_OP_READV = 1;
/** writev(2) */
export const IORING_OP_WRITEV = 2;
/** fsync(2) */
export const IORING_OP_FSYNC = 3;
/** read into a registered buffer */
export const IORING_OP_READ_FIXED = 4;
/** write from a registered buffer */
export const IORING_OP_WRITE_FIXED = 5;
/** poll(2) one fd */
export const IORING_OP_POLL_ADD = 6;
/** cancel a POLL_ADD */
export const IORING_OP_POLL_REMOVE = 7;
/** sync_file_range(2) */
export const IORING_OP_SYNC_FILE_RANGE = 8;
/** sendmsg(2) */
export const IORING_OP_SENDMSG = 9;
/** recvmsg(2) */
export const IORING_OP_RECVMSG = 10;
/** a timeout */
export const IORING_OP_TIMEOUT = 11;
/** remove or update a timeout */
export const IORING_OP_TIMEOUT_REMOVE = 12;
/** accept4(2) */
export const IORING_OP_ACCEPT = 13;
/** cancel a request */
export const IORING_OP_ASYNC_CANCEL = 14;
/** a timeout for the linked request */
export const IORING_OP_LINK_TIMEOUT = 15;
/** connect(2) */
export const IORING_OP_CONNECT = 16;
/** fallocate(2) */
export const IORING_OP_FALLOCATE = 17;
/** openat(2) */
export const IORING_OP_OPENAT = 18;
/** close(2) */
export const IORING_OP_CLOSE = 19;
/** update registered files */
export const IORING_OP_FILES_UPDATE = 20;
/** statx(2) */
export const IORING_OP_STATX = 21;
/** pread(2) */
export const IORING_OP_READ = 22;
/** pwrite(2) */
export const IORING_OP_WRITE = 23;
/** posix_fadvise(2) */
export const IORING_OP_FADVISE = 24;
/** madvise(2) */
export const IORING_OP_MADVISE = 25;
/** send(2) */
export const IORING_OP_SEND = 26;
/** recv(2) */
export const IORING_OP_RECV = 27;
/** openat2(2) */
export const IORING_OP_OPENAT2 = 28;
/** epoll_ctl(2) */
export const IORING_OP_EPOLL_CTL = 29;
/** splice(2) */
export const IORING_OP_SPLICE = 30;
/** give buffers to a buffer group */
export const IORING_OP_PROVIDE_BUFFERS = 31;
/** take buffers from a buffer group */
export const IORING_OP_REMOVE_BUFFERS = 32;
/** tee(2) */
export const IORING_OP_TEE = 33;
/** shutdown(2) */
export const IORING_OP_SHUTDOWN = 34;
/** renameat2(2) */
export const IORING_OP_RENAMEAT = 35;
/** unlinkat(2) */
export const IORING_OP_UNLINKAT = 36;
/** mkdirat(2) */
export const IORING_OP_MKDIRAT = 37;
/** symlinkat(2) */
export const IORING_OP_SYMLINKAT = 38;
/** linkat(2) */
export const IORING_OP_LINKAT = 39;
/** post a CQE to another ring */
export const IORING_OP_MSG_RING = 40;
/** fsetxattr(2) */
export const IORING_OP_FSETXATTR = 41;
/** setxattr(2) */
export const IORING_OP_SETXATTR = 42;
/** fgetxattr(2) */
export const IORING_OP_FGETXATTR = 43;
/** getxattr(2) */
export const IORING_OP_GETXATTR = 44;
/** socket(2) */
export const IORING_OP_SOCKET = 45;
/** a driver passthrough command */
export const IORING_OP_URING_CMD = 46;
/** send(2) without copying the payload */
export const IORING_OP_SEND_ZC = 47;
/** sendmsg(2) without copying the payload */
export const IORING_OP_SENDMSG_ZC = 48;
/** One past the last opcode the 6.1 header knows. */
export const IORING_OP_LAST = 49;

/**
 * The opcode names of the 6.1 header, indexed by opcode, without the
 * IORING_OP_ prefix, lower-case: `IORING_OP_NAMES[22] === "read"`.
 */
export const IORING_OP_NAMES: readonly string[] = [
  "nop", "readv", "writev", "fsync", "read_fixed", "write_fixed", "poll_add", "poll_remove",
  "sync_file_range", "sendmsg", "recvmsg", "timeout", "timeout_remove", "accept", "async_cancel",
  "link_timeout", "connect", "fallocate", "openat", "close", "files_update", "statx", "read", "write",
  "fadvise", "madvise", "send", "recv", "openat2", "epoll_ctl", "splice", "provide_buffers",
  "remove_buffers", "tee", "shutdown", "renameat", "unlinkat", "mkdirat", "symlinkat", "linkat",
  "msg_ring", "fsetxattr", "setxattr", "fgetxattr", "getxattr", "socket", "uring_cmd", "send_zc",
  "sendmsg_zc",
];

/**
 * Opcodes added after Linux 6.1, from the kernel's include/uapi/linux/io_uring.h
 * (6.7 through 6.18), continuing from IORING_OP_LAST = 49. Not in the installed
 * header, so the layout test can't check them; a probe of a newer kernel is
 * named with them.
 */
export const IORING_OP_NAMES_AFTER_6_1: readonly string[] = [
  "read_multishot", "waitid", "futex_wait", "futex_wake", "futex_waitv", "fixed_fd_install",
  "ftruncate", "bind", "listen", "recv_zc", "epoll_wait", "readv_fixed", "writev_fixed", "pipe",
];

/** sqe->uring_cmd_flags: use a registered buffer. */
export const IORING_URING_CMD_FIXED = 1 << 0;
/** sqe->fsync_flags: fdatasync. */
export const IORING_FSYNC_DATASYNC = 1 << 0;
/** sqe->timeout_flags: absolute time. */
export const IORING_TIMEOUT_ABS = 1 << 0;
/** sqe->timeout_flags: update an existing timeout. */
export const IORING_TIMEOUT_UPDATE = 1 << 1;
/** sqe->timeout_flags: CLOCK_BOOTTIME. */
export const IORING_TIMEOUT_BOOTTIME = 1 << 2;
/** sqe->timeout_flags: CLOCK_REALTIME. */
export const IORING_TIMEOUT_REALTIME = 1 << 3;
/** sqe->timeout_flags: update a linked timeout. */
export const IORING_LINK_TIMEOUT_UPDATE = 1 << 4;
/** sqe->timeout_flags: expiry completes with 0 rather than -ETIME. */
export const IORING_TIMEOUT_ETIME_SUCCESS = 1 << 5;
/** sqe->splice_flags: fd_in is a registered file. */
export const SPLICE_F_FD_IN_FIXED = 0x80000000;
/** POLL_ADD (in sqe->len): multishot. */
export const IORING_POLL_ADD_MULTI = 1 << 0;
/** POLL_REMOVE: update the events. */
export const IORING_POLL_UPDATE_EVENTS = 1 << 1;
/** POLL_REMOVE: update user_data. */
export const IORING_POLL_UPDATE_USER_DATA = 1 << 2;
/** POLL_ADD: level-triggered. */
export const IORING_POLL_ADD_LEVEL = 1 << 3;
/** ASYNC_CANCEL: cancel all matches. */
export const IORING_ASYNC_CANCEL_ALL = 1 << 0;
/** ASYNC_CANCEL: match on fd. */
export const IORING_ASYNC_CANCEL_FD = 1 << 1;
/** ASYNC_CANCEL: match any request. */
export const IORING_ASYNC_CANCEL_ANY = 1 << 2;
/** ASYNC_CANCEL: fd is a registered file. */
export const IORING_ASYNC_CANCEL_FD_FIXED = 1 << 3;
/** send/recv (sqe->ioprio): arm poll first. */
export const IORING_RECVSEND_POLL_FIRST = 1 << 0;
/** recv (sqe->ioprio): multishot. */
export const IORING_RECV_MULTISHOT = 1 << 1;
/** send/recv (sqe->ioprio): use a registered buffer. */
export const IORING_RECVSEND_FIXED_BUF = 1 << 2;
/** SEND_ZC: report in the notification whether data was copied. */
export const IORING_SEND_ZC_REPORT_USAGE = 1 << 3;
/** SEND_ZC notification res: the data was copied after all. */
export const IORING_NOTIF_USAGE_ZC_COPIED = 0x80000000;
/** accept (sqe->ioprio): multishot. */
export const IORING_ACCEPT_MULTISHOT = 1 << 0;
/** MSG_RING command: pass len and off as res and user_data. */
export const IORING_MSG_DATA = 0;
/** MSG_RING command: send a registered fd. */
export const IORING_MSG_SEND_FD = 1;
/** MSG_RING flag: no CQE on the target ring. */
export const IORING_MSG_RING_CQE_SKIP = 1 << 0;

/** struct io_uring_cqe: a completion queue entry (16 bytes; 32 with CQE32). */
export const io_uring_cqe: Struct = struct("io_uring_cqe", [
  ["user_data", u64],
  ["res", i32],
  ["flags", u32],
  ["big_cqe", array(u64, 0)],
]);

/** cqe->flags: the upper 16 bits hold a buffer id. */
export const IORING_CQE_F_BUFFER = 1 << 0;
/** cqe->flags: more CQEs will follow for this SQE (multishot). */
export const IORING_CQE_F_MORE = 1 << 1;
/** cqe->flags: the socket has more data. */
export const IORING_CQE_F_SOCK_NONEMPTY = 1 << 2;
/** cqe->flags: a zero-copy notification. */
export const IORING_CQE_F_NOTIF = 1 << 3;
/** cqe->flags >> this = the buffer id. */
export const IORING_CQE_BUFFER_SHIFT = 16;

/** mmap offset of the SQ ring. */
export const IORING_OFF_SQ_RING = 0;
/** mmap offset of the CQ ring. */
export const IORING_OFF_CQ_RING = 0x8000000;
/** mmap offset of the SQE array. */
export const IORING_OFF_SQES = 0x10000000;

/** struct io_sqring_offsets: where the SQ ring fields are in its mapping. */
export const io_sqring_offsets: Struct = struct("io_sqring_offsets", [
  ["head", u32],
  ["tail", u32],
  ["ring_mask", u32],
  ["ring_entries", u32],
  ["flags", u32],
  ["dropped", u32],
  ["array", u32],
  ["resv1", u32],
  ["resv2", u64],
]);

/** sq_ring->flags: the SQPOLL thread sleeps; wake it with IORING_ENTER_SQ_WAKEUP. */
export const IORING_SQ_NEED_WAKEUP = 1 << 0;
/** sq_ring->flags: the CQ ring overflowed. */
export const IORING_SQ_CQ_OVERFLOW = 1 << 1;
/** sq_ring->flags: task work is pending; enter the kernel. */
export const IORING_SQ_TASKRUN = 1 << 2;

/** struct io_cqring_offsets: where the CQ ring fields are in its mapping. */
export const io_cqring_offsets: Struct = struct("io_cqring_offsets", [
  ["head", u32],
  ["tail", u32],
  ["ring_mask", u32],
  ["ring_entries", u32],
  ["overflow", u32],
  ["cqes", u32],
  ["flags", u32],
  ["resv1", u32],
  ["resv2", u64],
]);

/** cq_ring->flags: eventfd notifications are off. */
export const IORING_CQ_EVENTFD_DISABLED = 1 << 0;

/** io_uring_enter flag: wait for min_complete completions. */
export const IORING_ENTER_GETEVENTS = 1 << 0;
/** io_uring_enter flag: wake the SQPOLL thread. */
export const IORING_ENTER_SQ_WAKEUP = 1 << 1;
/** io_uring_enter flag: wait for SQ space (SQPOLL). */
export const IORING_ENTER_SQ_WAIT = 1 << 2;
/** io_uring_enter flag: the last argument is an io_uring_getevents_arg. */
export const IORING_ENTER_EXT_ARG = 1 << 3;
/** io_uring_enter flag: fd is a registered ring index. */
export const IORING_ENTER_REGISTERED_RING = 1 << 4;

/** struct io_uring_params: in and out of io_uring_setup. */
export const io_uring_params: Struct = struct("io_uring_params", [
  ["sq_entries", u32],
  ["cq_entries", u32],
  ["flags", u32],
  ["sq_thread_cpu", u32],
  ["sq_thread_idle", u32],
  ["features", u32],
  ["wq_fd", u32],
  ["resv", array(u32, 3)],
  ["sq_off", io_sqring_offsets],
  ["cq_off", io_cqring_offsets],
]);

/** params->features: SQ and CQ rings share one mapping. */
export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
/** params->features: completions are never dropped. */
export const IORING_FEAT_NODROP = 1 << 1;
/** params->features: SQE data is consumed at submit time. */
export const IORING_FEAT_SUBMIT_STABLE = 1 << 2;
/** params->features: offset -1 means the current file position. */
export const IORING_FEAT_RW_CUR_POS = 1 << 3;
/** params->features: requests run with the submitter's credentials. */
export const IORING_FEAT_CUR_PERSONALITY = 1 << 4;
/** params->features: internal poll instead of io-wq for pollable files. */
export const IORING_FEAT_FAST_POLL = 1 << 5;
/** params->features: 32-bit poll events. */
export const IORING_FEAT_POLL_32BITS = 1 << 6;
/** params->features: SQPOLL works with non-registered files. */
export const IORING_FEAT_SQPOLL_NONFIXED = 1 << 7;
/** params->features: IORING_ENTER_EXT_ARG. */
export const IORING_FEAT_EXT_ARG = 1 << 8;
/** params->features: io-wq workers are native threads. */
export const IORING_FEAT_NATIVE_WORKERS = 1 << 9;
/** params->features: resource tags. */
export const IORING_FEAT_RSRC_TAGS = 1 << 10;
/** params->features: IOSQE_CQE_SKIP_SUCCESS. */
export const IORING_FEAT_CQE_SKIP = 1 << 11;
/** params->features: linked requests resolve files at issue time. */
export const IORING_FEAT_LINKED_FILE = 1 << 12;

/** io_uring_register opcode. */
export const IORING_REGISTER_BUFFERS = 0;
/** io_uring_register opcode. */
export const IORING_UNREGISTER_BUFFERS = 1;
/** io_uring_register opcode. */
export const IORING_REGISTER_FILES = 2;
/** io_uring_register opcode. */
export const IORING_UNREGISTER_FILES = 3;
/** io_uring_register opcode. */
export const IORING_REGISTER_EVENTFD = 4;
/** io_uring_register opcode. */
export const IORING_UNREGISTER_EVENTFD = 5;
/** io_uring_register opcode. */
export const IORING_REGISTER_FILES_UPDATE = 6;
/** io_uring_register opcode. */
export const IORING_REGISTER_EVENTFD_ASYNC = 7;
/** io_uring_register opcode. */
export const IORING_REGISTER_PROBE = 8;
/** io_uring_register opcode. */
export const IORING_REGISTER_PERSONALITY = 9;
/** io_uring_register opcode. */
export const IORING_UNREGISTER_PERSONALITY = 10;
/** io_uring_register opcode. */
export const IORING_REGISTER_RESTRICTIONS = 11;
/** io_uring_register opcode. */
export const IORING_REGISTER_ENABLE_RINGS = 12;
/** io_uring_register opcode. */
export const IORING_REGISTER_FILES2 = 13;
/** io_uring_register opcode. */
export const IORING_REGISTER_FILES_UPDATE2 = 14;
/** io_uring_register opcode. */
export const IORING_REGISTER_BUFFERS2 = 15;
/** io_uring_register opcode. */
export const IORING_REGISTER_BUFFERS_UPDATE = 16;
/** io_uring_register opcode. */
export const IORING_REGISTER_IOWQ_AFF = 17;
/** io_uring_register opcode. */
export const IORING_UNREGISTER_IOWQ_AFF = 18;
/** io_uring_register opcode. */
export const IORING_REGISTER_IOWQ_MAX_WORKERS = 19;
/** io_uring_register opcode. */
export const IORING_REGISTER_RING_FDS = 20;
/** io_uring_register opcode. */
export const IORING_UNREGISTER_RING_FDS = 21;
/** io_uring_register opcode. */
export const IORING_REGISTER_PBUF_RING = 22;
/** io_uring_register opcode. */
export const IORING_UNREGISTER_PBUF_RING = 23;
/** io_uring_register opcode. */
export const IORING_REGISTER_SYNC_CANCEL = 24;
/** io_uring_register opcode. */
export const IORING_REGISTER_FILE_ALLOC_RANGE = 25;

/** struct io_uring_rsrc_register: IORING_REGISTER_FILES2 / BUFFERS2. */
export const io_uring_rsrc_register: Struct = struct("io_uring_rsrc_register", [
  ["nr", u32],
  ["flags", u32],
  ["resv2", u64],
  ["data", u64],
  ["tags", u64],
]);

/** io_uring_rsrc_register flag: a sparse table. */
export const IORING_RSRC_REGISTER_SPARSE = 1 << 0;

/** struct io_uring_rsrc_update2: IORING_REGISTER_FILES_UPDATE2 / BUFFERS_UPDATE. */
export const io_uring_rsrc_update2: Struct = struct("io_uring_rsrc_update2", [
  ["offset", u32],
  ["resv", u32],
  ["data", u64],
  ["tags", u64],
  ["nr", u32],
  ["resv2", u32],
]);

/** Skip this slot in a files update. */
export const IORING_REGISTER_FILES_SKIP = -2;

/** io_uring_probe_op->flags: the opcode is supported. */
export const IO_URING_OP_SUPPORTED = 1 << 0;

/** struct io_uring_probe_op: one opcode of a probe. */
export const io_uring_probe_op: Struct = struct("io_uring_probe_op", [
  ["op", u8],
  ["resv", u8],
  ["flags", u16],
  ["resv2", u32],
]);

/** struct io_uring_probe: IORING_REGISTER_PROBE's result, followed by ops[]. */
export const io_uring_probe: Struct = struct("io_uring_probe", [
  ["last_op", u8],
  ["ops_len", u8],
  ["resv", u16],
  ["resv2", array(u32, 3)],
  ["ops", array(io_uring_probe_op, 0)],
]);

/** struct io_uring_buf: one buffer of a provided-buffer ring. */
export const io_uring_buf: Struct = struct("io_uring_buf", [
  ["addr", u64],
  ["len", u32],
  ["bid", u16],
  ["resv", u16],
]);

/** struct io_uring_buf_ring: a provided-buffer ring; its tail overlays bufs[0].resv. */
export const io_uring_buf_ring: Struct = struct("io_uring_buf_ring", [
  ["", union("", [
    ["", struct("", [["resv1", u64], ["resv2", u32], ["resv3", u16], ["tail", u16]])],
    ["bufs", array(io_uring_buf, 0)],
  ])],
]);

/** struct io_uring_buf_reg: IORING_REGISTER_PBUF_RING's argument. */
export const io_uring_buf_reg: Struct = struct("io_uring_buf_reg", [
  ["ring_addr", u64],
  ["ring_entries", u32],
  ["bgid", u16],
  ["pad", u16],
  ["resv", array(u64, 3)],
]);

/** struct io_uring_getevents_arg: IORING_ENTER_EXT_ARG's argument. */
export const io_uring_getevents_arg: Struct = struct("io_uring_getevents_arg", [
  ["sigmask", u64],
  ["sigmask_sz", u32],
  ["pad", u32],
  ["ts", u64],
]);

/** struct io_uring_recvmsg_out: the header multishot RECVMSG writes. */
export const io_uring_recvmsg_out: Struct = struct("io_uring_recvmsg_out", [
  ["namelen", u32],
  ["controllen", u32],
  ["payloadlen", u32],
  ["flags", u32],
]);
