/**
 * Network namespaces for tests: `withNetns(fn)` creates a namespace and a veth
 * pair between it and the test's own namespace, with addresses of the test's
 * own (198.18.0.0/15 and fd6b:6b::/32, reserved for benchmarking and private
 * use), runs `fn`, and always removes both in `finally`.
 *
 * The test side ("host") keeps the test process's namespace, so the test can
 * attach XDP and open sockets there directly. The peer side sends from inside
 * the namespace, through `nsenter --net` (which, unlike `ip netns exec`, keeps
 * the mount namespace, so bpffs pins stay visible).
 *
 * @module
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { hasCommand, runtimeBinary, scriptArgv } from "./process.ts";

/** A namespace and a veth pair, as {@link withNetns} made them. */
export interface Netns {
  /** The namespace's name (under /run/netns). */
  readonly name: string;
  /** The veth end in the test's own namespace. */
  readonly hostIf: string;
  /** The veth end inside the namespace. */
  readonly peerIf: string;
  /** The MAC address of hostIf. */
  readonly hostMac: string;
  /** IPv4 address of hostIf (on a /23). */
  readonly host4: string;
  /** IPv4 addresses of peerIf: [a, b] in the same /24, c in the other /24 of the /23. */
  readonly peer4: readonly [string, string, string];
  /** The /24 holding peer4[0] and peer4[1]. */
  readonly peer4Net24: string;
  /** IPv6 address of hostIf (on a /64). */
  readonly host6: string;
  /** IPv6 addresses of peerIf: [a, b] in the same /80, c outside it. */
  readonly peer6: readonly [string, string, string];
  /** The /80 holding peer6[0] and peer6[1]. */
  readonly peer6Net80: string;
  /** Runs a command inside the namespace. */
  exec(argv: readonly string[], timeoutMs?: number): SpawnSyncReturns<string>;
  /** Runs a TypeScript file inside the namespace with the test's runtime. */
  runScript(script: string, args: readonly string[], timeoutMs?: number): SpawnSyncReturns<string>;
}

/** Why namespaces can't be made here, or null when they can. */
export const netnsMissing: string | null = process.getuid?.() !== 0
  ? "needs root to create network namespaces"
  : !hasCommand("ip")
  ? "ip (iproute2) is missing"
  : !hasCommand("nsenter")
  ? "nsenter (util-linux) is missing"
  : null;

let counter = 0;

function ip(args: string[], allowFail = false): void {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0 && !allowFail) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr.trim()}`);
}

/**
 * Creates a namespace and a veth pair with unique names and addresses, runs
 * `fn`, and removes both however `fn` ends.
 */
export async function withNetns<T>(fn: (ns: Netns) => T | Promise<T>): Promise<T> {
  const tag = `${process.pid % 100000}${(counter++).toString(36)}`;
  const name = `kk-test-${tag}`;
  const hostIf = `kkh${tag}`;
  const peerIf = `kkp${tag}`;
  // An even /23 per namespace, so that concurrent runs rarely share one.
  const n = ((process.pid * 7 + counter * 2) % 127) * 2;
  const host4 = `198.18.${n}.1`;
  const peer4: [string, string, string] = [`198.18.${n}.2`, `198.18.${n}.3`, `198.18.${n + 1}.2`];
  const p6 = `fd6b:6b:0:${n.toString(16)}`;
  const host6 = `${p6}::1`;
  const peer6: [string, string, string] = [`${p6}::2`, `${p6}::3`, `${p6}:1::2`];
  const nsenter = (argv: readonly string[], timeoutMs = 30_000) =>
    spawnSync("nsenter", [`--net=/run/netns/${name}`, "--", ...argv], {
      encoding: "utf8",
      timeout: timeoutMs,
      env: { ...process.env, NO_COLOR: "1" },
    });
  try {
    ip(["netns", "add", name]);
    ip(["link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", name]);
    ip(["addr", "add", `${host4}/23`, "dev", hostIf]);
    ip(["-6", "addr", "add", `${host6}/64`, "dev", hostIf, "nodad"]);
    ip(["link", "set", hostIf, "up"]);
    const inNs = (args: string[]) => ip(["-n", name, ...args]);
    inNs(["link", "set", "lo", "up"]);
    for (const a of peer4) inNs(["addr", "add", `${a}/23`, "dev", peerIf]);
    for (const a of peer6) inNs(["-6", "addr", "add", `${a}/64`, "dev", peerIf, "nodad"]);
    inNs(["link", "set", peerIf, "up"]);
    const hostMac = readFileSync(`/sys/class/net/${hostIf}/address`, "utf8").trim();
    return await fn({
      name,
      hostIf,
      peerIf,
      hostMac,
      host4,
      peer4,
      peer4Net24: `198.18.${n}.0/24`,
      host6,
      peer6,
      peer6Net80: `${p6}::/80`,
      exec: nsenter,
      runScript: (script, args, timeoutMs) =>
        nsenter([runtimeBinary, ...scriptArgv(script, args)], timeoutMs),
    });
  } finally {
    // Deleting one end of a veth deletes both; deleting the namespace deletes its end.
    ip(["link", "del", hostIf], true);
    ip(["netns", "del", name], true);
  }
}
