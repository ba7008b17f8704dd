/* `espdoctor read ADDR SIZE FILE`: copy a range of flash into FILE. A stub streams it with
 * READ_FLASH and an MD5 over the lot; an ESP32-family ROM answers READ_FLASH_SLOW, 64 bytes
 * at a time; the ESP8266 ROM cannot read flash at all (a stub can). FILE is removed again
 * when the read fails, so a file that exists is complete.
 *
 * JSON (--json): {result ("ok", "failed", "refused"), the session's keys (port, chip, ...),
 * read: {address, size, file, bytes, seconds, md5_checked}, error: null or {message},
 * seconds}, after progress events as it reads (progress_events.h). */
#include "config_cli.h"
#include "connect.h"
#include "cli.h"
#include "commands.h"
#include "flash_session.h"
#include "out.h"
#include "progress.h"
#include "progress_events.h"

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


struct read_run {
    struct ed_flash_session s;
    uint32_t addr, size, done;
    const char *path;
    int fd;
    struct timespec t0;
    double seconds;
    struct ed_progress bar;
    struct ed_progress_events events;   /* --json */
};

static double since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int report(struct read_run *r, int rc, const char *result, const char *error)
{
    struct ed_flash_session *s = &r->s;
    if (s->cli->json && !s->reported_json) {
        json_object *o = s->ld && s->ld->chip ? ed_session_json(s) : json_object_new_object();
        json_object *rd = json_object_new_object();
        json_object_object_add(o, "result", json_object_new_string(result));
        json_object_object_add(rd, "address", json_object_new_int64(r->addr));
        json_object_object_add(rd, "size", json_object_new_int64(r->size));
        json_object_object_add(rd, "file", json_object_new_string(r->path));
        json_object_object_add(rd, "bytes", json_object_new_int64(r->done));
        json_object_object_add(rd, "seconds", ed_json_seconds(r->seconds));
        json_object_object_add(rd, "md5_checked", json_object_new_boolean(s->ld && s->ld->stub));
        json_object_object_add(o, "read", rd);
        json_object *err = NULL;
        if (s->port_failure.id[0])   /* reached, but refused before reading: why */
            err = ed_session_port_error_json(s);
        else if (error) {
            err = json_object_new_object();
            json_object_object_add(err, "message", json_object_new_string(error));
        }
        json_object_object_add(o, "error", err);
        json_object_object_add(o, "seconds", ed_json_seconds(since(&r->t0)));
        ed_out_json(s->cli->out, o);
    }
    return rc;
}

static void on_progress(void *ctx, const struct ed_flash_progress *p)
{
    struct read_run *r = ctx;
    ed_progress_update(&r->bar, p->region_done);
    ed_progress_event(&r->events, "read", 0, p->region_done, p->region_size);
}

static int read_from_board(struct read_run *r)
{
    struct ed_flash_session *s = &r->s;
    struct ed_cli *cli = s->cli;
    char why[400], size[32];
    if (s->flash_size && (uint64_t)r->addr + r->size > s->flash_size) {
        ed_session_format_size(s->flash_size, size, sizeof size);
        snprintf(why, sizeof why, "0x%x + 0x%x ends past the end of the board's %s flash",
                 r->addr, r->size, size);
        ed_cli_error(cli, "%s", why);
        return report(r, ED_EXIT_REFUSED, "refused", why);
    }
    int rc = ed_session_stub(s);
    if (rc != ED_EXIT_OK)
        return report(r, rc, "failed", "the flasher stub could not be used");
    if (!ed_flash_can_read(s->ld)) {
        snprintf(why, sizeof why, "the %s ROM has no command to read flash; a flasher stub "
                 "has one: install espdoctor with its stubs (the build fetches them with "
                 "npm), or give --stub FILE (esptool-js's stub_flasher/%s.json)",
                 s->ld->chip->name, s->ld->chip->key);
        ed_cli_error(cli, "%s", why);
        return report(r, ED_EXIT_FAIL, "failed", why);
    }
    if ((rc = ed_session_ready(s)) != ED_EXIT_OK)
        return report(r, rc, "failed", "the board could not be prepared for reading");
    r->fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r->fd < 0) {
        snprintf(why, sizeof why, "cannot create %s: %s", r->path, strerror(errno));
        ed_cli_error(cli, "%s", why);
        return report(r, ED_EXIT_INPUT, "failed", why);
    }
    /* Only a file this command made may be removed on failure: never /dev/null or a FIFO. */
    struct stat st;
    bool regular = fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode);
    ed_progress_start(&r->bar, cli->err, cli->progress, "reading", r->size);
    ed_progress_events_init(&r->events, cli->events, "read");
    struct ed_flash_opts o = { .progress = on_progress, .progress_ctx = r,
                               .cancel = ed_interrupt_flag() };
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int lrc = ed_flash_read(s->ld, r->addr, r->size, r->fd, &o, &r->done);
    int read_errno = errno;
    r->seconds = since(&t);
    ed_progress_end(&r->bar);
    if (close(r->fd) != 0 && lrc == ED_OK) {
        lrc = ED_E_IO;
        read_errno = errno;
    }
    r->fd = -1;
    if (lrc != ED_OK) {
        char detail[320];
        if (lrc == ED_E_VERIFY)
            snprintf(detail, sizeof detail, "the data's MD5 differs from the one the stub "
                     "computed (a transfer error)");
        else if (lrc == ED_E_IO && (read_errno == ENOSPC || read_errno == EDQUOT ||
                                    read_errno == EFBIG || read_errno == EROFS))
            /* errors only a file gives: the board was fine, the output was not */
            snprintf(detail, sizeof detail, "writing %s failed: %s", r->path,
                     strerror(read_errno));
        else
            ed_session_describe_error(s->ld, lrc, detail, sizeof detail);
        if (regular)
            unlink(r->path);
        if (ed_interrupted()) {
            /* Reading changes nothing on the board: only the output is incomplete. */
            snprintf(why, sizeof why, "interrupted (%s) while reading: %u of %u bytes had "
                     "come%s%s%s; nothing on the board changed. Run the same command again "
                     "to read it all", ed_interrupt_name(ed_interrupted()), r->done, r->size,
                     regular ? ", and the incomplete " : "", regular ? r->path : "",
                     regular ? " was removed" : "");
            ed_cli_error(cli, "%s.", why);
            return report(r, ed_interrupt_exit_status(ed_interrupted()), "interrupted", why);
        }
        snprintf(why, sizeof why, "reading stopped after %u of %u bytes: %s%s%s%s", r->done,
                 r->size, detail, regular ? "; " : "", regular ? r->path : "",
                 regular ? " was removed" : "");
        ed_cli_error(cli, "%s", why);
        return report(r, ED_EXIT_FAIL, "failed", why);
    }
    ed_session_format_size(r->size, size, sizeof size);
    ed_session_say(s, "Read %s from 0x%x into %s in %.1f s%s.", size, r->addr, r->path,
                   r->seconds, s->ld->stub ? ", MD5-checked by the stub" : "");
    ed_connect_leave(s->cli, s->ld);
    return report(r, ED_EXIT_OK, "ok", NULL);
}

int cmd_read(struct ed_cli *cli, int argc, char **argv)
{
    if (argc != 3) {
        ed_cli_error(cli, "'read' takes ADDR SIZE FILE, e.g. %s read 0x0 0x400000 flash.bin",
                     cli->prog);
        return ED_EXIT_USAGE;
    }
    struct read_run *r = calloc(1, sizeof *r);
    if (!r) {
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->fd = -1;
    r->path = argv[2];
    int rc;
    if (!ed_cli_parse_size(argv[0], &r->addr) || !ed_cli_parse_size(argv[1], &r->size) ||
        r->size == 0) {
        ed_cli_error(cli, "'read %s %s': the address and the size must be numbers (0x1000, "
                     "64K), the size above 0", argv[0], argv[1]);
        rc = ED_EXIT_USAGE;
    } else {
        rc = ed_session_open(cli, &r->s);
        rc = rc == ED_EXIT_OK ? read_from_board(r)
                              : report(r, rc, "failed", "could not reach the board");
    }
    if (rc == ED_EXIT_OK)
        ed_cli_config_remember(cli, &r->s.pc, false, 0, 0);
    bool diagnose = rc != ED_EXIT_OK && ed_connect_failed(r->s.ld);
    ed_session_close(&r->s, false);
    if (diagnose)
        ed_cli_diagnose(cli, r->s.pc.path);
    free(r);
    return rc;
}
