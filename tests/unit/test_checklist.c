/* The checklist tables: every issue type has the common items, accidents start with the 122
 * call, filling ticks only what the account and order give (cleaned of control characters),
 * and the three renderings agree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "checklist.h"

static const struct checklist_item *item(const struct checklist *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->items[i].key, key) == 0)
            return &c->items[i];
    return NULL;
}

static void every_type_has_phone_and_member_id_open(void **state)
{
    (void)state;
    assert_int_equal(checklist_type_from_name("bogus"), -1);
    assert_int_equal(checklist_type_from_name(""), -1);
    for (int i = 0; checklist_type_names[i]; i++) {
        struct checklist c;
        int t = checklist_type_from_name(checklist_type_names[i]);
        assert_true(t > 0);
        checklist_init(&c, (enum checklist_type)t);
        assert_string_equal(checklist_type_name(c.type), checklist_type_names[i]);
        assert_non_null(item(&c, "phone"));
        assert_non_null(item(&c, "member_id"));
        for (int k = 0; k < c.n; k++)
            assert_false(c.items[k].done);
    }
}

static void accident_starts_with_the_122_call(void **state)
{
    (void)state;
    struct checklist c;
    checklist_init(&c, CHECK_ACCIDENT);
    assert_string_equal(c.items[0].key, "call_122");
    assert_non_null(item(&c, "other_plate"));
    assert_non_null(item(&c, "other_insurance"));
}

static void filling_ticks_what_is_known_only(void **state)
{
    (void)state;
    struct checklist c;
    cJSON *account = cJSON_Parse("{\"phone_masked\":\"138****8000\",\"member_id\":\"M1\\u001b[31m\","
                                 "\"id_number_masked\":\"1101**********002X\"}");
    cJSON *order = cJSON_Parse("{\"id\":\"ord_1\",\"vehicle\":{\"plate\":\"京AD12345\"},"
                               "\"started_at\":\"2026-11-01T10:00:00+08:00\","
                               "\"ended_at\":\"2026-11-01T10:42:00+08:00\",\"total_fen\":3582}");
    checklist_init(&c, CHECK_BILLING);
    checklist_fill(&c, account, order);
    assert_string_equal(c.source, "account");
    assert_string_equal(item(&c, "phone")->value, "138****8000");
    assert_string_equal(item(&c, "member_id")->value, "M1\\x1b[31m");
    assert_string_equal(item(&c, "order")->value, "ord_1");
    assert_non_null(strstr(item(&c, "trip")->value, "35.82"));
    assert_false(item(&c, "receipt")->done);
    checklist_init(&c, CHECK_ACCOUNT);
    checklist_fill(&c, account, NULL);
    assert_string_equal(item(&c, "id_last4")->value, "ends in 002X");
    cJSON_Delete(account);
    cJSON_Delete(order);
}

static void renderings_agree(void **state)
{
    (void)state;
    struct checklist c;
    cJSON *order = cJSON_Parse("{\"id\":\"ord_9\"}");
    checklist_init(&c, CHECK_VEHICLE);
    checklist_fill(&c, NULL, order);
    struct buf text = BUF_INIT, md = BUF_INIT;
    buf_init(&text);
    buf_init(&md);
    checklist_render_text(&c, "400-000-1234", &text);
    checklist_render_markdown(&c, "400-000-1234", &md);
    assert_non_null(strstr(text.data, "[x] Order number: ord_9"));
    assert_non_null(strstr(text.data, "[ ] Licence plate"));
    assert_non_null(strstr(md.data, "- [x] **Order number**: ord_9"));
    assert_non_null(strstr(md.data, "- [ ] **Licence plate**"));
    cJSON *doc = checklist_json(&c, "400-000-1234");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")), c.n);
    assert_string_equal(cJSON_GetObjectItem(doc, "issue")->valuestring, "vehicle");
    cJSON_Delete(doc);
    cJSON_Delete(order);
    buf_free(&text);
    buf_free(&md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_has_phone_and_member_id_open),
        cmocka_unit_test(accident_starts_with_the_122_call),
        cmocka_unit_test(filling_ticks_what_is_known_only),
        cmocka_unit_test(renderings_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
