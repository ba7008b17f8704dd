// One row of the conformance table: a real client (esptool-js or esp-web-flasher) against
// espsim's RFC 2217 server, through one loader path (rom or stub).
//
//   node tests/js/row.mjs --client esptool-js|esp-web-flasher --loader rom|stub
//        --port PORT [--usb VID:PID] --image FILE --address ADDR [--baud 921600]
//        [--skip STEP,...] [--refuse STEP] [--limit SECONDS]
//
// Steps: connect, identify, stub (stub path only), baud, flash_id, write, verify.
// --skip: steps the board cannot do (not run). --refuse: the step the client is expected
// to give up on; its error is recorded as a refusal, and the row ends there (after
// "baud" it goes on: the clients refuse that before sending anything). --limit: how long
// the client may take (default 100 s; make bench's ROM case at 115200 takes longer).
//
// Prints one JSON object on stdout: what the client found and did, step by step
// ({"steps": {"connect": {...}, ...}, "refused": null | {step, message},
//   "error": null | {step, message}}).
// The test (tests/e2e/test_espsim_clients.c) decides whether that is right: this script
// only reports. Progress and the clients' own logs go to stderr.
import { readFileSync } from "node:fs";
import { register } from "node:module";
import { Rfc2217Port } from "./rfc2217_port.mjs";

function parseArgs(argv) {
  const args = { baud: 921600, address: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i], value = argv[i + 1];
    if (!key.startsWith("--") || value === undefined) throw new Error(`bad argument ${key}`);
    args[key.slice(2)] = value;
  }
  args.skip = new Set(args.skip ? args.skip.split(",") : []);
  for (const need of ["client", "loader", "port", "image"])
    if (args[need] === undefined) throw new Error(`--${need} is required`);
  if (!["esptool-js", "esp-web-flasher"].includes(args.client)) throw new Error(`unknown client ${args.client}`);
  if (!["rom", "stub"].includes(args.loader)) throw new Error(`unknown loader ${args.loader}`);
  args.port = Number(args.port);
  args.baud = Number(args.baud);
  args.address = Number(args.address);
  if (args.usb) {
    const [vid, pid] = args.usb.split(":").map((h) => parseInt(h, 16));
    args.usbVendorId = vid;
    args.usbProductId = pid;
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const report = { client: args.client, loader: args.loader, steps: {}, refused: null, error: null };
  current = report;
  const image = new Uint8Array(readFileSync(args.image));
  const port = new Rfc2217Port({ port: args.port, usbVendorId: args.usbVendorId, usbProductId: args.usbProductId });

  // Each step records its facts; the first one that throws ends the row.
  const step = async (name, body) => {
    if (args.skip.has(name)) return;
    report.running = name;
    try {
      report.steps[name] = { ok: true, ...(await body()) };
    } catch (error) {
      const message = error && error.message ? error.message : String(error);
      report.steps[name] = { ok: false };
      if (args.refuse === name) {
        report.refused = { step: name, message };
        if (name === "baud") return;
        throw new RowEnd();
      }
      report.error = { step: name, message };
      throw error;
    } finally {
      delete report.running;
    }
  };
  const job = { ...args, image, port, step };
  try {
    if (args.client === "esptool-js") {
      const { runEsptoolJs } = await import("./row_esptooljs.mjs");
      await runEsptoolJs(job);
    } else {
      // esp-web-flasher ships an ES module bundle in a package without "type": "module".
      register("./esm_hooks.mjs", import.meta.url);
      const { runWebFlasher } = await import("./row_webflasher.mjs");
      await runWebFlasher(job);
    }
  } catch (error) {
    if (error instanceof RowEnd) return finish(port, report);
    if (!report.error) report.error = { step: "setup", message: String(error && error.message || error) };
    console.error(`row.mjs: ${report.error.step}: ${report.error.message}`);
  }
  return finish(port, report);
}

class RowEnd extends Error {}
let current = null;   // the report, for the time limit

function finish(port, report) {
  port.shutdown();
  report.baud_history = port.baudHistory;
  process.stdout.write(JSON.stringify(report) + "\n");
  return report.error ? 1 : 0;
}

// The clients log with console.log; stdout is for the JSON report only.
console.log = (...args) => console.error(...args);

// A client that hangs still gets its row reported: which step it was in.
// (--limit is read here from the command line: parseArgs may not have run yet.)
const limitAt = process.argv.indexOf("--limit");
const limit = limitAt > 0 ? Number(process.argv[limitAt + 1]) : 100;
setTimeout(() => {
  console.error(`row.mjs: the client did not finish within ${limit} s`);
  if (current) {
    current.error = { step: current.running || "setup", message: `no result within ${limit} s` };
    process.stdout.write(JSON.stringify(current) + "\n");
  }
  process.exit(3);
}, limit * 1000).unref();

main().then((code) => process.exit(code), (error) => {
  console.error(`row.mjs: ${error && error.stack ? error.stack : error}`);
  process.exit(2);
});
