/* Batch input lines -> JSON objects of option values, and NDJSON result lines. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "buf.h"

struct batch_reader {
    FILE *f;
    int own;             /* fclose at the end (not stdin) */
    int line_no;
    int first;           /* no content line seen yet */
    cJSON *header;       /* CSV column names (array of strings), or NULL */
};

int batch_open(const char *field, const char *path, struct batch_reader **out,
               struct ch_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return err_set(err, CH_USAGE, "bad_file", field, "cannot read %s: %s", path,
                       strerror(errno));
    struct batch_reader *r = xcalloc(1, sizeof *r);
    r->f = f;
    r->own = f != stdin;
    r->first = 1;
    *out = r;
    return 0;
}

void batch_close(struct batch_reader *r)
{
    if (!r)
        return;
    if (r->own)
        fclose(r->f);
    cJSON_Delete(r->header);
    free(r);
}

/* Option names as typed: `_` may stand for `-`. */
static char *key_name(const char *k)
{
    char *s = xstrdup(k);
    for (char *p = s; *p; p++)
        if (*p == '_')
            *p = '-';
    return s;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Splits one CSV row ("a","b ""c""",d) into an array of strings; NULL when a quote is open. */
static cJSON *csv_fields(const char *line)
{
    cJSON *out = cJSON_CreateArray();
    struct buf field = BUF_INIT;
    buf_init(&field);
    const char *p = line;
    for (;;) {
        buf_reset(&field);
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) {
                    buf_free(&field);
                    cJSON_Delete(out);
                    return NULL;
                }
                if (*p == '"' && p[1] == '"') {
                    buf_putc(&field, '"');
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    buf_putc(&field, *p++);
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                buf_putc(&field, *p++);
        }
        cJSON_AddItemToArray(out, cJSON_CreateString(trim(field.data)));
        if (*p != ',')
            break;
        p++;
    }
    buf_free(&field);
    return out;
}

/* A JSON object line: every value becomes a string (numbers as written, true/false). */
static cJSON *from_json(const char *line, struct ch_error *err)
{
    cJSON *doc = cJSON_Parse(line);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        err_set(err, CH_USAGE, "invalid_input", "--batch", "the line is not a JSON object");
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    const cJSON *item;
    cJSON_ArrayForEach(item, doc) {
        char *k = key_name(item->string ? item->string : "");
        if (cJSON_IsString(item)) {
            cJSON_AddStringToObject(out, k, item->valuestring);
        } else if (cJSON_IsNumber(item) || cJSON_IsBool(item)) {
            char *t = cJSON_PrintUnformatted(item);
            cJSON_AddStringToObject(out, k, t ? t : "");
            cJSON_free(t);
        } else if (!cJSON_IsNull(item)) {
            free(k);
            cJSON_Delete(out);
            cJSON_Delete(doc);
            err_set(err, CH_USAGE, "invalid_input", "--batch",
                    "values must be strings, numbers or true/false");
            return NULL;
        }
        free(k);
    }
    cJSON_Delete(doc);
    return out;
}

static cJSON *from_csv(const struct batch_reader *r, const char *line, struct ch_error *err)
{
    cJSON *fields = csv_fields(line);
    int n = fields ? cJSON_GetArraySize(fields) : -1;
    if (n != cJSON_GetArraySize(r->header)) {
        cJSON_Delete(fields);
        err_set(err, CH_USAGE, "invalid_input", "--batch",
                "the CSV row does not have one value per header column");
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        const char *k = cJSON_GetArrayItem(r->header, i)->valuestring;
        const char *v = cJSON_GetArrayItem(fields, i)->valuestring;
        if (*v)
            cJSON_AddStringToObject(out, k, v);
    }
    cJSON_Delete(fields);
    return out;
}

int batch_next(struct batch_reader *r, int *line_no, cJSON **input, struct ch_error *err)
{
    char *raw = NULL;
    size_t cap = 0;
    *input = NULL;
    for (;;) {
        ssize_t len = getline(&raw, &cap, r->f);
        if (len < 0) {
            free(raw);
            return 0;
        }
        r->line_no++;
        *line_no = r->line_no;
        char *line = trim(raw);
        if (!*line || *line == '#')
            continue;
        int rc = 1;
        if ((size_t)len > BATCH_LINE_MAX) {
            err_set(err, CH_USAGE, "invalid_input", "--batch", "the line is longer than %d bytes",
                    BATCH_LINE_MAX);
            rc = -1;
        } else if (*line == '{') {
            *input = from_json(line, err);
            rc = *input ? 1 : -1;
        } else if (r->header) {
            *input = from_csv(r, line, err);
            rc = *input ? 1 : -1;
        } else if (r->first && strchr(line, ',')) {
            /* A first line with commas is a CSV header of option names. */
            cJSON *h = csv_fields(line);
            cJSON *names = cJSON_CreateArray();
            const cJSON *it;
            cJSON_ArrayForEach(it, h) {
                char *k = key_name(it->valuestring);
                cJSON_AddItemToArray(names, cJSON_CreateString(k));
                free(k);
            }
            cJSON_Delete(h);
            r->header = names;
            r->first = 0;
            continue;
        } else {
            *input = cJSON_CreateObject();
            cJSON_AddStringToObject(*input, BATCH_ARG_KEY, line);
        }
        r->first = 0;
        if (rc < 0) {
            *input = cJSON_CreateObject();
            cJSON_AddStringToObject(*input, "raw", line);
        }
        free(raw);
        return rc;
    }
}

const char *batch_value(const cJSON *input, const char *const *keys)
{
    for (; keys && *keys; keys++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(input, *keys);
        if (cJSON_IsString(v))
            return v->valuestring;
    }
    return NULL;
}

void batch_print_result(FILE *f, int line_no, const cJSON *input, const cJSON *result,
                        const struct ch_error *err)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "line", line_no);
    cJSON_AddItemToObject(doc, "input", input ? cJSON_Duplicate(input, 1) : cJSON_CreateObject());
    int code = err ? err->exit_code : 0;
    cJSON_AddNumberToObject(doc, "exit", code);
    if (code) {
        cJSON *e = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(e, "code", err->code[0] ? err->code : "error");
        cJSON_AddStringToObject(e, "message", err->message);
        if (err->http_status)
            cJSON_AddNumberToObject(e, "http_status", (double)err->http_status);
        else
            cJSON_AddNullToObject(e, "http_status");
        if (err->request_id[0])
            cJSON_AddStringToObject(e, "request_id", err->request_id);
        else
            cJSON_AddNullToObject(e, "request_id");
    } else {
        cJSON_AddItemToObject(doc, "result",
                              result ? cJSON_Duplicate(result, 1) : cJSON_CreateNull());
    }
    char *text = cJSON_PrintUnformatted(doc);
    if (text) {
        fputs(text, f);
        fputc('\n', f);
    }
    cJSON_free(text);
    cJSON_Delete(doc);
}
