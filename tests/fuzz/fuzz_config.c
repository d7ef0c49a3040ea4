/* The config file parser (cli/core/config.c, libinih with carhelp's own line reader): the
 * input is the whole file, loaded for the default profile and for a named one. Invariants:
 * 0 or exit 2 with a code and a "FILE:LINE" place; a loaded value is one the setters accept
 * (timeout in (0, 3600], retries in [0, 10], colour auto/always/never). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "fuzz.h"

static char path[512];

static void load(const char *profile)
{
    struct config c;
    struct ch_error err;
    config_init(&c);
    config_defaults(&c);
    err_clear(&err);
    int rc = config_load_file(&c, path, profile, &err);
    if (rc != 0 && (rc != CH_USAGE || err.exit_code != CH_USAGE || !err.code[0]))
        fuzz_fail("config_load_file: %d (error %d, code '%s')", rc, err.exit_code, err.code);
    if (rc == 0) {
        if (!(c.timeout_s > 0 && c.timeout_s <= 3600) || c.retries < 0 || c.retries > 10 ||
            !c.api_url || !c.color ||
            (strcmp(c.color, "auto") && strcmp(c.color, "always") && strcmp(c.color, "never")))
            fuzz_fail("config_load_file: accepted timeout %g, retries %d, color %s", c.timeout_s,
                      c.retries, c.color ? c.color : "(null)");
    }
    config_free(&c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_path(path, sizeof path, "config");
    setenv("HOME", fuzz_dir(), 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write(path, data, size, 0600);
    load(NULL);
    load("work");
    return 0;
}
