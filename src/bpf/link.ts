/**
 * BpfLink: a tracing program attached to its hook (a tracepoint, a raw or
 * BTF-typed tracepoint, a kernel function through fentry/fexit, a kprobe or
 * a uprobe), as libbpf's `struct bpf_link`.
 *
 * The kernel keeps a program attached while a file descriptor refers to its
 * link. kernelkit doesn't pin tracing links, so the only fds are this
 * process's (opened close-on-exec, so children don't inherit them): the
 * program detaches on `close()`, and when the process exits, even on SIGKILL.
 *
 * @module
 */
import { bpf_link_info } from "../../ffi/structs/bpf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { libbpf } from "../native.ts";

/** The kinds of hook a {@link BpfLink} can hold a program on. */
export type LinkKind =
  | "tracepoint"
  | "raw_tracepoint"
  | "tp_btf"
  | "fentry"
  | "fexit"
  | "kprobe"
  | "kretprobe"
  | "uprobe"
  | "uretprobe";

/**
 * A program attached to a tracing hook.
 *
 * Close it (or `using` it) to detach. The kernel also detaches it when the
 * process exits, however it exits. Keep a reference for as long as the
 * program should stay attached: a BpfLink that is garbage-collected is closed
 * by its finalizer, and the program detaches then. Closing the program's
 * BpfObject does not detach it: the link holds the program.
 */
export class BpfLink {
  /** What kind of hook. */
  readonly kind: LinkKind;
  /** The hook: "syscalls:sys_enter_openat", "__do_sys_getppid", "/usr/lib/x86_64-linux-gnu/libc.so.6:getppid". */
  readonly target: string;
  /** The attached program's name. */
  readonly program: string;
  /** The kernel's id of the link (`bpftool link show id N`), or undefined for a perf event attached without a bpf_link (kernels before 5.15). */
  readonly id: number | undefined;
  #link: number;
  #fd: number;

  /** Created by the attach methods of BpfProgram; `link` is a libbpf `struct bpf_link *`, owned from now on. */
  constructor(link: number, kind: LinkKind, target: string, program: string) {
    const lib = libbpf().symbols;
    this.#link = link;
    this.#fd = lib.bpf_link__fd(link);
    this.kind = kind;
    this.target = target;
    this.program = program;
    const info = bpf_link_info.alloc();
    const len = new Uint32Array([info.length]);
    this.id = this.#fd >= 0 && lib.bpf_obj_get_info_by_fd(this.#fd, info, len) === 0
      ? bpf_link_info.read(new DataView(info.buffer), 0, "id")
      : undefined;
    registry.register(this, link, this);
  }

  /** The link's fd; throws EBADF after close. */
  get fd(): number {
    if (this.#link === 0) {
      throw new KernelError({
        errno: ERRNO.EBADF,
        syscall: "bpf_link",
        message: `the ${this.kind} link of ${this.program} on ${this.target} is closed`,
      });
    }
    return this.#fd;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#link === 0;
  }

  /** Detaches the program and releases the link (bpf_link__destroy). Closing twice is harmless. */
  close(): void {
    if (this.#link === 0) return;
    registry.unregister(this);
    const link = this.#link;
    this.#link = 0;
    this.#fd = -1;
    libbpf().symbols.bpf_link__destroy(link);
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const registry = new FinalizationRegistry<number>((link) => {
  try {
    libbpf().symbols.bpf_link__destroy(link);
  } catch {
    // Best effort: the backstop must never throw.
  }
});
