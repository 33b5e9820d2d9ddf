/**
 * Claim: kernelkit's sendfile moves a page-cached file to a socket at the
 * speed of C's sendfile(2), with much less sender CPU than a JS loop that
 * copies the bytes through a buffer.
 *
 * A 1 GiB file in a temp dir, written and read once (page-cached), is sent
 * whole to a loopback TCP socket, per side:
 * - C sendfile(2), a sender built with gcc here (the physical limit);
 * - C read(2) + write(2) through a 1 MiB buffer, the classic copy, for scale;
 * - kernelkit `sendfile` (libc sendfile in a loop, blocking);
 * - kernelkit `sendfileAsync` (SPLICE file → pipe → socket on the ring);
 * - a JS loop: kernelkit `pread` into a 1 MiB buffer, then `write` to the
 *   socket (both plain libc calls, no ring), the copy a JS server makes.
 *
 * The receiver is a C sink (gcc) pinned to CPU 1 that reads and discards;
 * every sender is pinned to CPU 0 (this process with `taskset -a`). Sender
 * CPU is user + system time of the sender (getrusage for C, process.cpuUsage
 * here) per GB. Sides alternate over the rounds; figures are medians.
 * Targets: kernelkit sendfile ≥ 0.95× C sendfile's GB/s; its sender CPU
 * ≤ 0.5× the JS loop's. Root is not needed; gcc and taskset are.
 *
 *   bun bench/sendfile.ts [--rounds 5] [--size 1GiB]
 *   deno run -A bench/sendfile.ts
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { closeFd, connect, CWD, parseSize, pread, Ring, sendfile, sendfileAsync, write } from "../src/mod.ts";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SIZE = parseSize(opt("size", "1GiB"));
const ROUNDS = Number(opt("rounds", "5"));
const CHUNK = 1 << 20;

const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/* sink: listen on 127.0.0.1, print the port, then read and discard every connection until killed. */
static int sink(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 16) || getsockname(l, (struct sockaddr *)&a, &len)) {
    perror("sink");
    return 1;
  }
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  static char buf[1 << 20];
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    while (read(c, buf, sizeof buf) > 0) {}
    close(c);
  }
}

/* send MODE PATH PORT SIZE: prints "bytes ns cpu_us" for one whole transfer. */
static int sender(const char *mode, const char *path, int port, long long size) {
  int fd = open(path, O_RDONLY);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (fd < 0 || connect(s, (struct sockaddr *)&a, sizeof a)) {
    perror("send");
    return 1;
  }
  static char buf[1 << 20];
  struct rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  double t0 = now_ns();
  long long done = 0;
  if (!strcmp(mode, "sendfile")) {
    off_t off = 0;
    while (done < size) {
      ssize_t n = sendfile(s, fd, &off, size - done > 0x7ffff000 ? 0x7ffff000 : size - done);
      if (n <= 0) { perror("sendfile"); return 1; }
      done += n;
    }
  } else {
    while (done < size) {
      ssize_t n = pread(fd, buf, sizeof buf, done);
      if (n <= 0) { perror("pread"); return 1; }
      for (ssize_t w = 0; w < n;) {
        ssize_t m = write(s, buf + w, n - w);
        if (m <= 0) { perror("write"); return 1; }
        w += m;
      }
      done += n;
    }
  }
  double t1 = now_ns();
  getrusage(RUSAGE_SELF, &r1);
  double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 +
    (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
  printf("%lld %.0f %.0f\n", done, t1 - t0, cpu);
  close(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "sink")) return sink();
  if (argc == 6 && !strcmp(argv[1], "send")) return sender(argv[2], argv[3], atoi(argv[4]), atoll(argv[5]));
  fprintf(stderr, "usage: sink | send sendfile|rw PATH PORT SIZE\n");
  return 2;
}
`;

interface Sample {
  readonly gbps: number;
  readonly cpuSecPerGB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function sample(bytes: number, ns: number, cpuUs: number): Sample {
  if (bytes !== SIZE) throw new Error(`sent ${bytes} of ${SIZE} bytes`);
  return { gbps: bytes / ns, cpuSecPerGB: cpuUs / 1e6 / (bytes / 1e9) };
}

/** Times `send` (which moves the whole file over `fd`) in this process. */
async function timedHere(send: () => number | Promise<number>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const bytes = await send();
  const ns = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  return sample(bytes, ns, c.user + c.system);
}

const work = mkdtempSync(join(tmpdir(), "kernelkit-bench-sendfile-"));
const exe = join(work, "peer");
let sinkProc: ReturnType<typeof spawn> | undefined;
try {
  writeFileSync(join(work, "peer.c"), C_SOURCE);
  execFileSync("gcc", ["-O2", "-o", exe, join(work, "peer.c")], { stdio: "inherit" });
  // Pin every thread of this process (and the threads it starts later) to CPU 0.
  spawnSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" });

  // The file: 1 MiB of a pattern, repeated, then read once into the page cache.
  const path = join(work, "file");
  const block = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) block[i] = (i * 131 + (i >> 9)) & 255;
  execFileSync("sh", ["-c", `: > '${path}'`]);
  const { appendFileSync } = await import("node:fs");
  for (let done = 0; done < SIZE; done += CHUNK) appendFileSync(path, block.subarray(0, Math.min(CHUNK, SIZE - done)));
  execFileSync("cat", [path], { stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 });

  sinkProc = spawn("taskset", ["-c", "1", exe, "sink"], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    sinkProc!.stdout!.once("data", (d: Uint8Array) => resolve(Number(new TextDecoder().decode(d).trim())));
    sinkProc!.once("exit", (code) => reject(new Error(`the sink exited with ${code}`)));
  });

  using ring = new Ring();
  const file = { fd: await ring.openat(CWD, path, 0 /* O_RDONLY */) };
  const buffer = new Uint8Array(CHUNK);

  const inC = (mode: string) => (): Sample => {
    const out = execFileSync("taskset", ["-c", "0", exe, "send", mode, path, String(port), String(SIZE)], {
      encoding: "utf8",
    });
    const [bytes, ns, cpu] = out.trim().split(/\s+/).map(Number);
    return sample(bytes, ns, cpu);
  };
  const inJs = (send: (fd: number) => number | Promise<number>) => async (): Promise<Sample> => {
    const socket = await connect({ hostname: "127.0.0.1", port, ring });
    try {
      return await timedHere(() => send(socket.fd));
    } finally {
      socket.close();
    }
  };
  const copyLoop = (fd: number): number => {
    let done = 0;
    while (done < SIZE) {
      const n = pread(file.fd, buffer, done);
      if (n <= 0) break;
      for (let w = 0; w < n;) w += write(fd, buffer.subarray(w, n));
      done += n;
    }
    return done;
  };

  const sides: Array<{ name: string; run: () => Sample | Promise<Sample> }> = [
    { name: "C sendfile(2)", run: inC("sendfile") },
    { name: "C read + write", run: inC("rw") },
    { name: "kernelkit sendfile", run: inJs((fd) => sendfile(fd, file.fd, { length: SIZE })) },
    { name: "kernelkit sendfileAsync", run: inJs((fd) => sendfileAsync(ring, fd, file.fd, { length: SIZE })) },
    { name: "JS pread + write loop", run: inJs(copyLoop) },
  ];
  const results: Sample[][] = sides.map(() => []);
  for (const side of sides) await side.run(); // warm-up, not counted
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + round) % sides.length;
      results[i].push(await sides[i].run());
    }
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
  closeFd(file.fd);

  const rt = (globalThis as { Bun?: { version: string } }).Bun
    ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
    : `deno ${(globalThis as unknown as { Deno: typeof Deno }).Deno.version.deno}`;
  const gb = sides.map((_, i) => median(results[i].map((s) => s.gbps)));
  const cpu = sides.map((_, i) => median(results[i].map((s) => s.cpuSecPerGB)));
  console.log(`\n${SIZE / 2 ** 30} GiB page-cached file → loopback TCP, ${rt}, sender on CPU 0, sink on CPU 1, median of ${ROUNDS}`);
  console.log(`${"sender".padEnd(26)}${"GB/s".padStart(8)}${"CPU s/GB".padStart(10)}${"GB/s ÷ C sendfile".padStart(19)}`);
  sides.forEach((s, i) =>
    console.log(`${s.name.padEnd(26)}${gb[i].toFixed(2).padStart(8)}${cpu[i].toFixed(3).padStart(10)}${(gb[i] / gb[0]).toFixed(2).padStart(19)}`)
  );
  const line = (bench: string, k: number, p: number, unit: string) =>
    console.log(JSON.stringify({ bench, runtime: rt, kernelkit: +k.toFixed(4), peer: +p.toFixed(4), ratio: +(k / p).toFixed(3), unit }));
  line("sendfile-1GiB-vs-c-sendfile", gb[2], gb[0], "GB/s");
  line("sendfileAsync-1GiB-vs-c-sendfile", gb[3], gb[0], "GB/s");
  line("sendfile-cpu-vs-js-copy-loop", cpu[2], cpu[4], "CPU s/GB");
  line("sendfileAsync-cpu-vs-js-copy-loop", cpu[3], cpu[4], "CPU s/GB");
} finally {
  sinkProc?.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
