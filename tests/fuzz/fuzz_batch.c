/* The batch line parser (cli/core/batch.h: batch_open / batch_set_fields / batch_next /
 * batch_value / batch_print_result): the input is the whole --batch file, read once with
 * any field allowed and once with the field sets of `account verify`, `order audit` and
 * `vehicle show`; a fifth read puts the input behind a run of 'x' that ends just below or
 * above BATCH_LINE_MAX, so the long-line path (a line's error, never held whole) meets the
 * fuzzed bytes at the cut. Invariants: line numbers only grow; 1 gives an object of strings;
 * -1 gives exit 2 with a code and at most 256 bytes of the line under "raw"; -2 (the input
 * as a whole is unusable) has an exit code and ends the read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "fuzz.h"

static char path[512];
static FILE *sink;
static char *long_prefix;

struct field_set {
    const char *const *fields;
    int bare_ok;
};

static void read_all(const struct field_set *fs)
{
    static const char *const keys[] = { BATCH_ARG_KEY, "phone", "order", "id", NULL };
    struct batch_reader *r = NULL;
    struct ch_error err;
    err_clear(&err);
    if (batch_open("--batch", path, &r, &err) != 0)
        fuzz_fail("batch_open: %s", err.message);
    batch_set_fields(r, fs->fields, fs->bare_ok);
    int line = 0, last = 0, rc;
    cJSON *input;
    for (;;) {
        err_clear(&err);
        input = NULL;
        rc = batch_next(r, &line, &input, &err);
        if (rc == 0)
            break;
        if (rc == -2) {
            if (!err.exit_code || !err.code[0])
                fuzz_fail("batch_next: -2 without an error");
            cJSON_Delete(input);
            break;
        }
        if (line <= last)
            fuzz_fail("batch_next: line %d after line %d", line, last);
        last = line;
        if (!cJSON_IsObject(input))
            fuzz_fail("batch_next: %d without an object", rc);
        if (rc == 1) {
            const cJSON *v;
            cJSON_ArrayForEach(v, input)
                if (!cJSON_IsString(v))
                    fuzz_fail("batch_next: a value that is not a string");
            (void)batch_value(input, keys);
            batch_print_result(sink, line, input, input, NULL);
        } else if (rc == -1) {
            const cJSON *raw = cJSON_GetObjectItemCaseSensitive(input, "raw");
            if (err.exit_code != CH_USAGE || !err.code[0] ||
                (raw && (!cJSON_IsString(raw) || strlen(raw->valuestring) > 256 + 3)))
                fuzz_fail("batch_next: -1 with error %d", err.exit_code);
            batch_print_result(sink, line, input, NULL, &err);
        } else {
            fuzz_fail("batch_next: returned %d", rc);
        }
        cJSON_Delete(input);
    }
    (void)batch_ignored_columns(r);
    batch_close(r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_path(path, sizeof path, "batch.txt");
    sink = fopen("/dev/null", "w");
    long_prefix = malloc(BATCH_LINE_MAX + 16);
    if (!sink || !long_prefix)
        abort();
    memset(long_prefix, 'x', BATCH_LINE_MAX + 16);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const verify[] = { "phone", "id-last4", "id-number", "order", "member", NULL };
    static const char *const audit[] = { "order", NULL };
    static const char *const vehicle[] = { "plate", "id", "vehicle", NULL };
    static const struct field_set sets[] = {
        { NULL, 1 }, { verify, 0 }, { audit, 1 }, { vehicle, 1 },
    };
    fuzz_write(path, data, size, 0600);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        read_all(&sets[i]);

    size_t pre = BATCH_LINE_MAX - 8 + (size ? data[0] % 16 : 0);
    char *text = malloc(pre + size);
    if (!text)
        abort();
    memcpy(text, long_prefix, pre);
    if (size)
        memcpy(text + pre, data, size);
    fuzz_write(path, text, pre + size, 0600);
    free(text);
    read_all(&sets[0]);
    return 0;
}
