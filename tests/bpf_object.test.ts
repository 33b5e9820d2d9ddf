import assert from "node:assert/strict";
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { throwsCode } from "./support/kernel_error.ts";
import { hasCommand, runScript, runtimeBinary } from "./support/process.ts";
import {
  BpfMap,
  BpfObject,
  cidr4,
  cidr6,
  codec,
  ensureBpffs,
  flood,
  formatCidr,
  KernelError,
  parseCidr,
  perCpuValue,
  possibleCpus,
  queryXdp,
  sum,
  udpFrame,
  XdpFirewall,
} from "../src/mod.ts";
import { kk_counter } from "../src/bpf/firewall.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const firewallObject = join(repo, "bpf/xdp_firewall.bpf.o");
const isRoot = process.getuid?.() === 0;
const notRoot = isRoot ? null : "needs root (CAP_BPF and CAP_NET_ADMIN) to load BPF programs";

const XDP_DROP = 1;
const XDP_PASS = 2;

test("cidr: parses, normalises and formats IPv4 and IPv6 ranges", () => {
  assert.equal(formatCidr(parseCidr("10.1.2.3/8")), "10.0.0.0/8");
  assert.equal(formatCidr(parseCidr("198.51.100.7")), "198.51.100.7/32");
  assert.equal(formatCidr(parseCidr("2001:db8::1/32")), "2001:db8::/32");
  assert.equal(formatCidr(parseCidr("::")), "::/128");
  assert.equal(formatCidr(parseCidr("::ffff:192.0.2.1/128")), "::ffff:c000:201/128");
  assert.equal(formatCidr(parseCidr("fe80:0:0:1:0:0:0:1")), "fe80:0:0:1::1/128");
  assert.equal(formatCidr(parseCidr("0.0.0.0/0")), "0.0.0.0/0");
});

test("cidr: an invalid range is a KernelError EINVAL that says what is wrong", () => {
  for (
    const [bad, why] of [
      ["10.0.0.0/33", /prefix length must be 0 to 32/],
      ["256.1.1.1", /more than 255/],
      ["10.0.0", /four dot-separated/],
      ["2001:db8:::1", /"::" may appear only once|hex digits/],
      ["2001:db8::/129", /0 to 128/],
      ["hello", /four dot-separated/],
      ["1.2.3.4/x", /prefix length/],
    ] as const
  ) {
    const e = throwsCode(() => parseCidr(bad), "EINVAL", why);
    assert.match(e.hint ?? "", /203\.0\.113\.0\/24/);
  }
});

test("bpf object: bytes that aren't ELF and a missing file are clear errors", () => {
  throwsCode(
    () => BpfObject.open(new TextEncoder().encode("not an object file")),
    "ENOEXEC",
    /not an ELF object/,
  );
  throwsCode(() => BpfObject.open(join(repo, "README.md")), "ENOEXEC", /README\.md is not an ELF/);
  throwsCode(() => BpfObject.open("/nonexistent/prog.bpf.o"), "ENOENT", /nonexistent/);
  // An ELF that isn't BPF: libbpf's own error, as ENOEXEC.
  throwsCode(() => BpfObject.open("/bin/true"), "ENOEXEC");
});

test("bpf object: opening parses programs and maps without loading", () => {
  using obj = BpfObject.open(readFileSync(firewallObject), { name: "fw" });
  assert.equal(obj.name, "fw");
  assert.deepEqual(obj.programNames, ["kk_firewall"]);
  assert.deepEqual([...obj.mapNames].sort(), ["blocklist_v4", "blocklist_v6", "stats"]);
  assert.equal(obj.loaded, false);
  throwsCode(() => obj.program("kk_firewall"), "EBADF", /not loaded yet/);
});

skipUnless(notRoot, "bpf object: a program the verifier rejects carries the verifier log", () => {
  using obj = BpfObject.open(join(repo, "tests/fixtures/xdp_unbounded.bpf.o"));
  const e = throwsCode(
    () => obj.load(),
    "EACCES",
    /verifier rejected program "kk_unbounded".*outside of the packet/,
  );
  assert.equal(e.syscall, "bpf_object__load");
  assert.ok(e.log?.includes("invalid access to packet"), String(e.log));
  assert.match(e.log!, /r0 = \*\(u8 \*\)\(r1 \+12\)|\(71\) r\d = \*\(u8 \*\)/);
});

/** Frames for the firewall's parser, and what it must do with each. */
function frames(): Array<{ name: string; frame: Uint8Array; retval: number; reason: number }> {
  const blocked = udpFrame({ src: "203.0.113.9", dst: "198.18.0.2" });
  const ok = udpFrame({ src: "198.51.100.1", dst: "198.18.0.2" });
  const v6blocked = udpFrame({ src: "2001:db8::9", dst: "fd00::2" });
  const vlan = udpFrame({ src: "203.0.113.9", dst: "198.18.0.2", vlan: 7 });
  const qinq = new Uint8Array(vlan.length + 4);
  qinq.set(vlan.subarray(0, 12));
  qinq.set([0x88, 0xa8, 0x00, 0x03], 12);
  qinq.set(vlan.subarray(12), 16);
  const badIhl = ok.slice();
  badIhl[14] = 0x44; // version 4, IHL 4: less than 20 bytes
  const arp = ok.slice();
  arp.set([0x08, 0x06], 12);
  return [
    { name: "blocked IPv4", frame: blocked, retval: XDP_DROP, reason: 4 },
    { name: "allowed IPv4", frame: ok, retval: XDP_PASS, reason: 0 },
    { name: "blocked IPv6", frame: v6blocked, retval: XDP_DROP, reason: 5 },
    { name: "blocked IPv4 in a VLAN", frame: vlan, retval: XDP_DROP, reason: 4 },
    { name: "blocked IPv4 in QinQ", frame: qinq, retval: XDP_DROP, reason: 4 },
    { name: "ARP", frame: arp, retval: XDP_PASS, reason: 2 },
    { name: "IPv4 header cut at 10 bytes", frame: blocked.slice(0, 24), retval: XDP_PASS, reason: 3 },
    { name: "IPv4 with IHL 4", frame: badIhl, retval: XDP_PASS, reason: 3 },
    { name: "IPv6 header cut at 30 bytes", frame: v6blocked.slice(0, 44), retval: XDP_PASS, reason: 3 },
    { name: "VLAN tag cut short", frame: vlan.slice(0, 16), retval: XDP_PASS, reason: 3 },
    { name: "Ethernet header cut short", frame: ok.slice(0, 13), retval: XDP_PASS, reason: 3 },
  ];
}

function checkFirewallObject(source: string | Uint8Array): void {
  using obj = BpfObject.open(source).load();
  const prog = obj.program("kk_firewall");
  assert.equal(prog.info.typeName, "xdp");
  const v4 = obj.map("blocklist_v4", { key: cidr4, value: codec.struct(kk_counter) });
  const v6 = obj.map("blocklist_v6", { key: cidr6, value: codec.struct(kk_counter) });
  v4.set(parseCidr("203.0.113.0/24"), { packets: 0, bytes: 0 });
  v6.set(parseCidr("2001:db8::/32"), { packets: 0, bytes: 0 });
  const stats = obj.map("stats", { key: codec.u32, value: perCpuValue(codec.struct(kk_counter)) });
  const expected = new Array(6).fill(0);
  const expectedBytes = new Array(6).fill(0);
  for (const f of frames()) {
    // The kernel refuses test input shorter than an Ethernet header.
    if (f.frame.length < 14) continue;
    assert.equal(prog.run(f.frame).retval, f.retval, f.name);
    expected[f.reason]++;
    expectedBytes[f.reason] += f.frame.length;
  }
  for (let r = 0; r < 6; r++) {
    const s = sum(stats.get(r)!);
    assert.equal(s.packets, expected[r], `reason ${r}`);
    assert.equal(s.bytes, expectedBytes[r], `bytes of reason ${r}`);
  }
  assert.equal(v4.get(parseCidr("203.0.113.0/24"))!.packets, 3);
  assert.equal(v6.get(parseCidr("2001:db8::/32"))!.packets, 1);
}

skipUnless(
  notRoot,
  "firewall program: parses VLANs, drops blocked sources, passes and counts malformed frames",
  () => {
    checkFirewallObject(firewallObject);
  },
);

skipUnless(
  notRoot ?? (hasCommand("clang") ? null : "clang is missing (apt-get install clang llvm)"),
  "firewall program: a fresh build from bpf/*.bpf.c behaves as the committed object",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "kernelkit-bpf-"));
    try {
      const r = runScript(join(repo, "scripts/build-bpf.ts"), ["--out", dir]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      checkFirewallObject(join(dir, "xdp_firewall.bpf.o"));
      using fresh = BpfObject.open(join(dir, "xdp_unbounded.bpf.o"));
      throwsCode(() => fresh.load(), "EACCES");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 60_000 },
);

skipUnless(notRoot, "maps: get/set flags, has, delete, keys, entries, batch reads, per-CPU sums", () => {
  using obj = BpfObject.open(firewallObject).load();
  const v4 = obj.map("blocklist_v4", { key: cidr4, value: codec.struct(kk_counter) });
  const a = parseCidr("10.0.0.0/8");
  const b = parseCidr("192.0.2.0/24");
  assert.equal(v4.get(a), undefined);
  v4.set(a, { packets: 1, bytes: 2 }, "noexist");
  throwsCode(() => v4.set(a, { packets: 9 }, "noexist"), "EEXIST", /blocklist_v4/);
  throwsCode(() => v4.set(b, { packets: 9 }, "exist"), "ENOENT");
  v4.set(a, { packets: 5, bytes: 6 }, "exist");
  v4.set(b, { packets: 7 });
  assert.deepEqual(v4.get(a), { packets: 5, bytes: 6 });
  assert.equal(v4.has(b), true);
  assert.deepEqual([...v4.keys()].map(formatCidr).sort(), ["10.0.0.0/8", "192.0.2.0/24"]);
  assert.deepEqual(
    new Map([...v4.entries()].map(([k, v]) => [formatCidr(k), v.packets])).get("192.0.2.0/24"),
    7,
  );
  // LPM tries have no batch ops: readAll falls back to walking the keys.
  assert.equal(v4.readAll().length, 2);
  assert.equal(v4.delete(b), true);
  assert.equal(v4.delete(b), false);
  assert.equal(v4.deleteAll([a]), 1);
  assert.equal([...v4.keys()].length, 0);

  const stats = obj.map("stats", { key: codec.u32, value: perCpuValue(codec.struct(kk_counter)) });
  assert.equal(stats.perCpu, true);
  const cpus = possibleCpus();
  stats.setAll([[1, Array.from({ length: cpus }, (_, i) => ({ packets: i + 1, bytes: 10 }))]]);
  assert.deepEqual(sum(stats.get(1)!), { packets: (cpus * (cpus + 1)) / 2, bytes: 10 * cpus });
  // Arrays have batch lookup: one call for all six slots.
  const all = stats.readAll();
  assert.equal(all.length, 6);
  assert.equal(sum(all[1][1]).packets, (cpus * (cpus + 1)) / 2);
  // A per-CPU map read with a per-value codec is a clear mistake.
  throwsCode(
    () => obj.map("stats", { key: codec.u32, value: codec.struct(kk_counter) }),
    "EINVAL",
    /per-CPU map, use perCpuValue/,
  );
  throwsCode(() => obj.map("nope"), "ENOENT", /its maps are/i);
  throwsCode(() => obj.program("nope"), "ENOENT", /its programs are kk_firewall/i);
  obj.close();
  throwsCode(() => v4.get(a), "EBADF", /closed/);
  obj.close();
});

skipUnless(notRoot, "maps: pin and openPinned, open by id and by name", () => {
  ensureBpffs();
  const path = `/sys/fs/bpf/kk-test-pin-${process.pid}`;
  try {
    using obj = BpfObject.open(firewallObject).load();
    const stats = obj.map("stats");
    stats.pin(path);
    using pinned = BpfMap.openPinned(path, { key: codec.u32, value: perCpuValue(codec.struct(kk_counter)) });
    assert.equal(pinned.info.id, stats.info.id);
    assert.equal(pinned.info.typeName, "percpu_array");
    using byId = BpfMap.fromId(stats.info.id);
    assert.equal(byId.info.name, "stats");
    using byName = BpfMap.fromName("blocklist_v6", { key: cidr6 });
    assert.equal(byName.info.keySize, 20);
    throwsCode(() => BpfMap.fromName("kk-no-such-map"), "ENOENT", /no BPF map named/);
    throwsCode(() => BpfMap.openPinned(`${path}-missing`), "ENOENT", /bpffs/);
    pinned.close();
    pinned.close();
    throwsCode(() => pinned.get(0), "EBADF");
  } finally {
    rmSync(path, { force: true });
  }
});

test("xdp: a nonexistent interface is ENODEV naming it", () => {
  throwsCode(() => queryXdp("kk-nonexistent0"), "ENODEV", /no network interface named "kk-nonexistent0"/);
  if (isRoot) throwsCode(() => XdpFirewall.attach("kk-nonexistent0"), "ENODEV");
  throwsCode(() => queryXdp("bad/name"), "EINVAL");
});

skipUnless(notRoot, "xdp: an unknown attach mode is EINVAL naming the three modes, before anything is attached", () => {
  using obj = BpfObject.open(join(repo, "bpf/xdp_drop.bpf.o")).load();
  for (const mode of ["offload", "", "NATIVE"]) {
    const e = throwsCode(() => obj.program("kk_drop").attachXdp("lo", { mode: mode as "native" }), "EINVAL", /XDP mode/);
    assert.match(e.hint ?? "", /"native".*"generic".*"auto"/);
  }
  assert.deepEqual(queryXdp("lo").attachments, []);
});

test("flood: refuses the host's network namespace and unbounded runs", () => {
  throwsCode(() => flood("lo", { count: 0 }), "EINVAL", /bounded/);
  throwsCode(() => flood("lo", { seconds: 3600 }), "EINVAL", /bounded/);
  throwsCode(() => flood("lo", { count: 10 }), "EPERM", /host's network namespace|could not tell/);
});

skipUnless(
  !isRoot
    ? "needs root to switch to an unprivileged user"
    : hasCommand("setpriv")
    ? null
    : "setpriv is missing",
  "bpf: without CAP_BPF and CAP_NET_ADMIN, loading fails with EPERM and a hint",
  () => {
    // Copy the code and the runtime where uid 65534 can read them (see doctor.test.ts).
    const dir = mkdtempSync(join(tmpdir(), "kernelkit-nocap-"));
    try {
      for (const sub of ["src", "ffi", "bpf"]) cpSync(join(repo, sub), join(dir, sub), { recursive: true });
      const binary = join(dir, runtimeBinary.slice(runtimeBinary.lastIndexOf("/") + 1));
      copyFileSync(runtimeBinary, binary);
      chmodSync(dir, 0o755);
      writeFileSync(
        join(dir, "probe.ts"),
        `
import { BpfObject, KernelError } from "./src/mod.ts";
try { BpfObject.open("./bpf/xdp_firewall.bpf.o").load(); console.log("loaded"); }
catch (e) { console.log(JSON.stringify({ code: (e as KernelError).code, message: (e as KernelError).message })); }
`,
      );
      const r = runScript(join(dir, "probe.ts"), [], {
        binary,
        cwd: dir, // uid 65534 may not enter the clone's directory
        prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"],
        env: { HOME: dir, DENO_DIR: join(dir, ".deno"), BUN_INSTALL_CACHE_DIR: join(dir, ".bun") },
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      assert.equal(out.code, "EPERM", r.stdout);
      assert.match(out.message, /run as root, or grant CAP_BPF plus CAP_NET_ADMIN for XDP.*CAP_PERFMON for tracing/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 60_000 },
);
