/* The outbox file reader (outbox_load_all in cli/core/outbox.c): the input is up to four item
 * files, separated by lines "%%", written as item-1.json ... into an outbox folder and loaded
 * (items that do not parse are moved to corrupt/, never deleted); the items loaded are then
 * saved into a second folder (outbox_save_item) and loaded from there again. Invariants:
 * every file is either an item or named in the corrupt list; a loaded item has what a flush
 * needs (method and a path starting with '/' when it has a request, a key, attachments with
 * a size and a 64-character checksum); items come oldest first; a saved item reads back the
 * same (a flush after a rewrite sends exactly the same requests). */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outbox.h"
#include "fuzz.h"

#define MAX_ITEMS 4

static char dir[512], dir2[512];

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(p);
    return 0;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void same_item(const struct outbox_item *a, const struct outbox_item *b)
{
    char *ba = a->body ? cJSON_PrintUnformatted(a->body) : NULL;
    char *bb = b->body ? cJSON_PrintUnformatted(b->body) : NULL;
    int ok = same(a->id, b->id) && same(a->command, b->command) && same(a->summary, b->summary) &&
             same(a->profile, b->profile) && same(a->api_url, b->api_url) &&
             same(a->created_at, b->created_at) && same(a->idempotency_key, b->idempotency_key) &&
             same(a->method, b->method) && same(a->path, b->path) &&
             same(a->attach_path, b->attach_path) && same(ba, bb) && a->natt == b->natt;
    for (int i = 0; ok && i < a->natt; i++)
        ok = same(a->att[i].path, b->att[i].path) && a->att[i].size == b->att[i].size &&
             same(a->att[i].sha256, b->att[i].sha256) &&
             same(a->att[i].content_type, b->att[i].content_type);
    cJSON_free(ba);
    cJSON_free(bb);
    if (!ok)
        fuzz_fail("item %s does not read back as saved", a->id);
}

/* Saves the items into dir2 and loads them back. */
static void round_trip(struct outbox_item *items, int n)
{
    struct ch_error err;
    nftw(dir2, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < n; i++) {
        err_clear(&err);
        if (outbox_save_item(dir2, &items[i], &err) != 0)
            fuzz_fail("outbox_save_item: %s", err.message);
    }
    struct outbox_item *again = NULL;
    char **corrupt = NULL;
    int m = 0;
    err_clear(&err);
    if (outbox_load_all(dir2, &again, &m, &corrupt, &err) != 0 || corrupt || m != n)
        fuzz_fail("saved %d items, read back %d and %s corrupt", n, m, corrupt ? "some" : "none");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            if (strcmp(items[i].id, again[j].id) == 0)
                same_item(&items[i], &again[j]);
    outbox_free_items(again, m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_path(dir, sizeof dir, "outbox");
    fuzz_path(dir2, sizeof dir2, "outbox-saved");
    mkdir(dir, 0700);
    mkdir(dir2, 0700);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *parts[MAX_ITEMS];
    int nparts = fuzz_split(text, parts, MAX_ITEMS);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);   /* empty it, keep the folder */
    for (int i = 0; i < nparts; i++) {
        char file[600];
        snprintf(file, sizeof file, "%s/item-%d.json", dir, i + 1);
        fuzz_write(file, parts[i], strlen(parts[i]), 0600);
    }
    free(text);

    struct outbox_item *items = NULL;
    char **corrupt = NULL;
    int n = 0;
    struct ch_error err;
    err_clear(&err);
    if (outbox_load_all(dir, &items, &n, &corrupt, &err) != 0)
        fuzz_fail("outbox_load_all: %s", err.message);
    int ncorrupt = 0;
    for (char **c = corrupt; c && *c; c++)
        ncorrupt++;
    if (n + ncorrupt != nparts)
        fuzz_fail("%d files, %d items + %d corrupt", nparts, n, ncorrupt);
    for (int i = 0; i < n; i++) {
        const struct outbox_item *it = &items[i];
        if (!it->idempotency_key || !*it->idempotency_key || !it->created_at ||
            (it->method && (!it->path || it->path[0] != '/')) || it->natt < 0 ||
            it->natt > OUTBOX_MAX_ATTACHMENTS || (it->natt && !it->attach_path))
            fuzz_fail("item %s loaded without what a flush needs", it->id);
        for (int a = 0; a < it->natt; a++)
            if (!it->att[a].path || it->att[a].size < 0 || strlen(it->att[a].sha256) != 64)
                fuzz_fail("item %s: attachment %d incomplete", it->id, a);
        if (i > 0 && strcmp(items[i - 1].created_at, it->created_at) > 0)
            fuzz_fail("items out of order");
    }
    round_trip(items, n);
    outbox_free_items(items, n);
    outbox_free_names(corrupt);
    return 0;
}
