/* The bridges espsim models (tests/sim/usbrec.c) as espdoctor sees them, and each one's
 * highest rate: asked for more, the bridge runs at its maximum while the chip runs at the
 * rate asked, and the link is garbage. */
#include "e2e_sim.h"

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("bridges");
}

struct bridge_case {
    const char *name, *usb_id, *serial, *driver, *port;
};

static const struct bridge_case cases[] = {
    { "cp2102n", "10c4:ea60", "b8ae1d70e7fced118a889ffbf8a91825", "cp210x", "/dev/ttyUSB0" },
    { "ch9102", "1a86:55d4", "58FA096927", "cdc_acm", "/dev/ttyACM0" },
    { "pl2303gx", "067b:23a3", "EHDSb2A5414", "pl2303", "/dev/ttyUSB0" },
    { "ft232h", "0403:6014", NULL, "ftdi_sio", "/dev/ttyUSB0" },
};

Test(bridges, each_new_bridge_shows_its_records, .timeout = 180)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bridge_case *c = &cases[i];
        sim_run(&r, (const char *[]){ "--bridge", c->name, NULL },
                (const char *[]){ "list", "--json", NULL });
        cr_assert_eq(r.status, 0, "%s: list failed: %s", c->name, r.err);
        json_object *o = sim_json(&r);
        json_object *ports = sim_get(o, "ports");
        cr_assert_eq(json_object_array_length(ports), 1, "%s: %s", c->name, r.out);
        json_object *p = json_object_array_get_idx(ports, 0);
        cr_expect_str_eq(json_object_get_string(sim_get(p, "usb_id")), c->usb_id, "%s", c->name);
        cr_expect_str_eq(json_object_get_string(sim_get(p, "driver")), c->driver, "%s", c->name);
        cr_expect_str_eq(json_object_get_string(sim_get(p, "port")), c->port, "%s", c->name);
        json_object *serial = sim_get(p, "serial");
        if (c->serial)
            cr_expect_str_eq(json_object_get_string(serial), c->serial, "%s", c->name);
        else
            cr_expect_null(serial, "%s has no serial number", c->name);
        json_object_put(o);
    }
}

/* A no-stub flash asked for 1.5 Mbaud: a CP2102 (1 Mbaud) cannot set it, so espdoctor
 * steps down to its ceiling with a note instead of losing the board to garbage; a CP2102N
 * (3 Mbaud) writes and verifies at that rate. */
static void flash_at_1500000(const char *bridge, const char **img, const char *trace)
{
    *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind", "app",
                       "--size", "64K", NULL });
    sim_run(&r, (const char *[]){ "--chip", "esp32", "--bridge", bridge, "--flash",
                                  scratch_path("board.flash"), "--trace", trace, NULL },
            (const char *[]){ "flash", "--json", "--no-stub", "-b", "1500000", *img, NULL });
}

Test(bridges, above_its_rate_a_bridge_is_stepped_down_to_it, .init = make_dir,
     .fini = scratch_remove, .timeout = 180)
{
    const char *img;
    const char *trace = scratch_path("trace.txt");
    flash_at_1500000("cp2102", &img, trace);
    cr_expect_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "-b 1500000 is above 1000000 baud, the highest rate the CP2102 "
                     "can set"), "no note of the step down:\n%s", r.out);
    char *t = sim_slurp(trace, NULL);
    cr_assert_not_null(t);
    /* Never asked for more than the bridge does: espsim would have turned it to garbage. */
    cr_expect_null(strstr(t, "is above what the bridge does"), "the bridge was overdriven");
    free(t);
}

Test(bridges, within_its_rate_a_bridge_works, .init = make_dir, .fini = scratch_remove,
     .timeout = 180)
{
    const char *img;
    flash_at_1500000("cp2102n", &img, scratch_path("trace.txt"));
    cr_assert_eq(r.status, 0, "a CP2102N failed at 1.5 Mbaud:\n%s", r.err);
    json_object *o = sim_json(&r);
    json_object *region = json_object_array_get_idx(sim_get(o, "regions"), 0);
    cr_assert_not_null(region);
    cr_expect_eq(json_object_get_int(sim_get(region, "baud")), 1500000);
    cr_expect(json_object_get_boolean(sim_get(region, "verified")));
    cr_expect(sim_flash_holds(scratch_path("board.flash"), img, 0x10000));
    json_object_put(o);
}
