/* Response decoders: everything the CLI's core does with what the service sends back, fed
 * through the HTTP stub (http_stub.c) instead of a network. The input is a list of answers,
 * one per request, separated by lines that are exactly "%%":
 *
 *     STATUS [CONTENT-TYPE [RETRY-AFTER [REQUEST-ID]]]
 *     BODY (any bytes, NUL included)
 *
 * Every input drives each decoder from the first answer again: api_get (checks of status,
 * content type and JSON, the API's error model) and the json.c readers, the checklist and
 * the fee audit's checks on the document; api_post; orders_list_all (paging until the
 * answers run out); order_auditor_run (order, fees, tariff); audit_order on the first three
 * bodies; vehicle_get, vehicle_command_create and vehicle_command_wait (wait 0 s: one look).
 * Invariants: an error has its exit code and a code, and its message and request ID are one
 * line without control characters (server text goes to a terminal). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "api.h"
#include "audit.h"
#include "checklist.h"
#include "json.h"
#include "orders.h"
#include "output.h"
#include "vehicle.h"
#include "fuzz.h"
#include "http_stub.h"

#define MAX_ANSWERS 16

struct answers {
    struct stub_answer a[MAX_ANSWERS];
    char head[MAX_ANSWERS][3][128];   /* content type, request id, spare */
    int n;
};

/* "STATUS [TYPE [RETRY-AFTER [ID]]]" (the first line of a part). */
static void parse_head(const char *line, size_t len, struct answers *as, int i)
{
    char text[512], *save = NULL;
    snprintf(text, sizeof text, "%.*s", (int)(len < 511 ? len : 511), line);
    struct stub_answer *a = &as->a[i];
    const char *tok = strtok_r(text, " \t\r", &save);
    a->status = tok ? strtol(tok, NULL, 10) % 1000 : 0;
    if (a->status < 0)
        a->status = -a->status;
    tok = strtok_r(NULL, " \t\r", &save);
    snprintf(as->head[i][0], sizeof as->head[i][0], "%s", tok ? tok : "");
    tok = strtok_r(NULL, " \t\r", &save);
    a->retry_after_s = tok ? strtod(tok, NULL) : -1;
    if (!(a->retry_after_s >= 0 && a->retry_after_s < 1e6))
        a->retry_after_s = -1;
    tok = strtok_r(NULL, " \t\r", &save);
    snprintf(as->head[i][1], sizeof as->head[i][1], "%s", tok ? tok : "");
    a->content_type = as->head[i][0];
    a->request_id = as->head[i][1];
}

static void parse_answers(const uint8_t *data, size_t size, struct answers *as)
{
    static const char sep[] = "\n%%\n";
    const char *p = (const char *)data, *end = p + size;
    as->n = 0;
    while (as->n < MAX_ANSWERS && p <= end) {
        const char *stop = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
        const char *part_end = stop ? stop : end;
        const char *nl = memchr(p, '\n', (size_t)(part_end - p));
        const char *body = nl ? nl + 1 : part_end;
        parse_head(p, (size_t)((nl ? nl : part_end) - p), as, as->n);
        as->a[as->n].body = body;
        as->a[as->n].body_len = (size_t)(part_end - body);
        as->n++;
        if (!stop)
            break;
        p = stop + sizeof sep - 1;
    }
}

static void check_error(int rc, const struct ch_error *err, const char *where)
{
    if (rc == 0)
        return;
    if (err->exit_code != rc)
        fuzz_fail("%s: returned %d but the error says %d", where, rc, err->exit_code);
    if (!err->code[0])
        fuzz_fail("%s: error %d without a code", where, rc);
    if (fuzz_has_control(err->message) || fuzz_has_control(err->request_id) ||
        fuzz_has_control(err->code))
        fuzz_fail("%s: control character in the error (code %s)", where, err->code);
}

/* What commands do with a document: read fields, print them, check them. */
static void use_document(const cJSON *doc)
{
    const cJSON *item;
    char buf[64];
    cJSON_ArrayForEach(item, doc) {
        const char *k = item->string;
        const char *s = json_str(doc, k, NULL);
        (void)json_int(doc, k, 0);
        (void)json_num(doc, k, 0);
        (void)json_bool(doc, k, false);
        (void)json_obj(doc, k);
        (void)json_arr(doc, k);
        if (s) {
            (void)parse_rfc3339(s);
            if (display_width(s) < 0)
                fuzz_fail("negative display width");
            mask_phone(s, buf, sizeof buf);
            mask_id_number(s, buf, sizeof buf);
            (void)vehicle_cmd_state(s);
        }
    }
    format_fen(json_int(doc, "total_fen", 0), buf, sizeof buf);
    char *text = json_print(doc);
    free(text);

    struct checklist cl;
    checklist_init(&cl, CHECK_BILLING);
    checklist_fill(&cl, doc, doc);
    struct buf out = BUF_INIT;
    buf_init(&out);
    checklist_render_text(&cl, "400-000-1234", &out);
    checklist_render_markdown(&cl, "400-000-1234", &out);
    buf_free(&out);
    cJSON_Delete(checklist_json(&cl, "400-000-1234"));

    struct ch_error err;
    struct audit_tariff tar;
    err_clear(&err);
    check_error(audit_check_order(doc, &err), &err, "audit_check_order");
    err_clear(&err);
    check_error(audit_check_fees(doc, &err), &err, "audit_check_fees");
    err_clear(&err);
    check_error(audit_parse_tariff(doc, &tar, &err), &err, "audit_parse_tariff");
}

static void report_json(const struct audit_report *r)
{
    if (fuzz_has_control(r->order_id))
        fuzz_fail("audit report: a control character in the order ID");
    for (int i = 0; i < r->nfindings; i++)
        if (fuzz_has_control(r->findings[i].message) || !r->findings[i].code[0])
            fuzz_fail("audit finding %d: no code, or a control character in its message", i);
    cJSON *j = audit_report_json(r);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_free(text);
    cJSON_Delete(j);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct answers *as = calloc(1, sizeof *as);
    if (!as)
        abort();
    parse_answers(data, size, as);
    struct http_opts opts = { .base_url = "http://127.0.0.1:8765", .timeout_s = 15, .retries = 2 };
    struct http_client *c = http_client_new(&opts);
    struct ch_error err;
    cJSON *doc = NULL;
    int rc;

    stub_queue(as->a, as->n);
    err_clear(&err);
    rc = api_get(c, "/v1/meta", "fuzz", &doc, &err);
    check_error(rc, &err, "api_get");
    if (rc == 0 && doc)
        use_document(doc);
    cJSON_Delete(doc);
    doc = NULL;

    stub_queue(as->a, as->n);
    err_clear(&err);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "category", "vehicle");
    rc = api_post(c, "/v1/tickets", body, "key-1", "file a ticket", &doc, &err);
    check_error(rc, &err, "api_post");
    cJSON_Delete(body);
    cJSON_Delete(doc);
    doc = NULL;

    stub_queue(as->a, as->n);
    err_clear(&err);
    struct order_query q = { .account_id = "acc_1001", .since = (time_t)-1, .limit = 20 };
    rc = orders_list_all(c, &q, &doc, &err);
    check_error(rc, &err, "orders_list_all");
    cJSON_Delete(doc);
    doc = NULL;

    struct audit_report *report = calloc(1, sizeof *report);
    if (!report)
        abort();
    stub_queue(as->a, as->n);
    err_clear(&err);
    struct order_auditor aud;
    char tariff_id[65];
    order_auditor_init(&aud, c);
    rc = order_auditor_run(&aud, "ord_1", report, tariff_id, &err);
    check_error(rc, &err, "order_auditor_run");
    if (rc == 0)
        report_json(report);
    order_auditor_free(&aud);

    if (as->n >= 3) {
        cJSON *o = cJSON_ParseWithLength(as->a[0].body, as->a[0].body_len);
        cJSON *f = cJSON_ParseWithLength(as->a[1].body, as->a[1].body_len);
        cJSON *t = cJSON_ParseWithLength(as->a[2].body, as->a[2].body_len);
        err_clear(&err);
        rc = audit_order(o, f, t, report, &err);
        check_error(rc, &err, "audit_order");
        if (rc == 0) {
            if (report->nfindings < 0 || report->nfindings > AUDIT_MAX_FINDINGS)
                fuzz_fail("audit_order: %d findings", report->nfindings);
            report_json(report);
        }
        cJSON_Delete(o);
        cJSON_Delete(f);
        cJSON_Delete(t);
    }
    free(report);

    stub_queue(as->a, as->n);
    err_clear(&err);
    rc = vehicle_get(c, "veh_001", &doc, &err);
    check_error(rc, &err, "vehicle_get");
    cJSON_Delete(doc);
    doc = NULL;
    err_clear(&err);
    rc = vehicle_command_create(c, "veh_001", "lock", NULL, "ord_1", "key-2", "lock", &doc, &err);
    check_error(rc, &err, "vehicle_command_create");
    cJSON_Delete(doc);
    doc = NULL;
    err_clear(&err);
    rc = vehicle_command_wait(c, "veh_001", "cmd_1", 0, NULL, NULL, &doc, &err);
    check_error(rc, &err, "vehicle_command_wait");
    cJSON_Delete(doc);

    http_client_free(c);
    free(as);
    return 0;
}
