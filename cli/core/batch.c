/* Batch input lines -> JSON objects of option values, and NDJSON result lines. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "batch.h"
#include "buf.h"

struct batch_reader {
    FILE *f;
    int own;             /* fclose at the end (not stdin) */
    int line_no;
    int first;           /* no content line seen yet */
    cJSON *header;       /* CSV column names (array of strings), or NULL */
    const char *const *fields;   /* names a line may carry, or NULL for any */
    int bare_ok;         /* a bare argument is an input */
    long long size;      /* bytes in the file when it is a regular file, else -1 */
    long long offset;    /* bytes read so far */
    char *line;          /* BATCH_LINE_MAX + 2 bytes */
    char ignored[256];   /* CSV columns that name no field, "note, comment" */
};

int batch_open(const char *field, const char *path, struct batch_reader **out,
               struct ch_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return err_set(err, CH_USAGE, "bad_file", field, "cannot read %s: %s", path,
                       strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (f != stdin)
            fclose(f);
        return err_set(err, CH_USAGE, "bad_file", field, "cannot read %s: %s", path,
                       strerror(EISDIR));
    }
    struct batch_reader *r = xcalloc(1, sizeof *r);
    r->f = f;
    r->own = f != stdin;
    r->first = 1;
    r->bare_ok = 1;
    r->size = S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
    r->line = xcalloc(1, BATCH_LINE_MAX + 2);
    *out = r;
    return 0;
}

void batch_set_fields(struct batch_reader *r, const char *const *fields, int bare_ok)
{
    r->fields = fields;
    r->bare_ok = bare_ok;
}

const char *batch_ignored_columns(const struct batch_reader *r)
{
    return r->ignored;
}

void batch_progress(const struct batch_reader *r, long long *done, long long *total)
{
    *done = r->offset;
    *total = r->size;
}

void batch_close(struct batch_reader *r)
{
    if (!r)
        return;
    if (r->own)
        fclose(r->f);
    cJSON_Delete(r->header);
    free(r->line);
    free(r);
}

static int known_field(const struct batch_reader *r, const char *name)
{
    if (!r->fields)
        return 1;
    for (const char *const *f = r->fields; *f; f++)
        if (strcmp(*f, name) == 0)
            return 1;
    return 0;
}

/* "phone, id-last4, member" for messages. */
static void field_list(const struct batch_reader *r, char *out, size_t outsz)
{
    size_t o = 0;
    out[0] = '\0';
    for (const char *const *f = r->fields; f && *f && o + 1 < outsz; f++)
        o += (size_t)snprintf(out + o, outsz - o, "%s%s", o ? ", " : "", *f);
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
static cJSON *from_json(const struct batch_reader *r, const char *line, struct ch_error *err)
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
        if (!known_field(r, k)) {
            char names[256];
            field_list(r, names, sizeof names);
            err_set(err, CH_USAGE, "invalid_input", "--batch",
                    "unknown field \"%.64s\" (a line may have: %s)", k, names);
            free(k);
            cJSON_Delete(out);
            cJSON_Delete(doc);
            return NULL;
        }
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
        if (*v && *k && known_field(r, k))
            cJSON_AddStringToObject(out, k, v);
    }
    cJSON_Delete(fields);
    return out;
}

/* Reads one line into r->line, at most BATCH_LINE_MAX bytes of it; the rest of a longer line
 * is read and dropped. 1 and *too_long, or 0 at the end of the input. */
static int read_line(struct batch_reader *r, int *too_long)
{
    size_t have = 0;
    int any = 0;
    char skip[4096];
    *too_long = 0;
    r->line[0] = '\0';
    for (;;) {
        char *dst = *too_long ? skip : r->line + have;
        size_t room = *too_long ? sizeof skip : BATCH_LINE_MAX + 2 - have;
        if (!fgets(dst, (int)room, r->f))
            break;
        any = 1;
        size_t n = strlen(dst);   /* a NUL byte hides the rest of the chunk: garbage anyway */
        r->offset += (long long)n;
        if (n > 0 && dst[n - 1] == '\n')
            break;
        if (!*too_long) {
            have += n;
            if (have > BATCH_LINE_MAX)
                *too_long = 1;
        }
    }
    if (*too_long)
        r->line[BATCH_LINE_MAX] = '\0';
    return any;
}

/* At most 256 bytes of a bad line, cut at a character boundary, for the "raw" echo. */
static cJSON *raw_echo(const char *line)
{
    char cut[257];
    size_t n = strlen(line);
    if (n > 256) {
        n = 256;
        while (n > 0 && ((unsigned char)line[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(cut, line, n);
    cut[n] = '\0';
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "raw", cut);
    return o;
}

int batch_next(struct batch_reader *r, int *line_no, cJSON **input, struct ch_error *err)
{
    *input = NULL;
    int too_long;
    while (read_line(r, &too_long)) {
        r->line_no++;
        *line_no = r->line_no;
        char *line = r->line;
        if (r->line_no == 1 && (unsigned char)line[0] == 0xEF &&
            (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF)
            line += 3;   /* a UTF-8 byte order mark, as spreadsheets write it */
        line = trim(line);
        if (too_long) {
            err_set(err, CH_USAGE, "invalid_input", "--batch", "the line is longer than %d bytes",
                    BATCH_LINE_MAX);
            *input = raw_echo(line);
            r->first = 0;
            return -1;
        }
        if (!*line || *line == '#')
            continue;
        int rc = 1;
        if (*line == '{') {
            *input = from_json(r, line, err);
            rc = *input ? 1 : -1;
        } else if (r->header) {
            *input = from_csv(r, line, err);
            rc = *input ? 1 : -1;
        } else if (r->first && (strchr(line, ',') || !r->bare_ok)) {
            /* A first line with commas is a CSV header of option names. */
            cJSON *h = csv_fields(line);
            cJSON *names = cJSON_CreateArray();
            const cJSON *it;
            int known = 0;
            size_t o = 0;
            cJSON_ArrayForEach(it, h) {
                char *k = key_name(it->valuestring);
                if (*k && known_field(r, k)) {
                    known++;
                } else if (o + strlen(k) + 3 < sizeof r->ignored) {
                    o += (size_t)snprintf(r->ignored + o, sizeof r->ignored - o, "%s%s",
                                          o ? ", " : "", *k ? k : "\"\"");
                }
                cJSON_AddItemToArray(names, cJSON_CreateString(k));
                free(k);
            }
            cJSON_Delete(h);
            if (!known) {
                r->ignored[0] = '\0';
                cJSON_Delete(names);
                char list[256];
                field_list(r, list, sizeof list);
                err_set(err, CH_USAGE, "invalid_input", "--batch",
                        "line %d is not a CSV header of option names (%s)", r->line_no, list);
                err_hint(err, "CSV input starts with a header line, e.g. \"%s\"; or give one "
                              "JSON object per line", r->fields && r->fields[0] ? r->fields[0] : "");
                return -2;
            }
            r->header = names;
            r->first = 0;
            continue;
        } else if (!r->bare_ok) {
            err_set(err, CH_USAGE, "invalid_input", "--batch",
                    "the line is neither a JSON object nor a CSV row under a header line");
            rc = -1;
        } else {
            *input = cJSON_CreateObject();
            cJSON_AddStringToObject(*input, BATCH_ARG_KEY, line);
        }
        r->first = 0;
        if (rc < 0)
            *input = raw_echo(line);
        return rc;
    }
    if (ferror(r->f)) {
        int e = errno;
        err_set(err, CH_USAGE, "bad_file", "--batch", "cannot read the input: %s", strerror(e));
        return -2;
    }
    return 0;
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
