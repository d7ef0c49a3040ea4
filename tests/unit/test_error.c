/* Exit codes: cli.md's HTTP status table and the API codes that refine it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "error.h"

static void status_table_matches_cli_md(void **state)
{
    (void)state;
    static const struct { long status; int exit; } cases[] = {
        { 200, 0 }, { 204, 0 },
        { 400, 2 }, { 405, 2 }, { 413, 2 }, { 415, 2 }, { 422, 2 },
        { 401, 4 }, { 403, 5 }, { 404, 3 }, { 410, 3 },
        { 409, 8 }, { 412, 8 }, { 423, 8 }, { 429, 9 },
        { 500, 7 }, { 502, 7 }, { 503, 7 }, { 504, 7 }, { 599, 7 },
        { 402, 2 }, { 418, 2 }, { 451, 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = exit_for_http(cases[i].status, NULL);
        if (got != cases[i].exit)
            fail_msg("HTTP %ld -> %d, want %d", cases[i].status, got, cases[i].exit);
    }
}

static void api_codes_refine_the_status(void **state)
{
    (void)state;
    assert_int_equal(exit_for_http(403, "locked_out"), CH_RATE);
    assert_int_equal(exit_for_http(429, "rate_limited"), CH_RATE);
    assert_int_equal(exit_for_http(400, "vehicle_offline"), CH_STATE);
    assert_int_equal(exit_for_http(422, "order_not_active"), CH_STATE);
    assert_int_equal(exit_for_http(403, "ticket_closed"), CH_STATE);
    assert_int_equal(exit_for_http(409, "idempotency_conflict"), CH_STATE);
    assert_int_equal(exit_for_http(401, "token_expired"), CH_AUTH);
    assert_int_equal(exit_for_http(403, "token_revoked"), CH_AUTH);
    assert_int_equal(exit_for_http(401, "token_invalid"), CH_AUTH);
    assert_int_equal(exit_for_http(401, "unauthenticated"), CH_AUTH);
    assert_int_equal(exit_for_http(403, "account_frozen"), CH_DENIED);
    assert_int_equal(exit_for_http(423, "account_frozen"), CH_DENIED);
    assert_int_equal(exit_for_http(401, "account_frozen"), CH_DENIED);
}

static void unknown_api_codes_fall_back_to_the_status(void **state)
{
    (void)state;
    assert_int_equal(exit_for_http(403, "forbidden"), CH_DENIED);
    assert_int_equal(exit_for_http(403, "verification_required"), CH_DENIED);
    assert_int_equal(exit_for_http(401, "invalid_credentials"), CH_AUTH);
    assert_int_equal(exit_for_http(404, "something_new"), CH_NOT_FOUND);
    assert_int_equal(exit_for_http(500, ""), CH_SERVICE);
}

static void err_set_fills_and_returns_the_code(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(err_set(&e, CH_NOT_FOUND, "not_found", "show order", "no order %s", "X1"), 3);
    assert_int_equal(e.exit_code, 3);
    assert_string_equal(e.code, "not_found");
    assert_string_equal(e.what, "show order");
    assert_string_equal(e.message, "no order X1");
    assert_string_equal(e.hint, "");
    err_hint(&e, "try `carhelp order list`");
    assert_string_equal(e.hint, "try `carhelp order list`");
    err_clear(&e);
    assert_int_equal(e.exit_code, 0);
    assert_string_equal(e.message, "");
    /* A NULL error is allowed and still yields the code. */
    assert_int_equal(err_set(NULL, CH_AUTH, "x", "y", "z"), CH_AUTH);
}

static void long_messages_are_truncated_not_overflowed(void **state)
{
    (void)state;
    struct ch_error e;
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_clear(&e);
    err_set(&e, CH_USAGE, big, big, "%s", big);
    assert_int_equal(strlen(e.code), sizeof e.code - 1);
    assert_int_equal(strlen(e.what), sizeof e.what - 1);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
}

static void every_exit_code_has_a_name(void **state)
{
    (void)state;
    const int codes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 130 };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        assert_string_not_equal(exit_code_name(codes[i]), "unknown error");
    assert_string_equal(exit_code_name(3), "not found");
    assert_string_equal(exit_code_name(6), "network failure");
    assert_string_equal(exit_code_name(42), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_table_matches_cli_md),
        cmocka_unit_test(api_codes_refine_the_status),
        cmocka_unit_test(unknown_api_codes_fall_back_to_the_status),
        cmocka_unit_test(err_set_fills_and_returns_the_code),
        cmocka_unit_test(long_messages_are_truncated_not_overflowed),
        cmocka_unit_test(every_exit_code_has_a_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
