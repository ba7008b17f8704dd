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

/* Each bridge's part, read over USB with the vendor requests Linux's drivers use, and the
 * counterfeit CP2102 that answers a two-byte part-number request with one byte. */
struct variant_case {
    const char *bridge, *part;
    int64_t line_max;
    bool counterfeit;
};

static const struct variant_case variants[] = {
    { "cp2102", "CP2102", 1000000, false },
    { "cp2102-counterfeit", "CP2102", 1000000, true },
    { "cp2102n", "CP2102N", 3000000, false },
    { "ch340", "CH340 (version 0x31)", 2000000, false },
    { "ftdi", "FT232R", 3000000, false },
    { "ft232h", "FT232H", 12000000, false },
    { "pl2303gx", "PL2303HXN (G series)", 12000000, false },
};

Test(bridges, list_names_the_part_read_over_usb, .timeout = 180)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        const struct variant_case *c = &variants[i];
        sim_run(&r, (const char *[]){ "--bridge", c->bridge, NULL },
                (const char *[]){ "list", "--json", NULL });
        cr_assert_eq(r.status, 0, "%s: list failed: %s", c->bridge, r.err);
        json_object *o = sim_json(&r);
        json_object *p = json_object_array_get_idx(sim_get(o, "ports"), 0);
        cr_assert_not_null(p, "%s: %s", c->bridge, r.out);
        json_object *v = sim_get(p, "variant");
        cr_expect_str_eq(json_object_get_string(sim_get(v, "part")), c->part, "%s", c->bridge);
        cr_expect_str_eq(json_object_get_string(sim_get(v, "source")), "usb", "%s", c->bridge);
        cr_expect_eq(json_object_get_int64(sim_get(v, "line_max_baud")), c->line_max, "%s",
                     c->bridge);
        cr_expect_eq(json_object_get_boolean(sim_get(v, "counterfeit")), c->counterfeit, "%s",
                     c->bridge);
        json_object *finding = sim_get(v, "finding");
        if (c->counterfeit)
            cr_expect_str_eq(json_object_get_string(finding), "bridge.counterfeit");
        else
            cr_expect_null(finding, "%s: %s", c->bridge, r.out);
        json_object_put(o);
    }
}

/* The doctor's report: the finding on the counterfeit part, with what it answered, and
 * none on a genuine CP2102. */
static json_object *doctor_finding_on(const char *bridge, const char *id)
{
    sim_run(&r, (const char *[]){ "--bridge", bridge, "--firmware", "app", NULL },
            (const char *[]){ "--json", NULL });
    json_object *o = sim_json(&r);
    cr_assert_not_null(o, "%s: the doctor printed no JSON: %s", bridge, r.err);
    json_object *findings = sim_get(o, "findings"), *found = NULL;
    for (size_t i = 0; i < json_object_array_length(findings); i++) {
        json_object *f = json_object_array_get_idx(findings, i);
        if (strcmp(json_object_get_string(sim_get(f, "id")), id) == 0)
            found = json_object_get(f);
    }
    json_object_put(o);
    return found;
}

Test(bridges, the_doctor_reports_a_counterfeit_cp2102, .timeout = 120)
{
    json_object *f = doctor_finding_on("cp2102-counterfeit", "bridge.counterfeit");
    cr_assert_not_null(f, "no bridge.counterfeit finding: %s", r.out);
    cr_expect(strstr(json_object_get_string(sim_get(f, "evidence")), "answered one byte"),
              "%s", r.out);
    json_object_put(f);
    cr_expect_null(doctor_finding_on("cp2102", "bridge.counterfeit"),
                   "a genuine CP2102 called counterfeit: %s", r.out);
}

/* The chip's own USB has no bridge part: the table's entry, saying so. */
Test(bridges, native_usb_says_its_variant_is_from_the_table, .timeout = 60)
{
    sim_run(&r, (const char *[]){ "--chip", "esp32c3", "--bridge", "usb-jtag", NULL },
            (const char *[]){ "list", "--json", NULL });
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_object *o = sim_json(&r);
    json_object *v = sim_get(json_object_array_get_idx(sim_get(o, "ports"), 0), "variant");
    cr_expect_str_eq(json_object_get_string(sim_get(v, "source")), "table");
    cr_expect_not_null(strstr(json_object_get_string(sim_get(v, "note")), "own USB"), "%s",
                       r.out);
    json_object_put(o);
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

/* A line that carries less than its part can set (a clone, a long cable: espsim
 * --line-max): a switch to a rate above that loses the chip at both ends, so espdoctor
 * resets it and tries the next rate down until one answers, and writes and verifies
 * there. */
static void step_down(const char *bridge, const char *line_max, const char *asked,
                      const char *img, const char *const *sim)
{
    sim_run(&r, sim, (const char *[]){ "flash", "--json", "--no-stub", "-b", asked, img, NULL });
    cr_assert_eq(r.status, 0, "%s: exit %d\n%s\n%s", bridge, r.status, r.out, r.err);
    json_object *o = sim_json(&r);
    json_object *region = json_object_array_get_idx(sim_get(o, "regions"), 0);
    cr_assert_not_null(region);
    cr_expect_eq(json_object_get_int(sim_get(region, "baud")), atoi(line_max), "%s", r.out);
    cr_expect(json_object_get_boolean(sim_get(region, "verified")));
    char note[120];
    snprintf(note, sizeof note, "%s baud did not work on this link: stepped down to %s", asked,
             line_max);
    cr_expect_not_null(strstr(json_object_to_json_string(sim_get(o, "notes")), note), "%s",
                       r.out);
    json_object_put(o);
    cr_expect(sim_flash_holds(scratch_path("board.flash"), img, 0x10000));
}

static const char *app_image(void)
{
    return sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind", "app",
                       "--size", "64K", NULL });
}

Test(bridges, a_ch340_that_fails_above_its_line_is_stepped_down, .init = make_dir,
     .fini = scratch_remove, .timeout = 240)
{
    const char *sim[] = { "--chip", "esp32", "--bridge", "ch340", "--line-max", "460800",
                          "--flash", scratch_path("board.flash"), NULL };
    step_down("ch340", "460800", "2000000", app_image(), sim);
}

/* A bridge with a USB serial number (a CH340 has none) remembers the rate that worked:
 * the next flash without -b starts at it and needs no step down. */
Test(bridges, the_rate_a_step_down_found_is_remembered, .init = make_dir,
     .fini = scratch_remove, .timeout = 240)
{
    const char *img = app_image();
    const char *config = scratch_path("config");
    cr_assert_eq(setenv("ESPDOCTOR_CONFIG", config, 1), 0);
    const char *sim[] = { "--chip", "esp32", "--bridge", "ch9102", "--line-max", "921600",
                          "--flash", scratch_path("board.flash"), NULL };
    step_down("ch9102", "921600", "3000000", img, sim);
    char *text = sim_slurp(config, NULL);
    cr_assert_not_null(text, "no configuration file written");
    cr_expect_not_null(strstr(text, "max_baud = 921600"), "%s", text);
    free(text);

    sim_run(&r, sim, (const char *[]){ "flash", "--json", "--no-stub", "--no-skip", img, NULL });
    unsetenv("ESPDOCTOR_CONFIG");
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = sim_json(&r);
    json_object *region = json_object_array_get_idx(sim_get(o, "regions"), 0);
    cr_expect_eq(json_object_get_int(sim_get(region, "baud")), 921600, "%s", r.out);
    cr_expect_null(strstr(json_object_to_json_string(sim_get(o, "notes")), "did not work"),
                   "%s", r.out);
    json_object_put(o);
}
