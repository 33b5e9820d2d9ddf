/**
 * struct statx, decoded into a plain object.
 *
 * @module
 */
import { statx } from "../../ffi/structs/stat.ts";

/** A file's attributes, from statx(2). Times are milliseconds since the epoch. */
export interface Statx {
  /** STATX_* bits saying which fields the filesystem filled in. */
  readonly mask: number;
  /** File type and permission bits (S_IF*, 0o7777). */
  readonly mode: number;
  /** Size in bytes. */
  readonly size: number;
  /** 512-byte blocks allocated. */
  readonly blocks: number;
  /** Preferred I/O block size. */
  readonly blksize: number;
  /** Hard links. */
  readonly nlink: number;
  /** Owner. */
  readonly uid: number;
  /** Group. */
  readonly gid: number;
  /** Inode number. */
  readonly ino: number;
  /** Last access. */
  readonly atimeMs: number;
  /** Last modification. */
  readonly mtimeMs: number;
  /** Last status change. */
  readonly ctimeMs: number;
  /** Creation, where the filesystem records it (else 0). */
  readonly birthtimeMs: number;
  /** True for a regular file. */
  readonly isFile: boolean;
  /** True for a directory. */
  readonly isDirectory: boolean;
}

const read = (field: string) => statx.reader(field);
const f = {
  mask: read("stx_mask"),
  mode: read("stx_mode"),
  size: read("stx_size"),
  blocks: read("stx_blocks"),
  blksize: read("stx_blksize"),
  nlink: read("stx_nlink"),
  uid: read("stx_uid"),
  gid: read("stx_gid"),
  ino: read("stx_ino"),
};
const time = (name: string) => {
  const sec = read(`${name}.tv_sec`);
  const nsec = read(`${name}.tv_nsec`);
  return (v: DataView) => sec(v, 0) * 1000 + nsec(v, 0) / 1e6;
};
const times = { a: time("stx_atime"), m: time("stx_mtime"), c: time("stx_ctime"), b: time("stx_btime") };

/** Decodes a filled struct statx at offset 0 of `view`. */
export function statxFrom(view: DataView): Statx {
  const mode = f.mode(view, 0);
  return {
    mask: f.mask(view, 0),
    mode,
    size: f.size(view, 0),
    blocks: f.blocks(view, 0),
    blksize: f.blksize(view, 0),
    nlink: f.nlink(view, 0),
    uid: f.uid(view, 0),
    gid: f.gid(view, 0),
    ino: f.ino(view, 0),
    atimeMs: times.a(view),
    mtimeMs: times.m(view),
    ctimeMs: times.c(view),
    birthtimeMs: times.b(view),
    isFile: (mode & 0o170000) === 0o100000,
    isDirectory: (mode & 0o170000) === 0o040000,
  };
}
