/**
 * Claim: kernelkit's serveStatic serves small files about as fast as nginx and
 * faster than the runtimes' own servers, and large files at nginx's rate with
 * less CPU than a copying server.
 *
 * - 4 KiB file, 32 connections: requests/s (targets ≥ 0.8× nginx, ≥ 1.5×
 *   Bun.serve, ≥ 5× Deno.serve).
 * - 1 MiB file, 16 connections: MB/s (target ≥ 0.9× nginx) and the server's
 *   CPU seconds per GB sent (target ≤ nginx with sendfile off).
 *
 * Every server is a separate process pinned to CPU 0 with taskset; wrk runs on
 * CPU 1. Peers: nginx (1 worker, sendfile on; and sendfile off for the CPU
 * comparison), `Bun.serve(new Response(Bun.file(p)))`, and `Deno.serve`
 * streaming the file; each that is missing is skipped with a note. kernelkit's
 * server runs under the runtime that runs this file. Servers take turns, over
 * several rounds; figures are medians. Needs wrk and taskset (apt-get install
 * wrk util-linux; nginx for the nginx rows).
 *
 *   bun bench/http-static.ts [--rounds 3] [--seconds 4]
 *   deno run -A bench/http-static.ts
 *
 * `--serve ROOT PORT` is the kernelkit server process itself.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { serveStatic } from "../src/mod.ts";

const args = process.argv.slice(2);

function flag(name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const repo = new URL("..", import.meta.url).pathname;
const runtime = (globalThis as { Bun?: unknown }).Bun ? "bun" : "deno";
const binary = (name: string) => {
  const local = join(repo, "node_modules/.bin", name);
  return existsSync(local) ? local : has(name) ? name : undefined;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: "127.0.0.1", port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on port ${port} within 20 s`);
}

/** CPU seconds (user + system) of a process and all its descendants, threads included. */
function cpuSeconds(pid: number): number {
  const tck = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  const children = new Map<number, number[]>();
  let total = 0;
  const stats = new Map<number, string[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const text = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(d), f);
      const ppid = Number(f[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* exited meanwhile */ }
  }
  const visit = (p: number) => {
    const f = stats.get(p);
    if (f) total += (Number(f[11]) + Number(f[12])) / tck; // utime, stime
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return total;
}

/** Busy seconds of CPU `cpu` from /proc/stat (user, nice, system, irq, softirq): the server and the kernel's work on its core. */
function coreBusySeconds(cpu: number): number {
  const tck = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return NaN;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6]) / tck;
}

interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
}

function wrk(url: string, connections: number, seconds: number): WrkResult {
  const out = execFileSync("taskset", ["-c", "1", "wrk", "-t1", `-c${connections}`, `-d${seconds}s`, url]).toString();
  const m = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
  if (!m) throw new Error(`unexpected wrk output:\n${out}`);
  const t = Number(m[2]) * (m[3] === "ms" ? 0.001 : m[3] === "m" ? 60 : 1);
  if (/Non-2xx/.test(out) || /Socket errors: connect [1-9]/.test(out)) console.error(`note: wrk saw errors for ${url}:\n${out}`);
  return { requests: Number(m[1]), seconds: t };
}

interface Server {
  readonly name: string;
  readonly rows: ReadonlyArray<"4k" | "1m">;
  /** Starts the server on `port`, its stderr going to the file descriptor `log`. */
  start(port: number, log: number): ChildProcess;
}

interface Sample {
  rps: number[];
  mbps: number[];
  /** CPU seconds per GB of the server's processes (threads included; softirq work not). */
  cpuPerGb: number[];
  /** Busy seconds per GB of the server's core (CPU 0), which includes the network stack's softirq work there. */
  corePerGb: number[];
}

async function bench(): Promise<void> {
  const rounds = flag("--rounds", 3);
  const seconds = flag("--seconds", 4);
  const missing = ["wrk", "taskset", "getconf"].filter((c) => !has(c));
  if (missing.length) {
    console.error(`bench/http-static: missing ${missing.join(", ")}: apt-get install -y wrk util-linux libc-bin`);
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), "kernelkit-bench-http-"));
  chmodSync(dir, 0o755); // nginx's worker runs as nobody
  const www = join(dir, "www");
  mkdirSync(www, { mode: 0o755 });
  const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
  writeFileSync(join(www, "4k.bin"), bytes(4096), { mode: 0o644 });
  writeFileSync(join(www, "1m.bin"), bytes(1024 * 1024), { mode: 0o644 });
  const notes: string[] = [];
  const io = (log: number) => ({ stdio: ["ignore", "ignore", log] as ["ignore", "ignore", number] });
  const kernelkit = (threshold: string[]) => (port: number, log: number) =>
    spawn("taskset", ["-c", "0", process.execPath, ...(runtime === "bun" ? [] : ["run", "-A"]), new URL(import.meta.url).pathname, "--serve", www, String(port), ...threshold], io(log));
  const servers: Server[] = [
    { name: `kernelkit (${runtime})`, rows: ["4k", "1m"], start: kernelkit([]) },
    // The same server with every body through sendfileAsync (the default copies bodies under 16 KiB).
    { name: `kernelkit (${runtime}), sendfileThreshold 0`, rows: ["4k"], start: kernelkit(["0"]) },
  ];
  if (has("nginx")) {
    for (const sendfile of ["on", "off"] as const) {
      const prefix = join(dir, `nginx-${sendfile}`);
      mkdirSync(join(prefix, "logs"), { recursive: true });
      servers.push({
        name: `nginx (sendfile ${sendfile})`,
        rows: sendfile === "on" ? ["4k", "1m"] : ["1m"],
        start: (port, log) => {
          const conf = join(prefix, "nginx.conf");
          writeFileSync(conf, `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile ${sendfile};
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/octet-stream bin; }
  server { listen 127.0.0.1:${port}; root ${www}; }
}
`);
          return spawn("taskset", ["-c", "0", "nginx", "-p", prefix, "-c", conf, "-g", "daemon off;"], io(log));
        },
      });
    }
  } else notes.push("nginx not found (apt-get install -y nginx): its rows are skipped");
  const bun = binary("bun");
  if (bun) {
    const script = join(dir, "bun-serve.ts");
    writeFileSync(script, `const root = ${JSON.stringify(www)};
Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2]), fetch: (req) => new Response(Bun.file(root + new URL(req.url).pathname)) });
`);
    servers.push({ name: "Bun.serve", rows: ["4k", "1m"], start: (port, log) => spawn("taskset", ["-c", "0", bun, script, String(port)], io(log)) });
  } else notes.push("bun not found: the Bun.serve rows are skipped");
  const deno = binary("deno");
  if (deno) {
    const script = join(dir, "deno-serve.ts");
    writeFileSync(script, `const root = ${JSON.stringify(www)};
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen() {} }, async (req) => {
  const file = await Deno.open(root + new URL(req.url).pathname);
  return new Response(file.readable);
});
`);
    servers.push({ name: "Deno.serve", rows: ["4k", "1m"], start: (port, log) => spawn("taskset", ["-c", "0", deno, "run", "-A", script, String(port)], io(log)) });
  } else notes.push("deno not found: the Deno.serve rows are skipped");

  const samples = new Map<string, Sample>(servers.map((s) => [s.name, { rps: [], mbps: [], cpuPerGb: [], corePerGb: [] }]));
  try {
    for (let round = 0; round < rounds; round++) {
      // Take turns, starting with a different server each round.
      const order = servers.map((_, i) => servers[(i + round) % servers.length]);
      for (const s of order) {
        const port = await freePort();
        const logPath = join(dir, "server.log");
        const log = openSync(logPath, "w");
        const child = s.start(port, log);
        closeSync(log);
        try {
          await waitForPort(port, child, s.name);
          const base = `http://127.0.0.1:${port}`;
          const sample = samples.get(s.name)!;
          if (s.rows.includes("4k")) {
            wrk(`${base}/4k.bin`, 32, 1); // warm-up
            const r = wrk(`${base}/4k.bin`, 32, seconds);
            sample.rps.push(r.requests / r.seconds);
          }
          if (s.rows.includes("1m")) {
            wrk(`${base}/1m.bin`, 16, 1);
            const before = cpuSeconds(child.pid!);
            const coreBefore = coreBusySeconds(0);
            const r = wrk(`${base}/1m.bin`, 16, seconds);
            const core = coreBusySeconds(0) - coreBefore;
            const cpu = cpuSeconds(child.pid!) - before;
            const gb = (r.requests * 1024 * 1024) / 1e9;
            sample.mbps.push((gb * 1000) / r.seconds);
            sample.cpuPerGb.push(cpu / gb);
            sample.corePerGb.push(core / gb);
          }
        } catch (e) {
          // A server that dies costs its round, not the run: say so, with what it printed.
          const said = readFileSync(logPath, "utf8").trim().split("\n").slice(-3).join(" / ");
          notes.push(`${s.name} failed in round ${round + 1}: ${(e as Error).message.split("\n")[0]}${said ? `; it printed: ${said}` : ""}`);
        } finally {
          child.kill("SIGTERM");
          await new Promise((r) => setTimeout(r, 300));
          if (child.exitCode === null) child.kill("SIGKILL");
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(servers, samples, rounds, seconds, notes);
}

function report(servers: Server[], samples: Map<string, Sample>, rounds: number, seconds: number, notes: string[]): void {
  const med = (name: string, key: keyof Sample) => {
    const xs = samples.get(name)?.[key] ?? [];
    return xs.length ? median(xs) : NaN;
  };
  const fmt = (x: number, digits = 0) =>
    Number.isNaN(x) ? "-" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  console.log(`HTTP static files: wrk -t1 on CPU 1, each server on CPU 0; ${rounds} rounds of ${seconds} s; medians; load average ${load}`);
  console.log("");
  console.log("| server | 4 KiB, 32 conns: req/s | 1 MiB, 16 conns: MB/s | 1 MiB: server CPU s/GB | 1 MiB: CPU 0 busy s/GB |");
  console.log("|---|---:|---:|---:|---:|");
  for (const s of servers) {
    const cells = [med(s.name, "rps"), med(s.name, "mbps"), med(s.name, "cpuPerGb"), med(s.name, "corePerGb")];
    console.log(`| ${s.name} | ${fmt(cells[0])} | ${fmt(cells[1])} | ${fmt(cells[2], 3)} | ${fmt(cells[3], 3)} |`);
  }
  console.log("");
  for (const s of servers) {
    const x = samples.get(s.name)!;
    const list = (xs: number[], d = 0) => xs.map((v) => fmt(v, d)).join(" ") || "-";
    console.log(`rounds ${s.name}: req/s ${list(x.rps)} | MB/s ${list(x.mbps)} | CPU s/GB ${list(x.cpuPerGb, 3)} | core s/GB ${list(x.corePerGb, 3)}`);
  }
  for (const n of notes) console.log(`note: ${n}`);
  console.log("");
  const kk = servers[0].name;
  const kkSendfile = servers[1].name;
  const lower = "(lower is better)";
  const lines: Array<[string, string, string, keyof Sample, number, string]> = [
    ["4KiB/32c req/s vs nginx", kk, "nginx (sendfile on)", "rps", 0.8, "req/s"],
    ["4KiB/32c req/s vs Bun.serve", kk, "Bun.serve", "rps", 1.5, "req/s"],
    ["4KiB/32c req/s vs Deno.serve", kk, "Deno.serve", "rps", 5, "req/s"],
    ["4KiB/32c req/s, every body by sendfile, vs nginx", kkSendfile, "nginx (sendfile on)", "rps", NaN, "req/s"],
    ["1MiB/16c MB/s vs nginx", kk, "nginx (sendfile on)", "mbps", 0.9, "MB/s"],
    ["1MiB/16c MB/s vs Bun.serve", kk, "Bun.serve", "mbps", NaN, "MB/s"],
    ["1MiB/16c MB/s vs Deno.serve", kk, "Deno.serve", "mbps", NaN, "MB/s"],
    ["1MiB/16c core busy s/GB vs nginx sendfile off", kk, "nginx (sendfile off)", "corePerGb", 1, `CPU s/GB ${lower}`],
    ["1MiB/16c core busy s/GB vs nginx sendfile on", kk, "nginx (sendfile on)", "corePerGb", NaN, `CPU s/GB ${lower}`],
    ["1MiB/16c process CPU s/GB vs nginx sendfile off", kk, "nginx (sendfile off)", "cpuPerGb", NaN, `CPU s/GB ${lower}`],
  ];
  const verdicts: string[] = [];
  for (const [bench, ours, peer, key, target, unit] of lines) {
    const x = med(ours, key);
    const y = med(peer, key);
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    const ratio = x / y;
    const round3 = (v: number) => Math.round(v * 1000) / 1000;
    console.log(JSON.stringify({ bench: `http-static ${bench} (${ours})`, kernelkit: round3(x), peer: round3(y), ratio: round3(ratio), unit }));
    if (!Number.isNaN(target)) {
      const lowerIsBetter = key === "cpuPerGb" || key === "corePerGb";
      const met = lowerIsBetter ? ratio <= target : ratio >= target;
      verdicts.push(`${bench}: ${ratio.toFixed(2)}× (target ${lowerIsBetter ? "≤" : "≥"} ${target}×) ${met ? "met" : "MISSED"}`);
    }
  }
  console.log("");
  for (const v of verdicts) console.log(v);
}

if (args[0] === "--serve") {
  const server = serveStatic({ root: args[1], port: Number(args[2]), sendfileThreshold: args[3] === undefined ? undefined : Number(args[3]) });
  console.log(`ready ${server.url}`);
  process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
} else {
  await bench();
}
