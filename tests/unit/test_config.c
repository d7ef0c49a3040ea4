/* The config file, the environment and the setters: precedence and every error path, with
 * the file and line named. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"

static char dir[] = "/tmp/carhelp-config-XXXXXX";
static char path[256];
static char cacert[256];

static void write_config(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/config", dir);
    snprintf(cacert, sizeof cacert, "%s/ca.pem", dir);
    FILE *f = fopen(cacert, "w");
    if (!f)
        return -1;
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    fclose(f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(path);
    unlink(cacert);
    return rmdir(dir);
}

static int clean_env(void **state)
{
    (void)state;
    unlink(path);
    unsetenv("CARHELP_API_URL");
    unsetenv("CARHELP_TIMEOUT");
    unsetenv("CARHELP_RETRIES");
    unsetenv("CARHELP_CACERT");
    unsetenv("NO_COLOR");
    return 0;
}

/* Loads `text` for `profile` and expects an exit-2 error at `line` whose message contains
 * `needle`. */
static void expect_file_error(const char *text, const char *profile, int line, const char *needle)
{
    write_config(text);
    struct config c;
    config_init(&c);
    struct ch_error e;
    err_clear(&e);
    int rc = config_load_file(&c, path, profile, &e);
    if (rc != CH_USAGE)
        fail_msg("rc %d for:\n%s", rc, text);
    char where[300];
    snprintf(where, sizeof where, "%s:%d", path, line);
    if (strcmp(e.what, where) != 0)
        fail_msg("what '%s', want '%s' (%s)", e.what, where, e.message);
    if (!strstr(e.message, needle))
        fail_msg("message '%s' lacks '%s'", e.message, needle);
    /* Nothing from a broken file is applied. */
    assert_null(c.api_url);
    assert_true(c.timeout_s < 0);
    config_free(&c);
}

static void defaults_are_the_documented_ones(void **state)
{
    (void)state;
    struct config c;
    config_init(&c);
    assert_null(c.api_url);
    assert_true(c.timeout_s < 0);
    assert_true(c.retries < 0);
    config_defaults(&c);
    assert_string_equal(c.api_url, DEFAULT_API_URL);
    assert_string_equal(c.color, "auto");
    assert_null(c.cacert);
    assert_true(c.timeout_s == 15);
    assert_int_equal(c.retries, 2);
    config_free(&c);
    assert_null(c.api_url);
}

static void missing_file_changes_nothing(void **state)
{
    (void)state;
    struct config c;
    config_init(&c);
    config_defaults(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_file(&c, path, NULL, &e), 0);
    assert_int_equal(config_load_file(&c, path, "work", &e), 0);
    assert_string_equal(c.api_url, DEFAULT_API_URL);
    assert_true(c.timeout_s == 15);
    config_free(&c);
}

static void profile_overrides_default_in_any_order(void **state)
{
    (void)state;
    write_config("# carhelp config\n"
                 "[profile work]\n"
                 "api_url = https://work.example.com\n"
                 "timeout = 30\n"
                 "\n"
                 "[default]\n"
                 "api_url = https://api.example.com\n"
                 "timeout = 20\n"
                 "retries = 5\n"
                 "color = never\n");
    struct config c;
    config_init(&c);
    config_defaults(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_file(&c, path, "work", &e), 0);
    assert_string_equal(c.api_url, "https://work.example.com");
    assert_true(c.timeout_s == 30);
    assert_int_equal(c.retries, 5);
    assert_string_equal(c.color, "never");
    config_free(&c);

    config_init(&c);
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, NULL, &e), 0);
    assert_string_equal(c.api_url, "https://api.example.com");
    assert_true(c.timeout_s == 20);
    config_free(&c);

    config_init(&c);
    assert_int_equal(config_load_file(&c, path, "default", &e), 0);
    assert_string_equal(c.api_url, "https://api.example.com");
    config_free(&c);
}

static void full_precedence_chain(void **state)
{
    (void)state;
    write_config("[default]\n"
                 "api_url = https://default.example.com\n"
                 "timeout = 20\n"
                 "retries = 4\n"
                 "[profile p]\n"
                 "timeout = 25\n");
    setenv("CARHELP_RETRIES", "6", 1);
    struct config c;
    config_init(&c);
    config_defaults(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_file(&c, path, "p", &e), 0);
    assert_int_equal(config_load_env(&c, &e), 0);
    assert_int_equal(config_set(&c, "api-url", "https://cli.example.com", "--api-url", &e), 0);
    assert_string_equal(c.api_url, "https://cli.example.com");   /* command line */
    assert_int_equal(c.retries, 6);                               /* environment */
    assert_true(c.timeout_s == 25);                               /* profile */
    assert_string_equal(c.color, "auto");                         /* built-in */
    config_free(&c);
}

static void syntax_extras_are_accepted(void **state)
{
    (void)state;
    /* BOM, CRLF, comments of both kinds, an inline comment, indentation, spaces in headers,
     * an empty profile, "key: value". */
    write_config("\xEF\xBB\xBF; comment\r\n"
                 "# another\r\n"
                 "[ default ]\r\n"
                 "    api_url = https://api.example.com   ; inline comment\r\n"
                 "\ttimeout: 12.5\r\n"
                 "[profile empty]\r\n"
                 "[profile other] ; comment\r\n"
                 "color = ALWAYS\r\n");
    struct config c;
    config_init(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_file(&c, path, "empty", &e), 0);
    assert_string_equal(c.api_url, "https://api.example.com");
    assert_true(c.timeout_s == 12.5);
    assert_null(c.color);
    config_free(&c);
    config_init(&c);
    assert_int_equal(config_load_file(&c, path, "other", &e), 0);
    assert_string_equal(c.color, "always");
    config_free(&c);
}

static void cacert_is_checked_and_tilde_expanded(void **state)
{
    (void)state;
    char text[600];
    snprintf(text, sizeof text, "[default]\ncacert = %s\n[profile elsewhere]\ncacert = /nonexistent/ca.pem\n",
             cacert);
    write_config(text);
    struct config c;
    config_init(&c);
    struct ch_error e;
    err_clear(&e);
    /* Another profile's CA bundle need not exist here. */
    assert_int_equal(config_load_file(&c, path, NULL, &e), 0);
    assert_string_equal(c.cacert, cacert);
    config_free(&c);
    config_init(&c);
    assert_int_equal(config_load_file(&c, path, "elsewhere", &e), CH_USAGE);
    assert_non_null(strstr(e.message, "cacert: cannot read the CA bundle"));
    config_free(&c);

    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", dir, 1);
    config_init(&c);
    assert_int_equal(config_set(&c, "cacert", "~/ca.pem", "--cacert", &e), 0);
    assert_string_equal(c.cacert, cacert);
    config_free(&c);
    if (old_home) {
        setenv("HOME", old_home, 1);
        free(old_home);
    }
}

static void unknown_key_names_file_line_and_section(void **state)
{
    (void)state;
    expect_file_error("[default]\napi_url = https://a.example.com\nx = 1\n", NULL, 3,
                      "unknown key 'x' in [default]");
    expect_file_error("[profile work]\n\n; c\ntimout = 5\n", "work", 4,
                      "unknown key 'timout' in [profile work]");
}

static void unknown_key_in_another_profile_is_still_an_error(void **state)
{
    (void)state;
    expect_file_error("[default]\ntimeout = 5\n[profile x]\nbogus = 1\n", NULL, 4,
                      "unknown key 'bogus' in [profile x]");
}

static void bad_values_name_key_line_and_expected_form(void **state)
{
    (void)state;
    expect_file_error("[default]\ntimeout = abc\n", NULL, 2, "timeout: expected seconds");
    expect_file_error("[default]\n\n\n\ntimeout = 0\n", NULL, 5, "got '0'");
    expect_file_error("[default]\ntimeout = 3601\n", NULL, 2, "timeout");
    expect_file_error("[default]\nretries = 11\n", NULL, 2, "retries: expected a whole number from 0 to 10");
    expect_file_error("[default]\nretries = -1\n", NULL, 2, "retries");
    expect_file_error("[default]\nretries = 2x\n", NULL, 2, "got '2x'");
    expect_file_error("[default]\ncolor = sometimes\n", NULL, 2, "color: expected auto, always or never");
    expect_file_error("[default]\napi_url = http://api.example.com\n", NULL, 2,
                      "plain http:// is allowed only for loopback hosts; use https://");
    expect_file_error("[default]\napi_url = ftp://x\n", NULL, 2, "api_url");
    expect_file_error("[default]\napi_url =\n", NULL, 2, "api_url");
    expect_file_error("[default]\ncacert = /nonexistent/ca.pem\n", NULL, 2, "cacert");
    expect_file_error("[default]\ncacert = /tmp\n", NULL, 2, "not a regular file");
    expect_file_error("[profile p]\ntimeout = 1\ntimeout = nope\n", "p", 3, "timeout");
}

static void bad_lines_are_reported_with_their_number(void **state)
{
    (void)state;
    expect_file_error("[default]\ntimeout = 5\nthis is not ini\n", NULL, 3, "cannot parse");
    expect_file_error("api_url = https://a.example.com\n", NULL, 1, "outside a section");
    expect_file_error("; c\n[default\n", NULL, 2, "unterminated section header");
    expect_file_error("[default] junk\n", NULL, 1, "unexpected text");
    expect_file_error("[default]\n[server]\n", NULL, 2, "unknown section [server]");
    expect_file_error("[profile]\n", NULL, 1, "[profile NAME]");
    expect_file_error("[profile a b]\n", NULL, 1, "[profile NAME]");
    expect_file_error("[profiles x]\n", NULL, 1, "unknown section");
    expect_file_error("[default]\ntimeout = 5\n\n\n\n\n# c\ngarbage\n", NULL, 8, "cannot parse");
}

static void long_line_is_an_error_not_a_shifted_line_number(void **state)
{
    (void)state;
    char text[1200];
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(text, sizeof text, "[default]\n; %s\nbad\n", big);
    expect_file_error(text, NULL, 2, "line too long");
}

static void nul_byte_is_an_error(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite("[default]\ntime\0out = 5\n", 1, 23, f);
    fclose(f);
    struct config c;
    config_init(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_file(&c, path, NULL, &e), CH_USAGE);
    assert_non_null(strstr(e.what, ":2"));
    config_free(&c);
}

static void missing_profile_in_existing_file(void **state)
{
    (void)state;
    write_config("[default]\ntimeout = 5\n[profile work]\n");
    struct config c;
    config_init(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_file(&c, path, "home", &e), CH_USAGE);
    char want[300];
    snprintf(want, sizeof want, "no profile 'home' in %s", path);
    assert_string_equal(e.message, want);
    assert_string_equal(e.code, "no_such_profile");
    config_free(&c);
}

static void directory_instead_of_file_is_an_error(void **state)
{
    (void)state;
    struct config c;
    config_init(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_file(&c, dir, NULL, &e), CH_USAGE);
    assert_string_equal(e.what, dir);
    config_free(&c);
}

static void env_overrides_and_names_the_variable(void **state)
{
    (void)state;
    struct config c;
    config_init(&c);
    config_defaults(&c);
    struct ch_error e;
    err_clear(&e);
    setenv("CARHELP_API_URL", "https://env.example.com", 1);
    setenv("CARHELP_TIMEOUT", "42", 1);
    setenv("CARHELP_RETRIES", "0", 1);
    setenv("CARHELP_CACERT", cacert, 1);
    assert_int_equal(config_load_env(&c, &e), 0);
    assert_string_equal(c.api_url, "https://env.example.com");
    assert_true(c.timeout_s == 42);
    assert_int_equal(c.retries, 0);
    assert_string_equal(c.cacert, cacert);
    config_free(&c);

    config_init(&c);
    setenv("CARHELP_TIMEOUT", "abc", 1);
    assert_int_equal(config_load_env(&c, &e), CH_USAGE);
    assert_string_equal(e.what, "CARHELP_TIMEOUT");
    assert_non_null(strstr(e.message, "expected seconds"));
    assert_non_null(strstr(e.message, "got 'abc'"));
    assert_null(c.api_url);   /* nothing applied from a bad environment */
    unsetenv("CARHELP_TIMEOUT");

    err_clear(&e);
    setenv("CARHELP_RETRIES", "many", 1);
    assert_int_equal(config_load_env(&c, &e), CH_USAGE);
    assert_string_equal(e.what, "CARHELP_RETRIES");
    unsetenv("CARHELP_RETRIES");

    err_clear(&e);
    setenv("CARHELP_API_URL", "http://10.1.2.3", 1);
    assert_int_equal(config_load_env(&c, &e), CH_USAGE);
    assert_string_equal(e.what, "CARHELP_API_URL");
    unsetenv("CARHELP_API_URL");

    err_clear(&e);
    setenv("CARHELP_CACERT", "/nonexistent/ca.pem", 1);
    assert_int_equal(config_load_env(&c, &e), CH_USAGE);
    assert_string_equal(e.what, "CARHELP_CACERT");
    config_free(&c);
}

static void empty_env_values_count_as_unset(void **state)
{
    (void)state;
    setenv("CARHELP_TIMEOUT", "", 1);
    setenv("NO_COLOR", "", 1);
    struct config c;
    config_init(&c);
    config_defaults(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_load_env(&c, &e), 0);
    assert_true(c.timeout_s == 15);
    assert_string_equal(c.color, "auto");
    config_free(&c);
}

static void no_color_means_never(void **state)
{
    (void)state;
    setenv("NO_COLOR", "1", 1);
    struct config c;
    config_init(&c);
    config_defaults(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_set(&c, "color", "always", "config", &e), 0);
    assert_int_equal(config_load_env(&c, &e), 0);
    assert_string_equal(c.color, "never");
    /* The command line still wins. */
    assert_int_equal(config_set(&c, "color", "always", "--color", &e), 0);
    assert_string_equal(c.color, "always");
    config_free(&c);
}

static void config_set_validates_each_key(void **state)
{
    (void)state;
    struct config c;
    config_init(&c);
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(config_set(&c, "timeout", "0.5", "--timeout", &e), 0);
    assert_true(c.timeout_s == 0.5);
    assert_int_equal(config_set(&c, "timeout", "3600", "--timeout", &e), 0);
    assert_int_equal(config_set(&c, "timeout", "0", "--timeout", &e), CH_USAGE);
    assert_string_equal(e.what, "--timeout");
    assert_int_equal(config_set(&c, "timeout", "-5", "--timeout", &e), CH_USAGE);
    assert_int_equal(config_set(&c, "timeout", "3600.1", "--timeout", &e), CH_USAGE);
    assert_true(c.timeout_s == 3600);   /* a refused value leaves the old one */
    assert_int_equal(config_set(&c, "retries", "10", "--retries", &e), 0);
    assert_int_equal(config_set(&c, "retries", "11", "--retries", &e), CH_USAGE);
    assert_string_equal(e.what, "--retries");
    assert_int_equal(c.retries, 10);
    assert_int_equal(config_set(&c, "color", "Never", "--color", &e), 0);
    assert_string_equal(c.color, "never");
    assert_int_equal(config_set(&c, "color", "yes", "--color", &e), CH_USAGE);
    assert_int_equal(config_set(&c, "api_url", "http://[::1]:8765", "--api-url", &e), 0);
    assert_int_equal(config_set(&c, "api_url", "http://example.com", "--api-url", &e), CH_USAGE);
    assert_non_null(strstr(e.message, "use https://"));
    assert_string_equal(c.api_url, "http://[::1]:8765");
    assert_int_equal(config_set(&c, "cacert", "/nonexistent", "--cacert", &e), CH_USAGE);
    assert_int_equal(config_set(&c, "cacert", "", "--cacert", &e), CH_USAGE);
    assert_int_equal(config_set(&c, "proxy", "x", "--proxy", &e), CH_USAGE);
    assert_string_equal(e.code, "unknown_key");
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults_are_the_documented_ones, clean_env),
        cmocka_unit_test_setup(missing_file_changes_nothing, clean_env),
        cmocka_unit_test_setup(profile_overrides_default_in_any_order, clean_env),
        cmocka_unit_test_setup(full_precedence_chain, clean_env),
        cmocka_unit_test_setup(syntax_extras_are_accepted, clean_env),
        cmocka_unit_test_setup(cacert_is_checked_and_tilde_expanded, clean_env),
        cmocka_unit_test_setup(unknown_key_names_file_line_and_section, clean_env),
        cmocka_unit_test_setup(unknown_key_in_another_profile_is_still_an_error, clean_env),
        cmocka_unit_test_setup(bad_values_name_key_line_and_expected_form, clean_env),
        cmocka_unit_test_setup(bad_lines_are_reported_with_their_number, clean_env),
        cmocka_unit_test_setup(long_line_is_an_error_not_a_shifted_line_number, clean_env),
        cmocka_unit_test_setup(nul_byte_is_an_error, clean_env),
        cmocka_unit_test_setup(missing_profile_in_existing_file, clean_env),
        cmocka_unit_test_setup(directory_instead_of_file_is_an_error, clean_env),
        cmocka_unit_test_setup(env_overrides_and_names_the_variable, clean_env),
        cmocka_unit_test_setup(empty_env_values_count_as_unset, clean_env),
        cmocka_unit_test_setup(no_color_means_never, clean_env),
        cmocka_unit_test_setup(config_set_validates_each_key, clean_env),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
