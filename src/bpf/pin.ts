/**
 * bpffs: the file system where BPF maps, programs and links are pinned so
 * that they outlive the process that made them.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { check, cString, sys } from "../native.ts";

/** Where bpffs is mounted by convention. */
export const BPFFS_ROOT = "/sys/fs/bpf";

/** Where kernelkit pins the state of what it attaches to an interface: `/sys/fs/bpf/kernelkit/<ifname>`. */
export function pinDirFor(ifname: string, root: string = BPFFS_ROOT): string {
  return `${root}/kernelkit/${ifname}`;
}

/** True when a bpffs is mounted at `path` or above it (from /proc/self/mounts). */
export function bpffsMounted(path: string = BPFFS_ROOT): boolean {
  try {
    return readFileSync("/proc/self/mounts", "utf8").split("\n").some((line) => {
      const [, target, type] = line.split(" ");
      return type === "bpf" && (path === target || path.startsWith(`${target}/`));
    });
  } catch {
    return false;
  }
}

/**
 * Makes sure a bpffs is mounted at `root`; mounts one (as `mount -t bpf bpf
 * /sys/fs/bpf` would) when it isn't. Returns true when it mounted it now.
 * Mounting needs CAP_SYS_ADMIN.
 */
export function ensureBpffs(root: string = BPFFS_ROOT): boolean {
  if (bpffsMounted(root)) return false;
  if (!existsSync(root)) {
    throw new KernelError({
      errno: ERRNO.ENOENT,
      syscall: "mount",
      subject: root,
      message: `bpffs is not mounted and ${root} does not exist`,
      hint: "create the directory and `mount -t bpf bpf` it, or pass another pin root",
    });
  }
  check(sys().mount(cString("bpf"), cString(root), cString("bpf"), 0, 0), "mount", {
    subject: `bpf on ${root}`,
    hint: "mounting bpffs needs root (CAP_SYS_ADMIN): run `mount -t bpf bpf /sys/fs/bpf` as root",
  });
  return true;
}
