/* The fee audit, table-driven: rule arithmetic (rounding edges, 0/59/60/61 s, multi-day caps),
 * tariff parsing (unknown rules -> cannot audit), every finding kind, malformed answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"

#define STD_TARIFF                                                                         \
    "{\"id\":\"tar_std\",\"currency\":\"CNY\",\"rules\":["                                \
    "{\"kind\":\"time\",\"unit\":\"minute\",\"price_fen\":35,\"rounding\":\"ceil\","      \
    "\"cap_fen\":30000,\"period_s\":86400},"                                               \
    "{\"kind\":\"distance\",\"unit\":\"km\",\"price_fen\":99,\"rounding\":\"half_up\","   \
    "\"cap_fen\":null,\"period_s\":null},"                                                 \
    "{\"kind\":\"service\",\"unit\":\"order\",\"price_fen\":300,\"rounding\":null}]}"

/* ---- rule arithmetic ---- */

struct fee_case {
    const char *name;
    struct audit_rule rule;
    long long seconds, metres, fen;
};

#define TIME_STD { RULE_TIME, 60, 35, ROUND_CEIL, true, 30000, 86400 }
#define DIST_STD { RULE_DISTANCE, 1000, 99, ROUND_HALF_UP, false, 0, 0 }

static const struct fee_case fee_cases[] = {
    {"0 s costs nothing", TIME_STD, 0, 0, 0},
    {"1 s is one started minute", TIME_STD, 1, 0, 35},
    {"59 s is one started minute", TIME_STD, 59, 0, 35},
    {"60 s is one minute", TIME_STD, 60, 0, 35},
    {"61 s is two started minutes", TIME_STD, 61, 0, 70},
    {"35 min (demo 0002)", TIME_STD, 2100, 0, 1225},
    {"42 min (demo 0001)", TIME_STD, 2520, 0, 1470},
    {"a full day hits the cap", TIME_STD, 86400, 0, 30000},
    {"one second into day two", TIME_STD, 86401, 0, 30035},
    {"25 h: one capped day + 60 min", TIME_STD, 90000, 0, 32100},
    {"3 days: three caps", TIME_STD, 3 * 86400, 0, 90000},
    {"2 days + 1000 s", TIME_STD, 2 * 86400 + 1000, 0, 60595},
    {"day two capped too", TIME_STD, 2 * 86400 - 1, 0, 60000},
    {"no cap", { RULE_TIME, 60, 35, ROUND_CEIL, false, 0, 0 }, 60000, 0, 35000},
    {"cap per order", { RULE_TIME, 60, 35, ROUND_CEIL, true, 30000, 0 }, 3 * 86400, 0, 30000},
    {"started hours", { RULE_TIME, 3600, 1000, ROUND_CEIL, false, 0, 0 }, 3601, 0, 2000},
    {"floor minutes", { RULE_TIME, 60, 35, ROUND_FLOOR, false, 0, 0 }, 119, 0, 35},
    {"half-up minutes below .5", { RULE_TIME, 60, 10, ROUND_HALF_UP, false, 0, 0 }, 89, 0, 10},
    {"half-up minutes at .5", { RULE_TIME, 60, 10, ROUND_HALF_UP, false, 0, 0 }, 90, 0, 20},
    {"per second, no rounding", { RULE_TIME, 1, 1, ROUND_NONE, false, 0, 0 }, 61, 0, 61},
    {"18.3 km (demo 0001) 1811.7 -> 1812", DIST_STD, 0, 18300, 1812},
    {"12 km (demo 0002)", DIST_STD, 0, 12000, 1188},
    {"5.25 km (demo 0003) 519.75 -> 520", DIST_STD, 0, 5250, 520},
    {"x.5 fen rounds up: 49.5 -> 50", DIST_STD, 0, 500, 50},
    {"x.5 fen rounds up: 148.5 -> 149", DIST_STD, 0, 1500, 149},
    {"just below .5: 0.495 -> 0", DIST_STD, 0, 5, 0},
    {"0.99 -> 1", DIST_STD, 0, 10, 1},
    {"0 m", DIST_STD, 0, 0, 0},
    {"distance ceil", { RULE_DISTANCE, 1000, 99, ROUND_CEIL, false, 0, 0 }, 0, 5, 1},
    {"distance floor", { RULE_DISTANCE, 1000, 99, ROUND_FLOOR, false, 0, 0 }, 0, 999, 98},
    {"per metre", { RULE_DISTANCE, 1, 2, ROUND_NONE, false, 0, 0 }, 0, 1234, 2468},
    {"distance cap", { RULE_DISTANCE, 1000, 99, ROUND_HALF_UP, true, 5000, 0 }, 0, 100000,
     5000},
    {"service per order", { RULE_SERVICE, 1, 300, ROUND_NONE, false, 0, 0 }, 86400, 5000, 300},
};

static void rule_fees_follow_the_tariff_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fee_cases / sizeof fee_cases[0]; i++) {
        const struct fee_case *c = &fee_cases[i];
        struct ch_error err;
        long long fen = -1;
        err_clear(&err);
        int rc = audit_rule_fee(&c->rule, c->seconds, c->metres, &fen, &err);
        if (rc != 0 || fen != c->fen)
            fail_msg("%s: rc %d, %lld fen, want %lld", c->name, rc, fen, c->fen);
    }
}

static void huge_amounts_are_refused_not_wrapped(void **state)
{
    (void)state;
    struct audit_rule r = { RULE_TIME, 60, 4000000000000000000LL, ROUND_CEIL, false, 0, 0 };
    struct ch_error err;
    long long fen;
    err_clear(&err);
    assert_int_equal(audit_rule_fee(&r, 600, 0, &fen, &err), CH_SERVICE);
    r.kind = RULE_DISTANCE;
    r.unit_size = 1000;
    assert_int_equal(audit_rule_fee(&r, 0, 10, &fen, &err), CH_SERVICE);
}

/* ---- the tariff ---- */

struct tariff_case {
    const char *name, *json;
    int rc;
    const char *message;  /* substring of err.message, or NULL */
};

#define RULES(r) "{\"id\":\"t\",\"currency\":\"CNY\",\"rules\":[" r "]}"
static const struct tariff_case tariff_cases[] = {
    {"the demo tariff", STD_TARIFF, 0, NULL},
    {"no rules at all", RULES(""), 0, NULL},
    {"unknown kind", RULES("{\"kind\":\"parking\",\"unit\":\"hour\",\"price_fen\":500}"),
     CH_UNDECIDED, "cannot audit: unknown rule \"parking\""},
    {"unknown unit", RULES("{\"kind\":\"time\",\"unit\":\"fortnight\",\"price_fen\":5,"
                           "\"rounding\":\"ceil\"}"),
     CH_UNDECIDED, "cannot audit: unknown rule \"time\" unit \"fortnight\""},
    {"unknown rounding", RULES("{\"kind\":\"distance\",\"unit\":\"km\",\"price_fen\":99,"
                               "\"rounding\":\"bankers\"}"),
     CH_UNDECIDED, "cannot audit: unknown rule \"distance\" rounding \"bankers\""},
    {"minutes without rounding", RULES("{\"kind\":\"time\",\"unit\":\"minute\",\"price_fen\":35}"),
     CH_UNDECIDED, "cannot audit: unknown rule \"time\" without rounding"},
    {"a period on distance", RULES("{\"kind\":\"distance\",\"unit\":\"km\",\"price_fen\":99,"
                                   "\"rounding\":\"half_up\",\"cap_fen\":1,\"period_s\":60}"),
     CH_UNDECIDED, "cannot audit: unknown rule \"distance\" with period_s"},
    {"a period without a cap", RULES("{\"kind\":\"time\",\"unit\":\"minute\",\"price_fen\":35,"
                                     "\"rounding\":\"ceil\",\"period_s\":60}"),
     CH_UNDECIDED, "with period_s"},
    {"a capped service fee", RULES("{\"kind\":\"service\",\"unit\":\"order\",\"price_fen\":3,"
                                   "\"cap_fen\":1}"),
     CH_UNDECIDED, "cannot audit: unknown rule \"service\""},
    {"two time rules", RULES("{\"kind\":\"time\",\"unit\":\"minute\",\"price_fen\":35,"
                             "\"rounding\":\"ceil\"},{\"kind\":\"time\",\"unit\":\"hour\","
                             "\"price_fen\":35,\"rounding\":\"ceil\"}"),
     CH_UNDECIDED, "two rules of kind \"time\""},
    {"another currency", "{\"id\":\"t\",\"currency\":\"USD\",\"rules\":[]}", CH_UNDECIDED,
     "unknown currency"},
    {"fractional price", RULES("{\"kind\":\"service\",\"unit\":\"order\",\"price_fen\":1.5}"),
     CH_SERVICE, "price_fen"},
    {"price as a string", RULES("{\"kind\":\"service\",\"unit\":\"order\",\"price_fen\":\"300\"}"),
     CH_SERVICE, "price_fen"},
    {"price missing", RULES("{\"kind\":\"service\",\"unit\":\"order\"}"), CH_SERVICE,
     "price_fen"},
    {"negative price", RULES("{\"kind\":\"service\",\"unit\":\"order\",\"price_fen\":-1}"),
     CH_SERVICE, "price_fen"},
    {"kind missing", RULES("{\"unit\":\"order\",\"price_fen\":1}"), CH_SERVICE, "kind"},
    {"rule not an object", RULES("42"), CH_SERVICE, "rule 1"},
    {"cap not an integer", RULES("{\"kind\":\"time\",\"unit\":\"minute\",\"price_fen\":35,"
                                 "\"rounding\":\"ceil\",\"cap_fen\":\"lots\"}"),
     CH_SERVICE, "cap_fen"},
    {"rules missing", "{\"id\":\"t\",\"currency\":\"CNY\"}", CH_SERVICE, "rules"},
    {"not an object", "[]", CH_SERVICE, NULL},
};

static void tariffs_are_understood_or_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof tariff_cases / sizeof tariff_cases[0]; i++) {
        const struct tariff_case *c = &tariff_cases[i];
        cJSON *j = cJSON_Parse(c->json);
        struct audit_tariff t;
        struct ch_error err;
        err_clear(&err);
        assert_non_null(j);
        int rc = audit_parse_tariff(j, &t, &err);
        if (rc != c->rc)
            fail_msg("%s: rc %d (%s), want %d", c->name, rc, err.message, c->rc);
        if (c->message && !strstr(err.message, c->message))
            fail_msg("%s: message '%s' lacks '%s'", c->name, err.message, c->message);
        cJSON_Delete(j);
    }
}

/* ---- whole orders ---- */

struct want {
    const char *code;
    long long expected, billed, difference;
};

struct order_case {
    const char *name;
    const char *status, *started, *ended;
    const char *distance;         /* JSON value */
    const char *lines;            /* JSON array body */
    const char *total;            /* JSON value */
    const char *payments, *refunds;
    const char *tariff;           /* NULL: the demo tariff */
    int rc;
    const char *message;          /* for rc != 0 */
    struct want findings[4];
};

#define LINE(id, kind, desc, q, unit, price, amount, at)                                    \
    "{\"id\":\"" id "\",\"kind\":\"" kind "\",\"description\":\"" desc "\",\"quantity\":" q \
    ",\"unit\":\"" unit "\",\"unit_price_fen\":" price ",\"amount_fen\":" amount            \
    ",\"charged_at\":\"" at "\"}"
#define END1 "2026-11-01T09:54:00+08:00"
#define TIME1 LINE("f1", "time", "Time, 42 started minutes", "42", "minute", "35", "1470", END1)
#define DIST1 LINE("f2", "distance", "Distance, 18.3 km", "18.3", "km", "99", "1812", END1)
#define SERV1 LINE("f3", "service", "Service fee", "1", "order", "300", "300", END1)
#define PAY(a) "[{\"id\":\"p1\",\"amount_fen\":" a ",\"at\":\"" END1 "\",\"method\":\"wallet\"}]"
#define ORDER1 "completed", "2026-11-01T09:12:00+08:00", END1, "18300"

static const struct order_case order_cases[] = {
    {"demo 0001 is billed correctly", ORDER1, TIME1 "," DIST1 "," SERV1, "3582", PAY("3582"),
     "[]", NULL, 0, NULL, {{0}}},
    {"demo 0002: 95 minutes billed for 35",
     "completed", "2026-11-02T18:05:00+08:00", "2026-11-02T18:40:00+08:00", "12000",
     LINE("a", "time", "Time, 95 started minutes", "95", "minute", "35", "3325",
          "2026-11-02T18:40:00+08:00") ","
     LINE("b", "distance", "Distance, 12.0 km", "12", "km", "99", "1188",
          "2026-11-02T18:40:00+08:00") ","
     LINE("c", "service", "Service fee", "1", "order", "300", "300",
          "2026-11-02T18:40:00+08:00"),
     "4813", PAY("4813"), "[]", NULL, 0, NULL,
     {{AUDIT_TIME_BEYOND_TRIP, 1225, 3325, 2100}}},
    {"demo 0003: the service fee twice",
     "completed", "2026-11-03T07:30:00+08:00", "2026-11-03T07:50:00+08:00", "5250",
     LINE("a", "time", "Time, 20 started minutes", "20", "minute", "35", "700",
          "2026-11-03T07:50:00+08:00") ","
     LINE("b", "distance", "Distance, 5.25 km", "5.25", "km", "99", "520",
          "2026-11-03T07:50:00+08:00") ","
     LINE("c", "service", "Service fee", "1", "order", "300", "300",
          "2026-11-03T07:50:00+08:00") ","
     LINE("d", "service", "Service fee", "1", "order", "300", "300",
          "2026-11-03T07:50:00+08:00"),
     "1820", PAY("1820"), "[]", NULL, 0, NULL, {{AUDIT_DUPLICATE_LINE, 0, 300, 300}}},
    {"distance billed beyond the trip", ORDER1,
     TIME1 "," LINE("f2", "distance", "Distance, 25 km", "25", "km", "99", "2475", END1) ","
     SERV1, "4245", PAY("4245"), "[]", NULL, 0, NULL,
     {{AUDIT_DISTANCE_BEYOND_TRIP, 1812, 2475, 663}}},
    {"a service fee above the tariff", ORDER1,
     TIME1 "," DIST1 "," LINE("f3", "service", "Service fee", "1", "order", "500", "500", END1),
     "3782", PAY("3782"), "[]", NULL, 0, NULL, {{AUDIT_SERVICE_ABOVE_TARIFF, 300, 500, 200}}},
    {"two different service lines are not duplicates", ORDER1,
     TIME1 "," DIST1 "," SERV1 "," LINE("f4", "service", "Booking fee", "1", "order", "300",
                                       "300", END1),
     "3882", PAY("3882"), "[]", NULL, 0, NULL, {{AUDIT_SERVICE_ABOVE_TARIFF, 300, 600, 300}}},
    {"a duplicated insurance line", ORDER1,
     TIME1 "," DIST1 "," SERV1 "," LINE("i1", "insurance", "Cover", "1", "order", "500", "500",
                                       END1) ","
     LINE("i2", "insurance", "Cover", "1", "order", "500", "500", END1),
     "4582", PAY("4582"), "[]", NULL, 0, NULL, {{AUDIT_DUPLICATE_LINE, 0, 500, 500}}},
    {"a penalty charged two days after the end", ORDER1,
     TIME1 "," DIST1 "," SERV1 "," LINE("p", "penalty", "Cleaning", "1", "order", "5000",
                                       "5000", "2026-11-03T10:00:00+08:00"),
     "8582", PAY("8582"), "[]", NULL, 0, NULL, {{AUDIT_CHARGED_AFTER_END, 0, 5000, 5000}}},
    {"a line a few minutes after the end is within the grace", ORDER1,
     TIME1 "," DIST1 "," LINE("f3", "service", "Service fee", "1", "order", "300", "300",
                               "2026-11-01T10:05:00+08:00"),
     "3582", PAY("3582"), "[]", NULL, 0, NULL, {{0}}},
    {"lines that do not add up to the total", ORDER1, TIME1 "," DIST1 "," SERV1, "4000",
     PAY("4000"), "[]", NULL, 0, NULL, {{AUDIT_TOTAL_MISMATCH, 3582, 4000, 418}}},
    {"a credit never refunded", ORDER1,
     TIME1 "," DIST1 "," SERV1 "," LINE("d", "adjustment", "Goodwill", "1", "order", "-500",
                                       "-500", "2026-11-01T09:54:00+08:00"),
     "3082", PAY("3582"), "[]", NULL, 0, NULL, {{AUDIT_REFUND_MISSING, 3082, 3582, 500}}},
    {"a credit refunded", ORDER1,
     TIME1 "," DIST1 "," SERV1 "," LINE("d", "adjustment", "Goodwill", "1", "order", "-500",
                                       "-500", "2026-11-01T09:54:00+08:00"),
     "3082", PAY("3582"),
     "[{\"id\":\"r1\",\"amount_fen\":500,\"at\":\"" END1 "\",\"method\":\"wallet\"}]", NULL, 0,
     NULL, {{0}}},
    {"time billed below the tariff is no finding", ORDER1,
     LINE("f1", "time", "Time", "40", "minute", "35", "1400", END1) "," DIST1 "," SERV1, "3512",
     PAY("3512"), "[]", NULL, 0, NULL, {{0}}},
    {"a 0 s trip costs only the service fee", "completed", END1, END1, "0", SERV1, "300",
     PAY("300"), "[]", NULL, 0, NULL, {{0}}},
    {"multi-day trip billed with the daily cap", "completed", "2026-11-01T09:00:00+08:00",
     "2026-11-02T10:00:00+08:00", "0",
     LINE("t", "time", "Time", "1500", "minute", "35", "32100", "2026-11-02T10:00:00+08:00") ","
     LINE("s", "service", "Service fee", "1", "order", "300", "300",
          "2026-11-02T10:00:00+08:00"),
     "32400", PAY("32400"), "[]", NULL, 0, NULL, {{0}}},
    {"multi-day trip billed without the cap", "completed", "2026-11-01T09:00:00+08:00",
     "2026-11-02T10:00:00+08:00", "0",
     LINE("t", "time", "Time", "1500", "minute", "35", "52500", "2026-11-02T10:00:00+08:00") ","
     LINE("s", "service", "Service fee", "1", "order", "300", "300",
          "2026-11-02T10:00:00+08:00"),
     "52800", PAY("52800"), "[]", NULL, 0, NULL, {{AUDIT_TIME_BEYOND_TRIP, 32100, 52500, 20400}}},
    {"several findings at once", ORDER1,
     LINE("f1", "time", "Time", "60", "minute", "35", "2100", END1) "," DIST1 "," SERV1 "," SERV1,
     "4600", PAY("4600"), "[]", NULL, 0, NULL,
     {{AUDIT_TIME_BEYOND_TRIP, 1470, 2100, 630}, {AUDIT_DUPLICATE_LINE, 0, 300, 300},
      {AUDIT_TOTAL_MISMATCH, 4512, 4600, 88}}},
    {"an active order cannot be audited", "active", "2026-11-25T19:00:00+08:00", NULL, "null",
     "", "0", "[]", "[]", NULL, CH_UNDECIDED, "is active", {{0}}},
    {"a tariff with an unknown rule", ORDER1, TIME1 "," DIST1 "," SERV1, "3582", PAY("3582"),
     "[]", RULES("{\"kind\":\"parking\",\"unit\":\"hour\",\"price_fen\":5}"), CH_UNDECIDED,
     "cannot audit: unknown rule \"parking\"", {{0}}},
    {"an unknown fee kind", ORDER1,
     TIME1 "," DIST1 "," SERV1 "," LINE("x", "parking", "P", "1", "order", "5", "5", END1),
     "3587", PAY("3587"), "[]", NULL, CH_UNDECIDED, "unknown fee kind \"parking\"", {{0}}},
    {"amount missing", ORDER1,
     "{\"id\":\"f1\",\"kind\":\"time\",\"unit_price_fen\":35,\"charged_at\":\"" END1 "\"}",
     "3582", PAY("3582"), "[]", NULL, CH_SERVICE, "amount_fen", {{0}}},
    {"fractional amount", ORDER1,
     LINE("f1", "time", "Time", "42", "minute", "35", "1470.5", END1), "1470", PAY("1470"),
     "[]", NULL, CH_SERVICE, "amount_fen", {{0}}},
    {"amount as a string", ORDER1,
     LINE("f1", "time", "Time", "42", "minute", "35", "\"1470\"", END1), "1470", PAY("1470"),
     "[]", NULL, CH_SERVICE, "amount_fen", {{0}}},
    {"amount null", ORDER1, LINE("f1", "time", "Time", "42", "minute", "35", "null", END1),
     "1470", PAY("1470"), "[]", NULL, CH_SERVICE, "amount_fen", {{0}}},
    {"amount beyond 2^53", ORDER1,
     LINE("f1", "time", "Time", "42", "minute", "35", "1e300", END1), "1470", PAY("1470"), "[]",
     NULL, CH_SERVICE, "amount_fen", {{0}}},
    {"unit price not an integer", ORDER1,
     LINE("f1", "time", "Time", "42", "minute", "35.5", "1470", END1), "1470", PAY("1470"),
     "[]", NULL, CH_SERVICE, "unit_price_fen", {{0}}},
    {"total missing", ORDER1, TIME1, "null", PAY("1470"), "[]", NULL, CH_SERVICE, "total_fen", {{0}}},
    {"payment amount not an integer", ORDER1, TIME1, "1470", PAY("14.70"), "[]", NULL,
     CH_SERVICE, "payments", {{0}}},
    {"refunds missing", ORDER1, TIME1, "1470", PAY("1470"), "null", NULL, CH_SERVICE,
     "refunds", {{0}}},
    {"charged_at garbage", ORDER1, LINE("f1", "time", "T", "42", "minute", "35", "1470", "soon"),
     "1470", PAY("1470"), "[]", NULL, CH_SERVICE, "charged_at", {{0}}},
    {"distance missing on a completed order", "completed", "2026-11-01T09:12:00+08:00", END1,
     "null", TIME1, "1470", PAY("1470"), "[]", NULL, CH_SERVICE, "distance_m", {{0}}},
    {"ended before it started", "completed", END1, "2026-11-01T09:12:00+08:00", "0", TIME1,
     "1470", PAY("1470"), "[]", NULL, CH_SERVICE, "time range", {{0}}},
};

static cJSON *parse_or_fail(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    if (!j)
        fail_msg("test JSON does not parse: %s", text);
    return j;
}

static void run_order_case(const struct order_case *c)
{
    char order[1024], fees[8192];
    if (c->ended)
        snprintf(order, sizeof order,
                 "{\"id\":\"ord_x\",\"status\":\"%s\",\"tariff_id\":\"tar_std\","
                 "\"started_at\":\"%s\",\"ended_at\":\"%s\",\"distance_m\":%s}",
                 c->status, c->started, c->ended, c->distance);
    else
        snprintf(order, sizeof order,
                 "{\"id\":\"ord_x\",\"status\":\"%s\",\"tariff_id\":\"tar_std\","
                 "\"started_at\":\"%s\",\"ended_at\":null,\"distance_m\":%s}",
                 c->status, c->started, c->distance);
    snprintf(fees, sizeof fees,
             "{\"order_id\":\"ord_x\",\"tariff_id\":\"tar_std\",\"currency\":\"CNY\","
             "\"lines\":[%s],\"payments\":%s,\"refunds\":%s,\"total_fen\":%s}",
             c->lines, c->payments, c->refunds, c->total);
    cJSON *o = parse_or_fail(order), *f = parse_or_fail(fees);
    cJSON *t = parse_or_fail(c->tariff ? c->tariff : STD_TARIFF);
    struct audit_report *r = calloc(1, sizeof *r);
    struct ch_error err;
    err_clear(&err);
    int rc = audit_order(o, f, t, r, &err);
    if (rc != c->rc)
        fail_msg("%s: rc %d (%s), want %d", c->name, rc, err.message, c->rc);
    if (rc && c->message && !strstr(err.message, c->message))
        fail_msg("%s: message '%s' lacks '%s'", c->name, err.message, c->message);
    if (rc == 0) {
        int want = 0;
        while (want < 4 && c->findings[want].code)
            want++;
        if (r->nfindings != want)
            fail_msg("%s: %d findings (first: %s), want %d", c->name, r->nfindings,
                     r->nfindings ? r->findings[0].message : "-", want);
        for (int i = 0; i < want; i++) {
            const struct want *w = &c->findings[i];
            const struct audit_finding *g = &r->findings[i];
            if (strcmp(g->code, w->code) != 0 || g->expected_fen != w->expected ||
                g->billed_fen != w->billed || g->difference_fen != w->difference)
                fail_msg("%s: finding %d is %s %lld/%lld/%lld, want %s %lld/%lld/%lld",
                         c->name, i, g->code, g->expected_fen, g->billed_fen, g->difference_fen,
                         w->code, w->expected, w->billed, w->difference);
            if (!g->message[0])
                fail_msg("%s: finding %d has no message", c->name, i);
        }
    }
    free(r);
    cJSON_Delete(o);
    cJSON_Delete(f);
    cJSON_Delete(t);
}

static void orders_are_audited_against_the_tariff(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof order_cases / sizeof order_cases[0]; i++)
        run_order_case(&order_cases[i]);
}

static void malformed_documents_are_service_errors(void **state)
{
    (void)state;
    cJSON *t = cJSON_Parse(STD_TARIFF), *arr = cJSON_CreateArray(), *str = cJSON_CreateString("x");
    struct audit_report *r = calloc(1, sizeof *r);
    struct ch_error err;
    err_clear(&err);
    assert_int_equal(audit_order(arr, arr, t, r, &err), CH_SERVICE);
    assert_int_equal(audit_order(str, str, str, r, &err), CH_SERVICE);
    assert_int_equal(audit_order(NULL, NULL, NULL, r, &err), CH_SERVICE);
    free(r);
    cJSON_Delete(t);
    cJSON_Delete(arr);
    cJSON_Delete(str);
}

static void the_report_has_exactly_the_documented_shape(void **state)
{
    (void)state;
    struct audit_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.order_id, sizeof r.order_id, "ord_20261102_0002");
    r.nfindings = 1;
    snprintf(r.findings[0].code, sizeof r.findings[0].code, "%s", AUDIT_TIME_BEYOND_TRIP);
    snprintf(r.findings[0].message, sizeof r.findings[0].message, "m");
    r.findings[0].expected_fen = 1225;
    r.findings[0].billed_fen = 3325;
    r.findings[0].difference_fen = 2100;
    cJSON *j = audit_report_json(&r);
    char *text = cJSON_PrintUnformatted(j);
    assert_string_equal(text,
                        "{\"order_id\":\"ord_20261102_0002\",\"ok\":false,\"findings\":[{"
                        "\"code\":\"time_beyond_trip\",\"message\":\"m\",\"expected_fen\":1225,"
                        "\"billed_fen\":3325,\"difference_fen\":2100}]}");
    free(text);
    cJSON_Delete(j);
    r.nfindings = 0;
    j = audit_report_json(&r);
    text = cJSON_PrintUnformatted(j);
    assert_string_equal(text, "{\"order_id\":\"ord_20261102_0002\",\"ok\":true,\"findings\":[]}");
    free(text);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_fees_follow_the_tariff_rules),
        cmocka_unit_test(huge_amounts_are_refused_not_wrapped),
        cmocka_unit_test(tariffs_are_understood_or_refused),
        cmocka_unit_test(orders_are_audited_against_the_tariff),
        cmocka_unit_test(malformed_documents_are_service_errors),
        cmocka_unit_test(the_report_has_exactly_the_documented_shape),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
