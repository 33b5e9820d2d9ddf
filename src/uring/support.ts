/**
 * What io_uring can do on this host, found by making rings: the doctor's view.
 *
 * @module
 */
import { KernelError } from "../errors.ts";
import type { OpcodeSupport } from "./probe.ts";
import { Ring } from "./ring.ts";

/** What {@link probeIoUring} found. */
export interface IoUringSupport {
  /** IORING_FEAT_* bits of a plain ring. */
  readonly features: number;
  /** Every opcode the ring's probe reported. */
  readonly opcodes: readonly OpcodeSupport[];
  /** Null when an SQPOLL ring could be set up, else why not. */
  readonly sqpollError: KernelError | null;
}

/**
 * Sets up a small ring, asks its probe for the opcodes, tries an SQPOLL ring,
 * and closes both. Throws the KernelError of io_uring_setup when no ring can
 * be made at all.
 */
export function probeIoUring(): IoUringSupport {
  let features: number;
  let opcodes: OpcodeSupport[];
  {
    using ring = new Ring({ entries: 4 });
    features = ring.features;
    opcodes = ring.probe();
  }
  let sqpollError: KernelError | null = null;
  try {
    new Ring({ entries: 4, sqpoll: { idleMs: 1 } }).close();
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    sqpollError = e;
  }
  return { features, opcodes, sqpollError };
}
