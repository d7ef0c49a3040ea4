/* The credentials file parser (cli/core/credentials.c, its own INI reader): the input is the
 * whole file (mode 0600, ours). It is loaded for two profiles, then a login is stored into a
 * third and everything is read back. Invariants: a load is 0 or exit 4 with a code; a store
 * into a file that loads keeps every other profile's token exactly, and the stored profile
 * reads back as written (what is written must read back byte for byte). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "credentials.h"
#include "fuzz.h"

static char path[512];

/* 0 and *c, or the exit code; checks the error's shape. */
static int load(const char *profile, struct credential *c)
{
    struct ch_error err;
    err_clear(&err);
    int rc = credentials_load(path, profile, c, &err);
    if (rc != 0 && (rc != CH_AUTH || err.exit_code != CH_AUTH || !err.code[0]))
        fuzz_fail("credentials_load(%s): %d (error %d, code '%s')", profile, rc, err.exit_code,
                  err.code);
    if (rc == 0 && (!c->token || !*c->token))
        fuzz_fail("credentials_load(%s): 0 without a token", profile);
    return rc;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_path(path, sizeof path, "credentials");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const profiles[] = { "default", "work" };
    struct credential before[2], after;
    int rc_before[2];
    fuzz_write(path, data, size, 0600);
    for (int i = 0; i < 2; i++)
        rc_before[i] = load(profiles[i], &before[i]);

    struct credential mine = { .token = "tok_fuzz", .expires_at = "2026-12-02T22:36:08+08:00",
                               .role = "customer", .subject = "acc_1001",
                               .api_url = "http://127.0.0.1:8765" };
    struct ch_error err;
    err_clear(&err);
    if (credentials_store(path, "fuzzed", &mine, &err) == 0) {
        if (load("fuzzed", &after) != 0 || !same(after.token, mine.token) ||
            !same(after.expires_at, mine.expires_at) || !same(after.role, mine.role) ||
            !same(after.subject, mine.subject) || !same(after.api_url, mine.api_url))
            fuzz_fail("a stored profile does not read back as written");
        credential_free(&after);
        for (int i = 0; i < 2; i++) {
            int rc = load(profiles[i], &after);
            if (rc != rc_before[i] || (rc == 0 && (!same(after.token, before[i].token) ||
                                                   !same(after.api_url, before[i].api_url))))
                fuzz_fail("storing another profile changed profile '%s'", profiles[i]);
            credential_free(&after);
        }
        err_clear(&err);
        if (credentials_remove(path, "fuzzed", &err) != 0)
            fuzz_fail("credentials_remove: %s", err.code);
    }
    for (int i = 0; i < 2; i++)
        credential_free(&before[i]);
    return 0;
}
