/* The config file ([default] and [profile NAME]), the environment, and the setters the
 * command line uses. Every value goes through config_set, so a bad value is reported the same
 * way wherever it came from, naming its source (FILE:LINE, CARHELP_TIMEOUT, --timeout).
 *
 * Parsing uses libinih through ini_parse_stream with our own line reader. The reader counts
 * lines (so handler errors name the right line: Debian's inih is built without
 * INI_HANDLER_LINENO), strips leading whitespace (so an indented key is a key, not an inih
 * continuation line), and reads section headers itself (inih reports no empty sections). */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "validate.h"

#ifndef DEFAULT_API_URL
#define DEFAULT_API_URL "http://127.0.0.1:8765"
#endif

#define TIMEOUT_MAX_S 3600.0
#define RETRIES_MAX 10

static const char *const known_keys[] = { "api_url", "timeout", "retries", "color", "cacert", NULL };

void config_init(struct config *c)
{
    c->api_url = NULL;
    c->color = NULL;
    c->cacert = NULL;
    c->timeout_s = -1;
    c->retries = -1;
}

void config_free(struct config *c)
{
    free(c->api_url);
    free(c->color);
    free(c->cacert);
    config_init(c);
}

static void replace(char **slot, const char *value)
{
    char *copy = value ? xstrdup(value) : NULL;
    free(*slot);
    *slot = copy;
}

void config_defaults(struct config *c)
{
    replace(&c->api_url, DEFAULT_API_URL);
    replace(&c->color, "auto");
    replace(&c->cacert, NULL);
    c->timeout_s = 15;
    c->retries = 2;
}

/* Later wins: copies every value that is set in `from`. */
static void overlay(struct config *to, const struct config *from)
{
    if (from->api_url)
        replace(&to->api_url, from->api_url);
    if (from->color)
        replace(&to->color, from->color);
    if (from->cacert)
        replace(&to->cacert, from->cacert);
    if (from->timeout_s >= 0)
        to->timeout_s = from->timeout_s;
    if (from->retries >= 0)
        to->retries = from->retries;
}

/* "~/x" -> "$HOME/x" (a config file has no shell to do it). */
static char *expand_home(const char *path)
{
    const char *home = getenv("HOME");
    if (path[0] == '~' && path[1] == '/' && home && *home) {
        size_t n = strlen(home) + strlen(path);
        char *full = xmalloc(n);
        snprintf(full, n, "%s%s", home, path + 1);
        return full;
    }
    return xstrdup(path);
}

static int set_cacert(struct config *c, const char *value, const char *source, int check_file,
                      struct ch_error *err)
{
    if (!*value)
        return err_set(err, CH_USAGE, "invalid_cacert", source, "expected a CA bundle file, got ''");
    char *path = expand_home(value);
    if (check_file) {
        struct stat st;
        const char *why = NULL;
        if (stat(path, &st) != 0)
            why = strerror(errno);
        else if (!S_ISREG(st.st_mode))
            why = "not a regular file";
        else if (access(path, R_OK) != 0)
            why = strerror(errno);
        if (why) {
            err_set(err, CH_USAGE, "invalid_cacert", source, "cannot read the CA bundle '%s': %s",
                    path, why);
            free(path);
            return CH_USAGE;
        }
    }
    free(c->cacert);
    c->cacert = path;
    return 0;
}

static int set_value(struct config *c, const char *key, const char *value, const char *source,
                     int check_file, struct ch_error *err)
{
    if (!value)
        value = "";
    if (strcmp(key, "api_url") == 0) {
        if (validate_api_url(source, value, err))
            return CH_USAGE;
        replace(&c->api_url, value);
        return 0;
    }
    if (strcmp(key, "timeout") == 0)
        return validate_seconds(source, value, TIMEOUT_MAX_S, &c->timeout_s, err);
    if (strcmp(key, "retries") == 0) {
        long n;
        if (validate_int(source, value, 0, RETRIES_MAX, &n, err))
            return CH_USAGE;
        c->retries = (int)n;
        return 0;
    }
    if (strcmp(key, "color") == 0) {
        static const char *const whens[] = { "auto", "always", "never" };
        for (size_t i = 0; i < 3; i++)
            if (strcasecmp(value, whens[i]) == 0) {
                replace(&c->color, whens[i]);
                return 0;
            }
        char shown[64];
        snprintf(shown, sizeof shown, "%.40s%s", value, strlen(value) > 40 ? "..." : "");
        for (char *p = shown; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        return err_set(err, CH_USAGE, "invalid_color", source,
                       "expected auto, always or never, got '%s'", shown);
    }
    if (strcmp(key, "cacert") == 0)
        return set_cacert(c, value, source, check_file, err);
    err_set(err, CH_USAGE, "unknown_key", source, "unknown setting '%s'", key);
    err_hint(err, "known settings: api_url, timeout, retries, color, cacert");
    return CH_USAGE;
}

int config_set(struct config *c, const char *key, const char *value, const char *source,
               struct ch_error *err)
{
    char k[32];
    size_t n = strlen(key);
    if (n >= sizeof k)
        return set_value(c, key, value, source, 1, err);
    for (size_t i = 0; i <= n; i++)
        k[i] = key[i] == '-' ? '_' : key[i];   /* "api-url" as on the command line */
    return set_value(c, k, value, source ? source : key, 1, err);
}

/* ---------------------------------------------------------------- the file */

enum section_kind { SEC_NONE, SEC_DEFAULT, SEC_SELECTED, SEC_OTHER };

struct parse {
    const char *path;
    const char *profile;      /* "default" or a profile name */
    FILE *f;
    char *line;               /* getline buffer */
    size_t line_cap;
    int lineno;
    enum section_kind section;
    char section_name[128];   /* for messages: "default", "profile work" */
    int profile_found;
    struct config from_default, from_profile;
    int rc;                   /* first error, already in err */
    struct ch_error *err;
};

static int failf(struct parse *ps, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(struct parse *ps, const char *code, const char *fmt, ...)
{
    if (ps->rc)
        return ps->rc;   /* keep the first error */
    /* "FILE:LINE", keeping the line number when a long path must be cut (from the left). */
    char where[sizeof ps->err->what], msg[512], num[24];
    snprintf(num, sizeof num, ":%d", ps->lineno);
    size_t plen = strlen(ps->path), nlen = strlen(num), room = sizeof where - 1 - nlen, o = 0;
    const char *tail = ps->path;
    if (plen > room) {
        memcpy(where, "...", 3);
        o = 3;
        tail += plen - (room - 3);
        plen = room - 3;
    }
    memcpy(where + o, tail, plen);
    memcpy(where + o + plen, num, nlen + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->rc = err_set(ps->err, CH_USAGE, code, where, "%s", msg);
    return ps->rc;
}

static int valid_profile_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

/* A "[...]" line: sets the current section or records an error. */
static void section_header(struct parse *ps, const char *line)
{
    const char *close = strchr(line, ']');
    if (!close) {
        failf(ps, "config_syntax", "unterminated section header (expected [default] or [profile NAME])");
        return;
    }
    const char *rest = close + 1;
    while (*rest == ' ' || *rest == '\t' || *rest == '\r' || *rest == '\n')
        rest++;
    if (*rest && *rest != ';' && *rest != '#') {
        failf(ps, "config_syntax", "unexpected text after the section header");
        return;
    }
    char name[128];
    const char *a = line + 1, *b = close;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    if ((size_t)(b - a) >= sizeof name) {
        failf(ps, "config_syntax", "section name too long");
        return;
    }
    memcpy(name, a, (size_t)(b - a));
    name[b - a] = '\0';
    if (strcmp(name, "default") == 0) {
        ps->section = SEC_DEFAULT;
        snprintf(ps->section_name, sizeof ps->section_name, "default");
        return;
    }
    if (strncmp(name, "profile", 7) == 0 && (name[7] == ' ' || name[7] == '\t' || !name[7])) {
        const char *prof = name + 7;
        while (*prof == ' ' || *prof == '\t')
            prof++;
        if (!valid_profile_name(prof)) {
            failf(ps, "config_syntax",
                  "expected [profile NAME] with a NAME of letters, digits, '_', '-' or '.'");
            return;
        }
        ps->section = strcmp(prof, ps->profile) == 0 ? SEC_SELECTED : SEC_OTHER;
        if (ps->section == SEC_SELECTED)
            ps->profile_found = 1;
        snprintf(ps->section_name, sizeof ps->section_name, "profile %s", prof);
        return;
    }
    failf(ps, "config_syntax", "unknown section [%.60s] (expected [default] or [profile NAME])", name);
}

/* fgets-style reader for ini_parse_stream: exactly one source line per call. */
static char *reader(char *str, int num, void *stream)
{
    struct parse *ps = stream;
    if (ps->rc)
        return NULL;   /* stop after the first error */
    ssize_t n = getline(&ps->line, &ps->line_cap, ps->f);
    if (n < 0)
        return NULL;
    ps->lineno++;
    if (memchr(ps->line, '\0', (size_t)n)) {
        failf(ps, "config_syntax", "contains a NUL byte (is this a text file?)");
        return NULL;
    }
    char *s = ps->line;
    if (ps->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;   /* a UTF-8 BOM from Windows editors */
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    size_t content = len;
    while (content > 0 && (s[content - 1] == '\n' || s[content - 1] == '\r'))
        content--;
    if (num < 4 || content > (size_t)num - 3) {
        failf(ps, "config_syntax", "line too long (at most %d characters)", num > 3 ? num - 3 : 0);
        return NULL;
    }
    if (*s == '[')
        section_header(ps, s);
    if (ps->rc)
        return NULL;
    memcpy(str, s, content);
    str[content] = '\n';
    str[content + 1] = '\0';
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    (void)section;   /* ours, from the reader, is untruncated and already checked */
    struct parse *ps = user;
    if (ps->rc)
        return 0;
    if (ps->section == SEC_NONE) {
        failf(ps, "config_syntax", "'%.60s' is outside a section (start with [default] or [profile NAME])",
              name);
        return 0;
    }
    int known = 0;
    for (const char *const *k = known_keys; *k; k++)
        known |= strcmp(name, *k) == 0;
    if (!known) {
        failf(ps, "unknown_key", "unknown key '%.60s' in [%s]", name, ps->section_name);
        err_hint(ps->err, "known keys: api_url, timeout, retries, color, cacert");
        return 0;
    }
    /* Values of other profiles are checked too (a typo should not wait until that profile is
     * used), except that their CA bundle files need not exist on this machine. */
    struct config scratch;
    config_init(&scratch);
    struct config *target = ps->section == SEC_DEFAULT ? &ps->from_default
                          : ps->section == SEC_SELECTED ? &ps->from_profile : &scratch;
    int rc = set_value(target, name, value, name, ps->section != SEC_OTHER, ps->err);
    config_free(&scratch);
    if (rc) {
        /* Reword "KEY: why" under "FILE:LINE" (err_set keeps the validator's hint). */
        char msg[sizeof ps->err->message + 80], code[sizeof ps->err->code];
        snprintf(msg, sizeof msg, "%s: %s", name, ps->err->message);
        snprintf(code, sizeof code, "%s", ps->err->code);
        failf(ps, code, "%s", msg);
        return 0;
    }
    return 1;
}

int config_load_file(struct config *c, const char *path, const char *profile, struct ch_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return err_set(err, CH_USAGE, "config_unreadable", path, "cannot read the config file: %s",
                       strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        fclose(f);
        return err_set(err, CH_USAGE, "config_unreadable", path, "the config file is not a regular file");
    }
    struct parse ps;
    memset(&ps, 0, sizeof ps);
    ps.path = path;
    ps.profile = profile && *profile ? profile : "default";
    ps.f = f;
    ps.err = err;
    config_init(&ps.from_default);
    config_init(&ps.from_profile);
    int line = ini_parse_stream(reader, &ps, handler, &ps);
    if (!ps.rc && ferror(f))
        ps.rc = err_set(err, CH_USAGE, "config_unreadable", path, "cannot read the config file: %s",
                        strerror(errno));
    if (!ps.rc && line != 0) {
        /* inih's syntax error: our reader hands it one source line per call, so its line number
         * is the file's. */
        ps.lineno = line;
        failf(&ps, "config_syntax", "cannot parse this line (expected [section], key = value or a comment)");
    }
    if (!ps.rc && strcmp(ps.profile, "default") != 0 && !ps.profile_found) {
        ps.rc = err_set(err, CH_USAGE, "no_such_profile", "config", "no profile '%s' in %s",
                        ps.profile, path);
        err_hint(err, "add a [profile %s] section to it, or choose another profile", ps.profile);
    }
    if (!ps.rc) {
        overlay(c, &ps.from_default);
        overlay(c, &ps.from_profile);
    }
    config_free(&ps.from_default);
    config_free(&ps.from_profile);
    free(ps.line);
    fclose(f);
    return ps.rc;
}

/* ---------------------------------------------------------------- the environment */

int config_load_env(struct config *c, struct ch_error *err)
{
    static const struct { const char *var, *key; } vars[] = {
        { "CARHELP_API_URL", "api_url" },
        { "CARHELP_TIMEOUT", "timeout" },
        { "CARHELP_RETRIES", "retries" },
        { "CARHELP_CACERT", "cacert" },
    };
    struct config next;
    config_init(&next);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].var);
        if (!v || !*v)
            continue;   /* empty means unset, as for NO_COLOR */
        int rc = set_value(&next, vars[i].key, v, vars[i].var, 1, err);
        if (rc) {
            config_free(&next);
            return rc;
        }
    }
    const char *no_color = getenv("NO_COLOR");
    if (no_color && *no_color)
        replace(&next.color, "never");
    overlay(c, &next);
    config_free(&next);
    return 0;
}
