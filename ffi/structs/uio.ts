/**
 * `<sys/uio.h>` and `<limits.h>`: struct iovec, the iovec count limit and the
 * preadv2/pwritev2 flags (also io_uring's sqe->rw_flags), in header order.
 *
 * struct msghdr and struct cmsghdr live with the sockets in `socket.ts`.
 *
 * @module
 */
import { ptr, type Struct, struct, u64 } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["sys/uio.h", "limits.h"];

/**
 * struct iovec: one buffer of a vectored read or write (16 bytes). The memory
 * at iov_base must stay alive until the kernel is done with it.
 */
export const iovec: Struct = struct("iovec", [
  ["iov_base", ptr],
  ["iov_len", u64],
]);

/** The most iovecs one readv/writev/sendmsg call accepts (the kernel's UIO_MAXIOV). */
export const UIO_MAXIOV = 1024;
/** POSIX's name for UIO_MAXIOV. */
export const IOV_MAX = 1024;

/** preadv2/pwritev2 and sqe->rw_flags: high-priority I/O, polled on IOPOLL-capable devices. */
export const RWF_HIPRI = 0x00000001;
/** pwritev2 flags: per-write O_DSYNC. */
export const RWF_DSYNC = 0x00000002;
/** pwritev2 flags: per-write O_SYNC. */
export const RWF_SYNC = 0x00000004;
/** preadv2 flags: fail with EAGAIN instead of blocking (data not in the page cache). */
export const RWF_NOWAIT = 0x00000008;
/** pwritev2 flags: per-write O_APPEND. */
export const RWF_APPEND = 0x00000010;
/**
 * pwritev2 flags: ignore O_APPEND for this write. Linux 6.9; glibc defines it
 * ahead of the kernel, so older kernels fail with EOPNOTSUPP.
 */
export const RWF_NOAPPEND = 0x00000020;
