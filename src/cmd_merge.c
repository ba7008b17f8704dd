/* `espdoctor merge -o OUT ADDR FILE [ADDR FILE ...]`: one file holding every FILE at its
 * ADDR, offline. OUT starts at the lowest ADDR (flash it there) and the gaps hold 0xFF, as
 * erased flash does. Regions that overlap are refused; OUT is written beside itself and
 * renamed into place only when complete, so a failure leaves nothing half written and an
 * older OUT untouched.
 *
 * JSON (--json): {output, address, size, regions: [{file, address, size}], error}. */
#include "cli.h"
#include "commands.h"
#include "out.h"

#include "espdoctor/flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MERGE_MAX ED_FLASH_MAX_REGIONS
#define MERGE_FILL 0xFF   /* what erased NOR flash reads as */

struct merge_part {
    const char *path;
    uint32_t addr;
    uint64_t size;
};

static int by_address(const void *a, const void *b)
{
    const struct merge_part *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int parse_parts(struct ed_cli *cli, int argc, char **argv, struct merge_part *parts,
                       size_t *count)
{
    if (argc == 0 || argc % 2) {
        ed_cli_error(cli, "'merge' takes ADDR FILE pairs: %s merge -o OUT 0x1000 "
                          "bootloader.bin 0x8000 partitions.bin 0x10000 app.bin", cli->prog);
        return ED_EXIT_USAGE;
    }
    if ((size_t)argc / 2 > MERGE_MAX) {
        ed_cli_error(cli, "too many files: at most %d in one merge", MERGE_MAX);
        return ED_EXIT_USAGE;
    }
    for (int i = 0; i < argc; i += 2) {
        struct merge_part *p = &parts[i / 2];
        if (!ed_cli_parse_size(argv[i], &p->addr)) {
            ed_cli_error(cli, "'%s' is not a flash address (e.g. 0x1000); 'merge' takes "
                              "ADDR FILE pairs", argv[i]);
            return ED_EXIT_USAGE;
        }
        p->path = argv[i + 1];
        struct stat st;
        if (stat(p->path, &st) != 0) {
            ed_cli_error(cli, "%s: %s. Nothing was written.", p->path, strerror(errno));
            return ED_EXIT_INPUT;
        }
        if (!S_ISREG(st.st_mode)) {
            ed_cli_error(cli, "%s is not a regular file. Nothing was written.", p->path);
            return ED_EXIT_INPUT;
        }
        p->size = (uint64_t)st.st_size;
        if (p->size == 0) {
            ed_cli_error(cli, "%s is empty. Nothing was written.", p->path);
            return ED_EXIT_INPUT;
        }
        if (p->addr + p->size > (uint64_t)UINT32_MAX + 1) {
            ed_cli_error(cli, "%s at 0x%x would end past 4 GB. Nothing was written.", p->path,
                         p->addr);
            return ED_EXIT_USAGE;
        }
    }
    *count = (size_t)argc / 2;
    qsort(parts, *count, sizeof parts[0], by_address);
    for (size_t i = 1; i < *count; i++) {
        const struct merge_part *a = &parts[i - 1], *b = &parts[i];
        if (a->addr + a->size > b->addr) {
            ed_cli_error(cli, "%s (0x%x-0x%llx) and %s (from 0x%x) overlap: one would "
                              "overwrite the other. Nothing was written.", a->path, a->addr,
                         (unsigned long long)(a->addr + a->size - 1), b->path, b->addr);
            return ED_EXIT_REFUSED;
        }
    }
    return ED_EXIT_OK;
}

static bool write_fill(FILE *out, uint64_t n)
{
    for (; n > 0; n--)
        if (fputc(MERGE_FILL, out) == EOF)
            return false;
    return true;
}

/* Copy path into out: exactly size bytes, or the file changed under us. */
static int copy_part(struct ed_cli *cli, FILE *out, const struct merge_part *p)
{
    FILE *in = fopen(p->path, "rb");
    if (!in) {
        ed_cli_error(cli, "%s: %s. Nothing was written.", p->path, strerror(errno));
        return ED_EXIT_INPUT;
    }
    char buf[65536];
    uint64_t copied = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n) {
            fclose(in);
            return ED_EXIT_FAIL;
        }
        copied += n;
    }
    bool failed = ferror(in);
    fclose(in);
    if (failed || copied != p->size) {
        ed_cli_error(cli, "%s changed or could not be read while it was merged. Nothing was "
                          "written.", p->path);
        return ED_EXIT_INPUT;
    }
    return ED_EXIT_OK;
}

static bool same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static int write_merged(struct ed_cli *cli, const struct merge_part *parts, size_t count)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.partial-XXXXXX", cli->output);
    int fd = mkstemp(tmp);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        ed_cli_error(cli, "cannot create %s: %s. Nothing was written.", cli->output,
                     strerror(errno));
        if (fd >= 0)
            close(fd);
        return ED_EXIT_INPUT;
    }
    int rc = ED_EXIT_OK;
    uint64_t at = parts[0].addr;
    for (size_t i = 0; i < count && rc == ED_EXIT_OK; i++) {
        if (!write_fill(out, parts[i].addr - at))
            rc = ED_EXIT_FAIL;
        else
            rc = copy_part(cli, out, &parts[i]);
        at = parts[i].addr + parts[i].size;
    }
    if (fclose(out) != 0 && rc == ED_EXIT_OK)
        rc = ED_EXIT_FAIL;
    if (rc == ED_EXIT_FAIL)
        ed_cli_error(cli, "writing %s failed: %s. Nothing was written.", cli->output,
                     strerror(errno));
    if (rc == ED_EXIT_OK && rename(tmp, cli->output) != 0) {
        ed_cli_error(cli, "cannot create %s: %s. Nothing was written.", cli->output,
                     strerror(errno));
        rc = ED_EXIT_INPUT;
    }
    if (rc != ED_EXIT_OK)
        unlink(tmp);
    return rc;
}

int cmd_merge(struct ed_cli *cli, int argc, char **argv)
{
    if (!cli->output) {
        ed_cli_error(cli, "'merge' needs the file to write: %s merge -o OUT ADDR FILE ...",
                     cli->prog);
        return ED_EXIT_USAGE;
    }
    struct merge_part parts[MERGE_MAX];
    size_t count = 0;
    int rc = parse_parts(cli, argc, argv, parts, &count);
    for (size_t i = 0; rc == ED_EXIT_OK && i < count; i++)
        if (same_file(parts[i].path, cli->output)) {
            ed_cli_error(cli, "-o %s is also one of the files to merge. Nothing was written.",
                         cli->output);
            rc = ED_EXIT_USAGE;
        }
    if (rc == ED_EXIT_OK)
        rc = write_merged(cli, parts, count);
    if (rc != ED_EXIT_OK)
        return rc;
    uint64_t size = parts[count - 1].addr + parts[count - 1].size - parts[0].addr;
    if (cli->json) {
        json_object *o = json_object_new_object(), *regions = json_object_new_array();
        json_object_object_add(o, "output", json_object_new_string(cli->output));
        json_object_object_add(o, "address", json_object_new_int64(parts[0].addr));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
        for (size_t i = 0; i < count; i++) {
            json_object *g = json_object_new_object();
            json_object_object_add(g, "file", json_object_new_string(parts[i].path));
            json_object_object_add(g, "address", json_object_new_int64(parts[i].addr));
            json_object_object_add(g, "size", json_object_new_int64((int64_t)parts[i].size));
            json_object_array_add(regions, g);
        }
        json_object_object_add(o, "regions", regions);
        json_object_object_add(o, "error", NULL);
        ed_out_json(cli->out, o);
    } else if (!cli->quiet) {
        fprintf(cli->out, "Wrote %s: %llu bytes from 0x%x, %zu file%s, gaps filled with "
                          "0xFF. Flash it at 0x%x: %s flash 0x%x %s\n", cli->output,
                (unsigned long long)size, parts[0].addr, count, count == 1 ? "" : "s",
                parts[0].addr, cli->prog, parts[0].addr, cli->output);
    }
    return ED_EXIT_OK;
}
