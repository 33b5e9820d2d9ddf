/**
 * Runs kernelkit's flood() with a given frame, for the XDP tests; run inside
 * a test namespace. Prints the FloodResult as JSON.
 *
 *   flood_child.ts IFNAME HEX_FRAME COUNT
 *
 * @module
 */
import process from "node:process";
import { flood } from "../../src/mod.ts";

const [ifname, hex, count] = process.argv.slice(2);
const frame = Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
console.log(JSON.stringify(flood(ifname, { frame, count: Number(count), seconds: 10 })));
