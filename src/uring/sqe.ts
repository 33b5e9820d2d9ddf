/**
 * Writing submission queue entries straight into the shared SQE array.
 *
 * An SQE is 64 bytes, written as 16 u32 words. The word indices come from the
 * checked io_uring_sqe layout; 64-bit fields are written as two halves, so no
 * BigInt is made per op.
 *
 * @module
 */
import { io_uring_sqe } from "../../ffi/structs/io_uring.ts";

const word = (field: string): number => io_uring_sqe.offsetof(field) / 4;

/** Words per SQE. */
export const SQE_WORDS: number = io_uring_sqe.size / 4;
/** opcode | flags << 8 | ioprio << 16 */
const W_HEAD = word("opcode");
const W_FD = word("fd");
const W_OFF = word("off");
const W_ADDR = word("addr");
const W_LEN = word("len");
const W_OP_FLAGS = word("rw_flags");
const W_USER_DATA = word("user_data");
/** buf_index | personality << 16 */
const W_BUF_INDEX = word("buf_index");
const W_FILE_INDEX = word("splice_fd_in");
const W_ADDR3 = word("addr3");

const HI = 0x1_0000_0000;

/**
 * Fills SQE number `index` of `sqes`. 64-bit values (`off`, `addr`) are
 * numbers: offsets may be -1 (the current file position), addresses are below 2^53.
 */
export function writeSqe(
  sqes: Uint32Array,
  index: number,
  opcode: number,
  flags: number,
  ioprio: number,
  fd: number,
  off: number,
  addr: number,
  len: number,
  opFlags: number,
  userLo: number,
  userHi: number,
): void {
  const w = index * SQE_WORDS;
  sqes[w + W_HEAD] = opcode | (flags << 8) | (ioprio << 16);
  sqes[w + W_FD] = fd;
  sqes[w + W_OFF] = off;
  sqes[w + W_OFF + 1] = Math.floor(off / HI);
  sqes[w + W_ADDR] = addr;
  sqes[w + W_ADDR + 1] = Math.floor(addr / HI);
  sqes[w + W_LEN] = len;
  sqes[w + W_OP_FLAGS] = opFlags;
  sqes[w + W_USER_DATA] = userLo;
  sqes[w + W_USER_DATA + 1] = userHi;
  sqes[w + W_BUF_INDEX] = 0;
  sqes[w + W_FILE_INDEX] = 0;
  sqes[w + W_ADDR3] = 0;
  sqes[w + W_ADDR3 + 1] = 0;
  sqes[w + W_ADDR3 + 2] = 0;
  sqes[w + W_ADDR3 + 3] = 0;
}

/** Sets buf_index (registered buffer or buffer group) of SQE `index`. */
export function setBufIndex(sqes: Uint32Array, index: number, bufIndex: number): void {
  sqes[index * SQE_WORDS + W_BUF_INDEX] = bufIndex & 0xffff;
}

/** Sets splice_fd_in / file_index of SQE `index`. */
export function setFileIndex(sqes: Uint32Array, index: number, value: number): void {
  sqes[index * SQE_WORDS + W_FILE_INDEX] = value;
}

/** Sets addr3 of SQE `index`. */
export function setAddr3(sqes: Uint32Array, index: number, value: number): void {
  sqes[index * SQE_WORDS + W_ADDR3] = value;
  sqes[index * SQE_WORDS + W_ADDR3 + 1] = Math.floor(value / HI);
}

/** Sets ioprio of SQE `index` (op flags for accept, recv and send). */
export function setIoprio(sqes: Uint32Array, index: number, ioprio: number): void {
  const w = index * SQE_WORDS + W_HEAD;
  sqes[w] = (sqes[w] & 0xffff) | ((ioprio & 0xffff) << 16);
}
