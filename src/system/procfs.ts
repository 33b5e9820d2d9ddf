/**
 * Reading the kernel's files under /proc and /sys.
 *
 * @module
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { KernelError } from "../errors.ts";
import { errnoValue } from "../errors.ts";

/** The trimmed text of a /proc or /sys file, or undefined when it can't be read. */
export function readKernelFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The trimmed text of a /proc or /sys file; throws a KernelError naming the file when it can't be read. */
export function mustReadKernelFile(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO";
    throw new KernelError({
      errno: errnoValue(code) ?? 5,
      syscall: "open",
      subject: path,
      cause: e,
      hint: code === "ENOENT" ? "this kernel does not expose it; check the kernel version and config" : undefined,
    });
  }
}

/**
 * Writes `value` (and a newline) to a /proc or /sys file, as `echo value > path`
 * does. A failure is a KernelError naming the file, with `hint` for the
 * permission errors (EACCES, EPERM, EROFS).
 */
export function writeKernelFile(path: string, value: string, hint?: string): void {
  try {
    writeFileSync(path, `${value}\n`);
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO";
    const syscall = (e as { syscall?: string }).syscall ?? "write";
    const denied = code === "EACCES" || code === "EPERM" || code === "EROFS";
    throw new KernelError({
      errno: errnoValue(code) ?? 5,
      syscall,
      subject: path,
      cause: e,
      hint: denied ? hint : code === "ENOENT" ? "this kernel does not expose it; check the kernel version and config" : undefined,
    });
  }
}

/** The entries of a /proc or /sys directory, or [] when it can't be listed. */
export function listKernelDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** The selected word of a sysfs choice file: "always [madvise] never" gives "madvise". */
export function selectedChoice(text: string): string | undefined {
  return /\[([^\]]+)\]/.exec(text)?.[1];
}

/** One line of /proc/mounts. */
export interface MountEntry {
  /** The mounted source. */
  readonly source: string;
  /** The mount point. */
  readonly target: string;
  /** The filesystem type: "bpf", "tracefs", "hugetlbfs". */
  readonly type: string;
  /** Mount options. */
  readonly options: string;
}

/** The mounts of this process's mount namespace, from /proc/self/mounts. */
export function mounts(): MountEntry[] {
  const text = readKernelFile("/proc/self/mounts") ?? "";
  return text.split("\n").filter(Boolean).map((line) => {
    const [source, target, type, options] = line.split(" ");
    // /proc/mounts escapes spaces and tabs as octal.
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    return { source, target: unescape(target), type, options };
  });
}

/** The `Key: value` fields of /proc/self/status. */
export function processStatus(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (readKernelFile("/proc/self/status") ?? "").split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}
