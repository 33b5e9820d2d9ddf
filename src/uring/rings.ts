/**
 * The memory io_uring shares with the kernel: the SQ ring, the CQ ring and
 * the SQE array, mmapped from the ring fd at the offsets io_uring_setup wrote
 * into io_uring_params.
 *
 * @module
 */
import { runtime } from "../../ffi/runtime/mod.ts";
import {
  io_uring_cqe,
  io_uring_params,
  io_uring_sqe,
  IORING_FEAT_SINGLE_MMAP,
  IORING_OFF_CQ_RING,
  IORING_OFF_SQ_RING,
  IORING_OFF_SQES,
} from "../../ffi/structs/io_uring.ts";
import { MAP_POPULATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "../../ffi/structs/mman.ts";
import { check, sys } from "../native.ts";

/** Word (u32) indices into the SQ and CQ ring views. */
export interface RingMemory {
  /** The SQ ring as u32 words. */
  readonly sq: Uint32Array;
  /** The CQ ring as u32 words (the same memory as `sq` with IORING_FEAT_SINGLE_MMAP). */
  readonly cq: Uint32Array;
  /** The CQ ring as i32 words, for cqe->res. */
  readonly cqSigned: Int32Array;
  /** The SQE array as u32 words. */
  readonly sqes: Uint32Array;
  /** Word index of sq head, tail, flags and dropped. */
  readonly sqHead: number;
  readonly sqTail: number;
  readonly sqFlags: number;
  readonly sqDropped: number;
  /** sq ring_mask and ring_entries. */
  readonly sqMask: number;
  readonly sqEntries: number;
  /** Word index of cq head, tail and overflow. */
  readonly cqHead: number;
  readonly cqTail: number;
  readonly cqOverflow: number;
  /** Word index of cqes[0]. */
  readonly cqes: number;
  /** cq ring_mask and ring_entries. */
  readonly cqMask: number;
  readonly cqEntries: number;
  /** Unmaps everything. The views must not be touched afterwards. */
  unmap(): void;
}

const PROT = PROT_READ | PROT_WRITE;
const FLAGS = MAP_SHARED | MAP_POPULATE;

function mapRegion(fd: number, length: number, offset: number, what: string): number {
  const address = sys().mmap(0, length, PROT, FLAGS, fd, offset);
  // MAP_FAILED is (void *)-1, which the adapter returns as 2^64 - 1.
  if (address === -1 || address >= 2 ** 64 - 1 || address === 0) {
    check(-1, "mmap", { subject: `io_uring ${what}, ${length} bytes` });
  }
  return address;
}

/** Maps the rings of the io_uring `fd`, given the io_uring_params its setup filled. */
export function mapRings(fd: number, params: DataView): RingMemory {
  const p = (field: string) => io_uring_params.read(params, 0, field);
  const sqOff = (field: string) => p(`sq_off.${field}`);
  const cqOff = (field: string) => p(`cq_off.${field}`);
  const sqEntries = p("sq_entries");
  const cqEntries = p("cq_entries");
  let sqSize = sqOff("array") + sqEntries * 4;
  let cqSize = cqOff("cqes") + cqEntries * io_uring_cqe.size;
  const single = (p("features") & IORING_FEAT_SINGLE_MMAP) !== 0;
  if (single) sqSize = cqSize = Math.max(sqSize, cqSize);
  const sqesSize = sqEntries * io_uring_sqe.size;

  const regions: Array<[number, number]> = [];
  try {
    const sqAddr = mapRegion(fd, sqSize, IORING_OFF_SQ_RING, "SQ ring");
    regions.push([sqAddr, sqSize]);
    const cqAddr = single ? sqAddr : mapRegion(fd, cqSize, IORING_OFF_CQ_RING, "CQ ring");
    if (!single) regions.push([cqAddr, cqSize]);
    const sqesAddr = mapRegion(fd, sqesSize, IORING_OFF_SQES, "SQE array");
    regions.push([sqesAddr, sqesSize]);

    const sqBuffer = runtime().view(sqAddr, sqSize);
    const cqBuffer = single ? sqBuffer : runtime().view(cqAddr, cqSize);
    const sq = new Uint32Array(sqBuffer);
    const cq = new Uint32Array(cqBuffer);
    const memory: RingMemory = {
      sq,
      cq,
      cqSigned: new Int32Array(cqBuffer),
      sqes: new Uint32Array(runtime().view(sqesAddr, sqesSize)),
      sqHead: sqOff("head") / 4,
      sqTail: sqOff("tail") / 4,
      sqFlags: sqOff("flags") / 4,
      sqDropped: sqOff("dropped") / 4,
      sqMask: sq[sqOff("ring_mask") / 4],
      sqEntries: sq[sqOff("ring_entries") / 4],
      cqHead: cqOff("head") / 4,
      cqTail: cqOff("tail") / 4,
      cqOverflow: cqOff("overflow") / 4,
      cqes: cqOff("cqes") / 4,
      cqMask: cq[cqOff("ring_mask") / 4],
      cqEntries: cq[cqOff("ring_entries") / 4],
      unmap: () => {
        for (const [a, n] of regions.splice(0)) sys().munmap(a, n);
      },
    };
    // SQE i always sits in slot i of the index array, so the array is written once.
    const array = sqOff("array") / 4;
    for (let i = 0; i < sqEntries; i++) sq[array + i] = i;
    return memory;
  } catch (e) {
    for (const [a, n] of regions) sys().munmap(a, n);
    throw e;
  }
}
