/**
 * `kernelkit tour`: end to end with --quick in a child process of this
 * runtime (JSON and HTML from one run), as an unprivileged user (row by row
 * degradation), interrupted with SIGINT (everything removed), and the
 * report's pieces on their own.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { hasCommand, runScript, runtimeBinary, scriptArgv } from "./support/process.ts";
import { saving } from "../src/tour/model.ts";
import type { PathFigures, TourReport, TourRow } from "../src/tour/mod.ts";
import { reportHtml, summaryTable, VERSION } from "../src/tour/mod.ts";
import { parseTourArgs } from "../src/cli/tour.ts";
import { KernelError } from "../src/mod.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const cli = join(repo, "src/cli/main.ts");
const isRoot = process.getuid?.() === 0;
const IDS = ["zero-copy", "xdp", "io_uring", "hugepages"];
const SEED_ROWS = [
  "| Zero-Copy | Data Movement | DMA & Page Cache bypass |",
  "| eBPF / XDP | Protocol Processing | Kernel-level execution / Early exit |",
  "| io_uring | Context Switching | Shared Memory Queues |",
  "| HugePages | Address Translation | Reduced TLB Pressure |",
];

/** Elements HTML allows without an end tag. */
const VOID = new Set(["meta", "br", "hr", "img", "input", "link", "col", "area", "base", "embed", "source", "track", "wbr"]);

/** Checks that every tag is closed in order; returns the count of each element opened. */
function parseHtml(html: string): Map<string, number> {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  const body = html.replace(/^<!DOCTYPE html>/i, "").replace(/<!--[\s\S]*?-->/g, "");
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    assert.ok(!/[<>]/.test(between), `a stray < or > in text before ${m[0]}: ${between.slice(0, 80)}`);
    last = tag.lastIndex;
    const [, closing, rawName, , selfClosing] = m;
    const name = rawName.toLowerCase();
    if (closing) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!selfClosing && !VOID.has(name)) stack.push(name);
    }
  }
  assert.ok(!/[<>]/.test(body.slice(last)), "a stray < or > after the last tag");
  assert.deepEqual(stack, [], "elements left open");
  return counts;
}

/** What a row's verdict must be, recomputed from its figures. */
function expectedVerdict(row: TourRow): string {
  const classic = row.figures.find((f) => f.role === "classic")!.measures[0].value;
  const best = Math.min(...row.figures.filter((f) => f.role === "fast").map((f) => f.measures[0].value));
  const percent = (1 - best / classic) * 100;
  return percent >= 10 ? "saves" : percent <= -10 ? "costs more" : "no clear saving";
}

function checkMeasured(row: TourRow): void {
  assert.equal(row.status, "measured", `${row.id}: ${row.reason}`);
  assert.ok(row.figures.length >= 2, `${row.id}: ${row.figures.length} paths`);
  assert.ok(row.figures.some((f) => f.role === "classic") && row.figures.some((f) => f.role === "fast"));
  for (const f of row.figures) {
    for (const m of f.measures) {
      assert.ok(Number.isFinite(m.value) && m.value >= 0, `${row.id} ${f.path} ${m.name}: ${m.value}`);
      assert.ok(m.rounds.length >= 1);
    }
    assert.ok(f.measures[0].value > 0, `${row.id} ${f.path} ${f.measures[0].name}: ${f.measures[0].value}`);
  }
  assert.equal(row.verdict, expectedVerdict(row), `${row.id}: the verdict does not follow from the figures`);
  assert.equal(row.saved?.verdict, row.verdict);
  assert.ok(row.saved!.text.length > 0 && row.workload.length > 0);
}

/**
 * The io_uring row's system calls per read: counted by kernelkit's syscount BPF program when `bpf`
 * (about 1 for pread, about 1/BATCH for the batched ring), else by the code, with the note saying why.
 */
function checkSyscalls(row: TourRow, bpf: boolean): void {
  const perRead = (path: RegExp) => {
    const f = row.figures.find((x) => path.test(x.path));
    assert.ok(f, `${row.id}: no path ${path}: ${row.figures.map((x) => x.path).join(", ")}`);
    const m = f.measures.find((x) => x.name === "syscalls per read");
    assert.ok(m, `${f.path}: no syscalls per read`);
    return { figure: f, value: m.value };
  };
  const classic = perRead(/^pread per read$/);
  const batched = perRead(/^ring, batches of \d+$/);
  const batch = Number(/(\d+)$/.exec(batched.figure.path)![1]);
  const notes = row.notes.join("\n");
  if (bpf) {
    assert.match(notes, /counted in the kernel by kernelkit's syscount BPF program .* on this process \(pid \d+\)/);
    assert.match(notes, /only these two are counted, by number/);
    assert.match(classic.figure.note ?? "", /^pread64\(2\) calls counted by syscount/);
    assert.match(batched.figure.note ?? "", /^io_uring_enter\(2\) calls counted by syscount/);
    // About one pread64 per read; about one io_uring_enter per batch (a few more when reads complete late).
    assert.ok(classic.value >= 0.95 && classic.value <= 1.1, `pread: ${classic.value} syscalls per read`);
    assert.ok(batched.value > 0 && batched.value <= 2 / batch, `batched: ${batched.value} syscalls per read`);
  } else {
    assert.match(notes, /not from kernelkit's syscount BPF program: BPF was not permitted\. SysCount\.start said: .*EPERM/);
    assert.match(notes, /counted by ring\.stats\.enters/);
    assert.doesNotMatch(classic.figure.note ?? "", /syscount/);
    assert.equal(classic.value, 1, "the loop counts one pread64 per read");
    assert.ok(batched.value > 0 && batched.value <= 2 / batch, `batched: ${batched.value} syscalls per read`);
  }
}

function tourArgs(): { html: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "kernelkit-tour-test-"));
  return { html: join(dir, "report.html"), dir };
}

test("tour: --quick --json --html runs end to end; a row per technique, figures > 0, verdicts from the figures", () => {
  const { html, dir } = tourArgs();
  try {
    const t0 = performance.now();
    const r = runScript(cli, ["tour", "--quick", "--json", "--html", html], { timeoutMs: 150_000 });
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as TourReport;
    assert.equal(report.tour, "kernelkit");
    assert.equal(report.quick, true);
    assert.deepEqual(report.rows.map((x) => x.id), IDS);
    for (const row of report.rows) {
      if (row.id === "xdp" && !isRoot) {
        assert.equal(row.status, "skipped");
        continue;
      }
      checkMeasured(row);
    }
    checkSyscalls(report.rows.find((x) => x.id === "io_uring")!, isRoot);
    // Plain progress lines off a terminal, one per step, on stderr.
    assert.match(r.stderr, /^tour: +[\d.]+s zero-copy: round 1\/2: read \+ write loop /m);
    assert.doesNotMatch(r.stderr, /\x1b\[/, "no terminal escapes when stderr is not a terminal");
    assert.ok(seconds < 100, `the quick tour took ${seconds.toFixed(0)} s`);

    // The HTML page: well-formed, self-contained, one chart per technique.
    const page = readFileSync(html, "utf8");
    const counts = parseHtml(page);
    assert.equal(counts.get("svg"), IDS.length);
    assert.equal(counts.get("section"), IDS.length);
    assert.equal(counts.get("script") ?? 0, 0);
    assert.doesNotMatch(page, /\s(src|href)="(https?:)?\/\//, "the page fetches nothing");
    for (const row of report.rows) assert.ok(page.includes(`<section id="${row.id}">`), row.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { timeout: 180_000 });

skipUnless(
  !isRoot ? "needs root to switch to an unprivileged user" : hasCommand("setpriv") ? null : "setpriv is missing (util-linux)",
  "tour: as an unprivileged user, XDP is skipped with the reason and the doctor's fix; the rest runs",
  () => {
    // The CLI and the runtime where uid 65534 can read them (the clone may be in a private home).
    const dir = mkdtempSync(join(tmpdir(), "kernelkit-tour-nobody-"));
    try {
      for (const sub of ["src", "ffi", "bpf"]) cpSync(join(repo, sub), join(dir, sub), { recursive: true });
      const binary = join(dir, runtimeBinary.slice(runtimeBinary.lastIndexOf("/") + 1));
      copyFileSync(runtimeBinary, binary);
      chmodSync(dir, 0o755);
      const r = runScript(join(dir, "src/cli/main.ts"), ["tour", "--quick", "--json"], {
        binary,
        cwd: dir, // uid 65534 may not enter the clone's directory
        timeoutMs: 150_000,
        prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"],
        env: { HOME: dir, DENO_DIR: join(dir, ".deno"), BUN_INSTALL_CACHE_DIR: join(dir, ".bun") },
      });
      assert.equal(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as TourReport;
      assert.equal(report.host.euid, 65534);
      assert.deepEqual(report.rows.map((x) => x.id), IDS);
      const byId = (id: string) => report.rows.find((x) => x.id === id)!;
      const xdp = byId("xdp");
      assert.equal(xdp.status, "skipped");
      assert.match(xdp.reason!, /not root/);
      assert.ok(xdp.fix!.some((f) => /^doctor: bpf load an XDP program: no: .*EPERM/.test(f)), xdp.fix!.join("\n"));
      assert.ok(xdp.fix!.some((f) => f === "doctor: privileges CAP_BPF: missing"), xdp.fix!.join("\n"));
      assert.match(r.stderr, /eBPF \/ XDP: skipped: not root/);
      for (const id of ["zero-copy", "io_uring", "hugepages"]) checkMeasured(byId(id));
      // No BPF for uid 65534: the io_uring row counts its system calls itself, and says why.
      checkSyscalls(byId("io_uring"), false);
      assert.match(r.stderr, /io_uring: syscalls counted by the code itself: BPF was not permitted/);
      // Growing a hugetlb pool needs root: the 2 MiB side runs only when the pool already had the pages.
      const huge = byId("hugepages");
      const has2MB = huge.figures.some((f) => f.path.startsWith("2 MiB"));
      assert.ok(has2MB || huge.notes.some((n) => /2 MiB hugetlb skipped/.test(n)), huge.notes.join("\n"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 180_000 },
);

const ipMissing = !isRoot ? "needs root (the XDP row)" : hasCommand("ip") ? null : "ip (iproute2) is missing";

skipUnless(ipMissing, "tour: SIGINT mid-row removes the namespace, the veth pair and the iptables rule, exits 130", async () => {
  const argv = scriptArgv(cli, ["tour", "--only", "xdp"]);
  const child = spawn(runtimeBinary, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let err = "";
  let made = "";
  let sent = false;
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no xdp round within 60 s: ${err}`));
    }, 60_000);
    child.stderr!.on("data", (d: Uint8Array) => {
      err += new TextDecoder().decode(d);
      const ns = /namespace (kktour-\w+), veth pair (kktr\w+)/.exec(err);
      if (ns) made = `${ns[1]} ${ns[2]}`;
      if (!sent && /xdp: round 1\/3/.test(err)) {
        // process.kill, not child.kill: Deno's child_process then reports a signal instead of the exit code.
        sent = true;
        process.kill(child.pid!, "SIGINT");
      }
    });
    child.on("close", (c: number | null) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 130, err);
  assert.match(err, /SIGINT: stopped, and removed what it had made/);
  const [ns, veth] = made.split(" ");
  assert.ok(ns && veth, err);
  const run = spawnText;
  assert.ok(!run("ip", ["netns", "list"]).includes(ns), `${ns} is still there`);
  assert.ok(!run("ip", ["link", "show"]).includes(veth), `${veth} is still there`);
  if (hasCommand("iptables")) assert.ok(!run("iptables", ["-t", "raw", "-S"]).includes(veth), "the iptables rule is still there");
}, { timeout: 90_000 });

function spawnText(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: "utf8" }).stdout ?? "";
}

test("tour: the report's summary is the seed's table with a measured column", () => {
  const row = (id: string, technique: string, saving: string, mechanism: string): TourRow => ({
    id: id as TourRow["id"],
    technique,
    saving,
    mechanism,
    status: "skipped",
    workload: "",
    figures: [],
    notes: [],
    reason: "not selected (--only)",
    seconds: 0,
  });
  const report: TourReport = {
    tour: "kernelkit",
    version: VERSION,
    startedAt: new Date(0).toISOString(),
    seconds: 1,
    quick: true,
    host: { kernel: "6.18", cpu: "x", cpus: 2, runtime: "bun 1", euid: 0, load: 0 },
    rows: [
      row("zero-copy", "Zero-Copy", "Data Movement", "DMA & Page Cache bypass"),
      row("xdp", "eBPF / XDP", "Protocol Processing", "Kernel-level execution / Early exit"),
      row("io_uring", "io_uring", "Context Switching", "Shared Memory Queues"),
      row("hugepages", "HugePages", "Address Translation", "Reduced TLB Pressure"),
    ],
  };
  const table = summaryTable(report);
  assert.ok(table.startsWith("| Technique | Primary CPU Saving | Key Mechanism | Saved on this host |"));
  for (const line of SEED_ROWS) assert.ok(table.includes(`${line} skipped: not selected (--only) |`), line);
  const counts = parseHtml(reportHtml(report));
  assert.equal(counts.get("svg"), 4, "a chart (saying why there is none) for a skipped row too");
});

test("tour: verdicts follow the figures, with a 10% band for noise", () => {
  const m = (v: number) => [{ name: "cpu", unit: "s", better: "lower" as const, value: v, rounds: [v] }];
  const figs = (classic: number, ...fast: number[]): PathFigures[] => [
    { path: "classic", role: "classic", measures: m(classic) },
    ...fast.map((v, i) => ({ path: `fast${i}`, role: "fast" as const, measures: m(v) })),
  ];
  assert.equal(saving(figs(1, 0.5, 0.8), "x").verdict, "saves");
  assert.equal(saving(figs(1, 0.5, 0.8), "x").fast.path, "fast0");
  assert.equal(saving(figs(1, 0.5), "x").factor, 2);
  assert.equal(saving(figs(1, 0.95), "x").verdict, "no clear saving");
  assert.equal(saving(figs(1, 1.5), "x").verdict, "costs more");
  assert.match(saving(figs(2, 1), "CPU per GB").text, /^50% less CPU per GB \(fast0, 2\.00×\)$/);
});

test("tour: arguments; a bad one is EINVAL; the version matches package.json and deno.json", () => {
  assert.deepEqual(parseTourArgs(["--quick", "--only", "xdp,io_uring"]), {
    quick: true,
    json: false,
    html: undefined,
    only: ["xdp", "io_uring"],
    help: false,
  });
  for (const bad of [["--frobnicate"], ["--only", "nfs"], ["--html"]]) {
    assert.throws(() => parseTourArgs(bad), (e: unknown) => e instanceof KernelError && e.code === "EINVAL");
  }
  const help = runScript(cli, ["tour", "--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /tour \[--quick\] \[--json\] \[--html FILE\]/);
  for (const file of ["package.json", "deno.json"]) {
    assert.equal((JSON.parse(readFileSync(join(repo, file), "utf8")) as { version: string }).version, VERSION, file);
  }
});
