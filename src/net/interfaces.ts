/**
 * Network interfaces by name and index, in the calling process's network
 * namespace.
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { IF_NAMESIZE } from "../../ffi/structs/if_link.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { cString, errno, sys } from "../native.ts";

/** A network interface: its name and its index. */
export interface NetInterface {
  /** The name, as `ip link` shows it ("eth0"). */
  readonly name: string;
  /** The kernel's index for it, unique in its network namespace. */
  readonly index: number;
}

/** The names of the interfaces in this network namespace, from /proc/self/net/dev. */
export function interfaceNames(): string[] {
  try {
    return readFileSync("/proc/self/net/dev", "utf8").split("\n").slice(2)
      .map((l) => l.split(":")[0].trim()).filter((n) => n.length > 0);
  } catch {
    return [];
  }
}

/**
 * Looks an interface up by name with if_nametoindex(3). An unknown name is a
 * KernelError with code ENODEV that lists the interfaces there are.
 */
export function interfaceByName(name: string): NetInterface {
  if (name.length === 0 || name.length >= IF_NAMESIZE || name.includes("/") || /\s/.test(name)) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "if_nametoindex",
      message: `"${name}" is not a valid interface name (1 to ${
        IF_NAMESIZE - 1
      } characters, no "/" or spaces)`,
      hint: "list the interfaces with `ip link`",
    });
  }
  const index = sys().if_nametoindex(cString(name, "if_nametoindex"));
  if (index === 0) {
    const err = errno();
    const known = interfaceNames();
    throw new KernelError({
      errno: err === 0 ? ERRNO.ENODEV : err,
      syscall: "if_nametoindex",
      message: `there is no network interface named "${name}" in this network namespace`,
      hint: known.length
        ? `the interfaces here are ${known.join(", ")} (ip link lists them)`
        : "list the interfaces with `ip link`",
    });
  }
  return { name, index };
}

/** The name of the interface with this index, or undefined when there is none. */
export function interfaceName(index: number): string | undefined {
  const buf = new Uint8Array(IF_NAMESIZE);
  if (sys().if_indextoname(index, buf) === 0) return undefined;
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/** The inode of the initial network namespace, fixed by the kernel (include/linux/proc_ns.h). */
const PROC_NET_INIT_INO = 0xeffffff9;

/**
 * An identifier of the calling process's network namespace ("net:[4026531840]"),
 * and whether it is the host's: the kernel's initial one, or that of pid 1.
 * `host` is null when neither can be told (pid 1's namespace is unreadable).
 */
export function networkNamespace(): { readonly id: string; readonly host: boolean | null } {
  const id = readlinkSync("/proc/self/ns/net");
  // The kernel gives the initial network namespace a fixed inode (PROC_NET_INIT_INO).
  if (id === `net:[${PROC_NET_INIT_INO}]`) return { id, host: true };
  try {
    return { id, host: readlinkSync("/proc/1/ns/net") === id };
  } catch {
    // Reading pid 1's needs ptrace access to it, which a sandbox may deny even to root.
    return { id, host: null };
  }
}

/**
 * The name of the calling process's network namespace when it is one that
 * `ip netns add` made (bind-mounted under /run/netns), else undefined.
 */
export function namedNetworkNamespace(): string | undefined {
  try {
    const self = statSync("/proc/self/ns/net").ino;
    return readdirSync("/run/netns").find((n) => {
      try {
        return statSync(`/run/netns/${n}`).ino === self;
      } catch {
        return false;
      }
    });
  } catch {
    return undefined;
  }
}
