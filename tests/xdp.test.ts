import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import { guardFile, skipUnless } from "./harness.ts";
import { throwsCode } from "./support/kernel_error.ts";
import { runScript, runtimeBinary, scriptArgv } from "./support/process.ts";
import { type Netns, netnsMissing, withNetns } from "./support/netns.ts";
import { BpfObject, pinDirFor, queryXdp, udpFrame, XdpFirewall } from "../src/mod.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const cli = join(repo, "src/cli/main.ts");
const sender = join(repo, "tests/support/udp_send.ts");

/**
 * Sends `count` datagrams from each source inside the namespace to the host
 * side, and returns how many arrived per source (within a time bound).
 */
async function deliver(
  ns: Netns,
  family: 4 | 6,
  sources: readonly string[],
  count = 5,
): Promise<Record<string, number>> {
  const sock = dgram.createSocket(family === 4 ? "udp4" : "udp6");
  const got: Record<string, number> = Object.fromEntries(sources.map((s) => [s, 0]));
  sock.on("message", (msg) => {
    const from = msg.toString();
    if (from in got) got[from]++;
  });
  const to = family === 4 ? ns.host4 : ns.host6;
  await new Promise<void>((resolve) => sock.bind(0, to, resolve));
  try {
    const port = sock.address().port;
    const r = ns.runScript(
      sender,
      ["--to", to, "--port", String(port), "--count", String(count), ...sources],
      20_000,
    );
    assert.equal(r.status, 0, r.stderr);
    // Datagrams that pass arrive within milliseconds; wait a bounded while for stragglers.
    const expectedMax = sources.length * count;
    for (let waited = 0; waited < 600; waited += 20) {
      if (Object.values(got).reduce((a, b) => a + b, 0) >= expectedMax) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return got;
  } finally {
    sock.close();
  }
}

function cliRun(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runScript(cli, args, { timeoutMs: 30_000 });
}

skipUnless(
  netnsMissing,
  "xdp firewall: blocked IPv4 /32 and /24 sources are dropped and counted, others pass, unblock restores",
  async () => {
    await withNetns(async (ns) => {
      using fw = XdpFirewall.attach(ns.hostIf, { mode: "native" });
      assert.equal(fw.link.mode, "native");
      const [a, b, c] = ns.peer4;
      assert.deepEqual(await deliver(ns, 4, [a, b, c]), { [a]: 5, [b]: 5, [c]: 5 });

      assert.equal(fw.block(`${a}/32`), true);
      assert.equal(fw.block(`${a}/32`), false);
      const before = fw.stats().dropped.packets;
      assert.deepEqual(await deliver(ns, 4, [a, b, c]), { [a]: 0, [b]: 5, [c]: 5 });
      assert.equal(fw.stats().dropped.packets - before, 5);

      fw.block(ns.peer4Net24);
      assert.deepEqual(await deliver(ns, 4, [a, b, c]), { [a]: 0, [b]: 0, [c]: 5 });
      const list = new Map(fw.list().map((r) => [r.cidr, r.packets]));
      // LPM: a's packets match the more specific /32, b's the /24.
      assert.equal(list.get(`${a}/32`), 10);
      assert.equal(list.get(ns.peer4Net24), 5);
      const s = fw.stats();
      assert.equal(s.reasons.blocked_ipv4.packets, 15);
      assert.ok(s.reasons.blocked_ipv4.bytes >= 15 * 42, `${s.reasons.blocked_ipv4.bytes} bytes`);
      assert.ok(s.reasons.ipv4.packets >= 25);

      assert.equal(fw.unblock(`${a}/32`), true);
      assert.equal(fw.unblock(ns.peer4Net24), true);
      assert.equal(fw.unblock(ns.peer4Net24), false);
      assert.deepEqual(await deliver(ns, 4, [a, b, c]), { [a]: 5, [b]: 5, [c]: 5 });
    });
  },
  { timeout: 45_000 },
);

skipUnless(netnsMissing, "xdp firewall: IPv6 the same (a /128 and a /80)", async () => {
  await withNetns(async (ns) => {
    using fw = XdpFirewall.attach(ns.hostIf);
    const [a, b, c] = ns.peer6;
    // Neighbour discovery may use any of the peer's addresses: resolve before blocking.
    assert.deepEqual(await deliver(ns, 6, [a, b, c]), { [a]: 5, [b]: 5, [c]: 5 });
    fw.block(a);
    assert.deepEqual(await deliver(ns, 6, [a, b, c]), { [a]: 0, [b]: 5, [c]: 5 });
    fw.block(ns.peer6Net80);
    assert.deepEqual(await deliver(ns, 6, [a, b, c]), { [a]: 0, [b]: 0, [c]: 5 });
    assert.equal(fw.stats().reasons.blocked_ipv6.packets, 15);
    fw.unblock(a);
    fw.unblock(ns.peer6Net80);
    assert.deepEqual(await deliver(ns, 6, [a, b, c]), { [a]: 5, [b]: 5, [c]: 5 });
  });
}, { timeout: 45_000 });

skipUnless(
  netnsMissing,
  "xdp: a link-based attach goes away when its process is killed with SIGKILL",
  async () => {
    await withNetns(async (ns) => {
      const child = spawn(runtimeBinary, scriptArgv(join(repo, "tests/support/xdp_child.ts"), [ns.hostIf]), {
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = "";
          const timer = setTimeout(() => reject(new Error(`child said nothing: ${out}`)), 20_000);
          child.stdout!.on("data", (d) => {
            out += d;
            if (out.includes("\n")) {
              clearTimeout(timer);
              resolve(out.trim());
            }
          });
          child.on("exit", () => reject(new Error(`child exited: ${out}`)));
        });
        assert.match(line, /^attached \d+$/);
        const q = queryXdp(ns.hostIf);
        assert.equal(q.attachments.length, 1);
        assert.equal(q.attachments[0].programName, "kk_firewall");
        assert.equal(q.attachments[0].linkId, Number(line.split(" ")[1]));
        // Another attach names the holder.
        using obj = BpfObject.open(join(repo, "bpf/xdp_drop.bpf.o")).load();
        const e = throwsCode(
          () => obj.program("kk_drop").attachXdp(ns.hostIf),
          "EBUSY",
          /"kk_firewall".*held by .*\(pid \d+\)/,
        );
        assert.match(e.message, new RegExp(`pid ${child.pid}`));
        const exited = new Promise((r) => child.on("exit", r));
        child.kill("SIGKILL");
        await exited;
        // The kernel releases the link with the process's last fd; give it a moment.
        for (let i = 0; i < 50 && queryXdp(ns.hostIf).attachments.length > 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.deepEqual(queryXdp(ns.hostIf).attachments, []);
        const ipLink = spawnSync("ip", ["link", "show", "dev", ns.hostIf], { encoding: "utf8" }).stdout;
        assert.doesNotMatch(ipLink, /xdp/);
      } finally {
        child.kill("SIGKILL");
      }
    });
  },
  { timeout: 45_000 },
);

skipUnless(
  netnsMissing,
  "xdp cli: a persistent attach survives its process; block/list/stats share it; detach cleans up",
  async () => {
    await withNetns(async (ns) => {
      const dir = pinDirFor(ns.hostIf);
      try {
        let r = cliRun(["xdp", "attach", "--dev", ns.hostIf, "--mode", "native"]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(
          r.stdout,
          new RegExp(`attached the kernelkit XDP firewall to ${ns.hostIf} in native mode`),
        );
        // The CLI process has exited: the pinned link holds the program.
        const q = queryXdp(ns.hostIf);
        assert.equal(q.attachments[0]?.programName, "kk_firewall");
        assert.ok(existsSync(`${dir}/link`) && existsSync(`${dir}/blocklist_v4`));

        r = cliRun(["xdp", "attach", "--dev", ns.hostIf]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /already attached/);

        r = cliRun(["xdp", "block", "--dev", ns.hostIf, ns.peer4[0], "2001:db8::/32", "10.0.0.0/8"]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /blocked 2001:db8::\/32/);
        r = cliRun(["xdp", "block", "--dev", ns.hostIf, "300.1.1.1/8"]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /not a valid address range/);
        r = cliRun(["xdp", "unblock", "--dev", ns.hostIf, "10.0.0.0/8"]);
        assert.match(r.stdout, /unblocked 10\.0\.0\.0\/8/);

        const [a, , c] = ns.peer4;
        assert.deepEqual(await deliver(ns, 4, [a, c]), { [a]: 0, [c]: 5 });
        r = cliRun(["xdp", "list", "--dev", ns.hostIf, "--json"]);
        const list = JSON.parse(r.stdout) as Array<{ cidr: string; packets: number }>;
        assert.deepEqual(list.map((x) => x.cidr), [`${a}/32`, "2001:db8::/32"]);
        assert.equal(list[0].packets, 5);
        r = cliRun(["xdp", "stats", "--dev", ns.hostIf, "--json"]);
        assert.equal(JSON.parse(r.stdout).dropped.packets, 5);
        r = cliRun(["xdp", "query", "--dev", ns.hostIf]);
        assert.match(r.stdout, /native program kk_firewall \(id \d+\), link \d+/);

        r = cliRun(["xdp", "detach", "--dev", ns.hostIf]);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(queryXdp(ns.hostIf).attachments, []);
        assert.equal(existsSync(dir), false);
        r = cliRun(["xdp", "stats", "--dev", ns.hostIf]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /no kernelkit firewall is attached/);
      } finally {
        if (existsSync(`${dir}/link`)) XdpFirewall.open(ns.hostIf).detach();
      }
    });
  },
  { timeout: 60_000 },
);

skipUnless(
  netnsMissing,
  "xdp: replace swaps the program inside the link; native mode unsupported is a clear error, auto falls back",
  async () => {
    await withNetns(async (ns) => {
      using fw = XdpFirewall.attach(ns.hostIf);
      using drop = BpfObject.open(join(repo, "bpf/xdp_drop.bpf.o")).load();
      const link = drop.program("kk_drop").attachXdp(ns.hostIf, { replace: true });
      try {
        assert.equal(link.id, fw.link.id);
        assert.equal(queryXdp(ns.hostIf).attachments[0].programName, "kk_drop");
        assert.deepEqual(await deliver(ns, 4, [ns.peer4[2]]), { [ns.peer4[2]]: 0 });
      } finally {
        link.close();
      }
    });
    // A bridge has no native XDP.
    const br = `kkbr${process.pid % 100000}`;
    assert.equal(spawnSync("ip", ["link", "add", br, "type", "bridge"]).status, 0);
    try {
      throwsCode(() => XdpFirewall.attach(br, { mode: "native" }), "ENOTSUP", /does not support native XDP/);
      using fw = XdpFirewall.attach(br, { mode: "auto" });
      assert.equal(fw.link.mode, "generic");
      assert.match(fw.link.fallback ?? "", /attached in generic mode/);
      assert.equal(queryXdp(br).attachments[0].mode, "generic");
    } finally {
      spawnSync("ip", ["link", "del", br]);
    }
  },
  { timeout: 45_000 },
);

skipUnless(
  netnsMissing,
  "xdp flood: live frames reach the firewall as XDP frames; truncated ones pass and are counted",
  async () => {
    await withNetns(async (ns) => {
      using fw = XdpFirewall.attach(ns.hostIf, { mode: "native" });
      fw.block("203.0.113.0/24");
      let r = ns.runScript(cli, [
        "xdp",
        "flood",
        "--dev",
        ns.peerIf,
        "--count",
        "20000",
        "--src",
        "203.0.113.5",
        "--dst",
        ns.host4,
        "--dst-mac",
        ns.hostMac,
        "--json",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const result = JSON.parse(r.stdout);
      assert.equal(result.method, "live-frames", result.fallback);
      assert.equal(result.packets, 20000);
      let s = fw.stats();
      assert.ok(s.reasons.blocked_ipv4.packets > 19000, JSON.stringify(s));
      assert.equal(s.reasons.blocked_ipv4.bytes, s.reasons.blocked_ipv4.packets * 60);

      // The classic path: AF_PACKET hands the veth ready-made skbs; the firewall still sees them.
      const dropped = s.reasons.blocked_ipv4.packets;
      r = ns.runScript(cli, [
        "xdp",
        "flood",
        "--dev",
        ns.peerIf,
        "--count",
        "2000",
        "--src",
        "203.0.113.5",
        "--method",
        "af-packet",
        "--json",
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).method, "af-packet");
      assert.equal(fw.stats().reasons.blocked_ipv4.packets - dropped, 2000);

      const truncated = udpFrame({ src: "203.0.113.5", dst: ns.host4 }).slice(0, 24);
      const hex = Array.from(truncated, (b) => b.toString(16).padStart(2, "0")).join("");
      r = ns.runScript(join(repo, "tests/support/flood_child.ts"), [ns.peerIf, hex, "1000"]);
      assert.equal(r.status, 0, r.stderr);
      s = fw.stats();
      assert.ok(s.reasons.malformed.packets > 900, JSON.stringify(s));
      assert.equal(s.reasons.malformed.bytes, s.reasons.malformed.packets * 24);
    });
  },
  { timeout: 45_000 },
);

skipUnless(
  netnsMissing,
  "scripts/xdp-blocklist.ts syncs a file onto the firewall and says what changed",
  async () => {
    await withNetns((ns) => {
      const dir = mkdtempSync(join(tmpdir(), "kernelkit-blocklist-"));
      const file = join(dir, "blocklist.txt");
      try {
        writeFileSync(file, `# test ranges\n203.0.113.0/24\n${ns.peer4[0]}\n2001:db8::/32\n`);
        let r = runScript(join(repo, "scripts/xdp-blocklist.ts"), ["--dev", ns.hostIf, file, "--attach"]);
        assert.equal(r.status, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /added 3, removed 0/);
        writeFileSync(file, `203.0.113.0/24\n198.51.100.0/24 # new\n`);
        r = runScript(join(repo, "scripts/xdp-blocklist.ts"), ["--dev", ns.hostIf, file]);
        assert.equal(r.status, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /add {4}198\.51\.100\.0\/24/);
        assert.match(r.stdout, new RegExp(`remove ${ns.peer4[0].replaceAll(".", "\\.")}/32`));
        assert.match(r.stdout, /added 1, removed 2/);
        using fw = XdpFirewall.open(ns.hostIf);
        assert.deepEqual(fw.list().map((x) => x.cidr), ["198.51.100.0/24", "203.0.113.0/24"]);
        writeFileSync(file, "10.0.0.0/40\n");
        r = runScript(join(repo, "scripts/xdp-blocklist.ts"), ["--dev", ns.hostIf, file]);
        assert.equal(r.status, 1);
        assert.match(r.stdout + r.stderr, /blocklist\.txt:1: "10\.0\.0\.0\/40" is not a valid address range/);
      } finally {
        if (XdpFirewall.isPersisted(ns.hostIf)) XdpFirewall.open(ns.hostIf).detach();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
  { timeout: 45_000 },
);
