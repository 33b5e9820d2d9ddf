/**
 * A child process for the XDP tests: attaches the firewall (link-based, not
 * persistent) to an interface, says so on stdout, and waits to be killed.
 * With --try, it only reports the error of attaching, as JSON.
 *
 *   xdp_child.ts IFNAME [--try]
 *
 * @module
 */
import process from "node:process";
import { KernelError, XdpFirewall } from "../../src/mod.ts";

const [ifname, flag] = process.argv.slice(2);
try {
  const fw = XdpFirewall.attach(ifname, { mode: "native" });
  console.log(`attached ${fw.link.id}`);
  if (flag === "--try") {
    fw.close();
    process.exit(0);
  }
  // Keep the firewall referenced: a collected XdpLink is closed by its finalizer.
  setInterval(() => void fw.link.id, 1000);
} catch (e) {
  if (!(e instanceof KernelError)) throw e;
  console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message, hint: e.hint }));
  process.exit(3);
}
