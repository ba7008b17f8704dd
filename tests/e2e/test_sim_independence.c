/* espsim is independent of espdoctor (issue 10): no espdoctor symbol in build/espsim, no
 * file of src/ or include/ in its build, and no source under tests/sim that includes one.
 * Each check is also run on something that must fail it, so that a check that cannot
 * see anything does not pass. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "e2e_run.h"

/* Lines of `nm FILE` naming a symbol that starts with ed_ (espdoctor's prefix). */
static int espdoctor_symbols(const char *binary, char *first, size_t first_len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "nm '%s' 2>/dev/null", binary);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run nm");
    char line[1024];
    int count = 0, lines = 0;
    while (fgets(line, sizeof line, p)) {
        lines++;
        if (strstr(line, " ed_")) {
            if (count++ == 0)
                snprintf(first, first_len, "%s", line);
        }
    }
    int status = pclose(p);
    cr_assert_eq(status, 0, "nm %s failed (status %d): is binutils installed?", binary,
                 status);
    cr_assert_gt(lines, 0, "nm %s printed no symbols", binary);
    return count;
}

/* Does this dependency or input path name a file of espdoctor's own? */
static bool espdoctor_path(const char *path)
{
    return strncmp(path, "src/", 4) == 0 || strncmp(path, "include/", 8) == 0 ||
           strstr(path, "/src/") || strstr(path, "/include/espdoctor") ||
           strstr(path, "libespdoctor");
}

/* The first espdoctor file a make dependency text (target: prerequisites...) names. */
static bool depends_on_espdoctor(const char *text, char *which, size_t len)
{
    char *copy = strdup(text);
    cr_assert_not_null(copy);
    bool found = false;
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \t\n\\:", &save); tok;
         tok = strtok_r(NULL, " \t\n\\:", &save)) {
        if (espdoctor_path(tok)) {
            snprintf(which, len, "%s", tok);
            found = true;
            break;
        }
    }
    free(copy);
    return found;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* An #include of espdoctor's headers or sources in a C text. */
static bool includes_espdoctor(const char *text)
{
    static const char *const bad[] = { "#include \"espdoctor/", "#include \"../../src",
                                       "#include \"../../include", "#include <espdoctor/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strstr(text, bad[i]))
            return true;
    return false;
}

/* Walk dir (recursively) and report the first .c/.h that includes espdoctor's files. */
static int scan_sources(const char *dir, char *which, size_t len, int *files)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s (run the tests from the source tree)", dir);
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            bad += scan_sources(path, which, len, files);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 3 || (strcmp(e->d_name + n - 2, ".c") && strcmp(e->d_name + n - 2, ".h")))
            continue;
        (*files)++;
        char *text = read_text(path);
        cr_assert_not_null(text, "cannot read %s", path);
        if (includes_espdoctor(text) && bad++ == 0)
            snprintf(which, len, "%s", path);
        free(text);
    }
    closedir(d);
    return bad;
}

Test(independence, espsim_has_no_espdoctor_symbol)
{
    char first[1024] = "";
    int n = espdoctor_symbols(e2e_bin("espsim"), first, sizeof first);
    cr_expect_eq(n, 0, "build/espsim holds %d espdoctor symbol(s), the first: %s", n, first);
}

Test(independence, the_symbol_check_sees_espdoctor_symbols)
{
    char first[1024] = "";
    cr_expect_gt(espdoctor_symbols(e2e_bin("espdoctor"), first, sizeof first), 10,
                 "nm finds no ed_ symbol even in espdoctor: the check above proves nothing");
}

Test(independence, no_espdoctor_file_in_espsims_build)
{
    char path[600];
    snprintf(path, sizeof path, "%s.inputs", e2e_bin("espsim"));
    char *inputs = read_text(path);
    cr_assert_not_null(inputs, "%s is missing: the Makefile writes it when it links espsim",
                       path);
    char which[512];
    cr_expect_not(depends_on_espdoctor(inputs, which, sizeof which),
                  "espsim is linked with %s", which);
    int objects = 0;
    char *copy = strdup(inputs), *save = NULL;
    for (char *obj = strtok_r(copy, "\n", &save); obj; obj = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(obj);
        if (n < 3 || strcmp(obj + n - 2, ".o") != 0)
            continue;
        char dep[600];
        snprintf(dep, sizeof dep, "%.*s.d", (int)(n - 2), obj);
        char *deps = read_text(dep);
        cr_assert_not_null(deps, "%s is missing (objects are built with -MMD)", dep);
        objects++;
        cr_expect_not(depends_on_espdoctor(deps, which, sizeof which),
                      "%s is built from %s", obj, which);
        free(deps);
    }
    free(copy);
    free(inputs);
    cr_expect_gt(objects, 10, "espsim's inputs list only %d objects", objects);
}

Test(independence, the_build_check_sees_espdoctor_files)
{
    char which[512];
    cr_expect(depends_on_espdoctor("build/obj/x.o: tests/sim/x.c include/espdoctor/slip.h\n",
                                   which, sizeof which));
    cr_expect(depends_on_espdoctor("build/obj/src/slip.o\nbuild/libespdoctor.a\n", which,
                                   sizeof which));
    cr_expect_not(depends_on_espdoctor("build/obj/tests/sim/board/rom.o: "
                                       "tests/sim/board/rom.c tests/sim/board/board.h\n",
                                       which, sizeof which));
}

Test(independence, no_source_under_tests_sim_includes_espdoctor)
{
    char which[1024] = "";
    int files = 0;
    int bad = scan_sources("tests/sim", which, sizeof which, &files);
    cr_expect_eq(bad, 0, "%d file(s) under tests/sim include espdoctor's, the first: %s", bad,
                 which);
    cr_expect_gt(files, 20, "only %d sources found under tests/sim", files);
}

Test(independence, the_include_check_sees_an_include)
{
    cr_expect(includes_espdoctor("#include <stdio.h>\n#include \"espdoctor/chips.h\"\n"));
    cr_expect(includes_espdoctor("#include \"../../src/slip.h\"\n"));
    cr_expect_not(includes_espdoctor("#include \"board/board.h\"\n"));
}
