/* `carhelp __complete WORDS...` (complete_candidates in cli/cmd_complete.c, over the real
 * command table): the input's lines are the words, the last one being completed; after a
 * line "%%" comes the recent-ID cache file ("kind id" lines) that completion also reads.
 * Invariant: every candidate starts with the word being completed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd_shell.h"
#include "fuzz.h"

#define MAX_WORDS 64

static char cache_file[512];

/* The dispatcher lives in main.c, which is not linked: completion never runs a command. */
int dispatch_argv(struct session *shared, int argc, char **argv)
{
    (void)shared;
    (void)argc;
    (void)argv;
    fuzz_fail("dispatch_argv called from completion");
}

struct seen {
    const char *cur;
    int n;
};

static void emit(void *ctx, const char *cand)
{
    struct seen *s = ctx;
    if (strncmp(cand, s->cur, strlen(s->cur)) != 0)
        fuzz_fail("candidate '%s' for '%s'", cand, s->cur);
    s->n++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[512];
    fuzz_path(dir, sizeof dir, "cache");
    mkdir(dir, 0700);
    setenv("CARHELP_CACHE_DIR", dir, 1);
    setenv("HOME", fuzz_dir(), 1);
    fuzz_path(cache_file, sizeof cache_file, "cache/recent-ids");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *parts[2];
    int nparts = fuzz_split(text, parts, 2);
    if (nparts == 2)
        fuzz_write(cache_file, parts[1], strlen(parts[1]), 0600);
    else
        unlink(cache_file);
    char *words[MAX_WORDS];
    int n = 0;
    for (char *w = parts[0], *next; w && n < MAX_WORDS; w = next) {
        next = strchr(w, '\n');
        if (next)
            *next++ = '\0';
        words[n++] = w;
    }
    struct seen s = { n ? words[n - 1] : "", 0 };
    complete_candidates(words, n, emit, &s);
    free(text);
    return 0;
}
