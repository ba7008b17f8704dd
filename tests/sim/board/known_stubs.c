/* The flasher stubs the board runs: the ones real clients upload, each known by the
 * SHA-256 of its code as uploaded (rom_mem.c says exactly what is hashed: the bytes of
 * each MEM_BEGIN region, regions in ascending order of load address; for these stubs that
 * is the JSON file's base64 "data" and "text" decoded, lower address first). Code that is
 * none of these crashes, as it would on a chip (unless --any-stub).
 *
 * Digests computed from the npm packages' own files: esptool-js 0.7.0,
 * lib/targets/stub_flasher/<chip>.json (the version tests/js/package.json pins, which
 * espdoctor's bench and tests also upload), and esp-web-flasher 5.1.5,
 * dist/stubs/<chip>.json (which has no ESP32-C6 stub). A client pinned to other versions
 * needs their digests added here. */
#include "board_internal.h"

#include <string.h>

static const struct known_stub stubs[] = {
    { "esp8266", "esptool-js 0.7.0",
      "1ace71965cc50fab32cb11a21c30941bdc47fa10c1be954ea9d532ff0627b6f5" },
    { "esp32", "esptool-js 0.7.0",
      "f6ac132aadfe81ee3ec05146c940d3831340ac8a95f8f49613b08beeb3762cfb" },
    { "esp32s2", "esptool-js 0.7.0",
      "489d98f65f3df570126209089405ab2d291f0df3601ba33b3f2abd05022ed389" },
    { "esp32s3", "esptool-js 0.7.0",
      "e1ce5a22377a3ab74994139c5b4f5b49772c10a2c5c45ce9dab46531186fc8a8" },
    { "esp32c3", "esptool-js 0.7.0",
      "f94bd2f10a37c16d330c26a5f5b414e4a62beb2e4d23eb7a3475f45f60da6e46" },
    { "esp32c6", "esptool-js 0.7.0",
      "65024e4ee67137a72ab912a0157bc317834e745358347cde1e8dd36e213db383" },
    { "esp8266", "esp-web-flasher 5.1.5",
      "a5facc6d34c6c975cb75d1dc9ccce0ea0f5518a6e807eb1339e94d770db70554" },
    { "esp32", "esp-web-flasher 5.1.5",
      "76a2d56e16ace80e14e52f388f8913227b565d6ee7227f184076c2ce641f75b0" },
    { "esp32s2", "esp-web-flasher 5.1.5",
      "546c08f47efd01f8b291791289dfade3fd87c7ac47afac4f1a9fd64ccd74a7fc" },
    { "esp32s3", "esp-web-flasher 5.1.5",
      "200055952168518fb1b3413c075fd9c51594ca7964b3d48586f64d94e4fa183f" },
    { "esp32c3", "esp-web-flasher 5.1.5",
      "1835e49610ea4b4968bc81a3627c0f34065e71db2aaf701d58ea25f1e929aca6" },
};

const struct known_stub *known_stub_find(const char *chip, const char *sha256_hex)
{
    for (size_t i = 0; i < sizeof stubs / sizeof stubs[0]; i++)
        if (strcmp(stubs[i].chip, chip) == 0 && strcmp(stubs[i].sha256, sha256_hex) == 0)
            return &stubs[i];
    return NULL;
}
