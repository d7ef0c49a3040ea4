/* Batch mode (cli.md "Batch mode"): one input per line of FILE, up to --parallel N of
 * them in flight at once over libcurl's multi interface, results as NDJSON in input order.
 * A command describes one line's work as a small state machine of requests (struct
 * batch_ops); batch_run reads, validates, schedules, orders the output, draws the progress bar
 * and works out the exit status. Memory stays flat: at most a window of lines is held. */
#ifndef CARHELP_BATCH_RUN_H
#define CARHELP_BATCH_RUN_H
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "core/error.h"
#include "core/http.h"

struct session;

#define BATCH_PARALLEL_DEFAULT 8
#define BATCH_PARALLEL_MAX 64
#define BATCH_MORE (-1)            /* from batch_ops.answer: job->req holds the next request */

struct batch_job {
    int line_no;
    const cJSON *input;            /* the line's fields (strings), as batch_next gave them */
    void *state;                   /* ops->state_size zeroed bytes, the command's own */
    struct http_request req;       /* the request to send next; strings must live until the
                                    * next callback (keep them in state) */
    const char *what;              /* names the request in errors ("show order") */
};

struct batch_ops {
    const char *const *fields;        /* the option names a line may carry (NULL-terminated) */
    bool bare_ok;                     /* a bare argument (BATCH_ARG_KEY) is an input */
    const char *const *secret_fields; /* shown masked in the echoed "input" (NULL: none) */
    size_t state_size;
    /* Validates the line and sets job->req: 0, or the line's exit code with err (nothing is
     * sent for that line). */
    int (*start)(void *ctx, struct batch_job *job, struct ch_error *err);
    /* The answer to job->req, as api_decode gives it (rc; doc owned by the callee). Returns
     * BATCH_MORE with job->req set again, or the line's exit code, with *result (owned by the
     * engine; may stay NULL) for a line that got an answer (exit 0, or 1 for "the check said
     * no"), else err. */
    int (*answer)(void *ctx, struct batch_job *job, int rc, cJSON *doc, struct ch_error *err,
                  cJSON **result);
    /* Frees what state holds (may be NULL). */
    void (*cleanup)(void *ctx, struct batch_job *job);
};

/* --parallel's value (NULL: the default) -> 1..BATCH_PARALLEL_MAX, else CH_USAGE with err. */
int batch_parallel_arg(const char *in, int *out, struct ch_error *err);

/* Runs the batch of FILE ("-": stdin) and returns the exit status: 0 when every line is 0,
 * 1 when any line is not, or the code of a failure of the whole batch (2 unusable input,
 * 4 not logged in, 6 no network, 9 rate limited, 130 interrupted), reported on stderr after
 * the lines done so far. */
int batch_run(struct session *s, const char *file, int parallel, const struct batch_ops *ops,
              void *ctx);

#endif
