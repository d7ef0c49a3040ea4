/* The batch engine: read a window of lines ahead, keep up to `parallel` requests in flight
 * through http_multi, print each line's NDJSON result as soon as every line before it is
 * printed. See batch_run.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "batch_run.h"
#include "i18n.h"
#include "session.h"
#include "core/api.h"
#include "core/batch.h"
#include "core/output.h"
#include "core/validate.h"

#define PROGRESS_EVERY_MS 100.0

enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

struct slot {
    enum slot_state state;
    struct batch_job job;
    cJSON *input;
    char *text;                  /* the NDJSON line, once done */
};

struct run {
    struct session *s;
    const struct batch_ops *ops;
    void *ctx;
    struct slot *slots;
    size_t window;
    unsigned long long admitted, printed;
    int any_failed;              /* a line's exit was not 0 */
    int fatal;                   /* exit code of a failure of the whole batch, 0 = none */
    struct ch_error fatal_err;
    /* progress */
    bool progress;
    double started_ms, drawn_ms;
    unsigned long long done_lines;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int batch_parallel_arg(const char *in, int *out, struct ch_error *err)
{
    long n = BATCH_PARALLEL_DEFAULT;
    if (in && validate_int("--parallel", in, 1, BATCH_PARALLEL_MAX, &n, err))
        return CH_USAGE;
    *out = (int)n;
    return 0;
}

/* A failure no later line can escape: stop reading and report it for the whole batch. A
 * locked-out phone (429 locked_out) is that line's answer, not the service slowing us down. */
static bool whole_batch_failure(int rc, const struct ch_error *err)
{
    if (rc == CH_RATE)
        return strcmp(err->code, "locked_out") != 0;
    return rc == CH_AUTH || rc == CH_NETWORK || rc == CH_INTERRUPTED;
}

static bool is_secret(const struct batch_ops *ops, const char *key)
{
    for (const char *const *f = ops->secret_fields; f && *f; f++)
        if (strcmp(*f, key) == 0)
            return true;
    return false;
}

/* The input as echoed: secret fields masked; an unreadable line of a command with secrets is
 * not shown at all (it may be an ID number in the wrong place). */
static cJSON *echo_input(const struct batch_ops *ops, const cJSON *input)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, input) {
        const char *v = cJSON_IsString(it) ? it->valuestring : "";
        if (strcmp(it->string, "raw") == 0 && ops->secret_fields) {
            cJSON_AddNumberToObject(out, "raw_bytes", (double)strlen(v));
        } else if (is_secret(ops, it->string)) {
            char masked[128];
            if (strlen(v) >= 8) {
                mask_id_number(v, masked, sizeof masked);
            } else {
                size_t n = strlen(v);
                memset(masked, '*', n);
                masked[n] = '\0';
            }
            cJSON_AddStringToObject(out, it->string, masked);
        } else {
            cJSON_AddStringToObject(out, it->string, v);
        }
    }
    return out;
}

static char *result_line(const struct batch_ops *ops, int line_no, const cJSON *input, int code,
                         cJSON *result, const struct ch_error *err)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "line", line_no);
    cJSON_AddItemToObject(doc, "input", echo_input(ops, input));
    cJSON_AddNumberToObject(doc, "exit", code);
    if (result || code == 0) {
        cJSON_AddItemToObject(doc, "result", result ? result : cJSON_CreateNull());
    } else {
        cJSON *e = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(e, "code", err->code[0] ? err->code : "error");
        cJSON_AddStringToObject(e, "message", err->message);
        if (err->hint[0])
            cJSON_AddStringToObject(e, "hint", err->hint);
        if (err->http_status)
            cJSON_AddNumberToObject(e, "http_status", (double)err->http_status);
        else
            cJSON_AddNullToObject(e, "http_status");
        if (err->request_id[0])
            cJSON_AddStringToObject(e, "request_id", err->request_id);
        else
            cJSON_AddNullToObject(e, "request_id");
        cJSON_AddNumberToObject(e, "retries", err->retries);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

/* The line is over: its result line is made, its state freed. */
static void complete(struct run *r, struct slot *sl, int code, cJSON *result,
                     const struct ch_error *err)
{
    sl->text = result_line(r->ops, sl->job.line_no, sl->input, code, result, err);
    if (r->ops->cleanup && sl->job.state)
        r->ops->cleanup(r->ctx, &sl->job);
    free(sl->job.state);
    sl->job.state = NULL;
    cJSON_Delete(sl->input);
    sl->input = NULL;
    sl->state = SLOT_DONE;
    r->done_lines++;
    if (code != 0)
        r->any_failed = 1;
    if (!r->fatal && whole_batch_failure(code, err)) {
        r->fatal = code;
        r->fatal_err = *err;
    }
}

/* Prints the finished lines at the head of the window, in input order. */
static int flush_done(struct run *r)
{
    int printed = 0;
    while (r->printed < r->admitted) {
        struct slot *sl = &r->slots[r->printed % r->window];
        if (sl->state != SLOT_DONE)
            break;
        if (sl->text) {
            fputs(sl->text, stdout);
            fputc('\n', stdout);
        }
        cJSON_free(sl->text);
        sl->text = NULL;
        sl->state = SLOT_FREE;
        r->printed++;
        printed = 1;
    }
    if (printed && fflush(stdout) != 0)
        return -1;
    return 0;
}

static void draw_progress(struct run *r, const struct batch_reader *rd, bool final)
{
    if (!r->progress)
        return;
    double t = now_ms();
    if (!final && t - r->drawn_ms < PROGRESS_EVERY_MS)
        return;
    r->drawn_ms = t;
    if (final) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        return;
    }
    double secs = (t - r->started_ms) / 1000.0;
    double rate = secs > 0 ? (double)r->done_lines / secs : 0;
    long long done, total;
    batch_progress(rd, &done, &total);
    char line[160];
    int n = snprintf(line, sizeof line, _("%llu lines, %.0f/s"), r->done_lines, rate);
    if (total > 0 && n > 0 && (size_t)n < sizeof line) {
        double frac = (double)done / (double)total;
        if (frac > 1)
            frac = 1;
        char bar[21];
        int fill = (int)(frac * 20);
        for (int i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[20] = '\0';
        double eta = frac > 0 ? secs * (1 - frac) / frac : 0;
        snprintf(line + n, sizeof line - (size_t)n, _(" [%s] %3.0f%%, %.0f s left"), bar,
                 frac * 100, eta);
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

/* Takes the next line into the window: validated, its first request queued (or finished at
 * once when the line is bad). Returns 1 when a line was taken, 0 at the end, -1 when the
 * input as a whole is unusable. */
static int admit(struct run *r, struct batch_reader *rd, struct http_multi *m)
{
    struct ch_error err;
    err_clear(&err);
    int line_no = 0;
    cJSON *input = NULL;
    int got = batch_next(rd, &line_no, &input, &err);
    if (got == 0)
        return 0;
    if (got == -2) {
        cJSON_Delete(input);
        if (!r->fatal) {
            r->fatal = err.exit_code ? err.exit_code : CH_USAGE;
            r->fatal_err = err;
        }
        return -1;
    }
    struct slot *sl = &r->slots[r->admitted % r->window];
    r->admitted++;
    memset(sl, 0, sizeof *sl);
    sl->state = SLOT_BUSY;
    sl->input = input;
    sl->job.line_no = line_no;
    sl->job.input = input;
    if (got < 0) {
        complete(r, sl, err.exit_code ? err.exit_code : CH_USAGE, NULL, &err);
        return 1;
    }
    sl->job.state = r->ops->state_size ? xcalloc(1, r->ops->state_size) : NULL;
    int rc = r->ops->start(r->ctx, &sl->job, &err);
    if (rc) {
        complete(r, sl, rc, NULL, &err);
        return 1;
    }
    http_multi_add(m, &sl->job.req, sl);
    return 1;
}

/* One answer back from the service: the line's next request, or its end. */
static void answered(struct run *r, struct http_multi *m, struct slot *sl,
                     struct http_response *resp, int trc, struct ch_error *err)
{
    cJSON *doc = NULL, *result = NULL;
    int rc = api_decode(resp, trc, sl->job.what, &doc, err);
    int code = r->ops->answer(r->ctx, &sl->job, rc, doc, err, &result);
    if (code == BATCH_MORE) {
        http_multi_add(m, &sl->job.req, sl);
        return;
    }
    complete(r, sl, code, result, err);
}

int batch_run(struct session *s, const char *file, int parallel, const struct batch_ops *ops,
              void *ctx)
{
    struct ch_error err;
    err_clear(&err);
    struct http_client *http;
    struct batch_reader *rd = NULL;
    if (session_http(s, &http, &err) || batch_open("--batch", file, &rd, &err))
        return session_report(s, &err);
    batch_set_fields(rd, ops->fields, ops->bare_ok);
    struct http_multi *m = http_multi_new(http, parallel);
    if (!m) {
        batch_close(rd);
        err_set(&err, CH_NETWORK, "network", "--batch", "cannot start the transfers");
        return session_report(s, &err);
    }

    struct run r = { .s = s, .ops = ops, .ctx = ctx };
    /* Read ahead enough to keep every transfer busy while a slow line holds up the output. */
    r.window = (size_t)parallel * 4 + 16;
    r.slots = xcalloc(r.window, sizeof *r.slots);
    r.progress = s->stderr_tty && s->verbosity == 0;
    r.started_ms = now_ms();
    int eof = 0, write_failed = 0, warned = 0;
    struct http_response resp;
    http_response_init(&resp);

    for (;;) {
        while (!eof && !r.fatal && r.admitted - r.printed < r.window) {
            if (admit(&r, rd, m) <= 0)
                eof = 1;
            if (!warned && batch_ignored_columns(rd)[0]) {
                warned = 1;
                msg_warn(s, _("--batch: ignoring CSV columns this command does not use: %s"),
                         batch_ignored_columns(rd));
            }
            if (http_multi_pending(m) >= (size_t)parallel)
                break;   /* enough in flight: answer some before reading further */
        }
        if (flush_done(&r) < 0) {
            write_failed = 1;
            break;
        }
        draw_progress(&r, rd, false);
        if (http_multi_pending(m) == 0) {
            if (eof || r.fatal)
                break;
            continue;
        }
        void *tag;
        int trc;
        err_clear(&err);
        if (http_multi_next(m, &tag, &resp, &err, &trc))
            answered(&r, m, tag, &resp, trc, &err);
    }
    draw_progress(&r, rd, true);
    http_response_free(&resp);
    http_multi_free(m);
    /* Lines still in the window (only after a failed write) are dropped with their state. */
    for (size_t i = 0; i < r.window; i++) {
        struct slot *sl = &r.slots[i];
        if (sl->state == SLOT_BUSY && ops->cleanup && sl->job.state)
            ops->cleanup(ctx, &sl->job);
        if (sl->state == SLOT_BUSY) {
            free(sl->job.state);
            cJSON_Delete(sl->input);
        }
        cJSON_free(sl->text);
    }
    free(r.slots);
    batch_close(rd);
    if (write_failed)
        return CH_USAGE;   /* main's output check names the write error */
    if (r.fatal) {
        if (r.fatal_err.exit_code == 0)
            r.fatal_err.exit_code = r.fatal;
        return session_report(s, &r.fatal_err);
    }
    if (r.admitted == 0)
        msg_info(s, _("%s: no input lines"), strcmp(file, "-") == 0 ? _("standard input") : file);
    return r.any_failed ? CH_NO : CH_OK;
}
