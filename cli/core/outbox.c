#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "api.h"
#include "attach.h"
#include "buf.h"
#include "json.h"
#include "outbox.h"
#include "output.h"
#include "paths.h"

#define OUTBOX_VERSION 1
#define ITEM_MAX_BYTES (4 * 1024 * 1024)

bool outbox_accepts(const struct ch_error *e)
{
    return e && (e->exit_code == CH_NETWORK || e->exit_code == CH_SERVICE);
}

void outbox_dir(const char *state_dir, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/outbox", state_dir);
}

static char *dup_str(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void outbox_item_free(struct outbox_item *it)
{
    free(it->file);
    free(it->command);
    free(it->summary);
    free(it->profile);
    free(it->api_url);
    free(it->created_at);
    free(it->method);
    free(it->path);
    free(it->idempotency_key);
    free(it->attach_path);
    cJSON_Delete(it->body);
    for (int i = 0; i < it->natt; i++) {
        free(it->att[i].path);
        free(it->att[i].content_type);
    }
    memset(it, 0, sizeof *it);
}

void outbox_free_items(struct outbox_item *items, int n)
{
    for (int i = 0; i < n; i++)
        outbox_item_free(&items[i]);
    free(items);
}

void outbox_free_names(char **names)
{
    for (char **p = names; p && *p; p++)
        free(*p);
    free(names);
}

static void new_id(char out[OUTBOX_ID_MAX])
{
    unsigned char r[4] = {0};
    time_t now = ch_now();
    struct tm tm;
    char stamp[32] = "00000000-000000";
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        unsigned v = (unsigned)getpid() ^ (unsigned)clock();
        memcpy(r, &v, sizeof r);
    }
    if (gmtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, OUTBOX_ID_MAX, "%s-%02x%02x%02x%02x", stamp, r[0], r[1], r[2], r[3]);
}

static double realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int outbox_item_from_request(const struct outbox_request *r, struct outbox_item *it,
                             struct ch_error *err)
{
    memset(it, 0, sizeof *it);
    int n = 0;
    while (r->attachments && r->attachments[n])
        n++;
    if (n > OUTBOX_MAX_ATTACHMENTS)
        return err_set(err, CH_USAGE, "too_many_attachments", "--attach",
                       "at most %d attachments per ticket (got %d)", OUTBOX_MAX_ATTACHMENTS, n);
    if (!r->idempotency_key || !*r->idempotency_key)
        return err_set(err, CH_USAGE, "internal", "outbox", "a request without Idempotency-Key");
    for (int i = 0; i < n; i++) {
        struct attach_info info;
        int rc = attach_inspect("--attach", r->attachments[i], &info, err);
        if (rc) {
            outbox_item_free(it);
            return rc;
        }
        char abs[PATH_MAX];
        it->att[i].path = xstrdup(realpath(r->attachments[i], abs) ? abs : r->attachments[i]);
        it->att[i].size = info.size;
        memcpy(it->att[i].sha256, info.sha256, sizeof info.sha256);
        it->att[i].content_type = xstrdup(info.content_type);
        it->natt = i + 1;
    }
    new_id(it->id);
    char created[64];
    format_rfc3339(ch_now(), created, sizeof created);
    it->created_at = xstrdup(created);
    it->created_ns = realtime_ns();
    it->command = dup_str(r->command ? r->command : "request");
    it->summary = dup_str(r->summary ? r->summary : "");
    it->profile = dup_str(r->profile && *r->profile ? r->profile : "default");
    it->api_url = dup_str(r->api_url ? r->api_url : "");
    it->method = dup_str(r->method);
    it->path = dup_str(r->path);
    it->body = r->body ? cJSON_Duplicate(r->body, 1) : NULL;
    it->idempotency_key = dup_str(r->idempotency_key);
    it->attach_path = dup_str(r->attach_path);
    return 0;
}

static cJSON *item_json(const struct outbox_item *it)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "version", OUTBOX_VERSION);
    cJSON_AddStringToObject(doc, "id", it->id);
    cJSON_AddStringToObject(doc, "created_at", it->created_at);
    cJSON_AddNumberToObject(doc, "created_ns", it->created_ns);
    cJSON_AddStringToObject(doc, "command", it->command);
    cJSON_AddStringToObject(doc, "summary", it->summary);
    cJSON_AddStringToObject(doc, "profile", it->profile);
    cJSON_AddStringToObject(doc, "api_url", it->api_url);
    cJSON_AddStringToObject(doc, "idempotency_key", it->idempotency_key);
    if (it->method) {
        cJSON *req = cJSON_AddObjectToObject(doc, "request");
        cJSON_AddStringToObject(req, "method", it->method);
        cJSON_AddStringToObject(req, "path", it->path ? it->path : "/");
        if (it->body)
            cJSON_AddItemToObject(req, "body", cJSON_Duplicate(it->body, 1));
    }
    if (it->attach_path)
        cJSON_AddStringToObject(doc, "attach_path", it->attach_path);
    cJSON *atts = cJSON_AddArrayToObject(doc, "attachments");
    for (int i = 0; i < it->natt; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "path", it->att[i].path);
        cJSON_AddNumberToObject(a, "size", (double)it->att[i].size);
        cJSON_AddStringToObject(a, "sha256", it->att[i].sha256);
        cJSON_AddStringToObject(a, "content_type", it->att[i].content_type);
        cJSON_AddItemToArray(atts, a);
    }
    return doc;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* temp file in the same folder, fsync, rename, fsync the folder. */
static int write_atomic(const char *dir, const char *name, const char *text,
                        struct ch_error *err)
{
    char tmp[PATH_MAX], final[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%ld", dir, name, (long)getpid());
    snprintf(final, sizeof final, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, CH_USAGE, "outbox_write", "outbox", "cannot write %s: %s", tmp,
                       strerror(errno));
    if (write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return err_set(err, CH_USAGE, "outbox_write", "outbox", "cannot write %s: %s", tmp,
                       strerror(e));
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        int e = errno;
        unlink(tmp);
        return err_set(err, CH_USAGE, "outbox_write", "outbox", "cannot rename %s: %s", tmp,
                       strerror(e));
    }
    if (sync_dir(dir) != 0)
        return err_set(err, CH_USAGE, "outbox_write", "outbox", "cannot sync %s: %s", dir,
                       strerror(errno));
    return 0;
}

int outbox_save_item(const char *dir, struct outbox_item *it, struct ch_error *err)
{
    int rc = paths_mkdir(dir, 0700, err);
    if (rc)
        return rc;
    cJSON *doc = item_json(it);
    char *text = json_print(doc);
    cJSON_Delete(doc);
    char name[OUTBOX_ID_MAX + 8], path[PATH_MAX];
    snprintf(name, sizeof name, "%s.json", it->id);
    rc = write_atomic(dir, name, text, err);
    free(text);
    if (!rc) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        free(it->file);
        it->file = xstrdup(path);
    }
    return rc;
}

int outbox_save_request(const char *dir, const struct outbox_request *r, char *id_out,
                        size_t idsz, struct ch_error *err)
{
    struct outbox_item it;
    int rc = outbox_item_from_request(r, &it, err);
    if (!rc)
        rc = outbox_save_item(dir, &it, err);
    if (!rc && id_out)
        snprintf(id_out, idsz, "%s", it.id);
    outbox_item_free(&it);
    return rc;
}

static bool is_item_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

int outbox_count(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (is_item_name(e->d_name))
            n++;
    closedir(d);
    return n;
}

static char *read_small_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ITEM_MAX_BYTES) {
        close(fd);
        return NULL;
    }
    struct buf b = BUF_INIT;
    buf_init(&b);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0) {
                buf_free(&b);
                close(fd);
                return NULL;
            }
            break;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    char *text = buf_detach(&b);
    buf_free(&b);   /* detach leaves a fresh empty buffer */
    return text;
}

static char *str_field(const cJSON *o, const char *key)
{
    const char *v = json_str(o, key, NULL);
    return v ? xstrdup(v) : NULL;
}

/* 0 when the document is a complete item. */
static int parse_item(const char *text, const char *file, const char *stem,
                      struct outbox_item *it)
{
    memset(it, 0, sizeof *it);
    cJSON *doc = cJSON_Parse(text);
    if (!cJSON_IsObject(doc) || json_int(doc, "version", 0) != OUTBOX_VERSION) {
        cJSON_Delete(doc);
        return -1;
    }
    const char *id = json_str(doc, "id", "");
    const cJSON *req = json_obj(doc, "request");
    const cJSON *atts = json_arr(doc, "attachments");
    int bad = strcmp(id, stem) != 0 || strlen(id) >= OUTBOX_ID_MAX;
    snprintf(it->id, sizeof it->id, "%s", id);
    it->file = xstrdup(file);
    it->command = str_field(doc, "command");
    it->summary = str_field(doc, "summary");
    it->profile = str_field(doc, "profile");
    it->api_url = str_field(doc, "api_url");
    it->created_at = str_field(doc, "created_at");
    it->created_ns = json_num(doc, "created_ns", 0);
    it->idempotency_key = str_field(doc, "idempotency_key");
    it->attach_path = str_field(doc, "attach_path");
    if (req) {
        it->method = str_field(req, "method");
        it->path = str_field(req, "path");
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(req, "body");
        if (body)
            it->body = cJSON_Duplicate(body, 1);
        bad |= !it->method || !it->path || it->path[0] != '/';
    }
    bad |= !it->command || !it->summary || !it->profile || !it->api_url || !it->created_at ||
           !it->idempotency_key || !*it->idempotency_key || !atts;
    bad |= !req && cJSON_GetArraySize(atts) == 0;
    bad |= cJSON_GetArraySize(atts) > 0 && !it->attach_path;
    bad |= cJSON_GetArraySize(atts) > OUTBOX_MAX_ATTACHMENTS;
    const cJSON *a;
    cJSON_ArrayForEach(a, atts) {
        if (bad)
            break;
        struct outbox_attachment *o = &it->att[it->natt];
        const char *sum = json_str(a, "sha256", "");
        o->path = str_field(a, "path");
        o->content_type = str_field(a, "content_type");
        o->size = json_int(a, "size", -1);
        it->natt++;
        bad |= !o->path || !o->content_type || o->size < 0 || strlen(sum) != 64;
        snprintf(o->sha256, sizeof o->sha256, "%s", sum);
    }
    cJSON_Delete(doc);
    if (bad) {
        outbox_item_free(it);
        return -1;
    }
    return 0;
}

/* Moves a bad file to dir/corrupt/ (never deletes it); returns its new path or NULL. */
static char *move_aside(const char *dir, const char *name)
{
    char sub[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    struct ch_error err;
    snprintf(sub, sizeof sub, "%s/corrupt", dir);
    snprintf(from, sizeof from, "%s/%s", dir, name);
    if (paths_mkdir(sub, 0700, &err) != 0)
        return NULL;
    struct buf dest = BUF_INIT;
    buf_init(&dest);
    buf_printf(&dest, "%s/%s", sub, name);
    for (int i = 1; access(dest.data, F_OK) == 0 && i < 1000; i++) {
        buf_reset(&dest);
        buf_printf(&dest, "%s/%s.%d", sub, name, i);
    }
    snprintf(to, sizeof to, "%s", dest.data);
    buf_free(&dest);
    if (rename(from, to) != 0)
        return NULL;
    sync_dir(dir);
    sync_dir(sub);
    return xstrdup(to);
}

static int by_age(const void *a, const void *b)
{
    const struct outbox_item *x = a, *y = b;
    int c = strcmp(x->created_at, y->created_at);
    if (c)
        return c;
    if (x->created_ns != y->created_ns)
        return x->created_ns < y->created_ns ? -1 : 1;
    return strcmp(x->id, y->id);
}

int outbox_load_all(const char *dir, struct outbox_item **items, int *n, char ***corrupt,
                    struct ch_error *err)
{
    *items = NULL;
    *n = 0;
    if (corrupt)
        *corrupt = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return err_set(err, CH_USAGE, "outbox_read", "outbox", "cannot read %s: %s", dir,
                       strerror(errno));
    }
    int cap = 0, ncorrupt = 0;
    char **bad = NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_item_name(e->d_name))
            continue;
        char file[PATH_MAX], stem[NAME_MAX + 1];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(e->d_name) - 5), e->d_name);
        char *text = read_small_file(file);
        struct outbox_item it;
        if (text && parse_item(text, file, stem, &it) == 0) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                *items = xrealloc(*items, (size_t)cap * sizeof **items);
            }
            (*items)[(*n)++] = it;
        } else {
            char *moved = move_aside(dir, e->d_name);
            bad = xrealloc(bad, (size_t)(ncorrupt + 2) * sizeof *bad);
            bad[ncorrupt++] = moved ? moved : xstrdup(file);
            bad[ncorrupt] = NULL;
        }
        free(text);
    }
    closedir(d);
    if (*n > 1)
        qsort(*items, (size_t)*n, sizeof **items, by_age);
    if (corrupt)
        *corrupt = bad;
    else
        outbox_free_names(bad);
    return 0;
}

int outbox_check_attachments(const struct outbox_item *it, struct ch_error *err)
{
    for (int i = 0; i < it->natt; i++) {
        struct attach_info info;
        const struct outbox_attachment *a = &it->att[i];
        if (attach_inspect("attachment", a->path, &info, err) != 0) {
            err_hint(err, "the file saved with this report is gone or unusable: restore it, or "
                          "`carhelp outbox drop %s`", it->id);
            return CH_USAGE;
        }
        if (info.size != a->size || strcmp(info.sha256, a->sha256) != 0) {
            err_set(err, CH_USAGE, "attachment_changed", "attachment",
                    "%s changed since the report was saved (size or checksum differ)", a->path);
            err_hint(err, "restore the original file, or `carhelp outbox drop %s` and report "
                          "again", it->id);
            return CH_USAGE;
        }
    }
    return 0;
}

struct progress_relay {
    const struct outbox_progress *pg;
    int index;
    const char *path;
};

static void relay_progress(void *ctx, long long sent, long long total)
{
    struct progress_relay *r = ctx;
    r->pg->cb(r->pg->ctx, r->index, r->path, sent, total);
}

/* attach_path with "{id}" replaced by the created object's id. */
static int attach_target(const struct outbox_item *it, const cJSON *answer, struct buf *out,
                         struct ch_error *err)
{
    const char *p = it->attach_path, *mark = strstr(p, "{id}");
    buf_reset(out);
    if (!mark) {
        buf_puts(out, p);
        return 0;
    }
    const char *id = json_str(answer, "id", NULL);
    if (!id || !*id || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789_-") != strlen(id))
        return err_set(err, CH_SERVICE, "malformed_response", it->command,
                       "the service's answer has no usable id to attach files to");
    buf_append(out, p, (size_t)(mark - p));
    buf_put_urlencoded(out, id);
    buf_puts(out, mark + 4);
    return 0;
}

int outbox_deliver(struct http_client *c, const struct outbox_item *it,
                   const struct outbox_progress *progress, cJSON **result,
                   struct ch_error *err)
{
    cJSON *answer = NULL;
    int rc = 0;
    *result = NULL;
    if (it->method) {
        char *body = it->body ? json_print(it->body) : NULL;
        struct http_request req = {.method = it->method, .path = it->path, .body = body,
                                   .idempotency_key = it->idempotency_key};
        rc = api_call(c, &req, it->command, &answer, NULL, err);
        free(body);
        if (rc)
            return rc;
    }
    if (!answer)
        answer = cJSON_CreateObject();
    cJSON *list = cJSON_GetObjectItemCaseSensitive(answer, "attachments");
    if (it->natt > 0 && !cJSON_IsArray(list)) {
        cJSON_DeleteItemFromObjectCaseSensitive(answer, "attachments");
        list = cJSON_AddArrayToObject(answer, "attachments");
    }
    struct buf path = BUF_INIT, key = BUF_INIT;
    buf_init(&path);
    buf_init(&key);
    for (int i = 0; i < it->natt && !rc; i++) {
        const struct outbox_attachment *a = &it->att[i];
        if ((rc = attach_target(it, answer, &path, err)))
            break;
        buf_reset(&key);
        buf_printf(&key, "%s-att-%d", it->idempotency_key, i + 1);
        struct progress_relay relay = {progress, i, a->path};
        struct http_upload up = {.field = "file", .path = a->path, .content_type = a->content_type,
                                 .progress = progress && progress->cb ? relay_progress : NULL,
                                 .progress_ctx = &relay};
        struct http_request req = {.method = "POST", .path = path.data,
                                   .idempotency_key = key.data, .upload = &up};
        cJSON *att = NULL;
        rc = api_call(c, &req, it->command, &att, NULL, err);
        if (!rc && att) {
            /* A replayed create lists attachments made since: do not show one twice. */
            const char *att_id = json_str(att, "id", "");
            const cJSON *have;
            bool dup = false;
            cJSON_ArrayForEach(have, list) dup |= strcmp(json_str(have, "id", ""), att_id) == 0;
            if (dup)
                cJSON_Delete(att);
            else
                cJSON_AddItemToArray(list, att);
        } else {
            cJSON_Delete(att);
        }
    }
    buf_free(&path);
    buf_free(&key);
    if (rc) {
        cJSON_Delete(answer);
        return rc;
    }
    *result = answer;
    return 0;
}

int outbox_remove(const struct outbox_item *it, struct ch_error *err)
{
    if (unlink(it->file) != 0 && errno != ENOENT)
        return err_set(err, CH_USAGE, "outbox_write", "outbox", "cannot remove %s: %s",
                       it->file, strerror(errno));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", it->file);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        sync_dir(dir);
    }
    return 0;
}

int outbox_lock(const char *dir)
{
    char path[PATH_MAX];
    struct ch_error err;
    if (paths_mkdir(dir, 0700, &err) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void outbox_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
