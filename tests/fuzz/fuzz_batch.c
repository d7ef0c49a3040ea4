/* The batch line parser (cli/core/batch.h: batch_open / batch_next / batch_value /
 * batch_print_result): the input is the whole --batch file. Invariants: line numbers only
 * grow; 1 gives an object of strings; -1 gives exit 2 with a code and the raw line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "fuzz.h"

static char path[512];
static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_path(path, sizeof path, "batch.txt");
    sink = fopen("/dev/null", "w");
    if (!sink)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = { BATCH_ARG_KEY, "phone", "order", "id", NULL };
    fuzz_write(path, data, size, 0600);
    struct batch_reader *r = NULL;
    struct ch_error err;
    err_clear(&err);
    if (batch_open("--batch", path, &r, &err) != 0)
        fuzz_fail("batch_open: %s", err.message);
    int line = 0, last = 0, rc;
    cJSON *input;
    for (;;) {
        err_clear(&err);
        rc = batch_next(r, &line, &input, &err);
        if (rc == 0)
            break;
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
            if (err.exit_code != CH_USAGE || !err.code[0] ||
                !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(input, "raw")))
                fuzz_fail("batch_next: -1 with error %d", err.exit_code);
            batch_print_result(sink, line, input, NULL, &err);
        } else {
            fuzz_fail("batch_next: returned %d", rc);
        }
        cJSON_Delete(input);
    }
    batch_close(r);
    return 0;
}
