// A conformance row with esp-web-flasher (the flasher behind ESP Web Tools).
//
// Its ESPLoader is driven as the package's own page does it (js/script.js): open the port
// at 115200, initialize() (its hard reset into the bootloader, SYNC, chip magic, MAC
// eFuses), runStub() (which also reads the flash id), setBaudrate() and flashData() on
// the stub loader it returns. The stub path writes compressed, as ESP Web Tools calls
// it; the ROM path makes the same calls on the ROM loader, uncompressed (flashData's
// default). It has no SPI_FLASH_MD5 method: the digest is asked with its own checkCommand.
import { ESPLoader } from "esp-web-flasher/dist/web/index.js";

const ESP_SPI_FLASH_MD5 = 0x13;

function u32le(value) {
  return [value & 255, (value >>> 8) & 255, (value >>> 16) & 255, (value >>> 24) & 255];
}

const logger = {
  log: (...args) => console.error(...args),
  error: (...args) => console.error(...args),
  debug: () => {},
};

export async function runWebFlasher({ port, image, address, baud, loader: path, step }) {
  const esp = new ESPLoader(port, logger);
  let loader = esp;

  await step("connect", async () => {
    await port.open({ baudRate: 115200 });
    await esp.initialize();
    return { reset: "hardReset(bootloader)" };
  });

  await step("identify", async () => {
    const mac = esp.macAddr().map((b) => b.toString(16).padStart(2, "0")).join(":");
    return { chip: esp.chipName, mac };
  });

  if (path === "stub") {
    await step("stub", async () => {
      loader = await esp.runStub();
      if (!loader.IS_STUB) throw new Error("esp-web-flasher did not start its stub");
      return {};
    });
  }

  await step("baud", async () => {
    await loader.setBaudrate(baud);
    if (port.baudRate !== baud) throw new Error(`the port is at ${port.baudRate} baud`);
    return { baud: port.baudRate };
  });

  // The first command at the new rate: it fails if the chip did not follow.
  await step("flash_id", async () => ({ flash_id: await loader.flashId() }));

  const compress = path === "stub";
  await step("write", async () => {
    await loader.flashData(image.buffer, () => {}, address, compress);
    return { compressed: compress, block_size: loader.getFlashWriteSize() };
  });

  await step("verify", async () => {
    const request = [...u32le(address), ...u32le(image.length), ...u32le(0), ...u32le(0)];
    const [, data] = await loader.checkCommand(ESP_SPI_FLASH_MD5, request, 0, 30000);
    // The stub answers 16 raw bytes, the ROM 32 ASCII hex digits (esptool docs).
    const md5 = loader.IS_STUB
      ? data.slice(0, 16).map((b) => b.toString(16).padStart(2, "0")).join("")
      : String.fromCharCode(...data.slice(0, 32));
    return { md5 };
  });
}
