/* The flasher stubs espdoctor uploads without a word: esptool-js's stub_flasher/<chip>.json
 * files, each known by the SHA-256 of the file as the release ships it. A stub runs as
 * code on the chip and reports the MD5 that "verified" rests on, so a file that is none of
 * these is only used when the user names it with --stub (and then with a warning).
 *
 * Facts: sha256sum of lib/targets/stub_flasher/<chip>.json in the esptool-js 0.7.0 npm
 * package (the release mk/stubs.sh fetches and tests/js/package.json pins), one line per
 * chip espdoctor knows. Another release needs its digests added here (and mk/stubs.sh
 * checks what it fetches against this table). */
#include "espdoctor/stub.h"

#include <string.h>

static const struct ed_stub_release known[] = {
    { "esp8266", "esptool-js 0.7.0",
      "515d78aacbcf7993f918936f168059227abb2f77e0189b7e974574b2e4e8bfdf" },
    { "esp32", "esptool-js 0.7.0",
      "efd74134f076953c209277a85959ea832ad1e29a5a2aa55eec4175dccd8a05c5" },
    { "esp32s2", "esptool-js 0.7.0",
      "cc5974db34470aa85fbde20e652b39a195a3ccc7b2670fd18c96eb92bee2c17c" },
    { "esp32s3", "esptool-js 0.7.0",
      "1e9e67c529837f12055a9ea87545919502c6db389b9a671f0f0340620028fea3" },
    { "esp32c3", "esptool-js 0.7.0",
      "db8fe9ba535a243f7eb5d248d3c7a47a1a0890bcf9c51d06fd7a49ec4d08588f" },
    { "esp32c6", "esptool-js 0.7.0",
      "9a914862a6ef22fddc416c85bfd0b377d2b19be2cd2c599661e94d17f06a18aa" },
};

const struct ed_stub_release *ed_stub_release_of(const char *chip_key, const char *sha256_hex)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].chip_key, chip_key) == 0 && strcmp(known[i].sha256, sha256_hex) == 0)
            return &known[i];
    return NULL;
}
