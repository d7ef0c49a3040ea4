/* Validators of cli.md "Input validation": normalisation, phones, ID numbers, plates,
 * object IDs, since, coordinates, numbers and API URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "validate.h"

static void assert_usage(int rc, const struct ch_error *e, const char *field)
{
    assert_int_equal(rc, CH_USAGE);
    assert_int_equal(e->exit_code, CH_USAGE);
    assert_string_equal(e->what, field);
    assert_true(e->message[0] != '\0');
    assert_true(e->code[0] != '\0');
}

/* ---------------------------------------------------------------- normalize_input */

static void normalize_maps_fullwidth_to_ascii(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(normalize_input("京ＡＤ１２３４５", out, sizeof out), 0);
    assert_string_equal(out, "京AD12345");
    assert_int_equal(normalize_input("３９．９，１１６．４", out, sizeof out), 0);
    assert_string_equal(out, "39.9,116.4");
    assert_int_equal(normalize_input("a、b，c", out, sizeof out), 0);
    assert_string_equal(out, "a,b,c");
    assert_int_equal(normalize_input("１\xE3\x80\x80２", out, sizeof out), 0);   /* U+3000 */
    assert_string_equal(out, "1 2");
    assert_int_equal(normalize_input("！～", out, sizeof out), 0);   /* ends of the range */
    assert_string_equal(out, "!~");
}

static void normalize_trims_ascii_whitespace(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(normalize_input("  \t138 0013 8000\n", out, sizeof out), 0);
    assert_string_equal(out, "138 0013 8000");
    assert_int_equal(normalize_input("\xE3\x80\x80x\xE3\x80\x80", out, sizeof out), 0);
    assert_string_equal(out, "x");
    assert_int_equal(normalize_input("", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void normalize_keeps_other_text(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(normalize_input("王小明 é", out, sizeof out), 0);
    assert_string_equal(out, "王小明 é");
}

static void normalize_rejects_invalid_utf8(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(normalize_input("\xff", out, sizeof out), CH_USAGE);
    assert_int_equal(normalize_input("abc\xE4\xBA", out, sizeof out), CH_USAGE);      /* truncated */
    assert_int_equal(normalize_input("\xC0\xAF", out, sizeof out), CH_USAGE);         /* overlong '/' */
    assert_int_equal(normalize_input("\xED\xA0\x80", out, sizeof out), CH_USAGE);     /* surrogate */
    assert_int_equal(normalize_input("\xF4\x90\x80\x80", out, sizeof out), CH_USAGE); /* > U+10FFFF */
    assert_int_equal(normalize_input("\x80", out, sizeof out), CH_USAGE);
}

static void normalize_rejects_small_buffer(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(normalize_input("abcd", out, sizeof out), CH_USAGE);
    assert_int_equal(normalize_input("abc", out, sizeof out), 0);
    assert_string_equal(out, "abc");
    assert_int_equal(normalize_input("京", out, 3), CH_USAGE);
}

/* ---------------------------------------------------------------- phone */

static void phone_accepts_plain_and_prefixed_numbers(void **state)
{
    (void)state;
    static const char *const good[] = {
        "13800138000", "+8613800138000", "008613800138000", "+86 138 0013 8000",
        "138-0013-8000", "+86-138-0013-8000", "１３８００１３８０００", "＋８６ １３８００１３８０００",
        " 13800138000 ", "0086 138 0013 8000",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[16];
        assert_int_equal(validate_phone("--phone", good[i], out, sizeof out, &e), 0);
        assert_string_equal(out, "13800138000");
    }
}

static void phone_accepts_every_second_digit_3_to_9(void **state)
{
    (void)state;
    char num[12] = "13912345678", out[12];
    for (char c = '3'; c <= '9'; c++) {
        struct ch_error e;
        err_clear(&e);
        num[1] = c;
        assert_int_equal(validate_phone("--phone", num, out, sizeof out, &e), 0);
        assert_string_equal(out, num);
    }
}

static void phone_rejects_bad_numbers(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "12345", "12800138000", "10800138000", "23800138000", "1380013800", "138001380000",
        "1380013800a", "8613800138000", "+8513800138000", "++8613800138000", "+86+8613800138000",
        "138.0013.8000", "(138)00138000", "138_0013_8000", "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[16];
        assert_usage(validate_phone("--phone", bad[i], out, sizeof out, &e), &e, "--phone");
    }
}

static void phone_error_names_field_and_form(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    char out[16];
    validate_phone("--phone", "12345", out, sizeof out, &e);
    assert_string_equal(e.code, "invalid_phone");
    assert_string_equal(e.message,
                        "expected a mainland mobile number (11 digits starting 13–19, optional +86), "
                        "got '12345'");
}

static void phone_error_does_not_echo_control_characters(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    char out[16];
    validate_phone("--phone", "1\x1b[31m2", out, sizeof out, &e);
    assert_null(strchr(e.message, '\x1b'));
    assert_non_null(strstr(e.message, "'1?[31m2'"));
}

static void phone_error_truncates_long_input(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    char out[16], in[100];
    memset(in, '9', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    validate_phone("--phone", in, out, sizeof out, &e);
    assert_non_null(strstr(e.message, "...'"));
    assert_null(strstr(e.message, in));
}

static void phone_rejects_too_small_output(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    char out[11];
    assert_int_equal(validate_phone("--phone", "13800138000", out, sizeof out, &e), CH_USAGE);
}

/* ---------------------------------------------------------------- ID numbers */

static void id_check_digit_matches_gb11643(void **state)
{
    (void)state;
    assert_int_equal(id_check_digit("11010519491231002"), 'X');
    assert_int_equal(id_check_digit("31011519880512345"), '4');
    assert_int_equal(id_check_digit("44030419950101123"), 'X');
    assert_int_equal(id_check_digit("11010119900307001"), '1');   /* remainder 0 */
    assert_int_equal(id_check_digit("1101051949123100"), 0);     /* 16 digits */
    assert_int_equal(id_check_digit("1101051949123100A"), 0);
    assert_int_equal(id_check_digit(NULL), 0);
}

static void id_number_accepts_demo_numbers(void **state)
{
    (void)state;
    static const char *const good[] = { "11010519491231002X", "310115198805123454", "44030419950101123X" };
    for (size_t i = 0; i < 3; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[19];
        assert_int_equal(validate_id_number("--id-number", good[i], out, sizeof out, &e), 0);
        assert_string_equal(out, good[i]);
    }
}

static void id_number_uppercases_x_and_normalises_fullwidth(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    char out[19];
    assert_int_equal(validate_id_number("--id-number", "11010519491231002x", out, sizeof out, &e), 0);
    assert_string_equal(out, "11010519491231002X");
    assert_int_equal(validate_id_number("--id-number", "４４０３０４１９９５０１０１１２３ｘ", out, sizeof out, &e), 0);
    assert_string_equal(out, "44030419950101123X");
    assert_int_equal(validate_id_number("--id-number", " 310115198805123454\n", out, sizeof out, &e), 0);
    assert_string_equal(out, "310115198805123454");
}

static void id_number_rejects_wrong_check_digit_without_echo(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    char out[19];
    assert_usage(validate_id_number("--id-number", "310115198805123455", out, sizeof out, &e), &e,
                 "--id-number");
    assert_string_equal(e.code, "invalid_id_number");
    assert_non_null(strstr(e.message, "check digit does not match"));
    assert_null(strstr(e.message, "3101151988"));
    assert_null(strstr(e.hint, "3101151988"));
    err_clear(&e);
    assert_usage(validate_id_number("--id-number", "110105194912310020", out, sizeof out, &e), &e,
                 "--id-number");
}

static void id_number_rejects_bad_shapes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "11010519491231002", "11010519491231002XX", "1101051949123100XX", "A1010519491231002X",
        "11010519491231002Y", "110105 9491231002X", "11010519491231002-",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[19];
        assert_usage(validate_id_number("--id-number", bad[i], out, sizeof out, &e), &e, "--id-number");
        if (strlen(bad[i]) > 4)
            assert_null(strstr(e.message, bad[i]));
    }
}

static void id_number_rejects_impossible_birth_dates(void **state)
{
    (void)state;
    /* Each has a correct check digit, so only the date is wrong. */
    static const char *const dates[] = { "19491331", "19490230", "19490000", "18991231", "19010229" };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char id[19] = "110105", out[19];
        memcpy(id + 6, dates[i], 8);
        memcpy(id + 14, "002", 3);
        id[17] = id_check_digit(id);
        id[18] = '\0';
        struct ch_error e;
        err_clear(&e);
        assert_usage(validate_id_number("--id-number", id, out, sizeof out, &e), &e, "--id-number");
        assert_non_null(strstr(e.message, "birth date"));
    }
}

static void id_number_accepts_leap_day(void **state)
{
    (void)state;
    char id[19] = "11010520000229002", out[19];
    id[17] = id_check_digit(id);
    id[18] = '\0';
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(validate_id_number("--id-number", id, out, sizeof out, &e), 0);
}

static void id_last4_accepts_digits_and_x(void **state)
{
    (void)state;
    static const char *const in[] = { "002X", "002x", "3454", "０１２３", " 1234 ", "123ｘ" };
    static const char *const want[] = { "002X", "002X", "3454", "0123", "1234", "123X" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[5];
        assert_int_equal(validate_id_last4("--id-last4", in[i], out, sizeof out, &e), 0);
        assert_string_equal(out, want[i]);
    }
}

static void id_last4_rejects_bad_shapes(void **state)
{
    (void)state;
    static const char *const bad[] = { "", "123", "12345", "X123", "12X4", "abcd", "12 4", "002Y" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[5];
        assert_usage(validate_id_last4("--id-last4", bad[i], out, sizeof out, &e), &e, "--id-last4");
    }
}

/* ---------------------------------------------------------------- plates */

static void plate_accepts_ordinary_and_new_energy(void **state)
{
    (void)state;
    static const char *const in[] = {
        "京AD12345", "京B67890", "沪AD54321", "京ＡＤ１２３４５", "京ad12345", "粤b12345", "京A·D12345",
        "京A D12345", "京A-12345", "琼A12345D", "川AF12345", "藏AB1234",
        "京AAB123", " 浙A12345 ", "蒙Z99999", "京ADA1234",
    };
    static const char *const want[] = {
        "京AD12345", "京B67890", "沪AD54321", "京AD12345", "京AD12345", "粤B12345", "京AD12345",
        "京AD12345", "京A12345", "琼A12345D", "川AF12345", "藏AB1234",
        "京AAB123", "浙A12345", "蒙Z99999", "京ADA1234",
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[32];
        int rc = validate_plate("--plate", in[i], out, sizeof out, &e);
        if (rc)
            fail_msg("%s: %s", in[i], e.message);
        assert_string_equal(out, want[i]);
    }
}

static void plate_accepts_every_province(void **state)
{
    (void)state;
    static const char *const p[] = {
        "京", "津", "沪", "渝", "冀", "豫", "云", "辽", "黑", "湘", "皖", "鲁", "新", "苏", "浙", "赣",
        "鄂", "桂", "甘", "晋", "蒙", "陕", "吉", "闽", "贵", "粤", "青", "藏", "川", "宁", "琼",
    };
    assert_int_equal(sizeof p / sizeof p[0], 31);
    for (size_t i = 0; i < 31; i++) {
        char in[32], out[32];
        snprintf(in, sizeof in, "%sA12345", p[i]);
        struct ch_error e;
        err_clear(&e);
        assert_int_equal(validate_plate("--plate", in, out, sizeof out, &e), 0);
        assert_string_equal(out, in);
    }
}

static void plate_rejects_bad_shapes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "京", "京A", "京A1234", "京A1234567", "港A12345", "台A12345", "AA12345", "京112345",
        "京AI2345", "京AO2345", "京A12O45", "京A123456", "京AD1234A", "京AX12345", "京A12345X",
        "京AD12A45", "京A1234D5", "京A1234\xff", "京京A12345", "京A12345 6", "京A_12345",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        char out[32];
        if (validate_plate("--plate", bad[i], out, sizeof out, &e) != CH_USAGE)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(e.what, "--plate");
        assert_string_equal(e.code, "invalid_plate");
    }
}

static void plate_error_shows_expected_form(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    char out[32];
    validate_plate("--plate", "XYZ", out, sizeof out, &e);
    assert_non_null(strstr(e.message, "京A12345"));
    assert_non_null(strstr(e.message, "got 'XYZ'"));
}

/* ---------------------------------------------------------------- object IDs */

static void object_id_accepts_allowed_characters(void **state)
{
    (void)state;
    char out[65], longest[65];
    memset(longest, 'a', 64);
    longest[64] = '\0';
    static const char *const good[] = { "ord_20261101_0001", "acc_1001", "M100001", "a", "A-b_9" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        assert_int_equal(validate_object_id("ORDER", good[i], out, sizeof out, &e), 0);
        assert_string_equal(out, good[i]);
    }
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(validate_object_id("ORDER", longest, out, sizeof out, &e), 0);
    assert_int_equal(validate_object_id("ORDER", "ｏｒｄ＿１", out, sizeof out, &e), 0);
    assert_string_equal(out, "ord_1");
}

static void object_id_rejects_bad_characters_and_lengths(void **state)
{
    (void)state;
    char out[80], toolong[66];
    memset(toolong, 'a', 65);
    toolong[65] = '\0';
    static const char *const bad[] = { "", "ord 1", "ord/1", "../etc", "ord?x=1", "订单", "a.b", "%2e" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        assert_usage(validate_object_id("ORDER", bad[i], out, sizeof out, &e), &e, "ORDER");
    }
    struct ch_error e;
    err_clear(&e);
    assert_usage(validate_object_id("ORDER", toolong, out, sizeof out, &e), &e, "ORDER");
}

/* ---------------------------------------------------------------- since */

static time_t local_time(int y, int m, int d, int hh, int mm)
{
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static void since_accepts_dates_and_ages(void **state)
{
    (void)state;
    time_t now = local_time(2026, 11, 25, 19, 41), t;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(validate_since("--since", "2026-11-25", now, &t, &e), 0);
    assert_true(t == local_time(2026, 11, 25, 0, 0));
    assert_int_equal(validate_since("--since", "2024-02-29", now, &t, &e), 0);
    assert_int_equal(validate_since("--since", "7d", now, &t, &e), 0);
    assert_true(t == now - 7 * 86400);
    assert_int_equal(validate_since("--since", "24h", now, &t, &e), 0);
    assert_true(t == now - 86400);
    assert_int_equal(validate_since("--since", "30m", now, &t, &e), 0);
    assert_true(t == now - 1800);
    assert_int_equal(validate_since("--since", "3650d", now, &t, &e), 0);
    assert_int_equal(validate_since("--since", "０７ｄ", now, &t, &e), 0);
    assert_true(t == now - 7 * 86400);
    assert_int_equal(validate_since("--since", "２０２６－１１－０１", now, &t, &e), 0);
}

static void since_rejects_future_and_bad_forms(void **state)
{
    (void)state;
    time_t now = local_time(2026, 11, 25, 19, 41), t;
    static const char *const bad[] = {
        "", "2026-11-26", "2027-01-01", "2026-13-01", "2026-02-29", "2026-11-31", "26-11-25",
        "2026/11/25", "7", "d", "7w", "-7d", "7.5d", "3651d", "87601h", "5256001m", "7 d", "7dd",
        "99999999999999999999999d", "yesterday", "2026-11-25T00:00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        if (validate_since("--since", bad[i], now, &t, &e) != CH_USAGE)
            fail_msg("accepted '%s'", bad[i]);
        assert_string_equal(e.what, "--since");
    }
}

/* ---------------------------------------------------------------- coordinates */

static void coordinates_accept_decimal_degrees(void **state)
{
    (void)state;
    double lat, lng;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(validate_coordinates("--location", "39.9087,116.3975", &lat, &lng, &e), 0);
    assert_true(lat == 39.9087 && lng == 116.3975);
    assert_int_equal(validate_coordinates("--location", "39.9，116.4", &lat, &lng, &e), 0);
    assert_true(lat == 39.9 && lng == 116.4);
    assert_int_equal(validate_coordinates("--location", "３９．９，１１６．４", &lat, &lng, &e), 0);
    assert_int_equal(validate_coordinates("--location", " -33.86 , 151.2 ", &lat, &lng, &e), 0);
    assert_true(lat == -33.86 && lng == 151.2);
    assert_int_equal(validate_coordinates("--location", "90,-180", &lat, &lng, &e), 0);
    assert_int_equal(validate_coordinates("--location", "-90,180", &lat, &lng, &e), 0);
    assert_int_equal(validate_coordinates("--location", "0,0", &lat, &lng, &e), 0);
    assert_int_equal(validate_coordinates("--location", "39.9、116.4", &lat, &lng, &e), 0);
}

static void coordinates_reject_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "39.9", "39.9,", ",116.4", "39.9,116.4,1", "90.0001,0", "-91,0", "0,180.5", "0,-181",
        "nan,0", "0,inf", "1e1,2", "0x10,1", "39.9;116.4", "39.9 116.4", "abc,def", "39..9,116",
        ".,1", "+,1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double lat, lng;
        struct ch_error e;
        err_clear(&e);
        if (validate_coordinates("--location", bad[i], &lat, &lng, &e) != CH_USAGE)
            fail_msg("accepted '%s'", bad[i]);
        assert_string_equal(e.what, "--location");
    }
}

static void coordinates_range_error_names_the_part(void **state)
{
    (void)state;
    double lat, lng;
    struct ch_error e;
    err_clear(&e);
    validate_coordinates("--location", "95,116", &lat, &lng, &e);
    assert_non_null(strstr(e.message, "latitude"));
    err_clear(&e);
    validate_coordinates("--location", "39,200", &lat, &lng, &e);
    assert_non_null(strstr(e.message, "longitude"));
}

/* ---------------------------------------------------------------- numbers */

static void seconds_accepts_positive_up_to_max(void **state)
{
    (void)state;
    double v;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(validate_seconds("--timeout", "15", 3600, &v, &e), 0);
    assert_true(v == 15);
    assert_int_equal(validate_seconds("--timeout", "0.5", 3600, &v, &e), 0);
    assert_true(v == 0.5);
    assert_int_equal(validate_seconds("--timeout", "3600", 3600, &v, &e), 0);
    assert_int_equal(validate_seconds("--timeout", "１０", 3600, &v, &e), 0);
    assert_true(v == 10);
}

static void seconds_rejects_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "0", "-1", "3600.5", "abc", "10s", "1e3", "inf", "nan", "0x10", " ", "1 0", "..", "+",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        struct ch_error e;
        err_clear(&e);
        if (validate_seconds("CARHELP_TIMEOUT", bad[i], 3600, &v, &e) != CH_USAGE)
            fail_msg("accepted '%s'", bad[i]);
        assert_string_equal(e.what, "CARHELP_TIMEOUT");
    }
    struct ch_error e;
    err_clear(&e);
    double v;
    validate_seconds("CARHELP_TIMEOUT", "abc", 3600, &v, &e);
    assert_non_null(strstr(e.message, "expected seconds"));
    assert_non_null(strstr(e.message, "got 'abc'"));
}

static void int_is_strict(void **state)
{
    (void)state;
    long v;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(validate_int("--retries", "0", 0, 10, &v, &e), 0);
    assert_int_equal(v, 0);
    assert_int_equal(validate_int("--retries", "10", 0, 10, &v, &e), 0);
    assert_int_equal(v, 10);
    assert_int_equal(validate_int("--retries", "007", 0, 10, &v, &e), 0);
    assert_int_equal(v, 7);
    assert_int_equal(validate_int("--limit", "５", 1, 100, &v, &e), 0);
    assert_int_equal(v, 5);
    static const char *const bad[] = {
        "", "-1", "11", "1.0", "1x", "x1", "0x5", " ", "1 2", "99999999999999999999999", "+",
        "-", "1e2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        if (validate_int("--retries", bad[i], 0, 10, &v, &e) != CH_USAGE)
            fail_msg("accepted '%s'", bad[i]);
        assert_string_equal(e.what, "--retries");
    }
    err_clear(&e);
    assert_int_equal(validate_int("n", "9223372036854775807", 0, 9223372036854775807L, &v, &e), 0);
    assert_int_equal(validate_int("n", "9223372036854775808", 0, 9223372036854775807L, &v, &e), CH_USAGE);
}

/* ---------------------------------------------------------------- API URL */

static void api_url_accepts_https_and_loopback_http(void **state)
{
    (void)state;
    static const char *const good[] = {
        "https://api.example.com", "https://api.example.com/", "https://api.example.com:8443/base",
        "HTTPS://API.EXAMPLE.COM", "http://127.0.0.1:8765", "http://127.5.6.7", "http://localhost:8765/",
        "http://LOCALHOST", "http://[::1]:8765", "http://[::1]", "https://[2001:db8::1]:443/",
        "https://10.0.0.1", "http://[::ffff:127.0.0.1]:80",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        if (validate_api_url("--api-url", good[i], &e) != 0)
            fail_msg("%s: %s", good[i], e.message);
    }
}

static void api_url_refuses_plain_http_to_other_hosts(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "http://api.example.com", "http://10.0.0.1:8765", "http://128.0.0.1", "http://[2001:db8::1]",
        "http://localhost.example.com", "http://127.0.0.1.example.com", "http://0.0.0.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        if (validate_api_url("--api-url", bad[i], &e) != CH_USAGE)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(e.what, "--api-url");
        assert_non_null(strstr(e.message, "plain http:// is allowed only for loopback hosts; use https://"));
    }
}

static void api_url_rejects_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "example.com", "ftp://example.com", "https://", "https:///path", "https://user:pw@example.com",
        "http://user@127.0.0.1", "https://exa mple.com", "https://example.com:0", "https://example.com:65536",
        "https://example.com:abc", "https://example.com:", "http://[::1", "http://[zz]:80", "http://[::1]x",
        "https://example.com/?q=1", "https://example.com/#x", "https://ex\nample.com", "file:///etc/passwd",
        "javascript:alert(1)", "https://例子.com",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        if (validate_api_url("CARHELP_API_URL", bad[i], &e) != CH_USAGE)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(e.what, "CARHELP_API_URL");
    }
    struct ch_error e;
    err_clear(&e);
    validate_api_url("--api-url", "https://user:secret@example.com", &e);
    assert_null(strstr(e.message, "secret"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_maps_fullwidth_to_ascii),
        cmocka_unit_test(normalize_trims_ascii_whitespace),
        cmocka_unit_test(normalize_keeps_other_text),
        cmocka_unit_test(normalize_rejects_invalid_utf8),
        cmocka_unit_test(normalize_rejects_small_buffer),
        cmocka_unit_test(phone_accepts_plain_and_prefixed_numbers),
        cmocka_unit_test(phone_accepts_every_second_digit_3_to_9),
        cmocka_unit_test(phone_rejects_bad_numbers),
        cmocka_unit_test(phone_error_names_field_and_form),
        cmocka_unit_test(phone_error_does_not_echo_control_characters),
        cmocka_unit_test(phone_error_truncates_long_input),
        cmocka_unit_test(phone_rejects_too_small_output),
        cmocka_unit_test(id_check_digit_matches_gb11643),
        cmocka_unit_test(id_number_accepts_demo_numbers),
        cmocka_unit_test(id_number_uppercases_x_and_normalises_fullwidth),
        cmocka_unit_test(id_number_rejects_wrong_check_digit_without_echo),
        cmocka_unit_test(id_number_rejects_bad_shapes),
        cmocka_unit_test(id_number_rejects_impossible_birth_dates),
        cmocka_unit_test(id_number_accepts_leap_day),
        cmocka_unit_test(id_last4_accepts_digits_and_x),
        cmocka_unit_test(id_last4_rejects_bad_shapes),
        cmocka_unit_test(plate_accepts_ordinary_and_new_energy),
        cmocka_unit_test(plate_accepts_every_province),
        cmocka_unit_test(plate_rejects_bad_shapes),
        cmocka_unit_test(plate_error_shows_expected_form),
        cmocka_unit_test(object_id_accepts_allowed_characters),
        cmocka_unit_test(object_id_rejects_bad_characters_and_lengths),
        cmocka_unit_test(since_accepts_dates_and_ages),
        cmocka_unit_test(since_rejects_future_and_bad_forms),
        cmocka_unit_test(coordinates_accept_decimal_degrees),
        cmocka_unit_test(coordinates_reject_bad_values),
        cmocka_unit_test(coordinates_range_error_names_the_part),
        cmocka_unit_test(seconds_accepts_positive_up_to_max),
        cmocka_unit_test(seconds_rejects_bad_values),
        cmocka_unit_test(int_is_strict),
        cmocka_unit_test(api_url_accepts_https_and_loopback_http),
        cmocka_unit_test(api_url_refuses_plain_http_to_other_hosts),
        cmocka_unit_test(api_url_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
