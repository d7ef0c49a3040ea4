/* --help, `carhelp help [COMMAND [SUB]]` and the usage text, all rendered from the command
 * table and the global options: nothing here lists a command or an option by hand. */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "session.h"
#include "i18n.h"

/* Shared inside the CLI frame (command.c, main.c). */
extern const struct opt global_opts[];
const char *command_suggest(const struct command *const *table, const char *word, char *buf,
                            size_t bufsz);
void help_command(FILE *f, const struct command *parent, const struct command *c);
void help_usage(FILE *f);

#define MAX_LEFT 30   /* wider left columns overflow onto their own line */

struct row {
    char left[128];
    const char *right;
};

static void print_rows(FILE *f, const struct row *rows, int n)
{
    int w = 0;
    for (int i = 0; i < n; i++) {
        int dw = display_width(rows[i].left);
        if (dw > w && dw <= MAX_LEFT)
            w = dw;
    }
    for (int i = 0; i < n; i++) {
        fputs("  ", f);
        const char *right = rows[i].right && *rows[i].right ? _(rows[i].right) : "";
        if (!*right) {
            fprintf(f, "%s\n", rows[i].left);
        } else if (display_width(rows[i].left) > MAX_LEFT) {
            fprintf(f, "%s\n  %*s  %s\n", rows[i].left, w, "", right);
        } else {
            print_padded(f, rows[i].left, w);
            fprintf(f, "  %s\n", right);
        }
    }
}

/* Closing punctuation a line must not start with (kept with the character before it). */
static size_t closing_punct(const char *p, size_t n)
{
    static const char *const marks[] = { "，", "。", "、", "：", "；", "！", "？", "）", "」",
                                         "』", "》", "】", "”", "’", "…", NULL };
    for (const char *const *m = marks; *m; m++) {
        size_t ml = strlen(*m);
        if (ml <= n && !memcmp(p, *m, ml))
            return ml;
    }
    return 0;
}

/* Bytes of the UTF-8 character at p (1 for an invalid byte). */
static size_t char_len(const unsigned char *p, size_t n)
{
    size_t l = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
    return l <= n ? l : 1;
}

static bool is_wide_at(const char *p, size_t n, size_t *len)
{
    char ch[8] = "";
    *len = char_len((const unsigned char *)p, n);
    memcpy(ch, p, *len);
    return display_width(ch) == 2;
}

/* The next unit a line may break before, within a word: a wide character (Chinese has no
 * spaces between words) with any closing punctuation after it, or a run of narrow ones. */
static size_t next_unit(const char *p, size_t n)
{
    size_t len, u = 0;
    if (is_wide_at(p, n, &len)) {
        u = len;
    } else {
        while (u < n && !is_wide_at(p + u, n - u, &len))
            u += len;
    }
    for (size_t c; u < n && (c = closing_punct(p + u, n - u)); )
        u += c;
    return u ? u : 1;
}

/* Word-wraps each line of text at `width` columns, between words and between wide characters;
 * lines that start with a space are kept as they are (examples). */
static void print_wrapped(FILE *f, const char *text, int width)
{
    while (*text) {
        size_t linelen = strcspn(text, "\n");
        if (text[0] == ' ') {
            fprintf(f, "%.*s\n", (int)linelen, text);
        } else {
            int col = 0;
            const char *p = text, *end = text + linelen;
            while (p < end) {
                while (p < end && *p == ' ')
                    p++;
                size_t wl = strcspn(p, " \n");
                if (p + wl > end)
                    wl = (size_t)(end - p);
                if (!wl)
                    break;
                for (size_t off = 0; off < wl; ) {
                    size_t ul = next_unit(p + off, wl - off);
                    char unit[256];
                    snprintf(unit, sizeof unit, "%.*s", (int)(ul < 255 ? ul : 255), p + off);
                    int uw = display_width(unit);
                    int gap = off == 0 && col > 0;   /* the space between two words */
                    if (col > 0 && col + gap + uw > width) {
                        fputc('\n', f);
                        col = 0;
                        gap = 0;
                    }
                    if (gap) {
                        fputc(' ', f);
                        col++;
                    }
                    fwrite(p + off, 1, ul, f);
                    col += uw;
                    off += ul;
                }
                p += wl;
            }
            fputc('\n', f);
        }
        text += linelen;
        if (*text == '\n')
            text++;
    }
}

static void opt_left(const struct opt *o, char *out, size_t outsz)
{
    char shortpart[8] = "    ";
    if (o->short_name)
        snprintf(shortpart, sizeof shortpart, "-%c, ", o->short_name);
    if (o->type == OPT_FLAG)
        snprintf(out, outsz, "%s--%s", shortpart, o->name);
    else
        snprintf(out, outsz, "%s--%s %s%s", shortpart, o->name, o->metavar ? o->metavar : "VALUE",
                 o->type == OPT_MULTI ? "..." : "");
}

static void print_opts(FILE *f, const char *title, const struct opt *opts)
{
    struct row rows[MAX_OPTS];
    int n = 0;
    for (; opts && opts->name && n < MAX_OPTS; opts++, n++) {
        opt_left(opts, rows[n].left, sizeof rows[n].left);
        rows[n].right = opts->help;
    }
    if (!n)
        return;
    fprintf(f, "\n%s:\n", title);
    print_rows(f, rows, n);
}

static int count_visible(const struct command *const *t)
{
    int n = 0;
    for (; t && *t; t++)
        if (!((*t)->flags & CMD_HIDDEN))
            n++;
    return n;
}

/* Commands with their summaries; groups also list "group sub" lines when `expand`. */
static void print_commands(FILE *f, const char *title, const char *prefix,
                           const struct command *const *table, bool expand)
{
    struct row rows[96];
    int n = 0;
    for (const struct command *const *t = table; t && *t && n < 96; t++) {
        const struct command *c = *t;
        if (c->flags & CMD_HIDDEN)
            continue;
        if (!c->subs || !expand || !c->exec) {
            snprintf(rows[n].left, sizeof rows[n].left, "%s%s%s", prefix, prefix[0] ? " " : "",
                     c->name);
            rows[n++].right = c->summary;
        }
        if (c->subs && expand)
            for (const struct command *const *s = c->subs; *s && n < 96; s++) {
                if ((*s)->flags & CMD_HIDDEN)
                    continue;
                snprintf(rows[n].left, sizeof rows[n].left, "%s %s", c->name, (*s)->name);
                rows[n++].right = (*s)->summary;
            }
    }
    if (!n)
        return;
    fprintf(f, "\n%s:\n", title);
    print_rows(f, rows, n);
}

static void print_exit_status(FILE *f)
{
    static const int codes[] = { CH_OK, CH_NO, CH_USAGE, CH_NOT_FOUND, CH_AUTH, CH_DENIED,
                                 CH_NETWORK, CH_SERVICE, CH_STATE, CH_RATE, CH_OUTBOX,
                                 CH_UNDECIDED, CH_INTERRUPTED };
    struct row rows[sizeof codes / sizeof codes[0]];
    int n = 0;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++, n++) {
        snprintf(rows[n].left, sizeof rows[n].left, "%3d", codes[i]);
        rows[n].right = exit_code_name(codes[i]);
    }
    fprintf(f, "\n%s:\n", _("Exit status"));
    print_rows(f, rows, n);
}

static void print_files_env(FILE *f)
{
    static const struct { const char *left, *right; } env[] = {
        { "CARHELP_API_URL", N_("service base URL") },
        { "CARHELP_PROFILE", N_("profile section of the config file") },
        { "CARHELP_TOKEN", N_("token to use instead of the credentials file") },
        { "CARHELP_TIMEOUT", N_("request budget in seconds") },
        { "CARHELP_RETRIES", N_("retries after the first try") },
        { "CARHELP_CACERT", N_("extra CA bundle for TLS") },
        { "NO_COLOR", N_("set and non-empty: no colour") },
        { "CARHELP_CONFIG_DIR", N_("overrides $XDG_CONFIG_HOME/carhelp") },
        { "CARHELP_STATE_DIR", N_("overrides $XDG_STATE_HOME/carhelp") },
        { "CARHELP_CACHE_DIR", N_("overrides $XDG_CACHE_HOME/carhelp") },
    }, files[] = {
        { "$XDG_CONFIG_HOME/carhelp/config",
          N_("INI: [default] and [profile NAME] with api_url, timeout, retries, color, cacert") },
        { "$XDG_CONFIG_HOME/carhelp/credentials", N_("tokens per profile, mode 0600") },
        { "$XDG_CACHE_HOME/carhelp/", N_("last support status, recent IDs for completion") },
        { "$XDG_STATE_HOME/carhelp/outbox/", N_("requests not yet delivered") },
        { "$XDG_STATE_HOME/carhelp/history", N_("shell history") },
    };
    struct row rows[16];
    int n = 0;
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++, n++) {
        snprintf(rows[n].left, sizeof rows[n].left, "%s", env[i].left);
        rows[n].right = env[i].right;
    }
    fprintf(f, "\n%s:\n", _("Environment"));
    print_rows(f, rows, n);
    n = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++, n++) {
        snprintf(rows[n].left, sizeof rows[n].left, "%s", files[i].left);
        rows[n].right = files[i].right;
    }
    fprintf(f, "\n%s:\n", _("Files"));
    print_rows(f, rows, n);
}

void help_usage(FILE *f)
{
    fprintf(f, "%s: carhelp [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] [OPTIONS] [ARGS]\n", _("Usage"));
    print_commands(f, _("Commands"), "", commands, false);
    fprintf(f, "\n%s\n", _("Run 'carhelp --help' for the options, or 'carhelp help COMMAND'."));
}

static void help_main(FILE *f)
{
    fprintf(f, "%s: carhelp [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] [OPTIONS] [ARGS]\n", _("Usage"));
    fprintf(f, "\n%s\n", _("Self-service and diagnostics for the car-sharing service: accounts, "
                           "orders, tickets,\nvehicles and support, through the service's API."));
    print_commands(f, _("Commands"), "", commands, true);
    print_opts(f, _("Global options (before or after the command)"), global_opts);
    print_exit_status(f);
    print_files_env(f);
    fprintf(f, "\n%s\n", _("Run 'carhelp help COMMAND' or 'carhelp COMMAND --help' for more."));
}

void help_command(FILE *f, const struct command *parent, const struct command *c)
{
    if (!c) {
        help_main(f);
        return;
    }
    char path[128];
    if (parent)
        snprintf(path, sizeof path, "%s %s", parent->name, c->name);
    else
        snprintf(path, sizeof path, "%s", c->name);

    fprintf(f, "%s: carhelp %s", _("Usage"), path);
    if (c->subs && !c->exec)
        fprintf(f, " SUBCOMMAND [OPTIONS]");
    else if (c->synopsis && *c->synopsis)
        fprintf(f, " %s", c->synopsis);
    fputc('\n', f);
    if (c->aliases && *c->aliases)
        fprintf(f, "%s: %s\n", _("Aliases"), c->aliases);
    if (c->summary)
        fprintf(f, "\n%s\n", _(c->summary));
    if (c->description && *c->description) {
        fputc('\n', f);
        print_wrapped(f, _(c->description), 78);
    }
    if (c->details && *c->details) {
        fputc('\n', f);
        print_wrapped(f, _(c->details), 78);
    }
    print_opts(f, _("Options"), c->opts);
    if (c->subs && count_visible(c->subs))
        print_commands(f, _("Subcommands"), path, c->subs, false);
    print_opts(f, _("Global options"), global_opts);
    print_exit_status(f);
    if (c->subs)
        fprintf(f, "\n%s\n", _("Run 'carhelp help COMMAND SUBCOMMAND' for a subcommand."));
}

/* `carhelp help [COMMAND [SUBCOMMAND]]` */
static int help_exec(struct session *s, const struct parsed *p)
{
    const struct command *parent = NULL, *c = NULL;
    const struct command *const *table = commands;
    for (int i = 0; i < p->npos; i++) {
        const struct command *found = table ? command_find(table, p->pos[i]) : NULL;
        if (!found) {
            struct ch_error err;
            char buf[64];
            err_clear(&err);
            if (!table)
                err_set(&err, CH_USAGE, "usage", "help", _("'%s' has no subcommands"), c->name);
            char shown[128];
            bool token = term_word(p->pos[i], 20, shown, sizeof shown);
            if (table && token)
                err_set(&err, CH_USAGE, "usage", "help",
                        _("unknown command '%s' (looks like a token: not shown)"), shown);
            else if (table)
                err_set(&err, CH_USAGE, "usage", "help", _("unknown command '%s'"), shown);
            const char *sug = table && !token ? command_suggest(table, p->pos[i], buf, sizeof buf)
                                              : NULL;
            if (sug)
                err_hint(&err, _("did you mean '%s'?"), sug);
            return session_report(s, &err);
        }
        parent = c;
        c = found;
        table = c->subs;
    }
    help_command(stdout, parent, c);
    return CH_OK;
}

const struct command cmd_help = {
    .name = "help",
    .synopsis = "[COMMAND [SUBCOMMAND]]",
    .summary = N_("show help for carhelp or one of its commands"),
    .min_args = 0,
    .max_args = 2,
    .flags = CMD_NO_CONFIG,
    .exec = help_exec,
};
