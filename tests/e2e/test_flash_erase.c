/* Nothing outside what was asked: the ESP8266 ROM's erase rule (head + n sectors for n
 * asked) against the real binaries. Each run starts from a flash full of a pattern; after
 * it, every byte outside the written files' own 4 KiB sectors must still hold it. The
 * three cases are issue 15's: a 36 KiB image at 0x0 (it used to erase 0xB000-0xBFFF), a
 * 128-byte esp_init_data at 0x3FC000 (it used to wipe 0x3FD000-0x3FDFFF), and files at
 * 0xB000 and 0x0 (the second one's erase used to destroy the first's first sector). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "e2e_run.h"
#include "e2e_dir.h"

#define FLASH_SIZE (4u << 20)
#define SECTOR 0x1000u
#define LIMIT_S 120

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("flash_erase");
}

static uint8_t pattern_at(uint32_t addr)
{
    return (uint8_t)(((addr * 29u) >> 5 & 0xFF) ^ 0x3C);
}

static const char *patterned_flash(void)
{
    const char *path = scratch_path("flash.bin");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (uint32_t i = 0; i < FLASH_SIZE; i++)
        fputc(pattern_at(i), f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static const char *esp8266_image(const char *name, const char *size)
{
    const char *out = scratch_path(name);
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp8266", "--kind", "v1", "--size",
                           size, "--micropython", "v1.24.0", "-o", out, NULL };
    struct e2e_result *m = malloc(sizeof *m);
    e2e_run(m, argv, 60);
    cr_assert_eq(m->status, 0, "mkimage: %s", m->err);
    free(m);
    return out;
}

static const char *raw_file(const char *name, size_t size, unsigned seed)
{
    const char *path = scratch_path(name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)((i * 13 + seed * 101) % 253), f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static const char *stub_dir(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/share/espdoctor/stub_flasher", e2e_build());
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing: `make` fetches the stubs (mk/stubs.sh)",
                 path);
    return path;
}

/* espsim --fast --chip esp8266 --flash FLASH -- espdoctor ARGS... */
static void run_esp8266(const char *flash, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--fast";
    argv[n++] = "--chip";
    argv[n++] = "esp8266";
    argv[n++] = "--flash";
    argv[n++] = flash;
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);
}

struct written {
    const char *file;   /* NULL ends the list */
    uint32_t addr;
};

/* Each file is where it was written, the rest of its last sector is erased, and every
 * byte outside the files' sectors holds the pattern. */
static void expect_only(const char *flash, const struct written *w)
{
    size_t n;
    uint8_t *f = slurp(flash, &n);
    cr_assert_eq(n, FLASH_SIZE);
    uint8_t *want = malloc(FLASH_SIZE);
    for (uint32_t a = 0; a < FLASH_SIZE; a++)
        want[a] = pattern_at(a);
    for (size_t i = 0; w[i].file; i++) {
        size_t len;
        uint8_t *data = slurp(w[i].file, &len);
        uint32_t end = (uint32_t)((w[i].addr + len + SECTOR - 1) / SECTOR * SECTOR);
        memset(want + w[i].addr, 0xFF, end - w[i].addr);
        memcpy(want + w[i].addr, data, len);
        free(data);
    }
    for (uint32_t a = 0; a < FLASH_SIZE; a++)
        cr_assert_eq(f[a], want[a], "byte 0x%x is 0x%02x, should be 0x%02x\n%s\n%s", a, f[a],
                     want[a], r.out, r.err);
    free(want);
    free(f);
}

Test(flash_erase, esp8266_rom_36k_image_at_0_erases_only_its_own_sectors, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = esp8266_image("a36.bin", "36K"), *flash = patterned_flash();
    run_esp8266(flash, (const char *[]){ "flash", "--no-stub", "0x0", img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    expect_only(flash, (const struct written[]){ { img, 0x0 }, { NULL, 0 } });
}

Test(flash_erase, esp8266_rom_128_bytes_at_0x3fc000_is_refused_and_nothing_changes,
     .init = make_dir, .fini = scratch_remove)
{
    const char *init = raw_file("esp_init_data.bin", 128, 1), *flash = patterned_flash();
    run_esp8266(flash, (const char *[]){ "flash", "--json", "--no-stub", "--force", "0x3FC000",
                                         init, NULL });
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "flash.erase-spill"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "0x3fd000"), "%s", r.out);
    expect_only(flash, (const struct written[]){ { NULL, 0 } });
}

Test(flash_erase, esp8266_stub_writes_128_bytes_at_0x3fc000_exactly, .init = make_dir,
     .fini = scratch_remove)
{
    const char *init = raw_file("esp_init_data.bin", 128, 2), *flash = patterned_flash();
    run_esp8266(flash, (const char *[]){ "flash", "--stub", stub_dir(), "--force", "0x3FC000",
                                         init, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    expect_only(flash, (const struct written[]){ { init, 0x3FC000 }, { NULL, 0 } });
}

Test(flash_erase, esp8266_rom_writes_0xb000_then_0x0_and_keeps_both, .init = make_dir,
     .fini = scratch_remove)
{
    /* 11 sectors at 0x0: the old erase size (6 sectors asked) erased 12, 0xB000 with them. */
    const char *data = raw_file("data.bin", 0x2000, 3);
    const char *img = esp8266_image("a36.bin", "36K"), *flash = patterned_flash();
    run_esp8266(flash, (const char *[]){ "flash", "--no-stub", "--force", "0xB000", data, "0x0",
                                         img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    expect_only(flash, (const struct written[]){ { data, 0xB000 }, { img, 0x0 }, { NULL, 0 } });
}

Test(flash_erase, esp8266_rom_one_sector_then_the_next_is_written_whole, .init = make_dir,
     .fini = scratch_remove)
{
    /* The first file's erase takes 0x3FD000 too, which the second file then rewrites. */
    const char *init = raw_file("esp_init_data.bin", 128, 4);
    const char *param = raw_file("params.bin", 0x2000, 5), *flash = patterned_flash();
    run_esp8266(flash, (const char *[]){ "flash", "--no-stub", "--force", "0x3FC000", init,
                                         "0x3FD000", param, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    expect_only(flash, (const struct written[]){ { init, 0x3FC000 }, { param, 0x3FD000 },
                                                 { NULL, 0 } });
    /* The other way round the first file would be destroyed: refused. */
    const char *flash2 = patterned_flash();
    run_esp8266(flash2, (const char *[]){ "flash", "--json", "--no-stub", "--force", "0x3FD000",
                                          param, "0x3FC000", init, NULL });
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "flash.erase-overlap"), "%s", r.out);
    expect_only(flash2, (const struct written[]){ { NULL, 0 } });
}

Test(flash_erase, esp8266_rom_erase_of_one_sector_is_refused, .init = make_dir,
     .fini = scratch_remove)
{
    const char *flash = patterned_flash();
    run_esp8266(flash, (const char *[]){ "erase", "--no-stub", "--region", "0x3FC000", "0x1000",
                                         NULL });
    cr_assert_neq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "outside"), "%s", r.err);
    expect_only(flash, (const struct written[]){ { NULL, 0 } });
    run_esp8266(flash, (const char *[]){ "erase", "--no-stub", "--region", "0x3000", "0x3000",
                                         NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    size_t n;
    uint8_t *f = slurp(flash, &n);
    for (uint32_t a = 0; a < FLASH_SIZE; a++)
        cr_assert_eq(f[a], a >= 0x3000 && a < 0x6000 ? 0xFF : pattern_at(a), "byte 0x%x", a);
    free(f);
}
