/**
 * What tracing hooks this kernel has: tracefs (where tracepoint ids are read
 * from), the tracepoints themselves, and the kprobe and uprobe perf event
 * sources.
 *
 * Classic tracepoints (`attachTracepoint`) are attached through a perf event
 * whose config is the tracepoint's id, which libbpf reads from tracefs. So
 * tracefs must be mounted; kernelkit mounts it at /sys/kernel/tracing when it
 * isn't and the process may (root). Raw and BTF-typed tracepoints, fentry and
 * fexit need no tracefs.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError, notSupported } from "../errors.ts";
import { cString, errno, sys } from "../native.ts";
import { mounts } from "../system/procfs.ts";

/** Where tracefs is mounted by convention (Linux 4.1 and later). */
export const TRACEFS_ROOT = "/sys/kernel/tracing";
/** The older place: tracefs automounted inside debugfs. libbpf 1.1 prefers it when it exists. */
export const DEBUGFS_TRACING = "/sys/kernel/debug/tracing";

/** The tracefs directory libbpf will read, if it is usable now (has `events/`). */
export function tracefsRoot(): string | undefined {
  // libbpf's rule (tracefs_path): debugfs's tracing directory when it exists, else /sys/kernel/tracing.
  const root = existsSync(DEBUGFS_TRACING) ? DEBUGFS_TRACING : TRACEFS_ROOT;
  return existsSync(`${root}/events`) ? root : undefined;
}

/**
 * Makes sure tracefs is mounted where libbpf looks, mounting it at
 * /sys/kernel/tracing (as `mount -t tracefs nodev /sys/kernel/tracing` would)
 * when it isn't. Returns the directory. Mounting needs CAP_SYS_ADMIN: without
 * it the error says what to run. The mount is left in place (as the kernel's
 * own tools do); it costs nothing.
 */
export function ensureTracefs(): string {
  const root = tracefsRoot();
  if (root) return root;
  const mounted = mounts().some((m) => m.type === "tracefs" && m.target === TRACEFS_ROOT);
  if (!mounted) {
    if (!existsSync(TRACEFS_ROOT)) {
      throw notSupported(
        "tracefs",
        "mount",
        `${TRACEFS_ROOT} does not exist: the kernel has no tracefs (CONFIG_TRACING); use attachRawTracepoint or tp_btf programs, or fentry`,
      );
    }
    const ret = sys().mount(cString("nodev"), cString(TRACEFS_ROOT), cString("tracefs"), 0, 0);
    if (ret < 0) {
      const e = errno();
      throw new KernelError({
        errno: e,
        syscall: "mount",
        subject: `tracefs on ${TRACEFS_ROOT}`,
        message: `tracepoints need tracefs, which is not mounted, and mounting it failed (mount: ${
          e === ERRNO.EPERM ? "EPERM" : `errno ${e}`
        })`,
        hint: e === ERRNO.EPERM
          ? `run as root, or have root run \`mount -t tracefs nodev ${TRACEFS_ROOT}\` first; raw tracepoints (attachRawTracepoint), tp_btf and fentry need no tracefs`
          : `mount it with \`mount -t tracefs nodev ${TRACEFS_ROOT}\``,
      });
    }
  }
  const now = tracefsRoot();
  if (!now) {
    throw notSupported("tracefs events", "mount", `tracefs has no events/ directory at ${TRACEFS_ROOT}: the kernel lacks CONFIG_EVENT_TRACING`);
  }
  return now;
}

/** The directory names in `dir`, or [] when it can't be read. */
function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Up to `n` names from `names` that share the most with `wanted`, for "did you mean". */
function closest(wanted: string, names: readonly string[], n = 3): string[] {
  const score = (s: string) => {
    if (s.includes(wanted) || wanted.includes(s)) return 100 - Math.abs(s.length - wanted.length);
    let common = 0;
    while (common < s.length && common < wanted.length && s[common] === wanted[common]) common++;
    return common;
  };
  return names.map((s) => [s, score(s)] as const).filter(([, v]) => v >= 3).sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([s]) => s);
}

/**
 * Checks that tracepoint `category:name` exists (mounting tracefs if needed)
 * and returns its tracefs directory. A missing category or name is a
 * KernelError ENOENT that names what is there.
 */
export function checkTracepoint(category: string, name: string): string {
  const what = `tracepoint ${category}:${name}`;
  if (!/^[\w.-]+$/.test(category) || !/^[\w.-]+$/.test(name)) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_program__attach_tracepoint",
      message: `${what}: a category and a name are single words (like "syscalls" and "sys_enter_openat")`,
      hint: "see the tracepoints with `ls /sys/kernel/tracing/events/`",
    });
  }
  const root = ensureTracefs();
  const events = `${root}/events`;
  if (!existsSync(`${events}/${category}`)) {
    const near = closest(category, listDir(events));
    throw new KernelError({
      errno: ERRNO.ENOENT,
      syscall: "bpf_program__attach_tracepoint",
      message: `${what}: the kernel has no tracepoint category "${category}" (no ${events}/${category})`,
      hint: near.length
        ? `did you mean ${near.map((c) => `"${c}"`).join(" or ")}? The categories are the directories of ${events}`
        : `the categories are the directories of ${events}`,
    });
  }
  if (!existsSync(`${events}/${category}/${name}/id`)) {
    const near = closest(name, listDir(`${events}/${category}`).filter((n) => n !== "enable" && n !== "filter"));
    throw new KernelError({
      errno: ERRNO.ENOENT,
      syscall: "bpf_program__attach_tracepoint",
      message: `${what}: category "${category}" has no tracepoint "${name}"`,
      hint: near.length
        ? `did you mean ${near.map((c) => `"${c}"`).join(" or ")}? See ${events}/${category}/`
        : `see ${events}/${category}/`,
    });
  }
  return `${events}/${category}/${name}`;
}

/** The value of CONFIG_<name> in /proc/config.gz ("y", "m", or null when "is not set"), or undefined when unknown. */
export function kernelConfig(name: string): string | null | undefined {
  let text: string;
  try {
    text = gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
  } catch {
    return undefined;
  }
  if (new RegExp(`^# CONFIG_${name} is not set$`, "m").test(text)) return null;
  const m = new RegExp(`^CONFIG_${name}=(.*)$`, "m").exec(text);
  return m ? m[1] : undefined;
}

/**
 * Null when this kernel can attach kprobes, else why not. libbpf attaches
 * them through the `kprobe` perf event source (Linux 4.17), or, without it,
 * through tracefs's kprobe_events; a kernel built without CONFIG_KPROBES has
 * neither.
 */
export function kprobesMissing(): string | null {
  if (existsSync("/sys/bus/event_source/devices/kprobe/type")) return null;
  const config = kernelConfig("KPROBES");
  if (config === null) return "this kernel is built without CONFIG_KPROBES";
  const root = tracefsRoot();
  if (root && existsSync(`${root}/kprobe_events`)) return null;
  if (config === undefined && !root) {
    // Unknown config and no tracefs to look in: try the mount, then look.
    try {
      const r = ensureTracefs();
      if (existsSync(`${r}/kprobe_events`)) return null;
    } catch {
      // Fall through to the verdict below.
    }
  }
  return "this kernel has no kprobe perf event source (/sys/bus/event_source/devices/kprobe) and no kprobe_events in tracefs: it is built without CONFIG_KPROBES (or CONFIG_KPROBE_EVENTS)";
}

/**
 * The KernelError (ENOTSUP) for kprobes on a kernel without them; it names
 * CONFIG_KPROBES and suggests fentry, and says so when this host refuses
 * fentry too (`trampolines` is why, or null when fentry works).
 */
export function kprobesUnsupported(reason: string, func: string, trampolines: string | null): KernelError {
  const fentry =
    `trace kernel functions with fentry/fexit instead: SEC("fentry/${func}") and program.attachFentry(), BPF trampolines that need BTF, not kprobes (a system call's body is __do_sys_<name>)`;
  return notSupported(
    "kprobes (CONFIG_KPROBES)",
    "bpf_program__attach_kprobe",
    trampolines === null
      ? `${reason}: ${fentry}`
      : `${reason}: ${fentry}. On this host fentry is unavailable too (${trampolines}): for system calls use the sys_enter/sys_exit tracepoints (tp_btf or raw_tp)`,
  );
}

/** Null when this kernel can attach uprobes (the `uprobe` perf event source, CONFIG_UPROBE_EVENTS), else why not. */
export function uprobesMissing(): string | null {
  if (existsSync("/sys/bus/event_source/devices/uprobe/type")) return null;
  const root = tracefsRoot();
  if (root && existsSync(`${root}/uprobe_events`)) return null;
  return "this kernel has no uprobe perf event source (/sys/bus/event_source/devices/uprobe): it is built without CONFIG_UPROBE_EVENTS";
}
