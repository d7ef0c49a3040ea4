/* Human output: widths in any locale, Chinese table alignment, masking, money, times. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "output.h"

/* Runs the width checks under both the plain C locale (our own table) and C.UTF-8 (libc). */
static const char *const locales[] = { "C", "C.UTF-8" };

static void check_widths(void)
{
    assert_int_equal(display_width(""), 0);
    assert_int_equal(display_width("hello"), 5);
    assert_int_equal(display_width("王小明"), 6);
    assert_int_equal(display_width("京AD12345"), 9);
    assert_int_equal(display_width("状态: active"), 12);
    assert_int_equal(display_width("ＡＢ"), 4);          /* fullwidth forms */
    assert_int_equal(display_width("¥12.40"), 6);        /* yen sign is narrow */
    assert_int_equal(display_width("e\xcc\x81"), 1);     /* e + combining acute */
    assert_int_equal(display_width("\xff"), 1);          /* invalid byte: one column */
    assert_int_equal(display_width("a\xe4\xb8"), 3);     /* truncated sequence: a + 2 bytes */
    assert_int_equal(display_width("\xc0\xaf"), 2);      /* overlong '/', two bad bytes */
    assert_int_equal(display_width("中\xff文"), 5);
}

static void widths_count_chinese_as_two_in_every_locale(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (!setlocale(LC_ALL, locales[i]))
            continue;   /* a machine without C.UTF-8 still checks the C locale */
        check_widths();
    }
    setlocale(LC_ALL, "C");
    assert_int_equal(display_width(NULL), 0);
}

static char *capture_table(bool color)
{
    const char *headers[] = { "ID", "姓名", "余额" };
    struct table *t = table_new(3, headers);
    const char *r1[] = { "acc_1001", "王小明", "¥58.00" };
    const char *r2[] = { "acc_1003", "Zhang Wei", "¥0.00" };
    const char *r3[] = { "x", "李娜", "¥120.00" };
    table_add_row(t, r1);
    table_add_row(t, r2);
    table_add_row(t, r3);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    table_print(t, f, color);
    fclose(f);
    table_free(t);
    return text;
}

static void tables_align_chinese_by_display_width(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (!setlocale(LC_ALL, locales[i]))
            continue;
        char *text = capture_table(false);
        assert_string_equal(text,
                            "ID        姓名       余额\n"
                            "acc_1001  王小明     ¥58.00\n"
                            "acc_1003  Zhang Wei  ¥0.00\n"
                            "x         李娜       ¥120.00\n");
        free(text);
    }
    setlocale(LC_ALL, "C");
}

static void table_header_is_bold_only_with_colour(void **state)
{
    (void)state;
    char *text = capture_table(true);
    assert_memory_equal(text, "\033[1mID", 6);
    assert_non_null(strstr(text, "余额\033[0m\n"));
    free(text);
}

static void table_cells_cannot_inject_escape_sequences(void **state)
{
    (void)state;
    const char *headers[] = { "a", "b" };
    struct table *t = table_new(2, headers);
    const char *row[] = { "x\033[2Jy", "line1\nline2" };
    table_add_row(t, row);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    table_print(t, f, false);
    fclose(f);
    table_free(t);
    assert_null(strchr(text, '\033'));
    assert_non_null(strstr(text, "x?[2Jy  line1?line2\n"));
    free(text);
}

static void print_padded_pads_to_columns_not_bytes(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    print_padded(f, "王", 5);
    fputc('|', f);
    print_padded(f, "toolong", 3);
    fputc('|', f);
    fclose(f);
    assert_string_equal(text, "王   |toolong|");
    free(text);
}

static void phones_and_ids_are_masked(void **state)
{
    (void)state;
    char out[64];
    mask_phone("13800138000", out, sizeof out);
    assert_string_equal(out, "138****8000");
    mask_phone("8613800138000", out, sizeof out);
    assert_string_equal(out, "861******8000");
    mask_phone("12345", out, sizeof out);
    assert_string_equal(out, "*****");
    mask_phone("", out, sizeof out);
    assert_string_equal(out, "");
    mask_id_number("11010519491231002X", out, sizeof out);
    assert_string_equal(out, "1101**********002X");
    mask_id_number("1234567", out, sizeof out);
    assert_string_equal(out, "*******");
    char tiny[6];
    mask_phone("13800138000", tiny, sizeof tiny);
    assert_string_equal(tiny, "138**");   /* truncated, still masked */
}

static void money_is_formatted_with_integers(void **state)
{
    (void)state;
    char out[64];
    format_fen(0, out, sizeof out);
    assert_string_equal(out, "¥0.00");
    format_fen(5, out, sizeof out);
    assert_string_equal(out, "¥0.05");
    format_fen(1240, out, sizeof out);
    assert_string_equal(out, "¥12.40");
    format_fen(-300, out, sizeof out);
    assert_string_equal(out, "-¥3.00");
    format_fen(-5, out, sizeof out);
    assert_string_equal(out, "-¥0.05");
    format_fen(123456789012345LL, out, sizeof out);
    assert_string_equal(out, "¥1234567890123.45");
    format_fen(LLONG_MAX, out, sizeof out);
    assert_string_equal(out, "¥92233720368547758.07");
    format_fen(LLONG_MIN, out, sizeof out);
    assert_string_equal(out, "-¥92233720368547758.08");
}

static void rfc3339_parses_offsets_and_fractions(void **state)
{
    (void)state;
    /* 2026-11-25T11:41:00Z */
    const time_t want = 1795606860;
    assert_int_equal(parse_rfc3339("2026-11-25T11:41:00Z"), want);
    assert_int_equal(parse_rfc3339("2026-11-25T19:41:00+08:00"), want);
    assert_int_equal(parse_rfc3339("2026-11-25T06:41:00-05:00"), want);
    assert_int_equal(parse_rfc3339("2026-11-25t11:41:00z"), want);
    assert_int_equal(parse_rfc3339("2026-11-25 11:41:00Z"), want);
    assert_int_equal(parse_rfc3339("2026-11-25T11:41:00.123456Z"), want);
    assert_int_equal(parse_rfc3339("2026-11-25T19:41:00.5+08:00"), want);
    assert_int_equal(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800);
}

static void rfc3339_rejects_malformed_input(void **state)
{
    (void)state;
    const char *bad[] = {
        NULL, "", "2026-11-25", "2026-11-25T11:41:00", "2026-11-25T11:41Z",
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-11-25T24:00:00Z", "2026-11-25T11:60:00Z", "2026-11-25T11:41:00+0800",
        "2026-11-25T11:41:00+24:00", "2026-11-25T11:41:00.Z", "2026-11-25T11:41:00Zjunk",
        " 2026-11-25T11:41:00Z", "26-11-25T11:41:00Z", "2026-1-25T11:41:00Z",
        "2026-11-25X11:41:00Z", "２０２６-11-25T11:41:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_rfc3339(bad[i]) != (time_t)-1)
            fail_msg("accepted %s", bad[i] ? bad[i] : "(null)");
}

static void local_times_round_trip(void **state)
{
    (void)state;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    char out[64];
    time_t t = parse_rfc3339("2026-11-25T11:41:07Z");
    format_local_time(t, out, sizeof out);
    assert_string_equal(out, "2026-11-25 19:41");
    format_rfc3339(t, out, sizeof out);
    assert_string_equal(out, "2026-11-25T19:41:07+08:00");
    assert_int_equal(parse_rfc3339(out), t);

    setenv("TZ", "America/St_Johns", 1);   /* a half-hour, negative offset */
    tzset();
    format_rfc3339(t, out, sizeof out);
    assert_string_equal(out, "2026-11-25T08:11:07-03:30");
    assert_int_equal(parse_rfc3339(out), t);

    setenv("TZ", "UTC", 1);
    tzset();
    format_rfc3339(t, out, sizeof out);
    assert_string_equal(out, "2026-11-25T11:41:07+00:00");
    unsetenv("TZ");
    tzset();
}

static void the_clock_honours_carhelp_now(void **state)
{
    (void)state;
    setenv("CARHELP_NOW", "2026-11-25T19:41:00+08:00", 1);
    assert_int_equal(ch_now(), 1795606860);
    setenv("CARHELP_NOW", "not a time", 1);
    time_t before = time(NULL);
    time_t now = ch_now();
    assert_true(now >= before && now <= time(NULL));
    unsetenv("CARHELP_NOW");
    assert_true(ch_now() >= before);
}

static void colour_follows_when_and_no_color(void **state)
{
    (void)state;
    unsetenv("NO_COLOR");
    assert_true(color_enabled(COLOR_ALWAYS, -1));
    assert_false(color_enabled(COLOR_NEVER, 1));
    assert_false(color_enabled(COLOR_AUTO, -1));   /* not a terminal */
    setenv("NO_COLOR", "1", 1);
    assert_false(color_enabled(COLOR_AUTO, 1));
    assert_true(color_enabled(COLOR_ALWAYS, 1));   /* the option beats the variable */
    unsetenv("NO_COLOR");
    assert_string_equal(c_red(false), "");
    assert_string_equal(c_red(true), "\033[31m");
    assert_string_equal(c_reset(true), "\033[0m");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(widths_count_chinese_as_two_in_every_locale),
        cmocka_unit_test(tables_align_chinese_by_display_width),
        cmocka_unit_test(table_header_is_bold_only_with_colour),
        cmocka_unit_test(table_cells_cannot_inject_escape_sequences),
        cmocka_unit_test(print_padded_pads_to_columns_not_bytes),
        cmocka_unit_test(phones_and_ids_are_masked),
        cmocka_unit_test(money_is_formatted_with_integers),
        cmocka_unit_test(rfc3339_parses_offsets_and_fractions),
        cmocka_unit_test(rfc3339_rejects_malformed_input),
        cmocka_unit_test(local_times_round_trip),
        cmocka_unit_test(the_clock_honours_carhelp_now),
        cmocka_unit_test(colour_follows_when_and_no_color),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
