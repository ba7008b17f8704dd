// Detect the chip behind an RFC 2217 server with Espressif's esptool-js and print
// {"chip": ..., "mac": ...} as JSON on stdout (progress goes to stderr).
//
//   node tests/js/detect.mjs PORT [HOST]
//
// esptool-js talks to a Web Serial SerialPort; Rfc2217Port below is one over TCP. The TCP
// connection is the open port (the server raises DTR/RTS on connect); open() and close()
// only switch the streams, so a baud change (close + open) keeps the board's state.
import net from "node:net";
import { ESPLoader, Transport } from "esptool-js";

const IAC = 255, WILL = 251, WONT = 252, DO = 253, DONT = 254, SB = 250, SE = 240;
const COM_PORT = 44, BINARY = 0;
const SET_BAUDRATE = 1, SET_CONTROL = 5;
const DTR_ON = 8, DTR_OFF = 9, RTS_ON = 11, RTS_OFF = 12;

class Rfc2217Port {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.socket = null;
    this.state = "data";     // Telnet parser state
    this.controller = null;  // where received data goes while the port is open
    this.readable = null;
    this.currentWritable = null;
    this.isOpen = false;
  }

  async connectTcp() {
    await new Promise((resolve, reject) => {
      this.socket = net.connect({ host: this.host, port: this.port }, resolve);
      this.socket.once("error", reject);
    });
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk) => this.receive(chunk));
    this.socket.on("close", () => this.endStreams());
    this.socket.on("error", () => this.endStreams());
    this.socket.write(Buffer.from([IAC, WILL, COM_PORT, IAC, WILL, BINARY, IAC, DO, BINARY]));
  }

  // Strip Telnet commands, undouble IAC, hand the rest to the reader.
  receive(chunk) {
    const data = [];
    for (const byte of chunk) {
      switch (this.state) {
        case "data":
          if (byte === IAC) this.state = "iac"; else data.push(byte);
          break;
        case "iac":
          if (byte === IAC) { data.push(byte); this.state = "data"; }
          else if (byte === SB) this.state = "sb";
          else if (byte === WILL || byte === WONT || byte === DO || byte === DONT) this.state = "option";
          else this.state = "data";
          break;
        case "option":
          this.state = "data";
          break;
        case "sb":
          if (byte === IAC) this.state = "sb-iac";
          break;
        case "sb-iac":
          this.state = byte === SE ? "data" : "sb";
          break;
      }
    }
    if (data.length && this.controller) this.controller.enqueue(Uint8Array.from(data));
  }

  endStreams() {
    if (this.controller) {
      try { this.controller.close(); } catch { /* already closed */ }
      this.controller = null;
    }
  }

  sendCommand(command, payload) {
    const bytes = [IAC, SB, COM_PORT, command];
    for (const b of payload) {
      bytes.push(b);
      if (b === IAC) bytes.push(IAC);
    }
    bytes.push(IAC, SE);
    this.socket.write(Buffer.from(bytes));
  }

  async open(options) {
    if (!this.socket) await this.connectTcp();
    const baud = options.baudRate;
    this.sendCommand(SET_BAUDRATE, [(baud >>> 24) & 255, (baud >>> 16) & 255, (baud >>> 8) & 255, baud & 255]);
    this.readable = new ReadableStream({
      start: (controller) => { this.controller = controller; },
      cancel: () => { this.controller = null; },
    });
    this.currentWritable = null;
    this.isOpen = true;
  }

  // A closed WritableStream cannot be reused (Transport closes it to flush): hand out a new one.
  get writable() {
    if (!this.isOpen) return null;
    if (!this.currentWritable) {
      const stream = new WritableStream({
        write: (chunk) => new Promise((resolve) => {
          const bytes = [];
          for (const b of chunk) {
            bytes.push(b);
            if (b === IAC) bytes.push(IAC);
          }
          this.socket.write(Buffer.from(bytes), () => resolve());
        }),
        close: () => { if (this.currentWritable === stream) this.currentWritable = null; },
      });
      this.currentWritable = stream;
    }
    return this.currentWritable;
  }

  async setSignals(signals) {
    if (signals.dataTerminalReady !== undefined)
      this.sendCommand(SET_CONTROL, [signals.dataTerminalReady ? DTR_ON : DTR_OFF]);
    if (signals.requestToSend !== undefined)
      this.sendCommand(SET_CONTROL, [signals.requestToSend ? RTS_ON : RTS_OFF]);
  }

  getInfo() {
    return {};
  }

  async close() {
    this.endStreams();
    this.readable = null;
    this.currentWritable = null;
    this.isOpen = false;
  }

  shutdown() {
    if (this.socket) this.socket.end();
  }
}

async function main() {
  const port = Number(process.argv[2]);
  const host = process.argv[3] || "127.0.0.1";
  if (!Number.isInteger(port) || port <= 0) {
    console.error("usage: node detect.mjs PORT [HOST]");
    process.exit(2);
  }
  const serial = new Rfc2217Port(host, port);
  const transport = new Transport(serial, false);
  const terminal = {
    clean() {},
    writeLine(text) { process.stderr.write(text + "\n"); },
    write(text) { process.stderr.write(text); },
  };
  const loader = new ESPLoader({ transport, baudrate: 115200, romBaudrate: 115200, terminal });
  await loader.detectChip();
  const mac = await loader.chip.readMac(loader);
  process.stdout.write(JSON.stringify({ chip: loader.chip.CHIP_NAME, mac }) + "\n");
  await transport.disconnect();
  serial.shutdown();
}

// esptool-js logs its own traces with console.log; stdout is for the JSON result only.
console.log = (...args) => console.error(...args);

setTimeout(() => {
  console.error("detect.mjs: no answer within 60 s");
  process.exit(3);
}, 60000).unref();

main().then(() => process.exit(0), (error) => {
  console.error(`detect.mjs: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
