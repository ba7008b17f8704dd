/* Fuzz the udev record readers (src/ports.c, and the port selection on top of them) with
 * the sysfs attributes and udev properties a kernel and udev may show for a USB serial
 * bridge.
 *
 * libudev reads /sys and the udev database, so the input is planted in a umockdev testbed
 * (the same mock espsim builds its boards in): the harness re-runs itself under umockdev's
 * preload library once, then for each input builds a testbed with up to two USB devices,
 * each with an interface, a usb-serial port and a tty, and runs the enumeration, the
 * lookups, the -p value matching, the pick-a-port prompt and the JSON listing on them.
 *
 * The input is lines "N.KEY=VALUE", N the device (1 or 2), KEY one of: idVendor,
 * idProduct, serial, manufacturer, product, bConfigurationValue, power/control (sysfs
 * attributes of the USB device), modalias (of the interface), driver (bound to it),
 * DEVLINKS and ID_MM_DEVICE_IGNORE (udev properties of the tty and the device), tty (the
 * tty's name; "none": no tty). A line "spec=VALUE" is a -p value to match and the answer
 * typed at the prompt. Names that become paths (driver, tty) are limited to letters,
 * digits and '_' so that nothing is written outside the testbed; every other value is
 * passed as it is.
 *
 * One testbed serves the whole run, emptied after each input: umockdev (0.17) leaks a
 * socket and an eventfd for every testbed it frees, so a testbed per input ran out of
 * descriptors after about 50 s. After emptying it, the enumeration must find nothing, so
 * no input sees what the one before planted.
 *
 * Run with -detect_leaks=0 (fuzz_ports.options): GLib keeps caches, so libFuzzer would
 * scan for leaks after every input and spend most of its time there. Leaks are still
 * reported when the run ends. */
#include <ctype.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <umockdev.h>

#include "espdoctor/error.h"
#include "espdoctor/netport.h"
#include "espdoctor/ports.h"
#include "portsel.h"

#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PRELOAD_LIB "libumockdev-preload.so.0"
#define REEXEC_MARK "ESPDOCTOR_FUZZ_PORTS_PRELOADED"
#define MAX_DEVICES 2
#define VALUE_MAX 256

enum key {
    K_ID_VENDOR, K_ID_PRODUCT, K_SERIAL, K_MANUFACTURER, K_PRODUCT, K_CONFIG, K_POWER,
    K_MODALIAS, K_DRIVER, K_DEVLINKS, K_MM_IGNORE, K_TTY, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "idVendor", "idProduct", "serial", "manufacturer", "product", "bConfigurationValue",
    "power/control", "modalias", "driver", "DEVLINKS", "ID_MM_DEVICE_IGNORE", "tty",
};

struct device_input {
    bool present;
    bool given[K_COUNT];
    char value[K_COUNT][VALUE_MAX];
};

struct input {
    struct device_input dev[MAX_DEVICES];
    char spec[VALUE_MAX];
    bool has_spec;
};

/* Run again with umockdev's preload library, which redirects /sys and /dev. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    if (dlopen(PRELOAD_LIB, RTLD_LAZY | RTLD_NOLOAD) == NULL) {
        if (getenv(REEXEC_MARK)) {
            fprintf(stderr, "fuzz_ports: %s did not load\n", PRELOAD_LIB);
            abort();
        }
        setenv(REEXEC_MARK, "1", 1);
        const char *old = getenv("LD_PRELOAD");
        char preload[1024];
        snprintf(preload, sizeof preload, "%s%s%s", PRELOAD_LIB, old ? ":" : "", old ? old : "");
        setenv("LD_PRELOAD", preload, 1);
        execv("/proc/self/exe", *argv);
        perror("fuzz_ports: cannot run itself under umockdev");
        abort();
    }
    /* Never a testbed under /dev (TMPDIR=/dev/shm was once used for speed): the preload
     * library takes every path below /dev for an emulated device node, so each file the
     * testbed wrote or read went through its device emulation, which has room for only
     * 50 open descriptors and leaked a socket per open once the emulation's socket was
     * gone. */
    const char *tmp = getenv("TMPDIR");
    if (tmp && strncmp(tmp, "/dev/", 5) == 0)
        unsetenv("TMPDIR");
    return 0;
}

static void set_value(char *out, const uint8_t *v, size_t n)
{
    if (n >= VALUE_MAX)
        n = VALUE_MAX - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static void parse_line(struct input *in, const uint8_t *line, size_t len)
{
    const uint8_t *eq = memchr(line, '=', len);
    if (!eq)
        return;
    size_t name_len = (size_t)(eq - line);
    const uint8_t *v = eq + 1;
    size_t vlen = len - name_len - 1;
    if (name_len == 4 && memcmp(line, "spec", 4) == 0) {
        set_value(in->spec, v, vlen);
        in->has_spec = true;
        return;
    }
    if (name_len < 3 || line[1] != '.' || line[0] < '1' || line[0] > '0' + MAX_DEVICES)
        return;
    struct device_input *d = &in->dev[line[0] - '1'];
    for (int k = 0; k < K_COUNT; k++)
        if (strlen(key_names[k]) == name_len - 2 &&
            memcmp(line + 2, key_names[k], name_len - 2) == 0) {
            d->present = true;
            d->given[k] = true;
            set_value(d->value[k], v, vlen);
        }
}

static void parse_input(struct input *in, const uint8_t *data, size_t size)
{
    memset(in, 0, sizeof *in);
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *line_end = nl ? nl : end;
        parse_line(in, p, (size_t)(line_end - p));
        p = nl ? nl + 1 : end;
    }
}

/* A name that becomes a path component: letters, digits, '_' only, else the fallback. */
static const char *safe_name(const char *name, const char *fallback)
{
    if (!name[0] || strlen(name) > 32)
        return fallback;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            return fallback;
    return name;
}

/* NULL-terminated name, value pairs of the keys given, plus the fixed ones. */
static void add_pair(const char **list, size_t *n, const char *name, const char *value)
{
    list[(*n)++] = name;
    list[(*n)++] = value;
    list[*n] = NULL;
}

static void add_given(const char **list, size_t *n, const struct device_input *d, enum key k)
{
    if (d->given[k])
        add_pair(list, n, key_names[k], d->value[k]);
}

/* The tty's name, never the same for both devices (udev names are unique). */
static const char *tty_name(const struct input *in, unsigned index)
{
    const char *name = safe_name(in->dev[index].value[K_TTY], index == 0 ? "ttyUSB0" : "ttyUSB1");
    if (index == 1 && in->dev[0].present && strcmp(name, tty_name(in, 0)) == 0)
        name = strcmp(name, "ttyUSB1") == 0 ? "ttyUSB2" : "ttyUSB1";
    return name;
}

/* The sysfs paths of the devices one input planted, parents first. */
#define PLANTED_MAX (4 * MAX_DEVICES)
struct planted {
    gchar *path[PLANTED_MAX];
    size_t count;
};

static void remember(struct planted *planted, gchar *path)
{
    require(path != NULL && planted->count < PLANTED_MAX);
    planted->path[planted->count++] = path;
}

static void plant_device(UMockdevTestbed *testbed, const struct input *in, unsigned index,
                         struct planted *planted)
{
    const struct device_input *d = &in->dev[index];
    char name[16], devnum[8], devname[40];
    snprintf(name, sizeof name, "1-%u", index + 1);
    snprintf(devnum, sizeof devnum, "%03u", index + 2);
    snprintf(devname, sizeof devname, "/dev/bus/usb/001/%s", devnum);

    const char *attrs[2 * K_COUNT + 8], *props[2 * K_COUNT + 16];
    size_t na = 0, np = 0;
    attrs[0] = props[0] = NULL;
    for (enum key k = K_ID_VENDOR; k <= K_POWER; k++)
        add_given(attrs, &na, d, k);
    add_pair(attrs, &na, "busnum", "1");
    add_pair(attrs, &na, "devnum", devnum);
    add_pair(props, &np, "DEVTYPE", "usb_device");
    add_pair(props, &np, "DEVNAME", devname);
    add_pair(props, &np, "DRIVER", "usb");
    add_given(props, &np, d, K_MM_IGNORE);
    gchar *usb = umockdev_testbed_add_devicev(testbed, "usb", name, NULL, (gchar **)attrs,
                                              (gchar **)props);
    remember(planted, usb);

    char iface_name[24];
    snprintf(iface_name, sizeof iface_name, "%s:1.0", name);
    const char *driver = safe_name(d->value[K_DRIVER], "");
    na = np = 0;
    attrs[0] = props[0] = NULL;
    add_given(attrs, &na, d, K_MODALIAS);
    add_pair(props, &np, "DEVTYPE", "usb_interface");
    if (driver[0])
        add_pair(props, &np, "DRIVER", driver);
    gchar *iface = umockdev_testbed_add_devicev(testbed, "usb", iface_name, usb,
                                                (gchar **)attrs, (gchar **)props);
    remember(planted, iface);
    if (driver[0]) {
        char link[96];
        snprintf(link, sizeof link, "../../../../bus/usb/drivers/%s", driver);
        umockdev_testbed_set_attribute_link(testbed, iface, "driver", link);
    }

    const char *tty = tty_name(in, index);
    if (strcmp(d->value[K_TTY], "none") != 0) {
        const char *none[] = { NULL };
        gchar *port = umockdev_testbed_add_devicev(testbed, "usb-serial", tty, iface,
                                                   (gchar **)none, (gchar **)none);
        remember(planted, port);
        char devnode[48];
        snprintf(devnode, sizeof devnode, "/dev/%s", tty);
        na = np = 0;
        attrs[0] = props[0] = NULL;
        add_pair(attrs, &na, "dev", "188:0");
        add_pair(props, &np, "DEVNAME", devnode);
        add_given(props, &np, d, K_DEVLINKS);
        add_given(props, &np, d, K_MM_IGNORE);
        gchar *node = umockdev_testbed_add_devicev(testbed, "tty", tty, port, (gchar **)attrs,
                                                   (gchar **)props);
        remember(planted, node);
    }
}

static void check_port(const struct ed_port_list *list, const struct ed_port *p)
{
    require(memchr(p->devnode, '\0', sizeof p->devnode) != NULL);
    require(memchr(p->by_id, '\0', sizeof p->by_id) != NULL);
    require(memchr(p->modalias, '\0', sizeof p->modalias) != NULL);
    require(memchr(p->power_control, '\0', sizeof p->power_control) != NULL);
    require(strchr(p->power_control, '\n') == NULL && strchr(p->modalias, '\n') == NULL);
    (void)ed_port_state(p);
    json_object *o = ed_port_json(p);
    require(o != NULL);
    require(json_object_to_json_string(o) != NULL);
    json_object_put(o);
    if (p->devnode[0])
        require(ed_ports_find(list, p->devnode) != NULL);
    if (p->by_id[0])
        ed_ports_find(list, p->by_id);
}

/* The value as -p (a path, URL, VID:PID or serial=), and as the answer typed when asked
 * to pick one of the ports. */
static void match_spec(const struct ed_port_list *list, const char *text)
{
    struct ed_port_spec spec;
    ed_port_spec_parse(text, &spec);
    size_t idx[4];
    size_t n = ed_ports_match(list, &spec, true, idx, 4);
    for (size_t i = 0; i < n && i < 4; i++)
        require(idx[i] < list->count);
    size_t all[MAX_DEVICES];
    size_t count = list->count < MAX_DEVICES ? list->count : MAX_DEVICES;
    for (size_t i = 0; i < count; i++)
        all[i] = i;
    FILE *answer = fmemopen((void *)text, strlen(text), "r");
    FILE *prompt = fopen("/dev/null", "w");
    require(answer && prompt);
    if (count > 0) {
        int picked = ed_port_pick(answer, prompt, list->items, all, count);
        require(picked >= -1 && picked < (int)count);
    }
    fclose(answer);
    fclose(prompt);
    struct ed_port_url url;
    if (ed_port_url_parse(text, &url) != ED_OK)
        require(url.problem != NULL);
    ed_ports_find(list, text);
}

/* The run's testbed, made on first use (after the re-exec under the preload library) and
 * freed when libFuzzer exits, which removes its directory. */
static UMockdevTestbed *testbed_of_run;

static void free_testbed(void)
{
    g_clear_object(&testbed_of_run);
}

static UMockdevTestbed *shared_testbed(void)
{
    if (!testbed_of_run) {
        testbed_of_run = umockdev_testbed_new();
        require(testbed_of_run != NULL);
        atexit(free_testbed);
    }
    return testbed_of_run;
}

/* Remove what this input planted, children first; the next one starts from an empty
 * /sys. (Not umockdev_testbed_clear: it also removes the testbed's ioctl socket, and the
 * preload library then leaks a descriptor on every open that fails to reach it.) */
static void empty_testbed(UMockdevTestbed *testbed, struct planted *planted)
{
    while (planted->count > 0) {
        gchar *path = planted->path[--planted->count];
        umockdev_testbed_remove_device(testbed, path);
        g_free(path);
    }
    struct ed_port_list list;
    if (ed_ports_enumerate(&list) == ED_OK) {
        require(list.count == 0);
        ed_ports_free(&list);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input *in = malloc(sizeof *in);
    require(in != NULL);
    parse_input(in, data, size);
    UMockdevTestbed *testbed = shared_testbed();
    struct planted planted = { .count = 0 };
    for (unsigned i = 0; i < MAX_DEVICES; i++)
        if (in->dev[i].present)
            plant_device(testbed, in, i, &planted);

    struct ed_port_list list;
    if (ed_ports_enumerate(&list) == ED_OK) {
        for (size_t i = 0; i < list.count; i++)
            check_port(&list, &list.items[i]);
        require(ed_ports_count_boards(&list) <= list.count);
        if (in->has_spec)
            match_spec(&list, in->spec);
        ed_ports_free(&list);
    }
    empty_testbed(testbed, &planted);
    free(in);
    return 0;
}
