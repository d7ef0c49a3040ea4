/* XDG folder resolution with the CARHELP_*_DIR overrides, and mkdir -p. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "paths.h"

static const char *const vars[] = {
    "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
    "CARHELP_CONFIG_DIR", "CARHELP_STATE_DIR", "CARHELP_CACHE_DIR",
};

static int clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    return 0;
}

static void home_defaults(void **state)
{
    (void)state;
    setenv("HOME", "/home/ming", 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), 0);
    assert_string_equal(p.config_dir, "/home/ming/.config/carhelp");
    assert_string_equal(p.state_dir, "/home/ming/.local/state/carhelp");
    assert_string_equal(p.cache_dir, "/home/ming/.cache/carhelp");
    assert_string_equal(p.config_file, "/home/ming/.config/carhelp/config");
    assert_string_equal(p.credentials_file, "/home/ming/.config/carhelp/credentials");
}

static void home_trailing_slash_is_not_doubled(void **state)
{
    (void)state;
    setenv("HOME", "/home/ming/", 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), 0);
    assert_string_equal(p.config_dir, "/home/ming/.config/carhelp");
}

static void xdg_variables_are_used(void **state)
{
    (void)state;
    setenv("HOME", "/home/ming", 1);
    setenv("XDG_CONFIG_HOME", "/x/conf", 1);
    setenv("XDG_STATE_HOME", "/x/state/", 1);
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), 0);
    assert_string_equal(p.config_dir, "/x/conf/carhelp");
    assert_string_equal(p.state_dir, "/x/state/carhelp");
    assert_string_equal(p.cache_dir, "/x/cache/carhelp");
    assert_string_equal(p.credentials_file, "/x/conf/carhelp/credentials");
}

static void relative_or_empty_xdg_values_are_ignored(void **state)
{
    (void)state;
    setenv("HOME", "/home/ming", 1);
    setenv("XDG_CONFIG_HOME", "relative/conf", 1);
    setenv("XDG_STATE_HOME", "", 1);
    setenv("XDG_CACHE_HOME", "./cache", 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), 0);
    assert_string_equal(p.config_dir, "/home/ming/.config/carhelp");
    assert_string_equal(p.state_dir, "/home/ming/.local/state/carhelp");
    assert_string_equal(p.cache_dir, "/home/ming/.cache/carhelp");
}

static void carhelp_overrides_win(void **state)
{
    (void)state;
    setenv("HOME", "/home/ming", 1);
    setenv("XDG_CONFIG_HOME", "/x/conf", 1);
    setenv("CARHELP_CONFIG_DIR", "/t/c", 1);
    setenv("CARHELP_STATE_DIR", "/t/s/", 1);
    setenv("CARHELP_CACHE_DIR", "/t/k", 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), 0);
    assert_string_equal(p.config_dir, "/t/c");
    assert_string_equal(p.state_dir, "/t/s");
    assert_string_equal(p.cache_dir, "/t/k");
    assert_string_equal(p.config_file, "/t/c/config");
    assert_string_equal(p.credentials_file, "/t/c/credentials");
}

static void overrides_work_without_home(void **state)
{
    (void)state;
    setenv("CARHELP_CONFIG_DIR", "/t/c", 1);
    setenv("CARHELP_STATE_DIR", "/t/s", 1);
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), 0);
    assert_string_equal(p.cache_dir, "/x/cache/carhelp");
}

static void no_home_is_a_usage_error(void **state)
{
    (void)state;
    setenv("CARHELP_CONFIG_DIR", "/t/c", 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), CH_USAGE);
    assert_int_equal(e.exit_code, CH_USAGE);
    assert_non_null(strstr(e.message, "HOME"));
    assert_true(e.hint[0] != '\0');
}

static void too_long_path_is_an_error(void **state)
{
    (void)state;
    char *big = malloc(PATH_MAX + 10);
    big[0] = '/';
    memset(big + 1, 'a', PATH_MAX + 5);
    big[PATH_MAX + 6] = '\0';
    setenv("HOME", big, 1);
    struct paths p;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_resolve(&p, &e), CH_USAGE);
    free(big);
}

static void mkdir_creates_missing_components_with_mode(void **state)
{
    (void)state;
    char base[] = "/tmp/carhelp-paths-XXXXXX";
    assert_non_null(mkdtemp(base));
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a/b/c/", base);
    struct ch_error e;
    err_clear(&e);
    mode_t old = umask(022);
    assert_int_equal(paths_mkdir(dir, 0700, &e), 0);
    umask(old);
    const char *parts[] = { "a", "a/b", "a/b/c" };
    for (size_t i = 0; i < 3; i++) {
        char p[300];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", base, parts[i]);
        assert_int_equal(stat(p, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);
    }
    /* Existing folders are fine. */
    assert_int_equal(paths_mkdir(dir, 0700, &e), 0);
    assert_int_equal(paths_mkdir(base, 0700, &e), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

static void mkdir_fails_on_a_file_in_the_way(void **state)
{
    (void)state;
    char base[] = "/tmp/carhelp-paths-XXXXXX";
    assert_non_null(mkdtemp(base));
    char file[256], dir[300];
    snprintf(file, sizeof file, "%s/f", base);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(dir, sizeof dir, "%s/sub", file);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(paths_mkdir(dir, 0700, &e), CH_USAGE);
    assert_string_equal(e.code, "mkdir_failed");
    assert_int_equal(paths_mkdir(file, 0700, &e), CH_USAGE);
    assert_non_null(strstr(e.message, "not a folder"));
    unlink(file);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(home_defaults, clean_env),
        cmocka_unit_test_setup(home_trailing_slash_is_not_doubled, clean_env),
        cmocka_unit_test_setup(xdg_variables_are_used, clean_env),
        cmocka_unit_test_setup(relative_or_empty_xdg_values_are_ignored, clean_env),
        cmocka_unit_test_setup(carhelp_overrides_win, clean_env),
        cmocka_unit_test_setup(overrides_work_without_home, clean_env),
        cmocka_unit_test_setup(no_home_is_a_usage_error, clean_env),
        cmocka_unit_test_setup(too_long_path_is_an_error, clean_env),
        cmocka_unit_test_setup(mkdir_creates_missing_components_with_mode, clean_env),
        cmocka_unit_test_setup(mkdir_fails_on_a_file_in_the_way, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
