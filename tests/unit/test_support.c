/* The built-in support model: hours, peaks, waits, best time to call, --at parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "support.h"

/* 2026-11-25 is a Wednesday, 2026-11-28 a Saturday, 2026-11-29 a Sunday. */
static time_t at(int day, int hour, int minute)
{
    return support_zone_mktime(2026, 11, day, hour, minute, 0);
}

static void zone_time_is_utc_plus_8_across_the_year_end(void **state)
{
    (void)state;
    struct zone_time zt;
    support_zone_time((time_t)1798732800, &zt);   /* 2026-12-31T16:00:00Z */
    assert_int_equal(zt.year, 2027);
    assert_int_equal(zt.month, 1);
    assert_int_equal(zt.day, 1);
    assert_int_equal(zt.hour, 0);
    assert_int_equal(zt.wday, 5);                   /* Friday */
    assert_int_equal(support_zone_mktime(2027, 1, 1, 0, 0, 0), (time_t)1798732800);
    support_zone_time(at(25, 19, 41), &zt);
    assert_int_equal(zt.wday, 3);
    assert_int_equal(zt.hour, 19);
    assert_int_equal(zt.minute, 41);
}

static void line_opens_at_8_and_closes_at_22(void **state)
{
    (void)state;
    assert_false(support_is_open(at(25, 7, 59) + 59));
    assert_true(support_is_open(at(25, 8, 0)));
    assert_true(support_is_open(at(25, 21, 59) + 59));
    assert_false(support_is_open(at(25, 22, 0)));
    assert_false(support_is_open(at(25, 0, 0)));
    assert_true(support_is_open(at(28, 8, 0)));     /* weekends too */
}

static void weekday_peaks_are_0730_to_0930_and_1730_to_2000(void **state)
{
    (void)state;
    assert_false(support_is_peak(at(25, 7, 29)));
    assert_true(support_is_peak(at(25, 7, 30)));
    assert_true(support_is_peak(at(25, 9, 29)));
    assert_false(support_is_peak(at(25, 9, 30)));
    assert_false(support_is_peak(at(25, 12, 0)));
    assert_false(support_is_peak(at(25, 17, 29)));
    assert_true(support_is_peak(at(25, 17, 30)));
    assert_true(support_is_peak(at(25, 19, 59)));
    assert_false(support_is_peak(at(25, 20, 0)));
}

static void weekend_peak_is_1000_to_1800(void **state)
{
    (void)state;
    assert_false(support_is_peak(at(28, 8, 0)));     /* no weekday morning peak */
    assert_false(support_is_peak(at(28, 9, 59)));
    assert_true(support_is_peak(at(28, 10, 0)));
    assert_true(support_is_peak(at(29, 17, 59)));
    assert_false(support_is_peak(at(29, 18, 0)));
    assert_false(support_is_peak(at(28, 19, 0)));    /* no weekday evening peak */
}

static void wait_is_5_to_10_min_at_peak_1_to_3_off_peak_none_closed(void **state)
{
    (void)state;
    int lo, hi;
    assert_true(support_wait_range(at(25, 8, 0), &lo, &hi));
    assert_int_equal(lo, 300);
    assert_int_equal(hi, 600);
    assert_true(support_wait_range(at(25, 12, 0), &lo, &hi));
    assert_int_equal(lo, 60);
    assert_int_equal(hi, 180);
    assert_false(support_wait_range(at(25, 7, 45), &lo, &hi));   /* peak but closed */
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 0);
}

static void next_open_rolls_over_to_tomorrow_after_closing(void **state)
{
    (void)state;
    assert_int_equal(support_next_open(at(25, 12, 0)), at(25, 12, 0));
    assert_int_equal(support_next_open(at(25, 5, 0)), at(25, 8, 0));
    assert_int_equal(support_next_open(at(25, 22, 0)), at(26, 8, 0));
    assert_int_equal(support_next_open(at(25, 23, 59)), at(26, 8, 0));
    assert_int_equal(support_next_open(support_zone_mktime(2026, 12, 31, 23, 0, 0)),
                     support_zone_mktime(2027, 1, 1, 8, 0, 0));
    assert_int_equal(support_next_close(at(25, 12, 0)), at(25, 22, 0));
    assert_int_equal(support_next_close(at(25, 23, 0)), -1);
}

static void best_time_is_now_when_quiet(void **state)
{
    (void)state;
    time_t until;
    assert_int_equal(support_best_time(at(25, 12, 0), &until), at(25, 12, 0));
    assert_int_equal(until, at(25, 17, 30));
    assert_int_equal(support_best_time(at(27, 21, 0), &until), at(27, 21, 0));
    assert_int_equal(until, at(27, 22, 0));
}

static void best_time_skips_weekday_peaks(void **state)
{
    (void)state;
    time_t until;
    assert_int_equal(support_best_time(at(25, 7, 0), &until), at(25, 9, 30));
    assert_int_equal(until, at(25, 17, 30));
    assert_int_equal(support_best_time(at(25, 18, 0), &until), at(25, 20, 0));
    assert_int_equal(until, at(25, 22, 0));
}

static void best_time_skips_a_slot_too_short_and_rolls_to_tomorrow(void **state)
{
    (void)state;
    time_t until;
    /* 21:50: ten quiet minutes left is not worth it; Thursday 08:00-09:30 is peak. */
    assert_int_equal(support_best_time(at(25, 21, 50), &until), at(26, 9, 30));
    assert_int_equal(until, at(26, 17, 30));
    /* Friday night -> Saturday opens off-peak at 08:00 until the 10:00 peak. */
    assert_int_equal(support_best_time(at(27, 23, 0), &until), at(28, 8, 0));
    assert_int_equal(until, at(28, 10, 0));
    /* Saturday noon -> after the weekend peak. */
    assert_int_equal(support_best_time(at(28, 12, 0), &until), at(28, 18, 0));
    assert_int_equal(until, at(28, 22, 0));
    /* Sunday night -> Monday after the morning peak. */
    assert_int_equal(support_best_time(at(29, 22, 30), &until), at(30, 9, 30));
}

static void parse_at_accepts_service_zone_today_and_rfc3339(void **state)
{
    (void)state;
    time_t t, now = at(25, 19, 41);
    assert_int_equal(support_parse_at("2026-11-25T08:15", now, &t), 0);
    assert_int_equal(t, at(25, 8, 15));
    assert_int_equal(support_parse_at("2026-11-25 08:15:30", now, &t), 0);
    assert_int_equal(t, at(25, 8, 15) + 30);
    assert_int_equal(support_parse_at("08:15", now, &t), 0);
    assert_int_equal(t, at(25, 8, 15));
    assert_int_equal(support_parse_at("2026-11-25T00:15:00Z", now, &t), 0);
    assert_int_equal(t, at(25, 8, 15));
    assert_int_equal(support_parse_at("2026-11-25T08:15:00+08:00", now, &t), 0);
    assert_int_equal(t, at(25, 8, 15));
    assert_int_equal(support_parse_at("2026-11-24T19:15:00-05:00", now, &t), 0);
    assert_int_equal(t, at(25, 8, 15));
    /* "today" is the service zone's day: 2026-11-25 02:00 +08 is still the 24th in UTC. */
    assert_int_equal(support_parse_at("09:00", at(25, 2, 0), &t), 0);
    assert_int_equal(t, at(25, 9, 0));
}

static void parse_at_rejects_bad_values(void **state)
{
    (void)state;
    time_t t;
    const char *bad[] = { "", "8:15", "25:00", "12:60", "tomorrow", "2026-02-29T10:00",
                          "2026-13-01T10:00", "2026-11-25", "2026-11-25T08:15+8",
                          "2026-11-25T08:15:00+08:00x", "08:15pm", "1", "2026-11-25X08:15" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(support_parse_at(bad[i], at(25, 12, 0), &t), -1);
    assert_int_equal(support_parse_at("2028-02-29T10:00", at(25, 12, 0), &t), 0);
}

static void formats_in_the_service_zone(void **state)
{
    (void)state;
    char buf[64];
    support_format_rfc3339(at(25, 19, 41), buf, sizeof buf);
    assert_string_equal(buf, "2026-11-25T19:41:00+08:00");
    support_format_zone(at(25, 8, 5), buf, sizeof buf);
    assert_string_equal(buf, "2026-11-25 08:05");
    support_format_hhmm(at(25, 8, 5), buf, sizeof buf);
    assert_string_equal(buf, "08:05");
}

static void table_has_the_support_and_sales_lines(void **state)
{
    (void)state;
    assert_string_equal(support_service_number(), "400-000-1234");
    int emergency = 0, sales_for_support = -1;
    for (const struct support_phone *p = support_phones; p->number; p++) {
        if (strcmp(p->purpose, "emergency") == 0)
            emergency++;
        if (strcmp(p->number, "400-000-5678") == 0)
            sales_for_support = p->for_support;
    }
    assert_int_equal(emergency, 4);
    assert_int_equal(sales_for_support, 0);
    assert_non_null(support_channel_find("wechat"));
    assert_true(support_channel_find("app_chat")->always_open);
    assert_null(support_channel_find("fax"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zone_time_is_utc_plus_8_across_the_year_end),
        cmocka_unit_test(line_opens_at_8_and_closes_at_22),
        cmocka_unit_test(weekday_peaks_are_0730_to_0930_and_1730_to_2000),
        cmocka_unit_test(weekend_peak_is_1000_to_1800),
        cmocka_unit_test(wait_is_5_to_10_min_at_peak_1_to_3_off_peak_none_closed),
        cmocka_unit_test(next_open_rolls_over_to_tomorrow_after_closing),
        cmocka_unit_test(best_time_is_now_when_quiet),
        cmocka_unit_test(best_time_skips_weekday_peaks),
        cmocka_unit_test(best_time_skips_a_slot_too_short_and_rolls_to_tomorrow),
        cmocka_unit_test(parse_at_accepts_service_zone_today_and_rfc3339),
        cmocka_unit_test(parse_at_rejects_bad_values),
        cmocka_unit_test(formats_in_the_service_zone),
        cmocka_unit_test(table_has_the_support_and_sales_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
