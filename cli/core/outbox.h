/* The outbox ($XDG_STATE_HOME/carhelp/outbox/, cli.md): creates that could not reach the
 * service, kept on disk until `carhelp outbox flush` delivers them exactly once.
 *
 * One file per request, `<id>.json`, written atomically: a temp file in the same folder,
 * fsync, rename, fsync of the folder. Nothing is ever half-written under its final name.
 * Each item holds what a later flush needs and nothing it must guess:
 *   - the request (method, path, JSON body) and its Idempotency-Key: the service answers a
 *     second delivery with the first result, so a flush killed at any point and run again
 *     never creates a second ticket;
 *   - attachments by path with their size and SHA-256: a file that changed since is
 *     reported and the item is not sent (never a different photo than the one reported);
 *     each attachment has its own key derived from the item's (KEY + "-att-N");
 *   - the profile and API URL it was written for: it is delivered there, with that
 *     profile's credential, whatever the current profile is.
 * A file that cannot be read as an item is moved to `outbox/corrupt/` (never deleted) and
 * does not stop the others.
 *
 * For other commands that queue creates (`order dispute`): call outbox_save_request when
 * outbox_accepts(err) says the failure is one the outbox takes, with the same
 * Idempotency-Key the failed try used, then exit CH_OUTBOX (10). The CLI helper
 * cmd_outbox_queue (cli/cmd_outbox.h) does this and prints the message users see. */
#ifndef CARHELP_OUTBOX_H
#define CARHELP_OUTBOX_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "error.h"
#include "http.h"

#define OUTBOX_ID_MAX 64
#define OUTBOX_MAX_ATTACHMENTS 5

struct outbox_request {
    const char *command;          /* "report", "order dispute": shown by `outbox list` */
    const char *summary;          /* one line for `outbox list` (no secrets) */
    const char *profile;          /* NULL: "default" */
    const char *api_url;          /* the service it is for */
    const char *method;           /* "POST" (NULL: no request, attachments only) */
    const char *path;             /* "/v1/tickets" */
    const cJSON *body;            /* JSON body, or NULL */
    const char *idempotency_key;  /* the key the failed try used (required) */
    const char *const *attachments;  /* file paths, NULL-terminated, or NULL */
    /* Where attachments are posted (multipart, part "file"). "{id}" stands for the "id" of
     * the answer to the request (a ticket created by this item). */
    const char *attach_path;
};

struct outbox_attachment {
    char *path;                   /* absolute */
    long long size;
    char sha256[65];
    char *content_type;
};

struct outbox_item {
    char id[OUTBOX_ID_MAX];
    char *file;                   /* the item's path */
    char *command, *summary, *profile, *api_url, *created_at;
    char *method, *path, *idempotency_key, *attach_path;
    cJSON *body;                  /* NULL when none */
    struct outbox_attachment att[OUTBOX_MAX_ATTACHMENTS];
    int natt;
    double created_ns;            /* ordering of items written within one second */
};

/* Failures the outbox takes: the service could not be reached (exit 6) or answered 5xx after
 * the retries / an unusable answer (exit 7). Never 4xx: those will not improve by waiting. */
bool outbox_accepts(const struct ch_error *e);

/* "<state_dir>/outbox". */
void outbox_dir(const char *state_dir, char *out, size_t outsz);

/* Saves r atomically under dir (created 0700 when missing); id_out gets the item's ID.
 * Attachments are re-read and checksummed now (an unreadable one is exit 2, nothing saved). */
int outbox_save_request(const char *dir, const struct outbox_request *r, char *id_out,
                        size_t idsz, struct ch_error *err);

/* The same request as an in-memory item, not saved: attachments checked (type by content,
 * size, readable: CH_USAGE naming --attach otherwise) and checksummed. Commands deliver it
 * with outbox_deliver and, when outbox_accepts the failure, keep it with outbox_save_item,
 * so the live path and a later flush send exactly the same requests with the same keys. */
int outbox_item_from_request(const struct outbox_request *r, struct outbox_item *it,
                             struct ch_error *err);
int outbox_save_item(const char *dir, struct outbox_item *it, struct ch_error *err);
void outbox_item_free(struct outbox_item *it);

/* Number of items waiting (corrupt ones not counted); 0 when the folder does not exist. */
int outbox_count(const char *dir);

/* Loads every item, oldest first. Files that do not parse are moved to dir/corrupt/ and
 * named in *corrupt (a NULL-terminated list of their new paths, caller frees with
 * outbox_free_names), never deleted. */
int outbox_load_all(const char *dir, struct outbox_item **items, int *n, char ***corrupt,
                    struct ch_error *err);
void outbox_free_items(struct outbox_item *items, int n);
void outbox_free_names(char **names);

/* Checks each attachment still has its size and checksum; CH_USAGE naming the file when
 * one changed or is gone. */
int outbox_check_attachments(const struct outbox_item *it, struct ch_error *err);

/* Delivers the item with c (its API and credential): the request, then each attachment,
 * all with their keys. *result gets the request's answer (or NULL), with the uploaded
 * attachments' answers added to its "attachments" array. The item file is not touched. */
struct outbox_progress {
    /* Called while an attachment is sent; index counts from 0. */
    void (*cb)(void *ctx, int index, const char *path, long long sent, long long total);
    void *ctx;
};
int outbox_deliver(struct http_client *c, const struct outbox_item *it,
                   const struct outbox_progress *progress, cJSON **result,
                   struct ch_error *err);

/* Removes the item's file (after delivery, or `outbox drop`) and syncs the folder. */
int outbox_remove(const struct outbox_item *it, struct ch_error *err);

/* Takes dir/.lock (flock, waiting for it) so two flushes never run at once; -1 on error.
 * The kernel drops the lock when the holder dies, even by SIGKILL. */
int outbox_lock(const char *dir);
void outbox_unlock(int fd);

#endif
