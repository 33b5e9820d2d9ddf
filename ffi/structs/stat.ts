/**
 * `<sys/stat.h>` and `<linux/stat.h>`: file type and mode bits, and the
 * statx(2) ABI (struct statx, STATX_* masks and attributes), in header order.
 *
 * `<linux/stat.h>` hides its S_IF* macros from glibc programs, so the mode bits
 * are checked against glibc's `<sys/stat.h>`; the values are the same. glibc's
 * struct statx is the kernel's (glibc includes `<linux/stat.h>` for it).
 *
 * @module
 */
import { array, i32, i64, type Struct, struct, u16, u32, u64 } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["sys/stat.h", "linux/stat.h"];

/** st_mode: mask of the file type bits. */
export const S_IFMT = 0o170000;
/** st_mode file type: socket. */
export const S_IFSOCK = 0o140000;
/** st_mode file type: symbolic link. */
export const S_IFLNK = 0o120000;
/** st_mode file type: regular file. */
export const S_IFREG = 0o100000;
/** st_mode file type: block device. */
export const S_IFBLK = 0o060000;
/** st_mode file type: directory. */
export const S_IFDIR = 0o040000;
/** st_mode file type: character device. */
export const S_IFCHR = 0o020000;
/** st_mode file type: FIFO (pipe). */
export const S_IFIFO = 0o010000;
/** st_mode: set-user-ID on execution. */
export const S_ISUID = 0o4000;
/** st_mode: set-group-ID on execution (or mandatory locking without group execute). */
export const S_ISGID = 0o2000;
/** st_mode: sticky bit (restricted deletion in a directory). */
export const S_ISVTX = 0o1000;

/** st_mode: owner may read, write and execute. */
export const S_IRWXU = 0o700;
/** st_mode: owner may read. */
export const S_IRUSR = 0o400;
/** st_mode: owner may write. */
export const S_IWUSR = 0o200;
/** st_mode: owner may execute (search a directory). */
export const S_IXUSR = 0o100;
/** st_mode: group may read, write and execute. */
export const S_IRWXG = 0o070;
/** st_mode: group may read. */
export const S_IRGRP = 0o040;
/** st_mode: group may write. */
export const S_IWGRP = 0o020;
/** st_mode: group may execute. */
export const S_IXGRP = 0o010;
/** st_mode: others may read, write and execute. */
export const S_IRWXO = 0o007;
/** st_mode: others may read. */
export const S_IROTH = 0o004;
/** st_mode: others may write. */
export const S_IWOTH = 0o002;
/** st_mode: others may execute. */
export const S_IXOTH = 0o001;

/** struct statx_timestamp: seconds and nanoseconds since the epoch (16 bytes). */
export const statx_timestamp: Struct = struct("statx_timestamp", [
  ["tv_sec", i64],
  ["tv_nsec", u32],
  ["__reserved", i32],
]);

/** struct statx: what statx(2) and IORING_OP_STATX fill in (256 bytes); stx_mask says what is valid. */
export const statx: Struct = struct("statx", [
  ["stx_mask", u32],
  ["stx_blksize", u32],
  ["stx_attributes", u64],
  ["stx_nlink", u32],
  ["stx_uid", u32],
  ["stx_gid", u32],
  ["stx_mode", u16],
  ["__spare0", array(u16, 1)],
  ["stx_ino", u64],
  ["stx_size", u64],
  ["stx_blocks", u64],
  ["stx_attributes_mask", u64],
  ["stx_atime", statx_timestamp],
  ["stx_btime", statx_timestamp],
  ["stx_ctime", statx_timestamp],
  ["stx_mtime", statx_timestamp],
  ["stx_rdev_major", u32],
  ["stx_rdev_minor", u32],
  ["stx_dev_major", u32],
  ["stx_dev_minor", u32],
  ["stx_mnt_id", u64],
  ["stx_dio_mem_align", u32],
  ["stx_dio_offset_align", u32],
  ["__spare3", array(u64, 12)],
]);

/** statx mask: stx_mode & S_IFMT. */
export const STATX_TYPE = 0x00000001;
/** statx mask: stx_mode & ~S_IFMT. */
export const STATX_MODE = 0x00000002;
/** statx mask: stx_nlink. */
export const STATX_NLINK = 0x00000004;
/** statx mask: stx_uid. */
export const STATX_UID = 0x00000008;
/** statx mask: stx_gid. */
export const STATX_GID = 0x00000010;
/** statx mask: stx_atime. */
export const STATX_ATIME = 0x00000020;
/** statx mask: stx_mtime. */
export const STATX_MTIME = 0x00000040;
/** statx mask: stx_ctime. */
export const STATX_CTIME = 0x00000080;
/** statx mask: stx_ino. */
export const STATX_INO = 0x00000100;
/** statx mask: stx_size. */
export const STATX_SIZE = 0x00000200;
/** statx mask: stx_blocks. */
export const STATX_BLOCKS = 0x00000400;
/** statx mask: everything in struct stat (TYPE through BLOCKS). */
export const STATX_BASIC_STATS = 0x000007ff;
/** statx mask: stx_btime (creation time), where the filesystem has one. */
export const STATX_BTIME = 0x00000800;
/** statx mask: stx_mnt_id (Linux 5.8). */
export const STATX_MNT_ID = 0x00001000;
/** statx mask: stx_dio_mem_align and stx_dio_offset_align (Linux 6.1); 0 means no O_DIRECT. */
export const STATX_DIOALIGN = 0x00002000;
/** statx mask: reserved for a future struct statx expansion; asking for it fails with EINVAL. */
export const STATX__RESERVED = 0x80000000;
/** statx mask: deprecated, STATX_BASIC_STATS | STATX_BTIME. */
export const STATX_ALL = 0x00000fff;

/** stx_attributes: compressed by the filesystem. */
export const STATX_ATTR_COMPRESSED = 0x00000004;
/** stx_attributes: immutable. */
export const STATX_ATTR_IMMUTABLE = 0x00000010;
/** stx_attributes: append-only. */
export const STATX_ATTR_APPEND = 0x00000020;
/** stx_attributes: not to be dumped. */
export const STATX_ATTR_NODUMP = 0x00000040;
/** stx_attributes: needs a key to decrypt. */
export const STATX_ATTR_ENCRYPTED = 0x00000800;
/** stx_attributes: a directory that is an automount trigger. */
export const STATX_ATTR_AUTOMOUNT = 0x00001000;
/** stx_attributes: the root of a mount. */
export const STATX_ATTR_MOUNT_ROOT = 0x00002000;
/** stx_attributes: fs-verity protected. */
export const STATX_ATTR_VERITY = 0x00100000;
/** stx_attributes: in the DAX (direct access) state. */
export const STATX_ATTR_DAX = 0x00200000;
