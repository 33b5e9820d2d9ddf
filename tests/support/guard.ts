/**
 * The per-file guard of the suite: what a test file leaves behind is a bug.
 *
 * Before a file's first test and after its last, it takes a snapshot of:
 * - this process's open fds (/proc/self/fd), by what they point at;
 * - the BPF programs and maps loaded on the host (their ids, from the
 *   kernel's own id iterators, the ones `bpftool prog show` walks);
 * - the kernel log (dmesg), as root.
 *
 * After the file it fails on an fd still open that wasn't open before (a
 * ring, BPF object, socket, pipe or file), a BPF program or map that wasn't
 * loaded before and still is, and any new kernel log line with BUG, WARNING,
 * Oops or "bad page" in it, as liburing's runner does after each test.
 *
 * Process-wide resources that kernelkit keeps on purpose (the shared rings of
 * `readFile` and `connect`, whose eventfd wakers are parked for reuse) are
 * allowed: they are opened once per process, not once per test.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import process from "node:process";

/** What one snapshot saw. */
interface Snapshot {
  /** fd number → what it points at. */
  readonly fds: Map<number, string>;
  /** "prog 12", "map 7", ... for every BPF object loaded on the host; null when it can't be listed. */
  readonly bpf: Set<string> | null;
  /** The kernel log's lines; null when it can't be read. */
  readonly dmesg: string[] | null;
}

/** Kernel log lines that mean the kernel hit a bug. */
const KERNEL_TROUBLE = /\b(BUG|WARNING|Oops)\b|bad page/;

const isRoot = process.getuid?.() === 0;

function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync("/proc/self/fd")) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // Closed between readdir and readlink (the listing's own fd, or another thread's).
    }
  }
  return out;
}

function bpfObjects(): Set<string> | null {
  if (!isRoot) return null;
  const out = new Set<string>();
  for (const kind of ["prog", "map", "link"]) {
    const r = spawnSync("bpftool", ["-j", kind, "show"], { encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0) return null;
    for (const o of JSON.parse(r.stdout || "[]") as { id: number }[]) out.add(`${kind} ${o.id}`);
  }
  return out;
}

function kernelLog(): string[] | null {
  if (!isRoot) return null;
  const r = spawnSync("dmesg", [], { encoding: "utf8", timeout: 20_000, maxBuffer: 64 << 20 });
  return r.status === 0 ? r.stdout.split("\n") : null;
}

function snapshot(): Snapshot {
  return { fds: openFds(), bpf: bpfObjects(), dmesg: kernelLog() };
}

/** New unix sockets a file may leave, counted together (each has its own inode): Deno's, one per Worker. */
const UNIX_SOCKETS_ALLOWED = 4;

/**
 * How many new fds of this kind a test file may leave open, or 0 for none.
 * The runtimes open their event loop's and thread pools' fds lazily (epoll,
 * eventfd, pipes, timerfds, signalfds; Deno a unix socket per Worker), and
 * kernelkit keeps process-wide state on purpose: two shared rings
 * (`readFile`'s and the sockets' default), and the eventfd wakers' Workers,
 * parked for reuse once a ring has waited.
 */
function allowance(target: string): number {
  if (target === "anon_inode:[io_uring]") return 2;
  return /^anon_inode:\[?(eventpoll|eventfd|timerfd|signalfd|inotify|pidfd)\]?$/.test(target) ||
      /^pipe:/.test(target) || /^\/dev\/(null|urandom|random|tty|pts\/\d+)$/.test(target)
    ? 8
    : 0;
}

/** "socket:[123]" with the socket's family and addresses, from /proc/self/net, so a leak names its socket. */
function describe(target: string): string {
  const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
  if (!inode) return target;
  for (const table of ["tcp", "tcp6", "udp", "udp6", "unix", "raw", "packet", "netlink"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/self/net/${table}`, "utf8");
    } catch {
      continue;
    }
    const row = text.split("\n").find((l) => l.trim().split(/\s+/).includes(inode));
    if (row) return `${target} (${table}: ${row.trim().split(/\s+/).slice(0, 4).join(" ")})`;
  }
  return target;
}

/** What `after` holds that `before` didn't: leaked fds, BPF objects and kernel trouble, as lines. */
function leaks(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  const kinds = new Map<string, number[]>();
  // A runtime may dup its stdout or stderr lazily (Bun does, into a file it was redirected to): not a leak.
  const stdio = new Set([before.fds.get(1), before.fds.get(2)]);
  for (const [fd, target] of after.fds) {
    if (before.fds.get(fd) === target || stdio.has(target)) continue;
    kinds.set(target, [...(kinds.get(target) ?? []), fd]);
  }
  // Unix sockets are counted together: each has its own inode.
  const unix: number[] = [];
  for (const [target, fds] of kinds) {
    const described = describe(target);
    if (/\(unix: /.test(described)) unix.push(...fds);
    else if (fds.length > allowance(target)) out.push(`${fds.length} new fds → ${described} still open (fds ${fds.join(", ")})`);
  }
  if (unix.length > UNIX_SOCKETS_ALLOWED) out.push(`${unix.length} new unix sockets still open (fds ${unix.join(", ")})`);
  if (before.bpf && after.bpf) {
    for (const id of after.bpf) if (!before.bpf.has(id)) out.push(`BPF ${id} is still loaded`);
  }
  if (before.dmesg && after.dmesg) {
    // The log is a ring: match the new tail by the last line the first snapshot saw.
    const last = before.dmesg.filter((l) => l.trim()).at(-1);
    const from = last === undefined ? 0 : after.dmesg.lastIndexOf(last) + 1;
    for (const line of after.dmesg.slice(from)) {
      if (KERNEL_TROUBLE.test(line)) out.push(`kernel log: ${line.trim()}`);
    }
  }
  return out;
}

/**
 * Hooks the guard onto the file that calls it, with the runner's beforeAll
 * and afterAll. `settle` runs before the second snapshot (to let closes that
 * the kernel finishes asynchronously, such as a bpf_link's, land).
 */
export function installGuard(
  hooks: { beforeAll(fn: () => void): void; afterAll(fn: () => Promise<void>): void },
  settleMs = 50,
): void {
  let before: Snapshot | undefined;
  hooks.beforeAll(() => {
    before = snapshot();
  });
  hooks.afterAll(async () => {
    if (!before) return;
    let found: string[] = [];
    // The kernel frees a closed BPF object after an RCU grace period: look again before calling it a leak.
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, settleMs));
      found = leaks(before, snapshot());
      if (found.length === 0) return;
    }
    throw new Error(`this test file left things behind:\n  ${found.join("\n  ")}`);
  });
}
