// A Web Serial SerialPort over an RFC 2217 server (espsim --rfc2217 PORT), for clients
// written for the browser (esptool-js, esp-web-flasher).
//
// The TCP connection is the open port (the server raises DTR/RTS on connect); open() and
// close() only switch the streams, so a baud change (close + open at the new rate, as a
// browser does it) keeps the board's state. getInfo() reports the USB ids a browser would
// see for the bridge, because clients pick their reset from them (esptool-js uses the
// USB-Serial/JTAG sequence on 303a:1001).
import net from "node:net";

const IAC = 255, WILL = 251, WONT = 252, DO = 253, DONT = 254, SB = 250, SE = 240;
const COM_PORT = 44, BINARY = 0;
const SET_BAUDRATE = 1, SET_CONTROL = 5;
const DTR_ON = 8, DTR_OFF = 9, RTS_ON = 11, RTS_OFF = 12;

export class Rfc2217Port {
  constructor({ host = "127.0.0.1", port, usbVendorId, usbProductId }) {
    this.host = host;
    this.port = port;
    this.info = usbVendorId === undefined ? {} : { usbVendorId, usbProductId };
    this.socket = null;
    this.state = "data";     // Telnet parser state
    this.controller = null;  // where received data goes while the port is open
    this.readable = null;
    this.currentWritable = null;
    this.isOpen = false;
    this.baudRate = 0;
    this.baudHistory = [];   // every rate open() was asked for, in order
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
    if (this.isOpen) throw new Error("InvalidStateError: the port is already open");
    if (!this.socket) await this.connectTcp();
    const baud = options.baudRate;
    this.sendCommand(SET_BAUDRATE, [(baud >>> 24) & 255, (baud >>> 16) & 255, (baud >>> 8) & 255, baud & 255]);
    this.baudRate = baud;
    this.baudHistory.push(baud);
    this.readable = new ReadableStream({
      start: (controller) => { this.controller = controller; },
      cancel: () => { this.controller = null; },
    });
    this.currentWritable = null;
    this.isOpen = true;
  }

  // A closed WritableStream cannot be reused (clients close it to flush): hand out a new one.
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

  // RFC 2217 sets one line per command: DTR first, then RTS, as the fields are listed.
  async setSignals(signals) {
    if (signals.dataTerminalReady !== undefined)
      this.sendCommand(SET_CONTROL, [signals.dataTerminalReady ? DTR_ON : DTR_OFF]);
    if (signals.requestToSend !== undefined)
      this.sendCommand(SET_CONTROL, [signals.requestToSend ? RTS_ON : RTS_OFF]);
  }

  getInfo() {
    return { ...this.info };
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
