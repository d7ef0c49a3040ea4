/* Lookup in the command table, accessors over a parsed command line, and the global options
 * (one table shared by the dispatcher, --help and `__complete`). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "command.h"
#include "i18n.h"

static const char *const color_choices[] = { "auto", "always", "never", NULL };

/* The global options of cli.md, accepted before or after the command. The dispatcher, the
 * help renderer and `__complete` all read this one table. */
const struct opt global_opts[] = {
    { "api-url", 0, OPT_STRING, "URL", N_("service base URL (env CARHELP_API_URL)"), NULL, 0 },
    { "profile", 0, OPT_STRING, "NAME",
      N_("profile section of the config file (env CARHELP_PROFILE)"),
      NULL, 0 },
    { "json", 0, OPT_FLAG, NULL, N_("machine output: one JSON document on stdout"), NULL, 0 },
    { "quiet", 'q', OPT_FLAG, NULL, N_("less on stderr"), NULL, 0 },
    { "verbose", 'v', OPT_FLAG, NULL,
      N_("more on stderr: -v requests, -vv bodies (secrets redacted)"),
      NULL, 0 },
    { "color", 0, OPT_STRING, "WHEN", N_("auto, always or never (NO_COLOR set means never)"),
      color_choices, 0 },
    { "timeout", 0, OPT_STRING, "SEC",
      N_("budget for one request including retries (env CARHELP_TIMEOUT, default 15)"), NULL, 0 },
    { "retries", 0, OPT_STRING, "N",
      N_("retries after the first try (env CARHELP_RETRIES, default 2)"),
      NULL, 0 },
    { "no-input", 0, OPT_FLAG, NULL,
      N_("never prompt (implied when stdin is not a terminal)"), NULL, 0 },
    { "yes", 'y', OPT_FLAG, NULL, N_("answer yes to confirmations"), NULL, 0 },
    { "cacert", 0, OPT_STRING, "FILE",
      N_("extra CA bundle for TLS (env CARHELP_CACERT)"), NULL, 0 },
    { "version", 'V', OPT_FLAG, NULL, N_("print the version and build features"), NULL, 0 },
    { "help", 'h', OPT_FLAG, NULL, N_("print help"), NULL, 0 },
    OPT_END,
};

static bool alias_matches(const char *aliases, const char *name, size_t n, bool prefix)
{
    const char *p = aliases;
    while (p && *p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len && (prefix ? (len >= n && strncmp(p, name, n) == 0)
                           : (len == n && strncmp(p, name, n) == 0)))
            return true;
        p += len;
    }
    return false;
}

bool command_is_named(const struct command *c, const char *name)
{
    return strcmp(c->name, name) == 0 || alias_matches(c->aliases, name, strlen(name), false);
}

/* Candidates for a prefix: every visible command whose name or an alias starts with it.
 * Returns the number found; fills up to max entries of out. */
int command_candidates(const struct command *const *table, const char *prefix,
                       const struct command **out, int max)
{
    size_t n = strlen(prefix);
    int found = 0;
    for (; table && *table; table++) {
        const struct command *c = *table;
        if (c->flags & CMD_HIDDEN)
            continue;
        if (strncmp(c->name, prefix, n) == 0 || alias_matches(c->aliases, prefix, n, true)) {
            if (found < max)
                out[found] = c;
            found++;
        }
    }
    return found;
}

const struct command *command_find(const struct command *const *table, const char *name)
{
    if (!table || !name || !*name)
        return NULL;
    for (const struct command *const *t = table; *t; t++)
        if (command_is_named(*t, name))
            return *t;
    const struct command *one = NULL;
    if (command_candidates(table, name, &one, 1) == 1)
        return one;
    return NULL;
}

static int opt_index(const struct command *c, const char *name)
{
    if (!c || !c->opts)
        return -1;
    for (int i = 0; c->opts[i].name && i < MAX_OPTS; i++)
        if (strcmp(c->opts[i].name, name) == 0)
            return i;
    return -1;
}

const char *arg_str(const struct command *c, const struct parsed *p, const char *name)
{
    int i = opt_index(c, name);
    return i < 0 || !p ? NULL : p->val[i];
}

bool arg_flag(const struct command *c, const struct parsed *p, const char *name)
{
    int i = opt_index(c, name);
    return i >= 0 && p && p->count[i] > 0;
}

int arg_multi(const struct command *c, const struct parsed *p, const char *name,
              const char *const **values)
{
    int i = opt_index(c, name);
    if (i < 0 || !p) {
        if (values)
            *values = NULL;
        return 0;
    }
    int n = p->count[i] < MAX_MULTI ? p->count[i] : MAX_MULTI;
    if (values)
        *values = p->multi[i];
    return n;
}

/* Optimal-string-alignment Damerau-Levenshtein distance, capped: anything above `cap` is
 * returned as cap + 1 (names are short; the cap keeps the table small). */
int edit_distance(const char *a, const char *b, int cap)
{
    enum { W = 48 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= W || lb >= W)
        return cap + 1;
    if ((int)(la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    int d[W][W];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb] > cap ? cap + 1 : d[la][lb];
}

/* Keeps the closest candidate within distance 2 (and closer than the word is long, so "x"
 * does not suggest everything). */
void suggest_consider(const char *word, const char *cand, const char **best, int *best_d)
{
    int d = edit_distance(word, cand, 2);
    if (d <= 2 && d < (int)strlen(word) && d < *best_d) {
        *best = cand;
        *best_d = d;
    }
}

/* The visible command or alias closest to word, or NULL. An alias is copied into buf. */
const char *command_suggest(const struct command *const *table, const char *word, char *buf,
                            size_t bufsz)
{
    const char *best = NULL;
    int best_d = 3;
    for (; table && *table; table++) {
        const struct command *c = *table;
        if (c->flags & CMD_HIDDEN)
            continue;
        suggest_consider(word, c->name, &best, &best_d);
        for (const char *a = c->aliases; a && *a;) {
            size_t n = strcspn(a, " ");
            if (n && n < bufsz) {
                char alias[64];
                snprintf(alias, sizeof alias, "%.*s", (int)n, a);
                const char *closer = NULL;
                suggest_consider(word, alias, &closer, &best_d);
                if (closer) {
                    snprintf(buf, bufsz, "%s", alias);
                    best = buf;
                }
            }
            a += n;
            while (*a == ' ')
                a++;
        }
    }
    return best;
}
