/* Batch input (cli.md "Batch mode"): one input per line of FILE (`-`: stdin), each either a
 * JSON object whose keys are option names (`_` may stand for `-`), a bare argument, or a CSV
 * row under a header line of option names. Each line becomes a JSON object of strings; a
 * bare argument is stored under BATCH_ARG_KEY. Blank lines and lines starting with '#' are
 * skipped. Output helpers write the NDJSON result lines. */
#ifndef CARHELP_BATCH_H
#define CARHELP_BATCH_H
#include <stdio.h>
#include <cjson/cJSON.h>
#include "error.h"

#define BATCH_ARG_KEY "arg"
#define BATCH_LINE_MAX (64 * 1024)

struct batch_reader;

/* Opens FILE, or stdin for "-". CH_USAGE with err naming `field` when it cannot be read. */
int batch_open(const char *field, const char *path, struct batch_reader **out,
               struct ch_error *err);
/* The names a line may carry (after `_` -> `-`; NULL-terminated; NULL = any), and whether a
 * bare argument is an input. Unknown JSON keys make that line an error. A CSV header's columns
 * that name no field are ignored (spreadsheets carry extra columns); a header that names none
 * at all (a data row where the header should be) ends the batch. */
void batch_set_fields(struct batch_reader *r, const char *const *fields, int bare_ok);
/* The CSV header's columns that name no field (ignored), "note, comment", or "". */
const char *batch_ignored_columns(const struct batch_reader *r);
/* Bytes read so far and the file's size (-1 when not a regular file), for progress. */
void batch_progress(const struct batch_reader *r, long long *done, long long *total);
/* The next input: 1 and *input (caller cJSON_Delete's it), 0 at the end, -1 for a line
 * that cannot be read as an input (err says why; *input holds at most 256 bytes of it under
 * "raw"), or -2 when the input as a whole is unusable (a bad CSV header, a read error; err).
 * Lines over BATCH_LINE_MAX bytes are that line's error and never held in memory whole.
 * *line_no is the 1-based line number in the file. */
int batch_next(struct batch_reader *r, int *line_no, cJSON **input, struct ch_error *err);
void batch_close(struct batch_reader *r);

/* The value of one of `keys` (NULL-terminated, tried in order) as a string, or NULL. */
const char *batch_value(const cJSON *input, const char *const *keys);

/* One NDJSON result line: {"line":N,"input":{...},"exit":CODE,"result":{...}} when err is
 * NULL or has exit_code 0, else {"line":N,"input":{...},"exit":CODE,"error":{...}}. */
void batch_print_result(FILE *f, int line_no, const cJSON *input, const cJSON *result,
                        const struct ch_error *err);

#endif
