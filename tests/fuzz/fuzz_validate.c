/* The validators (cli/core/validate.c) and the other parsers of what users type: every one
 * gets the input as text (cut at the first NUL), with its documented output size and with a
 * small one, into heap buffers of exactly that size (so a write past the end is caught).
 * Invariants: 0 means the canonical form the header promises (11 digits, a valid GB 11643
 * check digit, coordinates in range, ...); anything else is exit 2 with a code and a
 * one-line message without control characters (input is echoed into it). */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "checklist.h"
#include "config.h"
#include "output.h"
#include "support.h"
#include "validate.h"
#include "vehicle.h"
#include "fuzz.h"

#define NOW ((time_t)1764050000)   /* 2025-11-25, a fixed "now" */

typedef int (*string_validator)(const char *field, const char *in, char *out, size_t outsz,
                                struct ch_error *err);

static void check_usage(int rc, const struct ch_error *err, const char *what)
{
    if (rc == 0)
        return;
    if (rc != CH_USAGE || err->exit_code != CH_USAGE || !err->code[0])
        fuzz_fail("%s: returned %d (error %d, code '%s')", what, rc, err->exit_code, err->code);
    if (fuzz_has_control(err->message) || fuzz_has_control(err->what))
        fuzz_fail("%s: control character in the message", what);
}

/* Runs v with an output of exactly outsz bytes; returns the output (caller frees) or NULL. */
static char *run_string(string_validator v, const char *what, const char *in, size_t outsz)
{
    char *out = malloc(outsz);
    struct ch_error err;
    err_clear(&err);
    if (!out)
        abort();
    int rc = v("--x", in, out, outsz, &err);
    check_usage(rc, &err, what);
    if (rc) {
        free(out);
        return NULL;
    }
    if (strnlen(out, outsz) >= outsz)
        fuzz_fail("%s: output not terminated", what);
    return out;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static void validators(const char *in, size_t small)
{
    char *o;
    if ((o = run_string(validate_phone, "phone", in, 12))) {
        if (strlen(o) != 11 || o[0] != '1' || !all_digits(o, 11))
            fuzz_fail("phone: accepted as '%s'", o);
        free(o);
    }
    free(run_string(validate_phone, "phone (small)", in, small));
    if ((o = run_string(validate_id_number, "id", in, 19))) {
        if (strlen(o) != 18 || !all_digits(o, 17) || id_check_digit(o) != o[17])
            fuzz_fail("id: accepted as '%s'", o);
        free(o);
    }
    free(run_string(validate_id_number, "id (small)", in, small));
    if ((o = run_string(validate_id_last4, "last4", in, 5))) {
        if (strlen(o) != 4 || !all_digits(o, 3) || !(isdigit((unsigned char)o[3]) || o[3] == 'X'))
            fuzz_fail("last4: accepted as '%s'", o);
        free(o);
    }
    if ((o = run_string(validate_plate, "plate", in, 64))) {
        for (const char *p = o; *p; p++)
            if (islower((unsigned char)*p) || *p == ' ')
                fuzz_fail("plate: accepted as '%s'", o);
        free(o);
    }
    free(run_string(validate_plate, "plate (small)", in, small));
    if ((o = run_string(validate_object_id, "id", in, 65))) {
        size_t n = strlen(o);
        if (n < 1 || n > 64 || strspn(o, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_-") != n)
            fuzz_fail("object id: accepted as '%s'", o);
        free(o);
    }
    free(run_string(validate_object_id, "id (small)", in, small));

    struct ch_error err;
    int rc;
    time_t t;
    double a, b;
    long l;
    err_clear(&err);
    check_usage(validate_since("--since", in, NOW, &t, &err), &err, "since");
    err_clear(&err);
    rc = validate_coordinates("--at", in, &a, &b, &err);
    check_usage(rc, &err, "coordinates");
    if (rc == 0 && !(a >= -90 && a <= 90 && b >= -180 && b <= 180))
        fuzz_fail("coordinates: accepted %g,%g", a, b);
    err_clear(&err);
    rc = validate_seconds("--wait", in, 3600, &a, &err);
    check_usage(rc, &err, "seconds");
    if (rc == 0 && !(a > 0 && a <= 3600))
        fuzz_fail("seconds: accepted %g", a);
    err_clear(&err);
    rc = validate_int("--limit", in, 1, 100, &l, &err);
    check_usage(rc, &err, "int");
    if (rc == 0 && !(l >= 1 && l <= 100))
        fuzz_fail("int: accepted %ld", l);
    err_clear(&err);
    check_usage(validate_api_url("--api-url", in, &err), &err, "api url");

    char target[VEHICLE_KEY_MAX];
    bool is_plate;
    err_clear(&err);
    check_usage(vehicle_parse_target("VEHICLE", in, target, sizeof target, &is_plate, &err), &err,
                "vehicle target");
}

/* normalize_input at several output sizes, each buffer exactly that size. */
static void normalizer(const char *in)
{
    size_t n = strlen(in);
    size_t sizes[] = { 1, n / 2 + 1, n + 1, 3 * n + 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *out = malloc(sizes[i]);
        if (!out)
            abort();
        if (normalize_input(in, out, sizes[i]) == 0) {
            size_t m = strnlen(out, sizes[i]);
            if (m >= sizes[i])
                fuzz_fail("normalize_input: output not terminated");
            if (m && (isspace((unsigned char)out[0]) || isspace((unsigned char)out[m - 1])))
                fuzz_fail("normalize_input: untrimmed '%s'", out);
        }
        free(out);
    }
}

/* The other parsers of typed text: times, config values, names. */
static void others(const char *in)
{
    time_t t;
    char buf[64];
    (void)parse_rfc3339(in);
    if (support_parse_at(in, NOW, &t) == 0)
        support_format_zone(t, buf, sizeof buf);
    (void)checklist_type_from_name(in);
    if (display_width(in) < 0)
        fuzz_fail("display_width < 0");
    mask_phone(in, buf, sizeof buf);
    mask_id_number(in, buf, 8);
    (void)id_check_digit(strlen(in) >= 17 ? in : NULL);

    static const char *const keys[] = { "api_url", "timeout", "retries", "color", "cacert", NULL };
    struct config c;
    config_init(&c);
    for (const char *const *k = keys; *k; k++) {
        struct ch_error err;
        err_clear(&err);
        int rc = config_set(&c, *k, in, "--x", &err);
        check_usage(rc, &err, *k);
    }
    if (c.timeout_s >= 0 && !(c.timeout_s > 0 && isfinite(c.timeout_s)))
        fuzz_fail("config: timeout %g accepted", c.timeout_s);
    config_free(&c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setlocale(LC_ALL, "C.UTF-8");   /* display widths as on a UTF-8 terminal */
    setenv("HOME", fuzz_dir(), 1);  /* cacert "~/..." stays in the scratch folder */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    validators(in, size % 24 + 1);
    normalizer(in);
    others(in);
    free(in);
    return 0;
}
