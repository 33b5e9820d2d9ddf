/**
 * Who this process is to the kernel: root or not, and its effective capabilities.
 *
 * @module
 */
import {
  CAP_BPF,
  CAP_IPC_LOCK,
  CAP_NET_ADMIN,
  CAP_NET_RAW,
  CAP_PERFMON,
  CAP_SYS_ADMIN,
  CAP_SYS_RESOURCE,
} from "../../ffi/structs/capability.ts";
import { sys } from "../native.ts";
import { processStatus } from "./procfs.ts";

/** The capabilities kernelkit's features need, by name. */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_BPF,
  CAP_PERFMON,
  CAP_NET_ADMIN,
  CAP_NET_RAW,
  CAP_SYS_ADMIN,
  CAP_IPC_LOCK,
  CAP_SYS_RESOURCE,
};

/** The process's privileges. */
export interface Privileges {
  /** The effective uid. */
  readonly euid: number;
  /** True when the effective uid is 0. */
  readonly root: boolean;
  /** The effective capability set, as a bit mask (from /proc/self/status CapEff). */
  readonly effective: bigint;
  /** Each capability of {@link CAPABILITIES}: held or not. */
  readonly held: Readonly<Record<string, boolean>>;
}

/** Reads the effective uid (geteuid) and capability set (/proc/self/status). */
export function privileges(): Privileges {
  const euid = sys().geteuid();
  const capEff = processStatus().get("CapEff");
  const effective = capEff ? BigInt(`0x${capEff}`) : 0n;
  const held: Record<string, boolean> = {};
  for (const [name, bit] of Object.entries(CAPABILITIES)) held[name] = ((effective >> BigInt(bit)) & 1n) === 1n;
  return { euid, root: euid === 0, effective, held };
}
