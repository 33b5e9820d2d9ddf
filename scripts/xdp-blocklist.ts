#!/usr/bin/env bun
/**
 * Syncs a blocklist file onto an interface's kernelkit XDP firewall, and says
 * what it added and removed. Uses only kernelkit's public API (and zx).
 *
 *   bun scripts/xdp-blocklist.ts --dev eth0 blocklist.txt [--attach] [--dry-run]
 *   deno run -A scripts/xdp-blocklist.ts --dev eth0 blocklist.txt
 *
 * The file holds one range per line ("203.0.113.0/24", "2001:db8::/32",
 * "198.51.100.7"); "#" starts a comment. The firewall must be attached
 * (`kernelkit xdp attach --dev eth0`), or pass --attach to attach it
 * persistently first. Exit code 0 when in sync, 1 on an error.
 *
 * @module
 */
import process from "node:process";
import { argv, echo, fs } from "zx";
import { formatCidr, KernelError, parseCidr, XdpFirewall } from "../src/mod.ts";

const USAGE = "usage: xdp-blocklist.ts --dev IF FILE [--attach] [--dry-run]";
if (argv.help || argv.h) {
  echo(`${USAGE}

Syncs a blocklist file (one range per line: 203.0.113.0/24, 2001:db8::/32;
"#" starts a comment) onto the kernelkit XDP firewall of IF, and says what it
added and removed. Needs root.
  --attach   attach the firewall persistently first, if it isn't
  --dry-run  say what would change, change nothing`);
  process.exit(0);
}
const dev = argv.dev as string | undefined;
const file = argv._[0] as string | undefined;
if (!dev || !file) {
  echo("usage: xdp-blocklist.ts --dev IF FILE [--attach] [--dry-run]");
  process.exit(2);
}

try {
  const wanted = new Map<string, number>();
  const lines: string[] = String(await fs.readFile(file, "utf8")).split("\n");
  lines.forEach((raw, i) => {
    const text = raw.replace(/#.*/, "").trim();
    if (!text) return;
    try {
      wanted.set(formatCidr(parseCidr(text)), i + 1);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: ${(e as Error).message}`);
    }
  });

  let fw: XdpFirewall;
  if (XdpFirewall.isPersisted(dev)) fw = XdpFirewall.open(dev);
  else if (argv.attach) {
    fw = XdpFirewall.attach(dev, { persist: true });
    echo(`attached the kernelkit XDP firewall to ${dev} (${fw.link.mode} mode)`);
  } else {
    throw new Error(
      `no kernelkit firewall on ${dev}: run \`kernelkit xdp attach --dev ${dev}\` or pass --attach`,
    );
  }
  try {
    const current = new Set(fw.list().map((r) => r.cidr));
    const add = [...wanted.keys()].filter((c) => !current.has(c));
    const remove = [...current].filter((c) => !wanted.has(c));
    const verb = argv["dry-run"] ? "would " : "";
    for (const c of add) {
      if (!argv["dry-run"]) fw.block(c);
      echo(`${verb}add    ${c}`);
    }
    for (const c of remove) {
      if (!argv["dry-run"]) fw.unblock(c);
      echo(`${verb}remove ${c}`);
    }
    echo(
      `${dev}: ${wanted.size} ranges in ${file}; ${verb}added ${add.length}, ${verb}removed ${remove.length}`,
    );
  } finally {
    fw.close();
  }
} catch (e) {
  echo(`xdp-blocklist: ${e instanceof KernelError || e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
