/* The INI config file: [default] and [profile NAME] with api_url, timeout, retries, color,
 * cacert. Precedence (applied by the caller in this order, later wins): built-in defaults,
 * [default], [profile NAME], environment, command line. */
#ifndef CARHELP_CONFIG_H
#define CARHELP_CONFIG_H
#include "error.h"

struct config {
    char *api_url;       /* owned strings; NULL = unset */
    char *color;         /* "auto" | "always" | "never" */
    char *cacert;
    double timeout_s;    /* < 0 = unset */
    int retries;         /* < 0 = unset */
};

void config_init(struct config *c);           /* everything unset */
void config_free(struct config *c);
/* Sets the built-in defaults (DEFAULT_API_URL, 15 s, 2 retries, auto). */
void config_defaults(struct config *c);
/* Overlays [default] then [profile NAME] (profile may be NULL or "default") from the file.
 * A missing file is fine (0). A file that cannot be parsed, an unknown key, or a bad value
 * is exit 2 naming the file and line. A named profile absent from an existing file is exit 2. */
int config_load_file(struct config *c, const char *path, const char *profile, struct ch_error *err);
/* Overlays CARHELP_API_URL, CARHELP_TIMEOUT, CARHELP_RETRIES, CARHELP_CACERT, NO_COLOR.
 * A bad value is exit 2 naming the variable. */
int config_load_env(struct config *c, struct ch_error *err);
/* Setters used for the environment and the command line; they validate (exit 2 on bad). */
int config_set(struct config *c, const char *key, const char *value, const char *source,
               struct ch_error *err);

#endif
