/* Parsing espsim's fault options (see fault_spec.h). */
#include "board/fault_spec.h"
#include "optfail.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STALL_MS 600000u
#define MAX_REPLUG_MS 600000u

void sim_fault_usage(FILE *out)
{
    fputs(
"Faults (for the fault matrix; combinable; BYTE counts bytes that reached the chip,\n"
"or, for --unplug-at, bytes the host sent):\n"
"  --seed N             seed for the random faults (default 0): same seed, same faults\n"
"  --line-errors RATE   each byte, both ways, is lost or changed with probability RATE\n"
"                       (half each), e.g. 1e-4\n"
"  --drop-rate RATE     each byte, both ways, is lost with probability RATE\n"
"  --corrupt-rate RATE  each byte, both ways, arrives changed with probability RATE\n"
"  --stall MS[@BYTE]    the link freezes for MS ms once, at BYTE (default: the first)\n"
"  --unplug-at BYTE[:MS]\n"
"                       the USB cable is pulled after the host sent BYTE bytes: the port\n"
"                       node vanishes, open descriptors fail with EIO, the board loses\n"
"                       power; it is plugged back in as the same node MS ms later\n"
"                       (default 1000; 0: never)\n"
"  --brownout-at BYTE   the supply dips at BYTE: the chip resets (flash boot, loader\n"
"                       state lost)\n"
"  --bad-sector ADDR    the 4 KiB flash sector holding ADDR does not program: writes\n"
"                       there do not stick and nothing says so (up to 4)\n"
"  --wrong-speed PCT    the chip's UART runs PCT percent off the rate it is set to\n"
"                       (2: slightly fast and still readable; 10 or more: garbage)\n",
        out);
}


/* A whole decimal (or 0x hex) number up to max; *end (if given) gets where it stopped. */
static bool parse_count(const char *text, uint64_t max, uint64_t *out, const char **end)
{
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    char *stop;
    int base = text[0] == '0' && (text[1] == 'x' || text[1] == 'X') ? 16 : 10;
    unsigned long long v = strtoull(text, &stop, base);
    if (errno || v > max || (!end && *stop))
        return false;
    if (end)
        *end = stop;
    *out = v;
    return true;
}

static bool parse_rate(const char *text, double *out)
{
    if (!text[0] || isspace((unsigned char)text[0]))
        return false;
    errno = 0;
    char *stop;
    double v = strtod(text, &stop);
    if (errno || *stop || !(v >= 0 && v <= 1))
        return false;
    *out = v;
    return true;
}

static bool rate_option(const char *name, const char *arg, double *out, char *err,
                        size_t errlen)
{
    if (!parse_rate(arg, out))
        return sim_optfail(err, errlen, "%s wants a probability per byte from 0 to 1, like 1e-4 or "
                    "0.001, not \"%s\".", name, arg);
    return true;
}

/* MS[@BYTE] */
static bool parse_stall(const char *arg, struct sim_faults *f, char *err, size_t errlen)
{
    uint64_t ms, at = 1;
    const char *rest;
    if (!parse_count(arg, MAX_STALL_MS, &ms, &rest) || ms == 0 ||
        (*rest && (*rest != '@' || !parse_count(rest + 1, UINT64_MAX, &at, NULL))))
        return sim_optfail(err, errlen, "--stall wants MS[@BYTE]: a stall of 1 to %u ms, optionally "
                    "at the BYTE-th byte the chip receives, like 2500 or 2500@40000; not "
                    "\"%s\".", MAX_STALL_MS, arg);
    f->stall_ms = (unsigned)ms;
    f->stall_at = at ? at : 1;
    return true;
}

/* BYTE[:REPLUG_MS] */
static bool parse_unplug(const char *arg, struct sim_faults *f, char *err, size_t errlen)
{
    uint64_t at, ms = SIM_DEFAULT_REPLUG_MS;
    const char *rest;
    if (!parse_count(arg, UINT64_MAX, &at, &rest) ||
        (*rest && (*rest != ':' || !parse_count(rest + 1, MAX_REPLUG_MS, &ms, NULL))))
        return sim_optfail(err, errlen, "--unplug-at wants BYTE[:MS]: unplug after the host sent "
                    "BYTE bytes, plug back in MS ms later (0 to %u; 0: never), like 30000 or "
                    "30000:500; not \"%s\".", MAX_REPLUG_MS, arg);
    f->unplug = true;
    f->unplug_at = at;
    f->replug_ms = (unsigned)ms;
    return true;
}

static bool parse_bad_sector(const char *arg, struct sim_faults *f, char *err, size_t errlen)
{
    uint64_t addr;
    if (!parse_count(arg, UINT32_MAX, &addr, NULL))
        return sim_optfail(err, errlen, "--bad-sector wants a flash address, like 0x10000 or 65536, "
                    "not \"%s\".", arg);
    if (f->bad_sector_count == SIM_MAX_BAD_SECTORS)
        return sim_optfail(err, errlen, "--bad-sector \"%s\": at most %d bad sectors are taken.", arg,
                    SIM_MAX_BAD_SECTORS);
    f->bad_sectors[f->bad_sector_count++] = (uint32_t)addr & ~0xFFFu;
    return true;
}

/* "2", "2%", "-3.5" */
static bool parse_speed(const char *arg, struct sim_faults *f, char *err, size_t errlen)
{
    errno = 0;
    char *stop;
    double pct = arg[0] && !isspace((unsigned char)arg[0]) ? strtod(arg, &stop) : 0;
    bool ok = arg[0] && !errno && stop != arg && (*stop == '\0' || strcmp(stop, "%") == 0) &&
              pct != 0 && pct > -50 && pct <= 100;
    if (!ok)
        return sim_optfail(err, errlen, "--wrong-speed wants how far off the chip's UART runs, in "
                    "percent, more than -50 and at most 100 and not 0, like 2 or -3.5; not "
                    "\"%s\".", arg);
    f->speed_error = pct / 100.0;
    return true;
}

bool sim_fault_parse(int id, const char *arg, struct sim_faults *f, char *err, size_t errlen)
{
    uint64_t v;
    double rate;
    switch (id) {
    case SIM_OPT_SEED:
        if (!parse_count(arg, UINT64_MAX, &v, NULL))
            return sim_optfail(err, errlen, "--seed wants a whole number, like 42, not \"%s\".", arg);
        f->seed = v;
        return true;
    case SIM_OPT_LINE_ERRORS:
        if (!rate_option("--line-errors", arg, &rate, err, errlen))
            return false;
        f->drop_rate = f->corrupt_rate = rate / 2;
        return true;
    case SIM_OPT_DROP_RATE:
        return rate_option("--drop-rate", arg, &f->drop_rate, err, errlen);
    case SIM_OPT_CORRUPT_RATE:
        return rate_option("--corrupt-rate", arg, &f->corrupt_rate, err, errlen);
    case SIM_OPT_STALL:
        return parse_stall(arg, f, err, errlen);
    case SIM_OPT_UNPLUG_AT:
        return parse_unplug(arg, f, err, errlen);
    case SIM_OPT_BROWNOUT_AT:
        if (!parse_count(arg, UINT64_MAX, &v, NULL))
            return sim_optfail(err, errlen, "--brownout-at wants the byte count at which the chip "
                        "resets, like 20000, not \"%s\".", arg);
        f->brownout = true;
        f->brownout_at = v;
        return true;
    case SIM_OPT_BAD_SECTOR:
        return parse_bad_sector(arg, f, err, errlen);
    case SIM_OPT_WRONG_SPEED:
        return parse_speed(arg, f, err, errlen);
    default:
        return sim_optfail(err, errlen, "internal error: fault option %d has no handler.", id);
    }
}
