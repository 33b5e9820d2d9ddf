import assert from "node:assert/strict";
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { hasCommand, runScript, runtimeBinary } from "./support/process.ts";
import { doctor, type DoctorRow } from "../src/system/doctor.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const cli = join(repo, "src/cli/main.ts");
const isRoot = process.getuid?.() === 0;
const notRoot = isRoot ? null : "needs root";

const report = doctor();
const find = (area: string, item: string): DoctorRow => {
  const r = report.rows.find((x) => x.area === area && x.item === item);
  assert.ok(r, `no row ${area}/${item}`);
  return r;
};

test("doctor: every row has a value and says how it was measured", () => {
  assert.ok(report.rows.length >= 20, `${report.rows.length} rows`);
  for (const r of report.rows) {
    assert.ok(r.value.length > 0 && r.how.length > 0, JSON.stringify(r));
    if (r.ok === false) assert.ok(/^(no|not|none|unknown|missing|euid|absent|empty)/.test(r.value), JSON.stringify(r));
  }
});

test("doctor: kernel release, THP and hugetlb pools agree with /proc and /sys", () => {
  assert.equal(find("host", "kernel release").value, readFileSync("/proc/sys/kernel/osrelease", "utf8").trim());
  const thp = readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8");
  assert.ok(find("memory", "THP enabled").value.startsWith(/\[(\w+)\]/.exec(thp)![1]));
  const total = readFileSync("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "utf8").trim();
  assert.match(find("memory", "hugetlb 2 MiB pool").value, new RegExp(`\\btotal ${total},`));
});

test("doctor: RLIMIT_MEMLOCK agrees with /proc/self/limits", () => {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max locked memory"))!;
  const [soft, hard] = line.split(/\s{2,}/).slice(1, 3);
  const show = (v: string) => (v === "unlimited" ? "unlimited" : `${Number(v) / 1024 / 1024} MiB`);
  assert.equal(find("memory", "RLIMIT_MEMLOCK").value, `soft ${show(soft)}, hard ${show(hard)}`);
});

test("doctor: privileges agree with geteuid and CapEff", () => {
  assert.equal(find("privileges", "user").ok, isRoot);
  const capEff = BigInt(`0x${/CapEff:\s*(\w+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]}`);
  assert.equal(find("privileges", "CAP_NET_ADMIN").ok, ((capEff >> 12n) & 1n) === 1n);
  assert.equal(find("privileges", "CAP_BPF").ok, ((capEff >> 39n) & 1n) === 1n);
});

skipUnless(notRoot, "doctor: as root, rings, SQPOLL and BPF loads work and opcodes are named", () => {
  assert.equal(find("io_uring", "ring setup").ok, true);
  assert.equal(find("io_uring", "SQPOLL").ok, true);
  const ops = find("io_uring", "opcodes");
  assert.match(ops.value, /^\d+ of \d+ supported$/);
  for (const name of ["nop", "read", "write", "openat", "send_zc"]) assert.ok(ops.detail!.split(" ").includes(name), name);
  assert.equal(find("bpf", "load a program").ok, true);
  assert.equal(find("bpf", "load an XDP program").ok, true);
  assert.match(find("liburing", "library").value, /liburing\.so\.2.* \(version 2\.\d+\)/);
  assert.match(find("libbpf", "library").value, /libbpf\.so\.1.* \(version v1\.\d+\)/);
});

test("cli: doctor --json prints the report; an unknown command exits 2", () => {
  const r = runScript(cli, ["doctor", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { rows: DoctorRow[] };
  assert.deepEqual(json.rows.map((x) => x.item), report.rows.map((x) => x.item));
  const table = runScript(cli, ["doctor"]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /io_uring\s+ring setup/);
  const bad = runScript(cli, ["frobnicate"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
});

skipUnless(
  !isRoot ? "needs root to switch to an unprivileged user" : hasCommand("setpriv") ? null : "setpriv is missing (util-linux)",
  "doctor: as an unprivileged user, every row still prints and says what is missing",
  () => {
    // Copy the CLI and the runtime where uid 65534 can read them: the clone may
    // sit under a private home directory.
    const dir = mkdtempSync(join(tmpdir(), "kernelkit-nobody-"));
    try {
      for (const sub of ["src", "ffi"]) cpSync(join(repo, sub), join(dir, sub), { recursive: true });
      const binary = join(dir, runtimeBinary.slice(runtimeBinary.lastIndexOf("/") + 1));
      copyFileSync(runtimeBinary, binary);
      chmodSync(dir, 0o755);
      const r = runScript(join(dir, "src/cli/main.ts"), ["doctor", "--json"], {
        binary,
        cwd: dir, // uid 65534 may not enter the clone's directory
        prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"],
        env: { HOME: dir, DENO_DIR: join(dir, ".deno"), BUN_INSTALL_CACHE_DIR: join(dir, ".bun") },
      });
      assert.equal(r.status, 0, r.stderr);
      const rows = (JSON.parse(r.stdout) as { rows: DoctorRow[] }).rows;
      assert.deepEqual(rows.map((x) => x.item), report.rows.map((x) => x.item));
      const get = (item: string) => rows.find((x) => x.item === item)!;
      assert.equal(get("user").value, "euid 65534 (not root)");
      assert.equal(get("load a program").ok, false);
      assert.match(get("load a program").value, /bpf_prog_load.*EPERM.*CAP_BPF/);
      assert.equal(get("CAP_BPF").value, "missing");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 60_000 },
);
