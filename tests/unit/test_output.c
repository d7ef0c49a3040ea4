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
    assert_non_null(strstr(text, "x\\x1b[2Jy  line1\\x0aline2\n"));
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

/* ---- the sanitiser ---- */

static char *safe(const char *s)
{
    static char out[512];
    return term_safe(s, out, sizeof out);
}

static void sanitiser_escapes_c0_controls_and_del(void **state)
{
    (void)state;
    assert_string_equal(safe("a\033[2Jb"), "a\\x1b[2Jb");
    assert_string_equal(safe("\033]0;title\007"), "\\x1b]0;title\\x07");
    assert_string_equal(safe("paid\rREFUND"), "paid\\x0dREFUND");
    assert_string_equal(safe("x\by\tz\x7f"), "x\\x08y\\x09z\\x7f");
    assert_string_equal(safe("one\ntwo"), "one\\x0atwo");
    assert_string_equal(safe("\x01"), "\\x01");
    assert_string_equal(safe("\x1f "), "\\x1f ");
    assert_string_equal(safe(""), "");
    assert_string_equal(safe(NULL), "");
}

static void sanitiser_escapes_c1_controls_up_to_u009f(void **state)
{
    (void)state;
    assert_string_equal(safe("\xc2\x80"), "\\u0080");
    assert_string_equal(safe("a\xc2\x9b" "2Jb"), "a\\u009b2Jb");        /* CSI */
    assert_string_equal(safe("\xc2\x9f"), "\\u009f");                 /* last C1 */
    assert_string_equal(safe("\xc2\xa0"), "\xc2\xa0");                /* NBSP is text */
    assert_string_equal(safe("\xc2\xa9 2026"), "\xc2\xa9 2026");      /* (c) */
    assert_false(term_char_is_hidden(0xA0));
    assert_true(term_char_is_hidden(0x9F));
    assert_true(term_char_is_hidden(0x7F));
    assert_false(term_char_is_hidden(0x7E));
}

static void sanitiser_neutralises_bidi_controls(void **state)
{
    (void)state;
    assert_string_equal(safe("\xe2\x80\xa9"), "\\u2029");             /* paragraph separator */
    assert_string_equal(safe("\xe2\x80\xaa"), "\\u202a");             /* LRE, first embedding */
    assert_string_equal(safe("txt\xe2\x80\xae" "cod.exe"), "txt\\u202ecod.exe");   /* RLO */
    assert_string_equal(safe("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069"); /* isolates */
    assert_string_equal(safe("\xe2\x80\x8e\xe2\x80\x8f"), "\\u200e\\u200f");     /* LRM, RLM */
    assert_string_equal(safe("\xd8\x9c"), "\\u061c");                 /* Arabic letter mark */
    assert_string_equal(safe("\xe2\x80\xaf"), "\xe2\x80\xaf");        /* U+202F: a space */
    assert_string_equal(safe("\xe2\x81\xb0"), "\xe2\x81\xb0");        /* U+2070: superscript 0 */
}

static void sanitiser_shows_invisible_format_characters(void **state)
{
    (void)state;
    assert_string_equal(safe("\xe4\xba\xac\xe2\x80\x8b" "A12345"), "\xe4\xba\xac\\u200bA12345");
    assert_string_equal(safe("\xef\xbb\xbfid"), "\\ufeffid");         /* BOM */
    assert_string_equal(safe("a\xc2\xad" "b"), "a\\u00adb");          /* soft hyphen */
    assert_string_equal(safe("\xe2\x81\xa0"), "\\u2060");             /* word joiner */
    assert_string_equal(safe("\xe3\x85\xa4"), "\\u3164");             /* Hangul filler */
    assert_string_equal(safe("\xf3\xa0\x80\x81"), "\\U000e0001");     /* language tag */
    assert_string_equal(safe("\xf3\xa0\x81\xbf"), "\\U000e007f");     /* cancel tag */
    assert_string_equal(safe("e\xcc\x81"), "e\xcc\x81");              /* combining mark kept */
    assert_string_equal(safe("\xef\xb8\x8f"), "\xef\xb8\x8f");        /* variation selector */
}

static void sanitiser_replaces_ill_formed_utf8(void **state)
{
    (void)state;
    const char *r = "\xef\xbf\xbd";
    char want[64];
    assert_string_equal(safe("\xff"), r);
    assert_string_equal(safe("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");   /* overlong '/' */
    assert_string_equal(safe("\xe0\x80\xaf"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(safe("\xc1\x9b"), "\xef\xbf\xbd\xef\xbf\xbd");   /* overlong CSI */
    assert_string_equal(safe("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* D800 */
    assert_string_equal(safe("\xed\xbf\xbf"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* DFFF */
    assert_string_equal(safe("\xed\x9f\xbf"), "\xed\x9f\xbf");        /* U+D7FF is fine */
    assert_string_equal(safe("\xf4\x90\x80\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(safe("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    snprintf(want, sizeof want, "a%s", r);
    assert_string_equal(safe("a\xe4\xb8"), want);        /* truncated at the end: one U+FFFD */
    assert_string_equal(safe("a\xf0\x9f\x98"), want);
    assert_string_equal(safe("a\xc3"), want);
    snprintf(want, sizeof want, "%sA", r);
    assert_string_equal(safe("\xe4\xb8" "A"), want);     /* truncated before ASCII */
    assert_string_equal(safe("\x80" "A"), want);         /* a stray continuation byte */
}

static void sanitiser_keeps_chinese_and_emoji(void **state)
{
    (void)state;
    const char *text = "\xe8\xbd\xa6\xe9\x97\xa8\xe6\x89\x93\xe4\xb8\x8d\xe5\xbc\x80 "
                       "\xef\xbc\x88\xe4\xba\xac" "AD12345\xef\xbc\x89 \xf0\x9f\x9a\x97";
    assert_string_equal(safe(text), text);
    assert_string_equal(safe("\xe2\x80\xa6 \xc2\xa5" "12.40"), "\xe2\x80\xa6 \xc2\xa5" "12.40");
}

static void sanitiser_widths_are_those_of_the_escaped_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (!setlocale(LC_ALL, locales[i]))
            continue;
        assert_int_equal(display_width(safe("\033[2J")), 7);            /* \x1b[2J */
        assert_int_equal(display_width(safe("\xe7\x8e\x8b\xe2\x80\xae")), 8); /* 王\u202e */
        assert_int_equal(display_width(safe("\xff" "a")), 2);
        char cut[64];
        term_safe_cols("\xe8\xbd\xa6\xe9\x97\xa8\xe6\x89\x93\xe4\xb8\x8d\xe5\xbc\x80", 7, cut,
                       sizeof cut);
        assert_string_equal(cut, "\xe8\xbd\xa6\xe9\x97\xa8\xe6\x89\x93\xe2\x80\xa6");  /* 车门打… */
        assert_int_equal(display_width(cut), 7);
        term_safe_cols("ab\033cdef", 6, cut, sizeof cut);   /* never half an escape */
        assert_string_equal(cut, "ab\xe2\x80\xa6");
        term_safe_cols("ab\033", 6, cut, sizeof cut);
        assert_string_equal(cut, "ab\\x1b");
    }
    setlocale(LC_ALL, "C");
}

static void sanitiser_cuts_at_a_boundary_when_the_buffer_is_small(void **state)
{
    (void)state;
    char out[8];
    term_safe("ab\033cd", out, sizeof out);
    assert_string_equal(out, "ab\\x1bc");
    term_safe("abcde\033", out, sizeof out);
    assert_string_equal(out, "abcde");             /* the escape does not fit whole */
    term_safe("a\xe4\xb8\xad\xe6\x96\x87", out, sizeof out);
    assert_string_equal(out, "a\xe4\xb8\xad\xe6\x96\x87");
    char tiny[4];
    term_safe("\xe4\xb8\xad\xe6\x96\x87", tiny, sizeof tiny);
    assert_string_equal(tiny, "\xe4\xb8\xad");
    /* The safe form is stable: a second pass changes nothing. */
    char once[128], twice[128];
    term_safe("x\033\xc2\x9b\xe2\x80\xae\xff", once, sizeof once);
    term_safe(once, twice, sizeof twice);
    assert_string_equal(once, twice);
}

static void multiline_keeps_newlines_only(void **state)
{
    (void)state;
    char *s = term_safe_dup("line1\nline2\r\nline3\rX\033", TERM_MULTILINE);
    assert_string_equal(s, "line1\nline2\nline3\\x0dX\\x1b");
    free(s);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    term_print(f, "a\nb\xe2\x80\xae\n", TERM_MULTILINE, "  ");
    term_print(f, "|c\nd", TERM_ONE_LINE, "  ");
    fclose(f);
    assert_string_equal(text, "a\n  b\\u202e\n|c\\x0ad");
    free(text);
}

static void tokens_are_recognised_by_a_long_run(void **state)
{
    (void)state;
    assert_true(looks_like_token("0123456789abcdef0123456789abcdef"));      /* 32 hex */
    assert_false(looks_like_token("0123456789abcdef0123456789abcde"));      /* 31 */
    assert_true(looks_like_token("x.eyJhbGciOiJIUzI1NiJ9_eyJzdWIiOiIxMjM0NTY3ODkw"));
    assert_true(looks_like_token("Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4+/=="));
    assert_false(looks_like_token("order show ord_20261101_0001"));
    assert_false(looks_like_token(NULL));
}

static void words_are_echoed_short_and_safe(void **state)
{
    (void)state;
    char out[128];
    assert_false(term_word("ordr", 20, out, sizeof out));
    assert_string_equal(out, "ordr");
    term_word("abcdefghijklmnopqrstuvwxyz", 20, out, sizeof out);
    assert_string_equal(out, "abcdefghijklmnopqrst\xe2\x80\xa6");
    term_word("abcdefghijklmnopqrst", 20, out, sizeof out);
    assert_string_equal(out, "abcdefghijklmnopqrst");
    /* 20 characters, not bytes: Chinese is kept whole. */
    term_word("\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd"
              "\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8"
              "\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6\xe8\xbd\xa6"
              "\xe8\xbd\xa6", 20, out, sizeof out);
    assert_int_equal(display_width(out), 41);
    term_word("a\033[2J", 20, out, sizeof out);
    assert_string_equal(out, "a\\x1b[2J");
    assert_true(term_word("sk_0123456789abcdef0123456789abcdef", 20, out, sizeof out));
    assert_string_equal(out, "sk_0\xe2\x80\xa6");
    assert_true(term_word("\033]0;0123456789abcdef0123456789abcdef", 20, out, sizeof out));
    assert_string_equal(out, "\\x1b]0;\xe2\x80\xa6");
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
        cmocka_unit_test(sanitiser_escapes_c0_controls_and_del),
        cmocka_unit_test(sanitiser_escapes_c1_controls_up_to_u009f),
        cmocka_unit_test(sanitiser_neutralises_bidi_controls),
        cmocka_unit_test(sanitiser_shows_invisible_format_characters),
        cmocka_unit_test(sanitiser_replaces_ill_formed_utf8),
        cmocka_unit_test(sanitiser_keeps_chinese_and_emoji),
        cmocka_unit_test(sanitiser_widths_are_those_of_the_escaped_text),
        cmocka_unit_test(sanitiser_cuts_at_a_boundary_when_the_buffer_is_small),
        cmocka_unit_test(multiline_keeps_newlines_only),
        cmocka_unit_test(tokens_are_recognised_by_a_long_run),
        cmocka_unit_test(words_are_echoed_short_and_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
