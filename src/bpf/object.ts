/**
 * BpfObject: a BPF object file (the ELF that `clang -target bpf` writes),
 * opened and loaded through libbpf.so.1.
 *
 * `BpfObject.open()` parses the ELF (no kernel involved) and lists its
 * programs and maps; `load()` creates the maps, does the CO-RE relocations
 * against the kernel's BTF and runs the verifier on each program. A rejected
 * program is a KernelError whose `log` holds the verifier's log.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { runtime } from "../../ffi/runtime/mod.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { bpf_object_open_opts } from "../../ffi/structs/libbpf.ts";
import { errnoValue, KernelError } from "../errors.ts";
import { cString, libbpf } from "../native.ts";
import { btfTracepointExists, kernelFunctionExists, missingKernelFunction } from "./btf.ts";
import { checkLibbpf, checkPointer, libbpfError, stableBytes } from "./libbpf_call.ts";
import { trampolinesMissing } from "./probe.ts";
import { BpfMap, type Lifetime, type MapCodecs } from "./map.ts";
import { BpfProgram } from "./program.ts";

/** Options of {@link BpfObject.open}. */
export interface BpfObjectOptions {
  /**
   * A bpffs directory for the object's maps. Each map is pinned there under
   * its own name when loaded, or, when a compatible map is already pinned
   * there, that one is reused: state survives the process and is shared.
   */
  readonly pinRoot?: string;
  /** The object's name (default: the file name, or "kernelkit" for bytes). */
  readonly name?: string;
  /** Room for the verifier log of a rejected program (default 1 MiB; the tail is kept). */
  readonly logSize?: number;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** A node:fs error ("EISDIR", "EACCES", ...) as a KernelError naming `syscall`; other errors as they are. */
function fsError(e: unknown, syscall: string, subject: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  const errno = typeof code === "string" ? errnoValue(code) : undefined;
  return errno === undefined ? e : new KernelError({ errno, syscall, subject, cause: e });
}

function notElf(subject: string): KernelError {
  return new KernelError({
    errno: ERRNO.ENOEXEC,
    syscall: "bpf_object__open",
    message: `${subject} is not an ELF object file`,
    hint: "pass a BPF object compiled with `clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o`",
  });
}

/**
 * A BPF object file and, once loaded, its programs and maps in the kernel.
 *
 * Close it (or `using` it) to unload: programs and maps go away with their
 * last reference, but an attached link or a pin keeps them alive past
 * `close()` and past the process.
 */
export class BpfObject {
  /** The object's name (libbpf's, from the file name unless given). */
  readonly name: string;
  /** The names of its programs (function names). */
  readonly programNames: readonly string[];
  /** The names of its maps, including libbpf's internal ones (".rodata", ".bss"). */
  readonly mapNames: readonly string[];
  #obj: number;
  #loaded = false;
  readonly #lifetime: Lifetime = { closed: false };
  readonly #log: Uint8Array;
  readonly #keep: unknown[];
  readonly #programs = new Map<string, BpfProgram>();
  readonly #targets = new Map<string, string>();

  private constructor(obj: number, log: Uint8Array, keep: unknown[]) {
    this.#obj = obj;
    this.#log = log;
    this.#keep = keep;
    const lib = libbpf().symbols;
    const rt = runtime();
    this.name = rt.cstring(lib.bpf_object__name(obj));
    const progs: string[] = [];
    for (let p = lib.bpf_object__next_program(obj, 0); p !== 0; p = lib.bpf_object__next_program(obj, p)) {
      progs.push(rt.cstring(lib.bpf_program__name(p)));
    }
    const maps: string[] = [];
    for (let m = lib.bpf_object__next_map(obj, 0); m !== 0; m = lib.bpf_object__next_map(obj, m)) {
      maps.push(rt.cstring(lib.bpf_map__name(m)));
    }
    this.programNames = progs;
    this.mapNames = maps;
    registry.register(this, obj, this);
  }

  /**
   * Opens a BPF object from a file path or from the bytes of one. Nothing is
   * loaded into the kernel yet; call {@link load}. A file that isn't ELF, or
   * not a BPF object, is a KernelError with code ENOEXEC.
   */
  static open(source: string | Uint8Array, options: BpfObjectOptions = {}): BpfObject {
    const lib = libbpf().symbols;
    const rt = runtime();
    const subject = typeof source === "string" ? source : `${source.length} bytes`;
    let bytes: Uint8Array;
    if (typeof source === "string") {
      if (!existsSync(source)) {
        throw new KernelError({ errno: ERRNO.ENOENT, syscall: "bpf_object__open_file", subject: source });
      }
      try {
        bytes = readFileSync(source);
      } catch (e) {
        throw fsError(e, "bpf_object__open_file", source);
      }
    } else bytes = source;
    if (bytes.length < 4 || ELF_MAGIC.some((b, i) => bytes[i] !== b)) throw notElf(subject);

    const logSize = options.logSize ?? 1 << 20;
    if (!Number.isInteger(logSize) || logSize < 0 || logSize > 0xffff_ffff) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "bpf_object__open_mem",
        message: `BpfObject.open(${subject}): logSize ${logSize} is not a byte count from 0 to 2^32 - 1 (EINVAL)`,
        hint: "leave logSize out for 1 MiB of verifier log",
      });
    }
    const log = stableBytes(logSize);
    const name = options.name ??
      (typeof source === "string"
        ? source.slice(source.lastIndexOf("/") + 1).replace(/\.(bpf\.)?o$/, "")
        : "kernelkit");
    const nameBytes = stableBytes(name.length * 3 + 1);
    nameBytes.set(new TextEncoder().encode(name));
    const opts = bpf_object_open_opts.alloc();
    const v = new DataView(opts.buffer);
    const w = (f: string, x: number) => bpf_object_open_opts.write(v, 0, f, x);
    w("sz", opts.length);
    w("object_name", rt.addressOf(nameBytes));
    w("kernel_log_buf", rt.addressOf(log));
    w("kernel_log_size", log.length);
    w("kernel_log_level", 0); // libbpf retries a failed load with level 1 into this buffer

    // libbpf may keep pointing into the ELF image until load; keep a stable copy.
    const image = stableBytes(bytes.length);
    image.set(bytes);
    const obj = checkPointer(lib.bpf_object__open_mem(image, image.length, opts), "bpf_object__open_mem", {
      subject,
      hint: "check that it is a BPF object built by `clang -target bpf` (with -g for BTF)",
    });
    const object = new BpfObject(obj, log, [image, nameBytes, opts]);
    if (options.pinRoot) {
      try {
        object.#setPinRoot(options.pinRoot);
      } catch (e) {
        object.close();
        throw e;
      }
    }
    return object;
  }

  #setPinRoot(root: string): void {
    const lib = libbpf().symbols;
    const rt = runtime();
    try {
      mkdirSync(root, { recursive: true });
    } catch (e) {
      throw fsError(e, "mkdir", root);
    }
    for (
      let m = lib.bpf_object__next_map(this.#obj, 0);
      m !== 0;
      m = lib.bpf_object__next_map(this.#obj, m)
    ) {
      if (lib.bpf_map__is_internal(m)) continue;
      const name = rt.cstring(lib.bpf_map__name(m));
      checkLibbpf(lib.bpf_map__set_pin_path(m, cString(`${root}/${name}`)), "bpf_map__set_pin_path", {
        subject: `${root}/${name}`,
      });
    }
  }

  #handle(): number {
    if (this.#obj === 0) {
      throw new KernelError({
        errno: ERRNO.EBADF,
        syscall: "bpf_object",
        message: `BPF object "${this.name}" is closed`,
      });
    }
    return this.#obj;
  }

  /**
   * Before {@link load}: sets the kernel function (fentry, fexit) or
   * tracepoint (tp_btf) that tracing program `program` is verified against
   * and will attach to, for a program declared without one (`SEC("fentry")`)
   * or to override its section's. A function the kernel doesn't have is a
   * KernelError ENOENT naming the close ones that exist.
   */
  setAttachTarget(program: string, target: string): this {
    const obj = this.#handle();
    const lib = libbpf().symbols;
    if (this.#loaded) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "bpf_program__set_attach_target",
        message: `BPF object "${this.name}" is loaded: program "${program}" was verified against its target already`,
        hint: "call setAttachTarget() between BpfObject.open() and load()",
      });
    }
    const p = lib.bpf_object__find_program_by_name(obj, cString(program, "bpf_object__find_program_by_name"));
    if (p === 0) {
      throw new KernelError({
        errno: ERRNO.ENOENT,
        syscall: "bpf_program__set_attach_target",
        message: `BPF object "${this.name}" has no program "${program}"`,
        hint: `its programs are ${this.programNames.join(", ") || "none"}`,
      });
    }
    const ret = lib.bpf_program__set_attach_target(p, 0, cString(target));
    if (ret === -ERRNO.ESRCH || ret === -ERRNO.ENOENT) {
      throw isTpBtf(runtime().cstring(lib.bpf_program__section_name(p)))
        ? new KernelError({
          errno: ERRNO.ENOENT,
          syscall: "bpf_program__set_attach_target",
          message: `program "${program}": the kernel has no tracepoint "${target}" (no btf_trace_${target} in its BTF)`,
          hint: 'name the tracepoint without its category ("sys_enter", "sched_switch")',
        })
        : missingKernelFunction(target, "bpf_program__set_attach_target", `program "${program}"`);
    }
    checkLibbpf(ret, "bpf_program__set_attach_target", {
      subject: `${program} to ${target}`,
      hint: "only fentry, fexit, fmod_ret, tp_btf, lsm and freplace programs have an attach target",
    });
    this.#targets.set(program, target);
    return this;
  }

  /** True once {@link load} has succeeded. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /**
   * Creates the maps and verifies and loads every program. A rejected program
   * throws a KernelError whose `log` is the verifier's log and whose message
   * ends with its last lines. Loading twice is harmless.
   */
  load(): this {
    const obj = this.#handle();
    if (this.#loaded) return this;
    this.#log.fill(0, 0, 4);
    const ret = libbpf().symbols.bpf_object__load(obj);
    if (ret < 0) throw this.#loadError(-ret);
    this.#loaded = true;
    return this;
  }

  #loadError(err: number): KernelError {
    // libbpf's ESRCH: a fentry/fexit/tp_btf program's target isn't in the kernel's BTF.
    if (err === ERRNO.ESRCH) {
      const missing = this.#missingTarget();
      if (missing) return missing;
    }
    if (err === ERRNO.EPERM) {
      const refused = this.#refusedTrampoline();
      if (refused) return refused;
    }
    const end = this.#log.indexOf(0);
    const log = new TextDecoder().decode(this.#log.subarray(0, end < 0 ? this.#log.length : end)).trimEnd();
    const failed = this.#failedProgram();
    if (log.length === 0 || err === ERRNO.EPERM) {
      return libbpfError(err, "bpf_object__load", {
        subject: this.name,
        log: log || undefined,
        hint: err === ERRNO.EPERM
          ? "run as root, or grant CAP_BPF plus CAP_NET_ADMIN for XDP and tc programs or CAP_PERFMON for tracing programs (older kernels need CAP_SYS_ADMIN)"
          : undefined,
      });
    }
    // The verifier's last lines say why; its closing statistics ("processed N insns ...") don't.
    const lines = log.split("\n").filter((l) =>
      l.trim() && !/^(processed \d+ insns|verification time)/.test(l)
    );
    const tail = lines.slice(-2).join(" | ");
    const what = failed ? `program "${failed}" of ${this.name}` : this.name;
    return libbpfError(err, "bpf_object__load", {
      subject: this.name,
      log,
      message: `the BPF verifier rejected ${what}: ${tail}`,
      hint:
        "the full verifier log is in the error's `log` property; every packet access needs a bounds check against data_end first",
    });
  }

  /** The error for the first tracing program whose section names a target the kernel lacks. */
  #missingTarget(): KernelError | undefined {
    const lib = libbpf().symbols;
    for (
      let p = lib.bpf_object__next_program(this.#obj, 0);
      p !== 0;
      p = lib.bpf_object__next_program(this.#obj, p)
    ) {
      const name = runtime().cstring(lib.bpf_program__name(p));
      const section = runtime().cstring(lib.bpf_program__section_name(p));
      const target = this.#targets.get(name) ?? sectionTarget(section);
      if (target === undefined || !/^(fentry|fexit|fmod_ret|tp_btf|lsm)(\.s)?\//.test(section)) continue;
      if (isTpBtf(section)) {
        if (btfTracepointExists(target)) continue;
        return new KernelError({
          errno: ERRNO.ENOENT,
          syscall: "bpf_object__load",
          message: `program "${name}" of ${this.name}: the kernel has no tracepoint "${target}" for SEC("${section}")`,
          hint: 'name the tracepoint without its category ("sys_enter", "sched_switch")',
        });
      }
      if (!kernelFunctionExists(target)) {
        return missingKernelFunction(target, "bpf_object__load", `program "${name}" of ${this.name}, SEC("${section}")`);
      }
    }
    return undefined;
  }

  /** The error for an EPERM that came from a trampoline program the kernel refuses, not from missing privileges. */
  #refusedTrampoline(): KernelError | undefined {
    const failed = this.#failedProgram();
    if (failed === undefined) return undefined;
    const p = libbpf().symbols.bpf_object__find_program_by_name(this.#obj, cString(failed));
    const section = p === 0 ? "" : runtime().cstring(libbpf().symbols.bpf_program__section_name(p));
    if (!/^(fentry|fexit|fmod_ret|lsm)(\.s)?(\/|$)/.test(section)) return undefined;
    const why = trampolinesMissing();
    if (why === null) return undefined;
    return new KernelError({
      errno: ERRNO.EPERM,
      syscall: "bpf_object__load",
      feature: "BPF trampolines (fentry/fexit)",
      message: `program "${failed}" of ${this.name} (SEC("${section}")) can't be loaded: ${why}`,
      hint:
        'trace with SEC("tp_btf/<tracepoint>") or SEC("raw_tp") programs (attachTpBtf, attachRawTracepoint), which need no trampoline; a system call is seen at the sys_enter/sys_exit tracepoints',
    });
  }

  /** The first program without an fd after a failed load: libbpf stops at the one that failed. */
  #failedProgram(): string | undefined {
    const lib = libbpf().symbols;
    for (
      let p = lib.bpf_object__next_program(this.#obj, 0);
      p !== 0;
      p = lib.bpf_object__next_program(this.#obj, p)
    ) {
      if (lib.bpf_program__fd(p) < 0) return runtime().cstring(lib.bpf_program__name(p));
    }
    return undefined;
  }

  #requireLoaded(what: string): number {
    const obj = this.#handle();
    if (!this.#loaded) {
      throw new KernelError({
        errno: ERRNO.EBADF,
        syscall: "bpf_object",
        message: `BPF object "${this.name}" is not loaded yet, so ${what} has no fd`,
        hint: "call load() first",
      });
    }
    return obj;
  }

  /** The loaded program with this function name; throws ENOENT listing the names there are. */
  program(name: string): BpfProgram {
    const obj = this.#requireLoaded(`program "${name}"`);
    const hit = this.#programs.get(name);
    if (hit) return hit;
    const lib = libbpf().symbols;
    const p = lib.bpf_object__find_program_by_name(obj, cString(name, "bpf_object__find_program_by_name"));
    if (p === 0) {
      throw new KernelError({
        errno: ERRNO.ENOENT,
        syscall: "bpf_object__find_program_by_name",
        message: `BPF object "${this.name}" has no program "${name}"`,
        hint: `its programs are ${this.programNames.join(", ") || "none"}`,
      });
    }
    const section = runtime().cstring(lib.bpf_program__section_name(p));
    const prog = new BpfProgram(
      name,
      section,
      checkLibbpf(lib.bpf_program__fd(p), "bpf_program__fd", { subject: name }),
      this.#lifetime,
      {
        handle: p,
        type: lib.bpf_program__type(p),
        attachType: lib.bpf_program__expected_attach_type(p),
        loadTarget: this.#targets.get(name) ?? sectionTarget(section),
      },
    );
    this.#programs.set(name, prog);
    return prog;
  }

  /** Every loaded program. */
  get programs(): BpfProgram[] {
    return this.programNames.map((n) => this.program(n));
  }

  /**
   * The loaded map with this name, with typed keys and values (raw bytes when
   * no codecs are given). It is usable until the object is closed.
   */
  map<K = Uint8Array, V = Uint8Array>(name: string, codecs: MapCodecs<K, V> = {}): BpfMap<K, V> {
    const obj = this.#requireLoaded(`map "${name}"`);
    const lib = libbpf().symbols;
    const m = lib.bpf_object__find_map_by_name(obj, cString(name, "bpf_object__find_map_by_name"));
    if (m === 0) {
      throw new KernelError({
        errno: ERRNO.ENOENT,
        syscall: "bpf_object__find_map_by_name",
        message: `BPF object "${this.name}" has no map "${name}"`,
        hint: `its maps are ${this.mapNames.join(", ") || "none"}`,
      });
    }
    const fd = checkLibbpf(lib.bpf_map__fd(m), "bpf_map__fd", { subject: name });
    return new BpfMap(fd, codecs, { owned: false, lifetime: this.#lifetime });
  }

  /**
   * Unloads: closes the object's program and map fds. Attached links and pins
   * keep what they refer to alive. Closing twice is harmless; using a program
   * or map of a closed object throws EBADF.
   */
  close(): void {
    if (this.#obj === 0) return;
    registry.unregister(this);
    this.#lifetime.closed = true;
    libbpf().symbols.bpf_object__close(this.#obj);
    this.#obj = 0;
    this.#keep.length = 0;
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** The target in a tracing program's section: "__do_sys_getppid" of "fentry/__do_sys_getppid". */
function sectionTarget(section: string): string | undefined {
  const m = /^(?:fentry|fexit|fmod_ret|tp_btf|lsm|iter)(?:\.s)?\/(.+)$/.exec(section);
  return m ? m[1] : undefined;
}

function isTpBtf(section: string): boolean {
  return section === "tp_btf" || section.startsWith("tp_btf/");
}

const registry = new FinalizationRegistry<number>((obj) => {
  try {
    libbpf().symbols.bpf_object__close(obj);
  } catch {
    // Best effort: the backstop must never throw.
  }
});
