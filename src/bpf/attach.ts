/**
 * Attaching tracing programs: tracepoints, raw and BTF-typed tracepoints,
 * fentry/fexit, kprobes and uprobes, each through libbpf's
 * `bpf_program__attach_*`, each returning a {@link BpfLink}.
 *
 * Before calling libbpf, each attach checks what it can name precisely: the
 * program's type, that the tracepoint or kernel function exists, that the
 * kernel has kprobes or uprobes at all. So a mistake is a KernelError that
 * says which name is wrong and what exists, not a bare ENOENT.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import {
  BPF_MODIFY_RETURN,
  BPF_PROG_TYPE_KPROBE,
  BPF_PROG_TYPE_RAW_TRACEPOINT,
  BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
  BPF_PROG_TYPE_TRACEPOINT,
  BPF_PROG_TYPE_TRACING,
  BPF_TRACE_FENTRY,
  BPF_TRACE_FEXIT,
  BPF_TRACE_RAW_TP,
} from "../../ffi/structs/bpf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { bpf_uprobe_opts } from "../../ffi/structs/libbpf.ts";
import { runtime } from "../../ffi/runtime/mod.ts";
import { KernelError, notSupported } from "../errors.ts";
import { cString, errno, libbpf } from "../native.ts";
import { btfTracepointExists, kernelFunctionExists, missingKernelFunction, similarKernelFunctions } from "./btf.ts";
import { libbpfError, stableBytes } from "./libbpf_call.ts";
import { BpfLink, type LinkKind } from "./link.ts";
import { progTypeName } from "./names.ts";
import { trampolinesMissing } from "./probe.ts";
import { checkTracepoint, kprobesMissing, kprobesUnsupported, uprobesMissing } from "./tracefs.ts";

/** What an attach needs to know about a loaded program. */
export interface TracingProgram {
  /** The program's name, for messages. */
  readonly name: string;
  /** Its fd (throws EBADF once its object is closed). */
  readonly fd: number;
  /** libbpf's `struct bpf_program *`, valid while the object is open. */
  readonly handle: number;
  /** BPF_PROG_TYPE_*. */
  readonly type: number;
  /** The expected attach type (BPF_TRACE_FENTRY ...), for tracing programs. */
  readonly attachType: number;
  /** The function or tracepoint a tracing program was loaded against (fentry/fexit/tp_btf), if any. */
  readonly loadTarget: string | undefined;
}

/** Options of {@link attachKprobe}. */
export interface KprobeOptions {
  /** Probe the function's returns (a kretprobe) instead of its entry. */
  readonly retprobe?: boolean;
}

/** Options of {@link attachUprobe}. */
export interface UprobeOptions {
  /** Probe the function's returns (a uretprobe) instead of its entry. */
  readonly retprobe?: boolean;
  /** Only in this process (default: every process that runs the binary). */
  readonly pid?: number;
}

const privilegeHint =
  "tracing needs root, or CAP_BPF with CAP_PERFMON (and CAP_SYS_ADMIN for uprobes on other users' processes)";

function what(kind: LinkKind, program: TracingProgram, target: string): string {
  return `${kind} ${program.name} on ${target}`;
}

/** What a program is, as its section would say: "tracepoint", "fentry", "kprobe" ... */
function describe(program: TracingProgram): string {
  if (program.type === BPF_PROG_TYPE_TRACING) {
    const t = program.attachType;
    return t === BPF_TRACE_FENTRY
      ? "fentry"
      : t === BPF_TRACE_FEXIT
      ? "fexit"
      : t === BPF_TRACE_RAW_TP
      ? "tp_btf"
      : t === BPF_MODIFY_RETURN
      ? "fmod_ret"
      : "tracing";
  }
  return progTypeName(program.type);
}

function wrongType(program: TracingProgram, method: string, section: string): KernelError {
  return new KernelError({
    errno: ERRNO.EINVAL,
    syscall: method,
    message: `program "${program.name}" is a ${describe(program)} program, so ${method}() can't attach it`,
    hint: `declare the program ${section} for ${method}()`,
  });
}

/** Turns a NULL from bpf_program__attach_* into a KernelError, reading errno at once. */
function attached(
  link: number,
  kind: LinkKind,
  program: TracingProgram,
  target: string,
  syscall: string,
  explain: (err: number) => { message?: string; hint?: string } = () => ({}),
): BpfLink {
  if (link !== 0) return new BpfLink(link, kind, target, program.name);
  const err = errno() || ERRNO.EINVAL;
  const extra = err === ERRNO.EPERM || err === ERRNO.EACCES ? { hint: privilegeHint } : explain(err);
  throw libbpfError(err, syscall, { subject: what(kind, program, target), ...extra });
}

/**
 * Attaches a program declared `SEC("tracepoint")` (or `"tp/..."`) to the
 * tracepoint `category:name` (`syscalls`, `sys_enter_openat`), through a
 * perf event. Needs tracefs, which is mounted at /sys/kernel/tracing when
 * missing and the process may mount it.
 */
export function attachTracepoint(program: TracingProgram, category: string, name: string): BpfLink {
  if (program.type !== BPF_PROG_TYPE_TRACEPOINT) {
    throw wrongType(program, "attachTracepoint", 'SEC("tracepoint/<category>/<name>") or SEC("tracepoint")');
  }
  checkTracepoint(category, name);
  const link = libbpf().symbols.bpf_program__attach_tracepoint(program.handle, cString(category), cString(name));
  return attached(link, "tracepoint", program, `${category}:${name}`, "bpf_program__attach_tracepoint");
}

/**
 * Attaches a program declared `SEC("raw_tp")` (or `"raw_tracepoint"`) to the
 * raw tracepoint `name`: a tracepoint named without its category
 * (`sys_enter`, `sched_switch`), whose arguments are the tracepoint's raw
 * arguments. Needs no tracefs. A `tp_btf` program is passed on to
 * {@link attachTpBtf}.
 */
export function attachRawTracepoint(program: TracingProgram, name: string): BpfLink {
  if (program.type === BPF_PROG_TYPE_TRACING && program.attachType === BPF_TRACE_RAW_TP) {
    return attachTpBtf(program, name);
  }
  if (program.type !== BPF_PROG_TYPE_RAW_TRACEPOINT && program.type !== BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE) {
    throw wrongType(program, "attachRawTracepoint", 'SEC("raw_tp") or SEC("tp_btf/<name>")');
  }
  if (!/^[\w.-]+$/.test(name)) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_raw_tracepoint_open",
      message: `raw tracepoint "${name}": a raw tracepoint is one word, the tracepoint's name without its category`,
      hint: 'for syscalls:sys_enter_openat the raw tracepoint is "sys_enter" (every syscall); see /sys/kernel/tracing/events/*/',
    });
  }
  const link = libbpf().symbols.bpf_program__attach_raw_tracepoint(program.handle, cString(name));
  return attached(link, "raw_tracepoint", program, name, "bpf_raw_tracepoint_open", (err) =>
    err === ERRNO.ENOENT
      ? {
        message: `raw tracepoint ${program.name} on ${name}: the kernel has no tracepoint named "${name}"`,
        hint:
          'raw tracepoints are named without their category ("sys_enter", "sched_switch"); the names are the tracepoint directories under /sys/kernel/tracing/events/*/',
      }
      : {});
}

/**
 * The one target a loaded tracing program can have: the kernel verified it
 * against that function or tracepoint, and it can't be moved. A `wanted`
 * target that doesn't exist is ENOENT; one that exists but isn't the load-time
 * target is EINVAL, with how to retarget.
 */
function loadedTarget(program: TracingProgram, wanted: string | undefined, kind: LinkKind): string {
  const loaded = program.loadTarget;
  if (wanted !== undefined && wanted !== loaded) {
    const exists = kind === "tp_btf" ? btfTracepointExists(wanted) : kernelFunctionExists(wanted);
    if (!exists) {
      if (kind === "tp_btf") {
        throw new KernelError({
          errno: ERRNO.ENOENT,
          syscall: "bpf_program__attach_trace",
          message: `tp_btf ${program.name} on ${wanted}: the kernel has no tracepoint "${wanted}" (no btf_trace_${wanted} in its BTF)`,
          hint: 'name the tracepoint without its category ("sys_enter", "sched_switch")',
        });
      }
      throw missingKernelFunction(wanted, "bpf_program__attach_trace", `${kind} ${program.name}`);
    }
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_program__attach_trace",
      message: `${kind} program "${program.name}" was loaded for ${loaded ? `"${loaded}"` : "no target"}, not "${wanted}": the kernel verifies a ${kind} program against its target, so a loaded one can't be moved`,
      hint: `declare it SEC("${kind}/${wanted}"), or call object.setAttachTarget("${program.name}", "${wanted}") before load()`,
    });
  }
  if (loaded === undefined) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_program__attach_trace",
      message: `${kind} program "${program.name}" has no target`,
      hint: `declare it SEC("${kind}/<target>"), or call object.setAttachTarget("${program.name}", target) before load()`,
    });
  }
  return loaded;
}

/**
 * Attaches a `SEC("tp_btf/<name>")` program: a BTF-typed raw tracepoint,
 * whose arguments are typed by the kernel's BTF. `name`, if given, must be
 * the tracepoint it was loaded for. Needs no tracefs.
 */
export function attachTpBtf(program: TracingProgram, name?: string): BpfLink {
  if (program.type !== BPF_PROG_TYPE_TRACING || program.attachType !== BPF_TRACE_RAW_TP) {
    throw wrongType(program, "attachTpBtf", 'SEC("tp_btf/<name>")');
  }
  const target = loadedTarget(program, name, "tp_btf");
  const link = libbpf().symbols.bpf_program__attach_trace(program.handle);
  return attached(link, "tp_btf", program, target, "bpf_program__attach_trace");
}

/**
 * Attaches a `SEC("fentry/<function>")` or `SEC("fexit/<function>")` program
 * to its kernel function through a BPF trampoline (kernel 5.5, with BTF).
 * `func`, if given, must be the function it was loaded for; a function the
 * kernel doesn't have is ENOENT with the names that are close.
 */
export function attachTrampoline(program: TracingProgram, kind: "fentry" | "fexit", func?: string): BpfLink {
  const want = kind === "fentry" ? BPF_TRACE_FENTRY : BPF_TRACE_FEXIT;
  if (program.type !== BPF_PROG_TYPE_TRACING || program.attachType !== want) {
    throw wrongType(program, kind === "fentry" ? "attachFentry" : "attachFexit", `SEC("${kind}/<function>")`);
  }
  const target = loadedTarget(program, func, kind);
  const link = libbpf().symbols.bpf_program__attach_trace(program.handle);
  return attached(link, kind, program, target, "bpf_program__attach_trace");
}

/**
 * Attaches a `SEC("kprobe")` program to kernel function `func` (or to its
 * returns, with `retprobe`). On a kernel built without CONFIG_KPROBES this is
 * a KernelError ENOTSUP that says so and suggests fentry.
 */
export function attachKprobe(program: TracingProgram, func: string, options: KprobeOptions = {}): BpfLink {
  const kind: LinkKind = options.retprobe ? "kretprobe" : "kprobe";
  if (program.type !== BPF_PROG_TYPE_KPROBE) {
    throw wrongType(program, "attachKprobe", 'SEC("kprobe") or SEC("kretprobe")');
  }
  const missing = kprobesMissing();
  if (missing) {
    // Suggest a fentry target that exists: __x64_sys_getppid is an alias BTF doesn't list.
    const fentryTarget = kernelFunctionExists(func) ? func : similarKernelFunctions(func)[0] ?? func;
    throw kprobesUnsupported(missing, fentryTarget, trampolinesMissing());
  }
  if (!/^[\w.]+$/.test(func)) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_program__attach_kprobe",
      message: `kprobe ${program.name}: "${func}" is not a kernel function name`,
      hint: "kernel functions are listed in /proc/kallsyms",
    });
  }
  const link = libbpf().symbols.bpf_program__attach_kprobe(program.handle, options.retprobe ? 1 : 0, cString(func));
  return attached(link, kind, program, func, "bpf_program__attach_kprobe", (err) =>
    err === ERRNO.ENOENT || err === ERRNO.EINVAL
      ? {
        message: `${kind} ${program.name} on ${func}: the kernel has no function "${func}" that can be probed`,
        hint: "see /proc/kallsyms; functions marked notrace or inlined can't be probed",
      }
      : {});
}

/** The full path of `binary`: as given when it has a slash; else a library this process has mapped, or one in the usual directories. */
export function resolveBinary(binary: string): string | undefined {
  if (binary.includes("/")) return existsSync(binary) ? binary : undefined;
  try {
    for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
      const path = line.slice(line.indexOf("/"));
      if (line.indexOf("/") < 0) continue;
      const base = path.slice(path.lastIndexOf("/") + 1);
      if (base === binary || base.startsWith(`${binary}.so`)) return path;
    }
  } catch {
    // No /proc: search the directories.
  }
  const triple = process.arch === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  const pathDirs = process.env.PATH?.split(":") ?? [];
  const dirs = [`/lib/${triple}`, `/usr/lib/${triple}`, "/lib64", "/usr/lib64", "/lib", "/usr/lib", ...pathDirs];
  for (const d of dirs) {
    if (d && existsSync(`${d}/${binary}`)) return `${d}/${binary}`;
  }
  return undefined;
}

/**
 * Attaches a `SEC("uprobe")` program to function `symbol` of an executable
 * or shared library (or to its returns, with `retprobe`), in every process
 * that runs it or only in `pid`. `binary` is a path, or a library name this
 * process has loaded ("libc.so.6"). Needs no tracefs.
 */
export function attachUprobe(
  program: TracingProgram,
  binary: string,
  symbol: string,
  options: UprobeOptions = {},
): BpfLink {
  const kind: LinkKind = options.retprobe ? "uretprobe" : "uprobe";
  if (program.type !== BPF_PROG_TYPE_KPROBE) {
    throw wrongType(program, "attachUprobe", 'SEC("uprobe") or SEC("uretprobe")');
  }
  const missing = uprobesMissing();
  if (missing) throw notSupported("uprobes (CONFIG_UPROBE_EVENTS)", "bpf_program__attach_uprobe_opts", missing);
  const path = resolveBinary(binary);
  if (path === undefined) {
    throw new KernelError({
      errno: ERRNO.ENOENT,
      syscall: "bpf_program__attach_uprobe_opts",
      message: `${kind} ${program.name}: no binary "${binary}"`,
      hint: "give the executable's or library's path, or the name of a library this process has loaded (libc.so.6)",
    });
  }
  const pid = options.pid ?? -1;
  if (!Number.isInteger(pid) || pid < -1) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_program__attach_uprobe_opts",
      message: `${kind} ${program.name}: pid must be a process id (or omitted for every process), got ${pid}`,
    });
  }
  const name = stableBytes(new TextEncoder().encode(symbol).length + 1);
  name.set(new TextEncoder().encode(symbol));
  const opts = bpf_uprobe_opts.alloc();
  const v = new DataView(opts.buffer);
  bpf_uprobe_opts.write(v, 0, "sz", opts.length);
  bpf_uprobe_opts.write(v, 0, "retprobe", options.retprobe ? 1 : 0);
  bpf_uprobe_opts.write(v, 0, "func_name", runtime().addressOf(name));
  const target = `${path}:${symbol}${pid >= 0 ? ` (pid ${pid})` : ""}`;
  const link = libbpf().symbols.bpf_program__attach_uprobe_opts(program.handle, pid, cString(path), 0, opts);
  void name; // the opts point into it until the call returns
  return attached(link, kind, program, target, "bpf_program__attach_uprobe_opts", (err) =>
    err === ERRNO.ENOENT
      ? {
        message: `${kind} ${program.name}: ${path} has no function "${symbol}"`,
        hint: `see its symbols with \`nm -D ${path}\``,
      }
      : err === ERRNO.ESRCH
      ? { message: `${kind} ${program.name} on ${path}:${symbol}: there is no process ${pid}` }
      : {});
}
