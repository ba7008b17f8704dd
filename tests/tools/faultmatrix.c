/* faultmatrix: flash through espsim under injected faults, many times, and count how each
 * run ended. `make faults` runs it; tests/e2e/test_faults.c runs a small subset.
 *
 *   faultmatrix [--runs N] [--jobs J] [--seed S] [--only I] [--keep] [--trace] [-v]
 *
 * --only I runs scenario I alone; --keep keeps the output of runs that went wrong (and
 * the work directory), --trace also espsim's trace of them; --list prints the scenarios a
 * seed draws without running them.
 *
 * Each run is `espsim --fast --seed X [faults] --chip C --flash F -- espdoctor flash --json
 * [--stub DIR | --no-stub] [--force] [ADDR] FILE [ADDR FILE ...]`, with a layout of files
 * of odd sizes at odd places (a merged or v1 image alone; an app with raw 8269 B and
 * 128 B; 36 KiB at 0 with 128 B at 0x3FC000 and 8 KiB after it; 8 KiB at 0xB000 then
 * 36 KiB at 0; on the ESP8266 ROM, 128 B alone at 0x3FC000, which must be refused) and a
 * fault scenario drawn from the seed: a noisy line (1e-4 or 1e-3), corruption (4e-4), a
 * stall, an unplugged and replugged cable (the transient faults), or a brown-out, a bad
 * flash sector, a UART off its rate, a very noisy line, a cable that stays out, and
 * combinations. Every run starts from a flash full of a pattern; afterwards the flash
 * file espsim kept is compared with it byte for byte, and with the files where espdoctor
 * wrote them, and the run is classified:
 *
 *   verified          exit 0, every region reported verified, and the flash holds the files
 *   clear failure     a non-zero exit with an error message that says what failed
 *   false success     reported verified but the flash differs, or exit 0 without saying
 *                     verified where the loader can verify
 *   unverified        exit 0 from the ESP8266 ROM (no stub, or the stub's upload failed
 *                     and it said so), which cannot hash flash and says so ("verified":
 *                     null); counted apart, with how often the flash really held the files
 *   refused           exit 3 with not one byte changed, where the ESP8266 ROM cannot
 *                     write without erasing more than asked
 *   unclear failure   no exit status (hang, killed, crashed) or no message: a bug
 *
 * Apart from these, a run that changed any byte outside the files' own 4 KiB sectors went
 * astray: one is enough to fail the matrix.
 *
 * The last line is one JSON object:
 *   {"runs":N,"verified":V,"clear_failures":F,"false_success":X,"recovered_transient":R,
 *    "transient_runs":T,"astray":A,"refused":D}
 * where T counts runs with only transient faults on a loader that can verify, and R those
 * of them that ended verified (or, on an ESP8266 whose stub could not be uploaded, written
 * by its ROM with the flash holding the files). Exit status 0 only when X = 0, A = 0,
 * R >= 99 % of T and there was no unclear failure. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e/e2e_json.h"   /* the document after the progress lines */

#define MAX_JOBS 8
#define RUN_LIMIT_S 120
#define FLASH_SIZE (4u << 20)
#define TARGET_RECOVERY 0.99

/* ---- randomness -------------------------------------------------------------------- */

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return n ? mix(s) % n : 0;
}

/* ---- what is flashed --------------------------------------------------------------- */

enum config { ESP32_ROM, ESP32_STUB, ESP8266_ROM, ESP8266_STUB, CONFIGS };

static const struct {
    const char *chip;
    bool stub;
    const char *name;
} configs[CONFIGS] = {
    [ESP32_ROM] = { "esp32", false, "esp32 ROM" },
    [ESP32_STUB] = { "esp32", true, "esp32 stub" },
    [ESP8266_ROM] = { "esp8266", false, "esp8266 ROM" },
    [ESP8266_STUB] = { "esp8266", true, "esp8266 stub" },
};

struct image {
    char path[512], old_path[512];   /* the file, and an older one already on board ("") */
    uint32_t addr;
    uint8_t *data, *old;
    size_t len, old_len;
};

/* What one run writes: files of odd sizes at odd places, in the order given on the
 * command line. The first is the firmware (an older one may be on the board already). */
#define MAX_FILES 3
struct layout {
    const char *name;
    const char *chip;
    bool rom_refuses;       /* the ESP8266 ROM cannot write it without erasing more */
    bool raw;               /* holds raw data: needs --force */
    size_t count;
    struct image files[MAX_FILES];
};

enum {
    L_ESP32_MERGED, L_ESP32_ODD, L_ESP8266_V1, L_ESP8266_ODD, L_ESP8266_TWO, L_ESP8266_ONE_SECTOR,
    LAYOUTS,
};

static struct layout layouts[LAYOUTS] = {
    [L_ESP32_MERGED] = { "esp32 merged 96K at 0x1000", "esp32", false, false, 1, { { .addr = 0x1000 } } },
    [L_ESP32_ODD] = { "esp32 app 37K, raw 8269 B, raw 128 B", "esp32", false, true, 3,
                      { { .addr = 0x10000 }, { .addr = 0x9000 }, { .addr = 0x3FC000 } } },
    [L_ESP8266_V1] = { "esp8266 v1 48K at 0x0", "esp8266", false, false, 1, { { .addr = 0x0 } } },
    [L_ESP8266_ODD] = { "esp8266 36K at 0, 128 B at 0x3FC000, 8K after", "esp8266", false, true,
                        3, { { .addr = 0x0 }, { .addr = 0x3FC000 }, { .addr = 0x3FD000 } } },
    [L_ESP8266_TWO] = { "esp8266 8K at 0xB000, then 36K at 0", "esp8266", false, true, 2,
                        { { .addr = 0xB000 }, { .addr = 0x0 } } },
    [L_ESP8266_ONE_SECTOR] = { "esp8266 36K at 0, 128 B alone at 0x3FC000", "esp8266", true,
                               true, 2, { { .addr = 0x0 }, { .addr = 0x3FC000 } } },
};

static const struct image *firmware_of(const struct layout *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->files[i].old)
            return &l->files[i];
    return &l->files[0];
}

/* ---- fault scenarios ------------------------------------------------------------------ */

enum fault_class {
    F_LINE, F_STALL, F_UNPLUG, F_TRANSIENT_MIX, F_LINE_1E3, F_CORRUPT,   /* transient */
    F_CLEAN, F_BROWNOUT, F_BAD_SECTOR, F_WRONG_SPEED, F_NOISY, F_HARD_MIX, F_UNPLUG_GONE,
    CLASSES,
};

static const struct {
    const char *name;
    unsigned weight;     /* out of 100 */
    bool transient;
} classes[CLASSES] = {
    [F_LINE] = { "line errors 1e-4", 12, true },
    [F_STALL] = { "single stall", 12, true },
    [F_UNPLUG] = { "unplug and replug", 12, true },
    [F_TRANSIENT_MIX] = { "transient mix", 9, true },
    [F_LINE_1E3] = { "line errors 1e-3", 8, true },
    [F_CORRUPT] = { "corruption 4e-4", 8, true },
    [F_CLEAN] = { "no fault", 3, false },
    [F_BROWNOUT] = { "brown-out", 9, false },
    [F_BAD_SECTOR] = { "bad sector", 9, false },
    [F_WRONG_SPEED] = { "wrong speed", 6, false },
    [F_NOISY] = { "line errors >= 2e-3", 3, false },
    [F_HARD_MIX] = { "hard mix", 8, false },
    [F_UNPLUG_GONE] = { "unplugged for good", 1, false },
};

struct scenario {
    unsigned index;
    enum config config;
    enum fault_class fclass;
    uint64_t seed;
    char args[12][48];     /* espsim fault options */
    size_t argc;
    enum { START_BLANK, START_OLD, START_PARTIAL } start;
    unsigned layout;
};

static const struct layout *layout_of(const struct scenario *s)
{
    return &layouts[s->layout];
}

/* Host bytes a clean flash of each config takes (calibrated before the matrix). */
static uint64_t traffic[CONFIGS];

static void add_arg(struct scenario *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_arg(struct scenario *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->args[s->argc++], sizeof s->args[0], fmt, ap);
    va_end(ap);
}

/* A byte count somewhere in the flash's traffic (a little past it: sometimes the fault
 * never comes). */
static uint64_t some_byte(uint64_t *r, const struct scenario *s)
{
    return 1 + below(r, traffic[s->config] + traffic[s->config] / 20);
}

static void add_line(struct scenario *s, const char *rate)
{
    add_arg(s, "--line-errors");
    add_arg(s, "%s", rate);
}

static void add_stall(struct scenario *s, uint64_t *r)
{
    add_arg(s, "--stall");
    add_arg(s, "%u@%llu", (unsigned)(100 + below(r, 1900)),
            (unsigned long long)some_byte(r, s));
}

static void add_unplug(struct scenario *s, uint64_t *r, bool replug)
{
    add_arg(s, "--unplug-at");
    add_arg(s, "%llu:%u", (unsigned long long)some_byte(r, s),
            replug ? (unsigned)(100 + below(r, 1400)) : 0u);
}

static void add_brownout(struct scenario *s, uint64_t *r)
{
    add_arg(s, "--brownout-at");
    add_arg(s, "%llu", (unsigned long long)some_byte(r, s));
}

static void add_bad_sector(struct scenario *s, uint64_t *r)
{
    const struct image *im = firmware_of(layout_of(s));
    add_arg(s, "--bad-sector");
    add_arg(s, "0x%llx", (unsigned long long)(im->addr + below(r, im->len)));
}

static void make_scenario(struct scenario *s, unsigned index, uint64_t base_seed)
{
    uint64_t r = base_seed * 0x100000001B3ull + index;
    mix(&r);
    *s = (struct scenario){ .index = index, .seed = mix(&r) % 1000000007u };
    bool esp32 = index % 2 == 0;
    unsigned pick = (unsigned)below(&r, 100);
    s->config = esp32 ? (pick < 50 ? ESP32_ROM : ESP32_STUB)
                      : (pick < 20 ? ESP8266_ROM : ESP8266_STUB);
    /* Every layout of the chip; the one the ROM must refuse only where the ROM writes. */
    unsigned choices[LAYOUTS], n = 0;
    for (unsigned l = 0; l < LAYOUTS; l++)
        if (strcmp(layouts[l].chip, configs[s->config].chip) == 0 &&
            (!layouts[l].rom_refuses || s->config == ESP8266_ROM))
            choices[n++] = l;
    s->layout = choices[below(&r, n)];
    unsigned w = (unsigned)below(&r, 100), acc = 0;
    for (int c = 0; c < CLASSES; c++) {
        acc += classes[c].weight;
        if (w < acc) {
            s->fclass = (enum fault_class)c;
            break;
        }
    }
    unsigned start = (unsigned)below(&r, 10);
    s->start = start < 4 ? START_BLANK : start < 7 ? START_OLD : START_PARTIAL;
    static const char *const noisy[] = { "2e-3", "3e-3", "5e-3" };
    static const char *const speeds[] = { "1", "-2", "2.5", "-3", "5", "-8", "12", "25", "-20" };
    switch (s->fclass) {
    case F_LINE: add_line(s, "1e-4"); break;
    case F_STALL: add_stall(s, &r); break;
    case F_UNPLUG: add_unplug(s, &r, true); break;
    case F_TRANSIENT_MIX:
        add_line(s, "1e-4");
        if (below(&r, 2))
            add_stall(s, &r);
        else
            add_unplug(s, &r, true);
        break;
    case F_LINE_1E3: add_line(s, "1e-3"); break;
    case F_CORRUPT:
        add_arg(s, "--corrupt-rate");
        add_arg(s, "4e-4");
        break;
    case F_CLEAN: break;
    case F_BROWNOUT: add_brownout(s, &r); break;
    case F_BAD_SECTOR: add_bad_sector(s, &r); break;
    case F_WRONG_SPEED:
        add_arg(s, "--wrong-speed");
        add_arg(s, "%s", speeds[below(&r, sizeof speeds / sizeof speeds[0])]);
        break;
    case F_NOISY: add_line(s, noisy[below(&r, 3)]); break;
    case F_HARD_MIX:
        switch (below(&r, 3)) {
        case 0: add_brownout(s, &r); add_line(s, "1e-4"); break;
        case 1: add_bad_sector(s, &r); add_unplug(s, &r, true); break;
        default: add_brownout(s, &r); add_stall(s, &r); break;
        }
        break;
    case F_UNPLUG_GONE: add_unplug(s, &r, false); break;
    case CLASSES: break;
    }
}

/* ---- outcomes ------------------------------------------------------------------------ */

enum outcome { VERIFIED, CLEAR_FAILURE, FALSE_SUCCESS, UNVERIFIED, UNCLEAR, REFUSED, OUTCOMES };

static const char *const outcome_names[OUTCOMES] = {
    "verified", "clear failure", "FALSE SUCCESS", "unverified (said so)", "UNCLEAR FAILURE",
    "refused, untouched",
};

struct result {
    enum outcome outcome;
    bool flash_matches;
    bool astray;           /* flash outside the files' sectors changed */
    bool untouched;        /* not one byte of flash changed */
    bool fell_back;        /* the stub could not be uploaded: the ROM loader wrote */
    int status;
    double seconds;
    char why[200];
};

/* ---- files ------------------------------------------------------------------------------ */

static char work[256];
static const char *build = "build";
static char bin_dir[300];   /* copies of the binaries: a rebuild meanwhile cannot touch them */
static char stub_dir[600];
static bool verbose, keep, trace;
static uint64_t matrix_seed;   /* --seed: with a run's index, all it takes to repeat it */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void run_path(const struct scenario *s, const char *what, char *out, size_t len)
{
    snprintf(out, len, "%s/run%04u.%s", work, s->index, what);
}

/* A byte of the pattern every run's flash starts from: any erase or write shows. It does
 * not repeat at 2 MiB (addr >> 21): content that repeats at a power of two reads exactly
 * like a counterfeit chip that wraps around there, and espdoctor would size it so. */
static uint8_t pattern_at(uint32_t addr)
{
    return (uint8_t)((addr * 0x9E37u >> 7 ^ addr >> 13 ^ (addr >> 21) * 0xA7u) & 0xFF) ^ 0x5A;
}

/* The flash the run starts from: the pattern (no firmware), an older firmware where the
 * new one goes, or the new one half written over the old (an earlier run that broke off). */
static void initial_flash(const struct scenario *s, uint8_t *mem)
{
    const struct image *im = firmware_of(layout_of(s));
    for (uint32_t a = 0; a < FLASH_SIZE; a++)
        mem[a] = pattern_at(a);
    if (s->start == START_BLANK)
        return;
    memcpy(mem + im->addr, im->old, im->old_len);
    if (s->start == START_PARTIAL)
        memcpy(mem + im->addr, im->data, im->len / 2);
}

static bool prepare_flash(const struct scenario *s, const char *path)
{
    unlink(path);
    uint8_t *mem = malloc(FLASH_SIZE);
    if (!mem)
        return false;
    initial_flash(s, mem);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(mem, 1, FLASH_SIZE, f) == FLASH_SIZE;
    if (f && fclose(f) != 0)
        ok = false;
    free(mem);
    return ok;
}

static size_t sector_up(size_t a)
{
    return (a + 0xFFF) & ~(size_t)0xFFF;
}

/* Whether the flash holds every file where it belongs; whether any byte outside the
 * files' own 4 KiB sectors changed (an erase or write that went astray: every byte is
 * compared with what the run started from); whether nothing at all changed. */
static void check_flash(const struct scenario *s, const char *flash, bool *holds,
                        bool *astray, bool *untouched)
{
    const struct layout *l = layout_of(s);
    size_t n;
    uint8_t *f = slurp(flash, &n);
    uint8_t *before = malloc(FLASH_SIZE);
    bool *asked = calloc(FLASH_SIZE, 1);
    *holds = *astray = *untouched = false;
    if (f && before && asked && n == FLASH_SIZE) {
        initial_flash(s, before);
        *holds = true;
        for (size_t i = 0; i < l->count; i++) {
            const struct image *im = &l->files[i];
            *holds = *holds && memcmp(f + im->addr, im->data, im->len) == 0;
            memset(asked + (im->addr & ~(size_t)0xFFF), 1,
                   sector_up(im->addr + im->len) - (im->addr & ~(size_t)0xFFF));
        }
        for (size_t a = 0; a < FLASH_SIZE && !*astray; a++)
            *astray = !asked[a] && f[a] != before[a];
        *untouched = memcmp(f, before, FLASH_SIZE) == 0;
    }
    free(asked);
    free(f);
    free(before);
}

/* ---- running one scenario --------------------------------------------------------------- */

struct job {
    pid_t pid;
    struct scenario s;
    struct timespec t0;
};

static double since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* argv for espsim; stats_path non-NULL only for the calibration runs. */
static size_t build_argv(const struct scenario *s, const char *flash, const char *stats,
                         const char **argv, char bins[2][600])
{
    size_t n = 0;
    snprintf(bins[0], sizeof bins[0], "%s/espsim", bin_dir);
    snprintf(bins[1], sizeof bins[1], "%s/espdoctor", bin_dir);
    static char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    argv[n++] = bins[0];
    argv[n++] = "--fast";
    argv[n++] = "--seed";
    argv[n++] = seed;
    argv[n++] = "--chip";
    argv[n++] = configs[s->config].chip;
    argv[n++] = "--flash";
    argv[n++] = flash;
    if (stats) {
        argv[n++] = "--stats";
        argv[n++] = stats;
    }
    static char trace_path[512];
    if (trace) {
        run_path(s, "trace", trace_path, sizeof trace_path);
        argv[n++] = "--trace";
        argv[n++] = trace_path;
    }
    for (size_t i = 0; i < s->argc; i++)
        argv[n++] = s->args[i];
    argv[n++] = "--";
    argv[n++] = bins[1];
    argv[n++] = "flash";
    argv[n++] = "--json";
    argv[n++] = "--button-wait";   /* the faults are on the line: nobody presses a button, */
    argv[n++] = "0";               /* a failed connect ends at once */
    if (configs[s->config].stub) {
        argv[n++] = "--stub";
        argv[n++] = stub_dir;
    } else {
        argv[n++] = "--no-stub";
    }
    const struct layout *l = layout_of(s);
    if (l->raw)
        argv[n++] = "--force";
    static char addrs[MAX_FILES][16];
    for (size_t i = 0; i < l->count; i++) {
        if (l->count > 1) {
            snprintf(addrs[i], sizeof addrs[i], "0x%x", l->files[i].addr);
            argv[n++] = addrs[i];
        }
        argv[n++] = l->files[i].path;
    }
    argv[n] = NULL;
    return n;
}

static void print_command(FILE *out, const struct scenario *s)
{
    char flash[512], bins[2][600];
    const char *argv[48];
    run_path(s, "flash", flash, sizeof flash);
    build_argv(s, flash, NULL, argv, bins);
    for (size_t i = 0; argv[i]; i++)
        fprintf(out, "%s%s", i ? " " : "  ", argv[i]);
    fputc('\n', out);
}

static pid_t spawn(const struct scenario *s, const char *stats)
{
    char flash[512], out[512], err[512], bins[2][600];
    run_path(s, "flash", flash, sizeof flash);
    run_path(s, "out", out, sizeof out);
    run_path(s, "err", err, sizeof err);
    if (!prepare_flash(s, flash)) {
        fprintf(stderr, "faultmatrix: cannot write %s: %s\n", flash, strerror(errno));
        return -1;
    }
    const char *argv[48];
    build_argv(s, flash, stats, argv, bins);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || in < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        dup2(in, 0);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Did every region say "verified": true? *null_verdict: some said null (cannot hash). */
static bool all_verified(json_object *doc, bool *null_verdict)
{
    json_object *regions = get(doc, "regions");
    size_t n = regions ? json_object_array_length(regions) : 0;
    bool all = n > 0;
    *null_verdict = false;
    for (size_t i = 0; i < n; i++) {
        json_object *v = get(json_object_array_get_idx(regions, i), "verified");
        if (!v)
            *null_verdict = true;
        all = all && v && json_object_get_boolean(v);
    }
    return all;
}

/* The error message the run ended with: the JSON's, else espdoctor's line on stderr. */
static bool error_message(json_object *doc, const char *err, char *out, size_t len)
{
    const char *msg = json_object_get_string(get(get(doc, "error"), "message"));
    if (!msg) {
        const char *line = strncmp(err, "espdoctor: ", 11) == 0 ? err : strstr(err, "\nespdoctor: ");
        if (line && *line == '\n')
            line++;
        if (line) {
            msg = line + strlen("espdoctor: ");
            size_t n = strcspn(msg, "\n");
            snprintf(out, len, "%.*s", (int)n, msg);
            return n > 10;
        }
        /* A failed connect prints its report as JSON with error.message too. */
        return false;
    }
    snprintf(out, len, "%s", msg);
    return strlen(msg) > 10;
}

static void classify(const struct scenario *s, int status, struct result *res)
{
    char flash[512], outp[512], errp[512];
    run_path(s, "flash", flash, sizeof flash);
    run_path(s, "out", outp, sizeof outp);
    run_path(s, "err", errp, sizeof errp);
    size_t on = 0, en = 0;
    char *out = (char *)slurp(outp, &on), *err = (char *)slurp(errp, &en);
    json_object *doc = out ? e2e_json_doc(out) : NULL;
    res->status = status;
    check_flash(s, flash, &res->flash_matches, &res->astray, &res->untouched);
    res->why[0] = '\0';
    bool null_verdict = false;
    bool verified = all_verified(doc, &null_verdict);
    const char *result = json_object_get_string(get(doc, "result"));
    res->fell_back = json_object_get_string(get(doc, "stub_fallback")) != NULL;
    if (status == 0) {
        bool ok = result && strcmp(result, "ok") == 0;
        if (ok && verified)
            res->outcome = res->flash_matches ? VERIFIED : FALSE_SUCCESS;
        else if (ok && null_verdict && (!configs[s->config].stub || res->fell_back) &&
                 strcmp(configs[s->config].chip, "esp8266") == 0)
            res->outcome = UNVERIFIED;   /* the ESP8266 ROM wrote: it cannot hash, and said so */
        else
            res->outcome = FALSE_SUCCESS;
        if (res->outcome == FALSE_SUCCESS)
            snprintf(res->why, sizeof res->why, "exit 0, result %s, verified %s, flash %s",
                     result ? result : "(none)", verified ? "yes" : "no",
                     res->flash_matches ? "matches" : "DIFFERS");
    } else if (status == 3 && result && strcmp(result, "refused") == 0 && res->untouched &&
               layout_of(s)->rom_refuses && s->config == ESP8266_ROM) {
        res->outcome = REFUSED;   /* what it must do: the ROM would erase more than asked */
    } else if (status > 0 && status < 127 && error_message(doc, err ? err : "", res->why,
                                                           sizeof res->why)) {
        res->outcome = CLEAR_FAILURE;
    } else {
        res->outcome = UNCLEAR;
        snprintf(res->why, sizeof res->why, "%s (exit %d)",
                 status < 0 ? "no exit within the time limit" : "no error message", status);
    }
    json_object_put(doc);
    free(out);
    free(err);
}

/* ---- the matrix ------------------------------------------------------------------------ */

struct tally {
    unsigned by_layout[LAYOUTS][OUTCOMES];
    unsigned by_class[CLASSES][OUTCOMES];
    unsigned by_config[CONFIGS][OUTCOMES];
    unsigned total[OUTCOMES];
    unsigned transient_runs, recovered_transient, unverified_matching, astray;
    unsigned fell_back, recovered_by_fallback;
};

static bool transient_run(const struct scenario *s)
{
    return classes[s->fclass].transient && s->config != ESP8266_ROM &&
           !layout_of(s)->rom_refuses;
}

static void cleanup_run(const struct scenario *s, bool keep_files)
{
    static const char *const what[] = { "flash", "out", "err", "trace" };
    char path[512];
    for (size_t i = 0; i < 4; i++) {
        run_path(s, what[i], path, sizeof path);
        if (!keep_files || i == 0)   /* a 4 MB flash file is never worth keeping */
            unlink(path);
    }
}

static void record(struct tally *t, const struct scenario *s, struct result *res)
{
    t->by_layout[s->layout][res->outcome]++;
    t->by_class[s->fclass][res->outcome]++;
    t->by_config[s->config][res->outcome]++;
    t->total[res->outcome]++;
    if (res->outcome == UNVERIFIED && res->flash_matches)
        t->unverified_matching++;
    bool interesting = res->outcome == FALSE_SUCCESS || res->outcome == UNCLEAR || res->astray ||
                       (res->outcome == UNVERIFIED && !res->flash_matches);
    if (res->outcome == UNVERIFIED && !res->flash_matches)
        snprintf(res->why, sizeof res->why, "exit 0, reported unverified, and the flash differs");
    if (res->astray) {
        t->astray++;
        snprintf(res->why + strlen(res->why), sizeof res->why - strlen(res->why),
                 "%sflash outside the image changed", res->why[0] ? "; " : "");
    }
    if (res->fell_back)
        t->fell_back++;
    if (transient_run(s)) {
        t->transient_runs++;
        /* Through the ROM loader after the stub's upload failed counts when it was said
         * (JSON stub_fallback) and the flash holds the files: on an ESP8266 that ROM
         * cannot hash flash, so the run ends unverified, and says so. */
        bool by_fallback = res->outcome == UNVERIFIED && res->fell_back && res->flash_matches;
        if (res->outcome == VERIFIED || by_fallback)
            t->recovered_transient++;
        else
            interesting = true;
        t->recovered_by_fallback += by_fallback;
    }
    if (interesting || verbose) {
        fprintf(stderr, "run %u (%s, %s, %s): %s after %.1f s%s%s\n", s->index,
                configs[s->config].name, classes[s->fclass].name, layout_of(s)->name,
                outcome_names[res->outcome],
                res->seconds, res->why[0] ? ": " : "", res->why);
        if (interesting || verbose) {
            print_command(stderr, s);
            fprintf(stderr, "  again: faultmatrix --seed %llu --only %u --keep --trace\n",
                    (unsigned long long)matrix_seed, s->index);
            if (keep) {
                char path[512];
                run_path(s, "err", path, sizeof path);
                fprintf(stderr, "  output kept: %s and .out\n", path);
            }
        }
    }
    cleanup_run(s, keep && interesting);
}

static void kill_overdue(struct job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (jobs[i].pid > 0 && since(&jobs[i].t0) > RUN_LIMIT_S)
            kill(-jobs[i].pid, SIGKILL);
}

static void run_matrix(unsigned runs, unsigned first, unsigned jobs_max, uint64_t seed,
                       struct tally *t)
{
    struct job jobs[MAX_JOBS] = { 0 };
    bool overdue[MAX_JOBS] = { false };
    unsigned next = first, done = 0, end = first + runs;
    size_t running = 0;
    while (done < runs) {
        while (running < jobs_max && next < end) {
            size_t slot = 0;
            while (jobs[slot].pid > 0)
                slot++;
            make_scenario(&jobs[slot].s, next++, seed);
            clock_gettime(CLOCK_MONOTONIC, &jobs[slot].t0);
            jobs[slot].pid = spawn(&jobs[slot].s, NULL);
            overdue[slot] = false;
            if (jobs[slot].pid < 0) {
                struct result res = { .outcome = UNCLEAR, .status = -1 };
                snprintf(res.why, sizeof res.why, "could not start");
                record(t, &jobs[slot].s, &res);
                jobs[slot].pid = 0;
                done++;
                continue;
            }
            running++;
        }
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) {
            for (size_t i = 0; i < jobs_max; i++)
                if (jobs[i].pid > 0 && since(&jobs[i].t0) > RUN_LIMIT_S)
                    overdue[i] = true;
            kill_overdue(jobs, jobs_max);
            struct timespec nap = { 0, 20 * 1000000L };
            nanosleep(&nap, NULL);
            continue;
        }
        for (size_t i = 0; i < jobs_max; i++) {
            if (jobs[i].pid != pid)
                continue;
            struct result res = { .seconds = since(&jobs[i].t0) };
            int status = overdue[i] ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            classify(&jobs[i].s, status, &res);
            record(t, &jobs[i].s, &res);
            jobs[i].pid = 0;
            running--;
            done++;
            if (!verbose && done % 100 == 0)
                fprintf(stderr, "faultmatrix: %u of %u runs\n", done, runs);
        }
    }
}

/* ---- set-up ------------------------------------------------------------------------------ */

static bool run_tool(const char *const *argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool make_image(struct image *im, const char *chip, const char *kind, const char *size,
                       const char *name)
{
    char tool[600];
    snprintf(tool, sizeof tool, "%s/mkimage", bin_dir);
    snprintf(im->path, sizeof im->path, "%s/%s.bin", work, name);
    snprintf(im->old_path, sizeof im->old_path, "%s/%s-old.bin", work, name);
    const char *now[] = { tool, "--chip", chip, "--kind", kind, "--size", size,
                          "--micropython", "v1.24.0", "-o", im->path, NULL };
    const char *old[] = { tool, "--chip", chip, "--kind", kind, "--size", size,
                          "--micropython", "v1.23.0", "-o", im->old_path, NULL };
    if (!run_tool(now) || !run_tool(old))
        return false;
    im->data = slurp(im->path, &im->len);
    im->old = slurp(im->old_path, &im->old_len);
    return im->data && im->old;
}

/* Raw data (not an image: written with --force) of an odd size. */
static bool make_raw(struct image *im, size_t len, const char *name)
{
    snprintf(im->path, sizeof im->path, "%s/%s.bin", work, name);
    im->old_path[0] = '\0';
    im->data = malloc(len);
    if (!im->data)
        return false;
    uint32_t x = (uint32_t)len * 2654435761u;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        im->data[i] = (uint8_t)(x >> 16);
    }
    im->len = len;
    FILE *f = fopen(im->path, "wb");
    bool ok = f && fwrite(im->data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    return ok;
}

static bool make_layouts(void)
{
    struct layout *l = layouts;
    return make_image(&l[L_ESP32_MERGED].files[0], "esp32", "merged", "96K", "esp32-merged") &&
           make_image(&l[L_ESP32_ODD].files[0], "esp32", "app", "37K", "esp32-app") &&
           make_raw(&l[L_ESP32_ODD].files[1], 8269, "esp32-raw8269") &&
           make_raw(&l[L_ESP32_ODD].files[2], 128, "esp32-raw128") &&
           make_image(&l[L_ESP8266_V1].files[0], "esp8266", "v1", "48K", "esp8266-48k") &&
           make_image(&l[L_ESP8266_ODD].files[0], "esp8266", "v1", "36K", "esp8266-36k") &&
           make_raw(&l[L_ESP8266_ODD].files[1], 128, "esp8266-init") &&
           make_raw(&l[L_ESP8266_ODD].files[2], 0x2000, "esp8266-params") &&
           make_raw(&l[L_ESP8266_TWO].files[0], 0x2000, "esp8266-b000") &&
           make_image(&l[L_ESP8266_TWO].files[1], "esp8266", "v1", "36K", "esp8266-36k-b") &&
           make_image(&l[L_ESP8266_ONE_SECTOR].files[0], "esp8266", "v1", "36K",
                      "esp8266-36k-c") &&
           make_raw(&l[L_ESP8266_ONE_SECTOR].files[1], 128, "esp8266-init-alone");
}

static void free_layouts(void)
{
    for (int i = 0; i < LAYOUTS; i++)
        for (size_t k = 0; k < layouts[i].count; k++) {
            struct image *im = &layouts[i].files[k];
            if (im->path[0])
                unlink(im->path);
            if (im->old_path[0])
                unlink(im->old_path);
            free(im->data);
            free(im->old);
            im->data = im->old = NULL;
        }
}

/* A clean flash of each configuration: it must verify, and it says how many bytes the
 * host sends (where the byte-count faults are placed). */
static bool calibrate(void)
{
    for (int c = 0; c < CONFIGS; c++) {
        bool first = true;
        for (unsigned l = 0; l < LAYOUTS; l++) {
            if (strcmp(layouts[l].chip, configs[c].chip) != 0 ||
                (layouts[l].rom_refuses && c != ESP8266_ROM))
                continue;
            struct scenario s = { .index = 9000 + (unsigned)c * 10 + l,
                                  .config = (enum config)c, .fclass = F_CLEAN,
                                  .start = START_BLANK, .layout = l };
            char stats[512];
            run_path(&s, "stats", stats, sizeof stats);
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            pid_t pid = spawn(&s, stats);
            int st;
            if (pid < 0 || waitpid(pid, &st, 0) != pid) {
                fprintf(stderr, "faultmatrix: cannot run the %s calibration\n",
                        configs[c].name);
                return false;
            }
            struct result res = { .seconds = since(&t0) };
            classify(&s, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), &res);
            json_object *o = json_object_from_file(stats);
            uint64_t bytes = (uint64_t)json_object_get_int64(get(o, "host_bytes_out"));
            json_object_put(o);
            unlink(stats);
            if (first)   /* faults are placed in the traffic of the first layout's flash */
                traffic[c] = bytes;
            first = false;
            enum outcome want = layouts[l].rom_refuses ? REFUSED
                                : configs[c].stub || c == ESP32_ROM ? VERIFIED : UNVERIFIED;
            bool ok = res.outcome == want && !res.astray &&
                      (want == REFUSED || res.flash_matches) && bytes > 0;
            if (!ok) {
                fprintf(stderr, "faultmatrix: a clean %s flash of %s did not work (%s%s%s): "
                        "fix that first\n", configs[c].name, layouts[l].name,
                        outcome_names[res.outcome], res.why[0] ? ": " : "", res.why);
                print_command(stderr, &s);
                cleanup_run(&s, true);
                return false;
            }
            cleanup_run(&s, false);
            fprintf(stderr, "faultmatrix: clean %s flash of %s: %.1f s, %llu bytes from the "
                    "host\n", configs[c].name, layouts[l].name, res.seconds,
                    (unsigned long long)bytes);
        }
    }
    return true;
}

static bool copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *data = slurp(from, &n);
    if (!data)
        return false;
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    bool ok = fd >= 0 && write(fd, data, n) == (ssize_t)n;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    free(data);
    return ok;
}

static bool copy_binaries(void)
{
    static const char *const names[] = { "espsim", "espdoctor", "mkimage" };
    snprintf(bin_dir, sizeof bin_dir, "%s/bin", work);
    if (mkdir(bin_dir, 0755) != 0)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char from[600], to[600];
        snprintf(from, sizeof from, "%s/%s", build, names[i]);
        snprintf(to, sizeof to, "%s/%s", bin_dir, names[i]);
        if (!copy_file(from, to)) {
            fprintf(stderr, "faultmatrix: cannot copy %s: %s\n", from, strerror(errno));
            return false;
        }
    }
    return true;
}

static bool setup(const char *stub)
{
    snprintf(work, sizeof work, "/tmp/faultmatrix.XXXXXX");
    if (!mkdtemp(work)) {
        fprintf(stderr, "faultmatrix: cannot make a work directory: %s\n", strerror(errno));
        return false;
    }
    if (!stub) {
        char cwd[256];
        if (!getcwd(cwd, sizeof cwd))
            return false;
        snprintf(stub_dir, sizeof stub_dir,
                 "%s/tests/js/node_modules/esptool-js/lib/targets/stub_flasher", cwd);
    } else {
        snprintf(stub_dir, sizeof stub_dir, "%s", stub);
    }
    if (!copy_binaries())
        return false;
    struct stat st;
    if (stat(stub_dir, &st) != 0) {
        fprintf(stderr, "faultmatrix: no flasher stubs in %s (run tests/js/setup.sh, or give "
                "--stub DIR)\n", stub_dir);
        return false;
    }
    if (!make_layouts()) {
        fprintf(stderr, "faultmatrix: %s/mkimage could not make the test images\n", build);
        return false;
    }
    return calibrate();
}

static void remove_work(void)
{
    static const char *const names[] = { "espsim", "espdoctor", "mkimage" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", bin_dir, names[i]);
        unlink(path);
    }
    rmdir(bin_dir);
    free_layouts();
    if (rmdir(work) != 0 && keep)
        fprintf(stderr, "faultmatrix: kept %s\n", work);
}

/* ---- report -------------------------------------------------------------------------------- */

static void print_row(const char *name, const unsigned *counts)
{
    unsigned n = 0;
    for (int o = 0; o < OUTCOMES; o++)
        n += counts[o];
    if (!n)
        return;
    printf("  %-46s %5u %9u %9u %9u %11u %8u %8u\n", name, n, counts[VERIFIED],
           counts[CLEAR_FAILURE], counts[FALSE_SUCCESS], counts[UNVERIFIED], counts[REFUSED],
           counts[UNCLEAR]);
}

static void report(const struct tally *t, unsigned runs, double seconds)
{
    printf("\nFault matrix: %u runs in %.0f s\n", runs, seconds);
    printf("  %-46s %5s %9s %9s %9s %11s %8s %8s\n", "fault", "runs", "verified", "clear-fail",
           "false-ok", "unverified", "refused", "unclear");
    for (int c = 0; c < CLASSES; c++)
        print_row(classes[c].name, t->by_class[c]);
    printf("  %-46s\n", "by loader:");
    for (int c = 0; c < CONFIGS; c++)
        print_row(configs[c].name, t->by_config[c]);
    printf("  %-46s\n", "by layout (files, sizes, places):");
    for (int l = 0; l < LAYOUTS; l++)
        print_row(layouts[l].name, t->by_layout[l]);
    print_row("all", t->total);
    printf("Unverified runs (ESP8266 ROM without a stub: it cannot hash flash, and the JSON "
           "says \"verified\": null): %u, of which the flash held the files in %u.\n",
           t->total[UNVERIFIED], t->unverified_matching);
    printf("Refused as they must be (the ESP8266 ROM cannot erase one sector alone), not one "
           "byte changed: %u.\n", t->total[REFUSED]);
    printf("Runs that changed a byte outside the files' own sectors (every byte of the flash "
           "compared with its starting pattern): %u.\n", t->astray);
    printf("Transient faults only (line errors 1e-4 and 1e-3, corruption 4e-4, one stall, one "
           "unplug with replug; on a loader that verifies): %u of %u recovered without help "
           "(%.1f %%).\n",
           t->recovered_transient, t->transient_runs,
           t->transient_runs ? 100.0 * t->recovered_transient / t->transient_runs : 100.0);
    printf("Runs where the stub could not be uploaded and the ROM loader wrote instead (said "
           "so: JSON stub_fallback): %u; transient-only runs recovered that way on an ESP8266 "
           "(unverified, the flash checked here): %u.\n", t->fell_back,
           t->recovered_by_fallback);
    printf("{\"runs\":%u,\"verified\":%u,\"clear_failures\":%u,\"false_success\":%u,"
           "\"recovered_transient\":%u,\"transient_runs\":%u,\"astray\":%u,"
           "\"refused\":%u}\n",
           runs, t->total[VERIFIED], t->total[CLEAR_FAILURE], t->total[FALSE_SUCCESS],
           t->recovered_transient, t->transient_runs, t->astray, t->total[REFUSED]);
    fflush(stdout);
}

/* The scenarios a seed draws, without running them: the kinds of fault and loader (the
 * byte counts and addresses depend on the images and the calibration, so they are not
 * filled in). */
static int list_scenarios(unsigned runs, uint64_t seed)
{
    for (unsigned i = 0; i < runs; i++) {
        struct scenario s;
        make_scenario(&s, i, seed);
        printf("%4u %-13s %-22s %-46s", i, configs[s.config].name, classes[s.fclass].name,
               layouts[s.layout].name);
        for (size_t k = 0; k < s.argc; k++)
            printf(" %s", s.args[k]);
        putchar('\n');
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Runs mostly wait (timeouts, replugs, resets): four at a time use well under one
     * core of CPU. */
    unsigned runs = 1000, jobs = 4, only = 0;
    bool only_given = false;
    uint64_t seed = 1;
    const char *stub = NULL;
    const char *env = getenv("ESPDOCTOR_BUILD");
    if (env && *env)
        build = env;
    static const struct option opts[] = {
        { "runs", required_argument, NULL, 'n' }, { "jobs", required_argument, NULL, 'j' },
        { "seed", required_argument, NULL, 's' }, { "only", required_argument, NULL, 'o' },
        { "build", required_argument, NULL, 'b' }, { "stub", required_argument, NULL, 't' },
        { "keep", no_argument, NULL, 'k' },         { "verbose", no_argument, NULL, 'v' },
        { "trace", no_argument, NULL, 'T' },       { "list", no_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    bool list = false;
    while ((c = getopt_long(argc, argv, "n:j:s:o:b:t:kvTl", opts, NULL)) != -1) {
        switch (c) {
        case 'n': runs = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'j': jobs = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'o': only = (unsigned)strtoul(optarg, NULL, 10); only_given = true; break;
        case 'b': build = optarg; break;
        case 't': stub = optarg; break;
        case 'k': keep = true; break;
        case 'v': verbose = true; break;
        case 'T': trace = keep = true; break;
        case 'l': list = true; break;
        default:
            fprintf(stderr, "usage: faultmatrix [--runs N] [--jobs J] [--seed S] [--only I] "
                    "[--build DIR] [--stub DIR] [--keep] [--trace] [--verbose] [--list]\n");
            return 2;
        }
    }
    if (runs == 0 || jobs == 0 || jobs > MAX_JOBS) {
        fprintf(stderr, "faultmatrix: --runs wants at least 1, --jobs 1 to %d\n", MAX_JOBS);
        return 2;
    }
    matrix_seed = seed;
    if (list)
        return list_scenarios(runs, seed);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!setup(stub)) {
        remove_work();
        return 1;
    }
    struct tally *t = calloc(1, sizeof *t);
    if (!t)
        return 1;
    if (only_given) {
        verbose = true;
        runs = 1;
    }
    run_matrix(runs, only_given ? only : 0, jobs, seed, t);
    report(t, runs, since(&t0));
    bool ok = t->total[FALSE_SUCCESS] == 0 && t->total[UNCLEAR] == 0 && t->astray == 0 &&
              t->recovered_transient >= TARGET_RECOVERY * t->transient_runs;
    if (!ok)
        fprintf(stderr, "faultmatrix: target missed: false_success must be 0, no run may end "
                "unclear or change a byte outside the files' sectors, and at least 99 %% of "
                "transient-only runs must verify\n");
    free(t);
    remove_work();
    return ok ? 0 : 1;
}
