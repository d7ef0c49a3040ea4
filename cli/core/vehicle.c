/* Vehicles and remote commands: target parsing, the calls, and the polling loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vehicle.h"
#include "api.h"
#include "json.h"
#include "validate.h"

#define POLL_FIRST_MS 250.0
#define POLL_MAX_MS 2000.0
#define PROGRESS_TICK_MS 100.0

int vehicle_parse_target(const char *field, const char *in, char *out, size_t outsz,
                         bool *is_plate, struct ch_error *err)
{
    char norm[256];
    bool plate = false;
    if (normalize_input(in ? in : "", norm, sizeof norm) == 0)
        for (const unsigned char *p = (const unsigned char *)norm; *p; p++)
            plate = plate || *p >= 0x80;
    if (is_plate)
        *is_plate = plate;
    if (plate)
        return validate_plate(field, in, out, outsz, err);
    return validate_object_id(field, in, out, outsz, err);
}

void vehicle_path(struct buf *b, const char *target, const char *suffix)
{
    buf_puts(b, "/v1/vehicles/");
    buf_put_urlencoded(b, target);
    if (suffix)
        buf_puts(b, suffix);
}

enum vehicle_cmd_state vehicle_cmd_state(const char *status)
{
    if (!status)
        return VCMD_PENDING;
    if (strcmp(status, "succeeded") == 0)
        return VCMD_SUCCEEDED;
    if (strcmp(status, "failed") == 0)
        return VCMD_FAILED;
    if (strcmp(status, "expired") == 0)
        return VCMD_EXPIRED;
    return VCMD_PENDING;
}

double vehicle_poll_delay_ms(int attempt)
{
    double d = POLL_FIRST_MS;
    for (int i = 0; i < attempt && d < POLL_MAX_MS; i++)
        d *= 1.5;
    return d > POLL_MAX_MS ? POLL_MAX_MS : d;
}

int vehicle_get(struct http_client *c, const char *target, cJSON **out, struct ch_error *err)
{
    struct buf path = BUF_INIT;
    vehicle_path(&path, target, NULL);
    int rc = api_get(c, path.data, "vehicle", out, err);
    buf_free(&path);
    if (rc == 0 && !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return err_set(err, CH_SERVICE, "malformed_response", "vehicle",
                       "malformed response: the vehicle is not a JSON object");
    }
    return rc;
}

cJSON *vehicle_command_body(const char *type, const char *reason, const char *order_id)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "type", type);
    if (reason && *reason)
        cJSON_AddStringToObject(body, "reason", reason);
    if (order_id && *order_id)
        cJSON_AddStringToObject(body, "order_id", order_id);
    return body;
}

/* A command answer must at least say which command and in what state. */
static int check_command(cJSON **doc, const char *what, struct ch_error *err)
{
    const char *id = json_str(*doc, "id", NULL);
    if (cJSON_IsObject(*doc) && id && *id && json_str(*doc, "status", NULL))
        return 0;
    cJSON_Delete(*doc);
    *doc = NULL;
    return err_set(err, CH_SERVICE, "malformed_response", what,
                   "malformed response: the command has no id or status");
}

int vehicle_command_create(struct http_client *c, const char *vehicle_id, const char *type,
                           const char *reason, const char *order_id, const char *key,
                           const char *what, cJSON **out, struct ch_error *err)
{
    struct buf path = BUF_INIT;
    vehicle_path(&path, vehicle_id, "/commands");
    cJSON *body = vehicle_command_body(type, reason, order_id);
    int rc = api_post(c, path.data, body, key, what, out, err);
    cJSON_Delete(body);
    buf_free(&path);
    if (rc == 0)
        rc = check_command(out, what, err);
    return rc;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Sleeps ms in short slices, ticking progress; 1 when Ctrl-C interrupted it. */
static int pause_ms(double ms, double start, vehicle_progress_fn progress, void *ctx)
{
    double until = mono_ms() + ms;
    for (;;) {
        if (ch_interrupted)
            return 1;
        double left = until - mono_ms();
        if (left <= 0)
            return 0;
        if (left > PROGRESS_TICK_MS)
            left = PROGRESS_TICK_MS;
        struct timespec ts = { 0, (long)(left * 1e6) };
        nanosleep(&ts, NULL);
        if (progress)
            progress(ctx, NULL, (mono_ms() - start) / 1000.0);
    }
}

int vehicle_command_wait(struct http_client *c, const char *vehicle_id, const char *command_id,
                         double wait_s, vehicle_progress_fn progress, void *ctx, cJSON **out,
                         struct ch_error *err)
{
    struct buf path = BUF_INIT;
    vehicle_path(&path, vehicle_id, "/commands/");
    buf_put_urlencoded(&path, command_id);
    *out = NULL;
    const double start = mono_ms(), deadline = start + wait_s * 1000.0;
    int rc = 0;
    for (int attempt = 0;; attempt++) {
        cJSON *doc = NULL;
        rc = api_get(c, path.data, "command status", &doc, err);
        if (rc == 0)
            rc = check_command(&doc, "command status", err);
        if (rc)
            break;
        cJSON_Delete(*out);
        *out = doc;
        const char *status = json_str(doc, "status", "");
        if (progress)
            progress(ctx, status, (mono_ms() - start) / 1000.0);
        if (vehicle_cmd_state(status) != VCMD_PENDING)
            break;
        double left = deadline - mono_ms();
        if (left <= 0) {
            err_clear(err);
            rc = err_set(err, CH_SERVICE, "wait_timeout", "command status",
                         "the vehicle did not answer within %g s (last status: %s)", wait_s,
                         status);
            break;
        }
        double d = vehicle_poll_delay_ms(attempt);
        if (pause_ms(d < left ? d : left, start, progress, ctx)) {
            rc = err_set(err, CH_INTERRUPTED, "interrupted", "command status", "interrupted");
            break;
        }
    }
    buf_free(&path);
    return rc;
}
