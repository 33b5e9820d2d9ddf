/**
 * `<fcntl.h>` and `<linux/openat2.h>`: open flags, `*at()` flags, fcntl
 * commands, splice, fallocate and fadvise flags, and struct open_how, in
 * header order.
 *
 * Values are glibc's for x86-64, which match the kernel's generic ABI except
 * for O_LARGEFILE (see there). Octal literals keep the header's spelling.
 *
 * @module
 */
import { type Struct, struct, u64 } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["fcntl.h", "linux/openat2.h", "linux/fs.h"];

/** open flags: mask of the access mode (RDONLY, WRONLY, RDWR). */
export const O_ACCMODE = 0o3;
/** open flags: read only. */
export const O_RDONLY = 0o0;
/** open flags: write only. */
export const O_WRONLY = 0o1;
/** open flags: read and write. */
export const O_RDWR = 0o2;
/** open flags: create the file if it doesn't exist (uses mode). */
export const O_CREAT = 0o100;
/** open flags: with O_CREAT, fail with EEXIST if the file exists. */
export const O_EXCL = 0o200;
/** open flags: don't make a terminal the controlling terminal. */
export const O_NOCTTY = 0o400;
/** open flags: truncate a regular file to length 0. */
export const O_TRUNC = 0o1000;
/** open flags: every write appends. */
export const O_APPEND = 0o2000;
/** open flags: non-blocking I/O (no effect on regular files). */
export const O_NONBLOCK = 0o4000;
/** open flags: writes wait for data and metadata to reach the device. */
export const O_SYNC = 0o4010000;
/** open flags: signal-driven I/O (SIGIO). */
export const O_ASYNC = 0o20000;
/** open flags: fail with ENOTDIR unless the path is a directory. */
export const O_DIRECTORY = 0o200000;
/** open flags: fail with ELOOP if the last component is a symlink. */
export const O_NOFOLLOW = 0o400000;
/** open flags: set FD_CLOEXEC on the new fd. */
export const O_CLOEXEC = 0o2000000;
/** open flags: bypass the page cache (aligned buffers, offsets and lengths). */
export const O_DIRECT = 0o40000;
/** open flags: don't update the access time (owner or CAP_FOWNER only). */
export const O_NOATIME = 0o1000000;
/** open flags: a location-only fd, for *at() and fstat; no I/O. */
export const O_PATH = 0o10000000;
/** open flags: writes wait for data (not all metadata) to reach the device. */
export const O_DSYNC = 0o10000;
/** open flags: an unnamed file in the directory given as the path (needs O_WRONLY or O_RDWR). */
export const O_TMPFILE = 0o20000000 | 0o200000;
/**
 * open flags: glibc's value on 64-bit targets is 0, because off_t is already
 * 64 bits and the kernel sets the kernel bit (0o100000) itself on 64-bit.
 */
export const O_LARGEFILE = 0;

/** fcntl: duplicate the fd to the lowest free number >= arg. */
export const F_DUPFD = 0;
/** fcntl: get the fd flags (FD_CLOEXEC). */
export const F_GETFD = 1;
/** fcntl: set the fd flags (FD_CLOEXEC). */
export const F_SETFD = 2;
/** fcntl: get the file status flags (O_*). */
export const F_GETFL = 3;
/** fcntl: set the file status flags (O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME, O_ASYNC). */
export const F_SETFL = 4;
/** fcntl: set a file lease (F_RDLCK, F_WRLCK, F_UNLCK). */
export const F_SETLEASE = 1024;
/** fcntl: get the lease type held. */
export const F_GETLEASE = 1025;
/** fcntl: directory change notification (DN_*). */
export const F_NOTIFY = 1026;
/** fcntl: duplicate with FD_CLOEXEC set. */
export const F_DUPFD_CLOEXEC = 1030;
/** fcntl: set a pipe's capacity in bytes (rounded up to pages; limit /proc/sys/fs/pipe-max-size). */
export const F_SETPIPE_SZ = 1031;
/** fcntl: get a pipe's capacity in bytes. */
export const F_GETPIPE_SZ = 1032;
/** fcntl: add seals (F_SEAL_*) to a memfd created with MFD_ALLOW_SEALING. */
export const F_ADD_SEALS = 1033;
/** fcntl: get the seals of a memfd. */
export const F_GET_SEALS = 1034;

/** F_GETFD/F_SETFD: close the fd on execve. */
export const FD_CLOEXEC = 1;

/** Seal: no more seals may be added. */
export const F_SEAL_SEAL = 0x0001;
/** Seal: the file may not shrink. */
export const F_SEAL_SHRINK = 0x0002;
/** Seal: the file may not grow. */
export const F_SEAL_GROW = 0x0004;
/** Seal: the contents may not change. */
export const F_SEAL_WRITE = 0x0008;
/** Seal: no new writable mappings or writes; existing mappings keep working. */
export const F_SEAL_FUTURE_WRITE = 0x0010;

/** posix_fadvise: no special treatment. */
export const POSIX_FADV_NORMAL = 0;
/** posix_fadvise: expect random access (no read-ahead). */
export const POSIX_FADV_RANDOM = 1;
/** posix_fadvise: expect sequential access (double read-ahead). */
export const POSIX_FADV_SEQUENTIAL = 2;
/** posix_fadvise: start reading the range into the page cache. */
export const POSIX_FADV_WILLNEED = 3;
/** posix_fadvise: drop the clean pages of the range from the page cache. */
export const POSIX_FADV_DONTNEED = 4;
/** posix_fadvise: the data is used once (a no-op before Linux 6.3). */
export const POSIX_FADV_NOREUSE = 5;

/** sync_file_range: wait for write-back already in flight before writing. */
export const SYNC_FILE_RANGE_WAIT_BEFORE = 1;
/** sync_file_range: start write-back of dirty pages. */
export const SYNC_FILE_RANGE_WRITE = 2;
/** sync_file_range: wait for the write-back to finish. */
export const SYNC_FILE_RANGE_WAIT_AFTER = 4;
/** sync_file_range: all three: write and wait. */
export const SYNC_FILE_RANGE_WRITE_AND_WAIT = 7;

/** splice/tee/vmsplice: move pages instead of copying (a hint). */
export const SPLICE_F_MOVE = 1;
/** splice/tee/vmsplice: don't block on the pipe (the other fd's blocking mode still applies). */
export const SPLICE_F_NONBLOCK = 2;
/** splice: more data follows (like MSG_MORE for a socket). */
export const SPLICE_F_MORE = 4;
/** vmsplice: give the pages to the kernel. */
export const SPLICE_F_GIFT = 8;

/** fallocate: don't change the file size. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
/** fallocate: deallocate the range (needs KEEP_SIZE). */
export const FALLOC_FL_PUNCH_HOLE = 0x02;
/** fallocate: reserved, unsupported. */
export const FALLOC_FL_NO_HIDE_STALE = 0x04;
/** fallocate: remove the range and shift the rest of the file down. */
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
/** fallocate: zero the range, allocating blocks. */
export const FALLOC_FL_ZERO_RANGE = 0x10;
/** fallocate: insert a hole and shift the rest of the file up. */
export const FALLOC_FL_INSERT_RANGE = 0x20;
/** fallocate: unshare reflinked blocks of the range. */
export const FALLOC_FL_UNSHARE_RANGE = 0x40;

/** *at() dirfd: the current working directory. */
export const AT_FDCWD = -100;
/** *at() flags: don't follow a trailing symlink. */
export const AT_SYMLINK_NOFOLLOW = 0x100;
/** unlinkat flags: remove a directory. */
export const AT_REMOVEDIR = 0x200;
/** linkat flags: follow a trailing symlink. */
export const AT_SYMLINK_FOLLOW = 0x400;
/** *at() flags: don't automount the last component. */
export const AT_NO_AUTOMOUNT = 0x800;
/** *at() flags: an empty path means dirfd itself. */
export const AT_EMPTY_PATH = 0x1000;
/** statx flags: mask of the sync mode. */
export const AT_STATX_SYNC_TYPE = 0x6000;
/** statx flags: do what stat() does (the default). */
export const AT_STATX_SYNC_AS_STAT = 0x0000;
/** statx flags: sync attributes with a remote server. */
export const AT_STATX_FORCE_SYNC = 0x2000;
/** statx flags: use cached attributes, don't sync. */
export const AT_STATX_DONT_SYNC = 0x4000;
/** open_tree/mount_setattr flags: apply to the whole subtree. */
export const AT_RECURSIVE = 0x8000;
/** faccessat flags: check with the effective IDs. */
export const AT_EACCESS = 0x200;

/** struct open_how: the arguments of openat2(2) (Linux 5.6). Unknown flags fail with EINVAL. */
export const open_how: Struct = struct("open_how", [
  ["flags", u64],
  ["mode", u64],
  ["resolve", u64],
]);

/** open_how.resolve: don't cross mount points (including bind mounts). */
export const RESOLVE_NO_XDEV = 0x01;
/** open_how.resolve: don't follow procfs magic links. */
export const RESOLVE_NO_MAGICLINKS = 0x02;
/** open_how.resolve: don't follow any symlinks. */
export const RESOLVE_NO_SYMLINKS = 0x04;
/** open_how.resolve: fail on paths that escape dirfd ("..", absolute paths, symlinks). */
export const RESOLVE_BENEATH = 0x08;
/** open_how.resolve: treat dirfd as the root, like chroot. */
export const RESOLVE_IN_ROOT = 0x10;
/** open_how.resolve: complete from the dentry cache or fail with EAGAIN (Linux 5.12; io_uring uses it). */
export const RESOLVE_CACHED = 0x20;

/** ioctl (linux/fs.h): share all of a file's extents with another (a reflink), on btrfs, XFS and others. */
export const FICLONE = 0x40049409;
