/**
 * Asking the kernel what io_uring can do here: whether a ring can be set up
 * (and with SQPOLL), and which opcodes it supports (IORING_REGISTER_PROBE).
 *
 * @module
 */
import { runtime } from "../../ffi/runtime/mod.ts";
import {
  IO_URING_OP_SUPPORTED,
  io_uring_params,
  io_uring_probe,
  io_uring_probe_op,
  IORING_OP_NAMES,
  IORING_OP_NAMES_AFTER_6_1,
  IORING_REGISTER_PROBE,
} from "../../ffi/structs/io_uring.ts";
import { checkNegative, liburing } from "../native.ts";

/** The name of an opcode, lower-case without the IORING_OP_ prefix ("read"), or "op<N>". */
export function opcodeName(opcode: number): string {
  return IORING_OP_NAMES[opcode] ?? IORING_OP_NAMES_AFTER_6_1[opcode - IORING_OP_NAMES.length] ??
    `op${opcode}`;
}

/** One opcode as the kernel reports it. */
export interface OpcodeSupport {
  /** The IORING_OP_* number. */
  readonly opcode: number;
  /** Its name ("read"). */
  readonly name: string;
  /** Whether this kernel supports it. */
  readonly supported: boolean;
}

/** Options of {@link setupRingFd}. */
export interface RawSetupOptions {
  /** IORING_SETUP_* flags. */
  readonly flags?: number;
  /** sq_thread_idle in milliseconds, for SQPOLL. */
  readonly sqThreadIdle?: number;
  /** sq_thread_cpu, with IORING_SETUP_SQ_AFF. */
  readonly sqThreadCpu?: number;
  /** cq_entries, with IORING_SETUP_CQSIZE. */
  readonly cqEntries?: number;
}

/**
 * io_uring_setup() without mapping the rings: the fd and the filled
 * io_uring_params. The caller closes the fd.
 */
export function setupRingFd(entries: number, options: RawSetupOptions = {}): { fd: number; params: DataView } {
  const bytes = io_uring_params.alloc();
  const params = new DataView(bytes.buffer);
  io_uring_params.write(params, 0, "flags", options.flags ?? 0);
  io_uring_params.write(params, 0, "sq_thread_idle", options.sqThreadIdle ?? 0);
  io_uring_params.write(params, 0, "sq_thread_cpu", options.sqThreadCpu ?? 0);
  io_uring_params.write(params, 0, "cq_entries", options.cqEntries ?? 0);
  const fd = checkNegative(liburing().symbols.io_uring_setup(entries, bytes), "io_uring_setup", {
    subject: `${entries} entries, flags 0x${(options.flags ?? 0).toString(16)}`,
  });
  return { fd, params };
}

/** The opcodes of the ring `ringFd`, from IORING_REGISTER_PROBE. */
export function probeOpcodes(ringFd: number): OpcodeSupport[] {
  const maxOps = 256;
  const bytes = new Uint8Array(io_uring_probe.size + maxOps * io_uring_probe_op.size);
  // A synchronous call: the kernel writes the buffer before it returns.
  checkNegative(
    liburing().symbols.io_uring_register(ringFd, IORING_REGISTER_PROBE, runtime().addressOf(bytes), maxOps),
    "io_uring_register",
    { subject: "IORING_REGISTER_PROBE" },
  );
  const view = new DataView(bytes.buffer);
  const count = io_uring_probe.read(view, 0, "ops_len");
  const base = io_uring_probe.offsetof("ops");
  const out: OpcodeSupport[] = [];
  for (let i = 0; i < count; i++) {
    const at = base + i * io_uring_probe_op.size;
    const opcode = io_uring_probe_op.read(view, at, "op");
    const flags = io_uring_probe_op.read(view, at, "flags");
    out.push({ opcode, name: opcodeName(opcode), supported: (flags & IO_URING_OP_SUPPORTED) !== 0 });
  }
  return out;
}
