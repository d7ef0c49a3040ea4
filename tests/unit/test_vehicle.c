/* Vehicles in the core: which vehicle the user means, the path it goes to, how a command's
 * status is read (unknown = still pending), and the polling backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "vehicle.h"

static void plates_are_normalised_and_recognised(void **state)
{
    (void)state;
    char out[VEHICLE_KEY_MAX];
    bool plate = false;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(vehicle_parse_target("PLATE|ID", "京ＡＤ１２３４５", out, sizeof out, &plate, &e), 0);
    assert_true(plate);
    assert_string_equal(out, "京AD12345");
    assert_int_equal(vehicle_parse_target("PLATE|ID", "京ad-12345", out, sizeof out, &plate, &e), 0);
    assert_string_equal(out, "京AD12345");
    assert_int_equal(vehicle_parse_target("PLATE|ID", "京B67890", out, sizeof out, &plate, &e), 0);
    assert_string_equal(out, "京B67890");
}

static void ascii_input_is_an_id(void **state)
{
    (void)state;
    char out[VEHICLE_KEY_MAX];
    bool plate = true;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(vehicle_parse_target("PLATE|ID", "veh_001", out, sizeof out, &plate, &e), 0);
    assert_false(plate);
    assert_string_equal(out, "veh_001");
}

static void malformed_targets_are_usage_errors_naming_the_field(void **state)
{
    (void)state;
    static const char *const bad[] = { "京A1234", "京AI2345", "京1D12345", "京AD1234567",
                                       "veh 001", "veh/001", "", "ＡＤ京12345" };
    char out[VEHICLE_KEY_MAX];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ch_error e;
        err_clear(&e);
        assert_int_equal(vehicle_parse_target("PLATE|ID", bad[i], out, sizeof out, NULL, &e),
                         CH_USAGE);
        assert_string_equal(e.what, "PLATE|ID");
    }
}

static void paths_percent_encode_the_plate(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    vehicle_path(&b, "京AD12345", "/commands");
    assert_string_equal(b.data, "/v1/vehicles/%E4%BA%ACAD12345/commands");
    buf_free(&b);
    vehicle_path(&b, "veh_001", NULL);
    assert_string_equal(b.data, "/v1/vehicles/veh_001");
    buf_free(&b);
}

static void unknown_statuses_are_pending(void **state)
{
    (void)state;
    assert_int_equal(vehicle_cmd_state("queued"), VCMD_PENDING);
    assert_int_equal(vehicle_cmd_state("sent"), VCMD_PENDING);
    assert_int_equal(vehicle_cmd_state("waiting_for_gateway"), VCMD_PENDING);
    assert_int_equal(vehicle_cmd_state(NULL), VCMD_PENDING);
    assert_int_equal(vehicle_cmd_state("succeeded"), VCMD_SUCCEEDED);
    assert_int_equal(vehicle_cmd_state("failed"), VCMD_FAILED);
    assert_int_equal(vehicle_cmd_state("expired"), VCMD_EXPIRED);
    assert_int_equal(vehicle_cmd_state("SUCCEEDED"), VCMD_PENDING);   /* exact names only */
}

static void polling_backs_off_up_to_two_seconds(void **state)
{
    (void)state;
    assert_true(vehicle_poll_delay_ms(0) == 250.0);
    assert_true(vehicle_poll_delay_ms(1) == 375.0);
    double prev = 0;
    for (int i = 0; i < 50; i++) {
        double d = vehicle_poll_delay_ms(i);
        assert_true(d >= prev && d <= 2000.0);
        prev = d;
    }
    assert_true(vehicle_poll_delay_ms(1000) == 2000.0);
}

static void dry_run_body_has_only_what_was_given(void **state)
{
    (void)state;
    cJSON *b = vehicle_command_body("unlock", NULL, "");
    char *t = cJSON_PrintUnformatted(b);
    assert_string_equal(t, "{\"type\":\"unlock\"}");
    cJSON_free(t);
    cJSON_Delete(b);
    b = vehicle_command_body("honk", "find it", "ord_1");
    t = cJSON_PrintUnformatted(b);
    assert_string_equal(t, "{\"type\":\"honk\",\"reason\":\"find it\",\"order_id\":\"ord_1\"}");
    cJSON_free(t);
    cJSON_Delete(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plates_are_normalised_and_recognised),
        cmocka_unit_test(ascii_input_is_an_id),
        cmocka_unit_test(malformed_targets_are_usage_errors_naming_the_field),
        cmocka_unit_test(paths_percent_encode_the_plate),
        cmocka_unit_test(unknown_statuses_are_pending),
        cmocka_unit_test(polling_backs_off_up_to_two_seconds),
        cmocka_unit_test(dry_run_body_has_only_what_was_given),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
