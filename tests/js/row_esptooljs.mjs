// A conformance row with Espressif's esptool-js (ESPLoader over a Transport).
//
// esptool-js's main() always uploads its stub. Its steps are public methods, so this runs
// main()'s own sequence (detectChip, chip description/revision/features/crystal/MAC,
// postConnect, runStub, changeBaud, readFlashId) one call at a time, and leaves runStub
// out for the ROM loader path. Then writeFlash and the checks of what it wrote.
import { createHash } from "node:crypto";
import { ESPLoader, Transport } from "esptool-js";

const md5Hex = (bytes) => createHash("md5").update(bytes).digest("hex");

// SPI_FLASH_MD5: the stub answers 16 raw bytes, the ROM 32 ASCII hex digits (esptool docs,
// serial-protocol "Supported by stub loader and ROM loader"). esptool-js 0.7.0 hex-encodes
// both, so a ROM digest comes back as the hex of its ASCII text: decode that.
function romDigest(hexOfAscii) {
  if (hexOfAscii.length !== 64) return hexOfAscii;
  return Buffer.from(hexOfAscii, "hex").toString("latin1");
}

export async function runEsptoolJs({ port, image, address, baud, loader: path, step }) {
  const terminal = {
    clean() {},
    writeLine(text) { process.stderr.write(text + "\n"); },
    write(text) { process.stderr.write(text); },
  };
  const transport = new Transport(port, false);
  const esp = new ESPLoader({ transport, baudrate: baud, romBaudrate: 115200, terminal,
                             debugLogging: !!process.env.ROW_DEBUG });
  if (process.env.ROW_DEBUG) {
    const check = esp.checkCommand.bind(esp);
    esp.checkCommand = async (...a) => {
      try { return await check(...a); }
      catch (e) { process.stderr.write(`ROW_DEBUG ${a[0]}: ${e.message}\n`); throw e; }
    };
  }

  await step("connect", async () => {
    await esp.detectChip("default_reset");
    return { reset: esp.isUsbJtagSerialPort() ? "usb-jtag-serial" : "classic" };
  });

  await step("identify", async () => {
    const facts = { chip: esp.chip.CHIP_NAME };
    facts.description = await esp.chip.getChipDescription(esp);
    if (esp.chip.getChipRevision) facts.revision = await esp.chip.getChipRevision(esp);
    facts.features = await esp.chip.getChipFeatures(esp);
    facts.crystal_mhz = await esp.chip.getCrystalFreq(esp);
    facts.mac = await esp.chip.readMac(esp);
    if (typeof esp.chip.postConnect !== "undefined") await esp.chip.postConnect(esp);
    return facts;
  });

  if (path === "stub") {
    await step("stub", async () => {
      await esp.runStub();
      if (!esp.IS_STUB) throw new Error("esptool-js did not start its stub");
      return {};
    });
  }

  await step("baud", async () => {
    await esp.changeBaud();
    // changeBaud() falls back to the ROM rate (and reconnects) when the board stops
    // answering: that is a failed change, not a pass.
    if (esp.baudrate !== baud || port.baudRate !== baud)
      throw new Error(`the client fell back to ${esp.baudrate} baud (port at ${port.baudRate})`);
    if (path === "stub" && !esp.IS_STUB) throw new Error("the stub was lost in the baud change");
    return { baud: port.baudRate };
  });

  await step("flash_id", async () => ({ flash_id: await esp.readFlashId() }));

  const compress = path === "stub" || esp.chip.CHIP_NAME !== "ESP8266";
  await step("write", async () => {
    if (path === "rom") {
      // Skipping the stub leaves two things to the caller, as esptool does them for
      // --no-stub: SPI_ATTACH ("ROM loader doesn't enable flash unless we explicitly do
      // it"; the ESP8266 ROM has no such command, its FLASH_BEGIN attaches), and the
      // ROM's 1 KiB blocks, which esptool-js declares per chip (chip.FLASH_WRITE_SIZE) but
      // does not apply: ESPLoader.FLASH_WRITE_SIZE stays at the stub's 16 KiB.
      if (esp.chip.CHIP_NAME !== "ESP8266") await esp.flashSpiAttach(0);
      esp.FLASH_WRITE_SIZE = esp.chip.FLASH_WRITE_SIZE;
    }
    await esp.writeFlash({
      fileArray: [{ data: image, address }],
      flashSize: "keep", flashMode: "keep", flashFreq: "keep",
      eraseAll: false, compress,
      // esptool-js checks the stub's digest itself; on the ROM its check cannot match (above).
      calculateMD5Hash: path === "stub" ? md5Hex : undefined,
    });
    return { compressed: compress, block_size: esp.FLASH_WRITE_SIZE };
  });

  await step("verify", async () => {
    const raw = await esp.flashMd5sum(address, image.length);
    const facts = { md5: path === "stub" ? raw : romDigest(raw) };
    if (path === "stub") facts.readback_md5 = md5Hex(await esp.readFlash(address, image.length));
    return facts;
  });

  await transport.disconnect();
}
