/* Completion, from the command table only: the hidden `__complete WORDS...` that the scripts
 * in completions/ call, and `completion bash|zsh|fish`, which prints those scripts (embedded
 * at build time from completions/, so there is one copy). No network, no config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "session.h"
#include "i18n.h"
#include "cmd_shell.h"

extern const struct opt global_opts[];
extern const struct command cmd_help;
extern const char completion_bash[], completion_zsh[], completion_fish[];

#define MAX_RECENT 200

struct comp {
    const char *cur;      /* the word being completed */
    size_t curlen;
    void (*emit)(void *ctx, const char *cand);
    void *ctx;
};

static void offer(const struct comp *k, const char *cand)
{
    if (strncmp(cand, k->cur, k->curlen) == 0)
        k->emit(k->ctx, cand);
}

static void offer_commands(const struct comp *k, const struct command *const *table)
{
    for (; table && *table; table++) {
        if ((*table)->flags & CMD_HIDDEN)
            continue;
        /* Canonical names only: aliases (`orders`) work when typed, but offering them too
         * would list every command twice. */
        offer(k, (*table)->name);
    }
}

static void offer_opts(const struct comp *k, const struct opt *opts)
{
    char name[80];
    for (; opts && opts->name; opts++) {
        snprintf(name, sizeof name, "--%s", opts->name);
        offer(k, name);
    }
}

static void offer_choices(const struct comp *k, const char *prefix, const char *const *choices)
{
    char buf[160];
    for (; choices && *choices; choices++) {
        snprintf(buf, sizeof buf, "%s%s", prefix, *choices);
        offer(k, buf);
    }
}

static const struct opt *lookup_long(const struct command *c, const char *name, size_t n)
{
    const struct opt *tables[2] = { c ? c->opts : NULL, global_opts };
    for (int t = 0; t < 2; t++)
        for (const struct opt *o = tables[t]; o && o->name; o++)
            if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
                return o;
    return NULL;
}

static const struct opt *lookup_short(const struct command *c, char ch)
{
    const struct opt *tables[2] = { c ? c->opts : NULL, global_opts };
    for (int t = 0; t < 2; t++)
        for (const struct opt *o = tables[t]; o && o->name; o++)
            if (o->short_name == ch)
                return o;
    return NULL;
}

/* A synopsis that is only a list of words ("bash|zsh|fish") names the values of the one
 * positional argument. */
static void offer_synopsis_words(const struct comp *k, const char *syn)
{
    if (!syn || !*syn || strspn(syn, "abcdefghijklmnopqrstuvwxyz0123456789_-|") != strlen(syn) ||
        !strchr(syn, '|'))
        return;
    for (const char *a = syn; *a;) {
        size_t n = strcspn(a, "|");
        char word[64];
        snprintf(word, sizeof word, "%.*s", (int)(n < 63 ? n : 63), a);
        if (n)
            offer(k, word);
        a += n;
        if (*a == '|')
            a++;
    }
}

/* Recent IDs ("kind id" per line) from the cache; the command's own kind first, else all. */
static void offer_recent(const struct comp *k, const struct command *top)
{
    struct paths p;
    struct ch_error err;
    if (paths_resolve(&p, &err))
        return;
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/recent-ids", p.cache_dir);
    FILE *f = fopen(file, "r");
    if (!f)
        return;
    char *ids[MAX_RECENT], *kinds[MAX_RECENT];
    int n = 0;
    char line[256];
    while (n < MAX_RECENT && fgets(line, sizeof line, f)) {
        char kind[64], id[160];
        if (sscanf(line, "%63s %159s", kind, id) != 2)
            continue;
        kinds[n] = xstrdup(kind);
        ids[n++] = xstrdup(id);
    }
    fclose(f);
    bool any_kind = false;
    for (int i = 0; i < n && top; i++)
        any_kind = any_kind || strcmp(kinds[i], top->name) == 0;
    for (int i = 0; i < n; i++) {
        bool dup = false;
        for (int j = 0; j < i && !dup; j++)
            dup = strcmp(ids[i], ids[j]) == 0;
        if (!dup && (!any_kind || strcmp(kinds[i], top->name) == 0))
            offer(k, ids[i]);
    }
    for (int i = 0; i < n; i++) {
        free(ids[i]);
        free(kinds[i]);
    }
}

static void emit_line(void *ctx, const char *cand)
{
    (void)ctx;
    printf("%s\n", cand);
}

static int complete_exec(struct session *s, const struct parsed *p)
{
    (void)s;
    char **w = p->pos;
    int n = p->npos;
    if (n > 0) {   /* the scripts may pass the program name as the first word */
        const char *slash = strrchr(w[0], '/');
        if (strcmp(slash ? slash + 1 : w[0], "carhelp") == 0) {
            w++;
            n--;
        }
    }
    complete_candidates(w, n, emit_line, NULL);
    return 0;
}

void complete_candidates(char **w, int n, void (*emit)(void *ctx, const char *cand), void *ctx)
{
    struct comp k = { "", 0, emit, ctx };
    if (n > 0) {
        k.cur = w[n - 1];
        k.curlen = strlen(k.cur);
    }

    const struct command *top = NULL, *sub = NULL;
    const struct opt *pending = NULL;   /* the previous word is an option wanting a value */
    bool dashdash = false;
    int npos = 0;
    const char *posv[2] = { NULL, NULL };
    for (int i = 0; i < n - 1; i++) {
        const char *a = w[i];
        const struct command *c = sub ? sub : top;
        if (pending) {
            pending = NULL;
        } else if (!dashdash && strcmp(a, "--") == 0) {
            dashdash = true;
        } else if (!dashdash && a[0] == '-' && a[1] == '-') {
            if (!strchr(a, '=')) {
                const struct opt *o = lookup_long(c, a + 2, strlen(a + 2));
                if (o && o->type != OPT_FLAG)
                    pending = o;
            }
        } else if (!dashdash && a[0] == '-' && a[1]) {
            size_t len = strlen(a);
            const struct opt *o = lookup_short(c, a[len - 1]);
            if (o && o->type != OPT_FLAG && len == 2)
                pending = o;
        } else if (!top) {
            top = command_find(commands, a);
            if (!top)
                return;
        } else if (top->subs && !sub) {
            sub = command_find(top->subs, a);
            if (!sub)
                return;
        } else {
            if (npos < 2)
                posv[npos] = a;
            npos++;
        }
    }
    const struct command *c = sub ? sub : top;

    if (pending) {
        offer_choices(&k, "", pending->choices);
        return;
    }
    if (!dashdash && k.cur[0] == '-') {
        const char *eq = strchr(k.cur, '=');
        if (eq && k.cur[1] == '-') {
            const struct opt *o = lookup_long(c, k.cur + 2, (size_t)(eq - k.cur - 2));
            if (o && o->choices) {
                char prefix[96];
                snprintf(prefix, sizeof prefix, "%.*s", (int)(eq - k.cur + 1), k.cur);
                offer_choices(&k, prefix, o->choices);
            }
            return;
        }
        if (c)
            offer_opts(&k, c->opts);
        offer_opts(&k, global_opts);
        return;
    }
    if (!top) {
        offer_commands(&k, commands);
    } else if (top->subs && !sub) {
        offer_commands(&k, top->subs);
    } else if (c == &cmd_help) {
        if (npos == 0) {
            offer_commands(&k, commands);
        } else if (npos == 1) {
            const struct command *g = command_find(commands, posv[0]);
            if (g && g->subs)
                offer_commands(&k, g->subs);
        }
    } else if (c->max_args < 0 || npos < c->max_args) {
        if (c->synopsis && strchr(c->synopsis, '|') && !strchr(c->synopsis, ' '))
            offer_synopsis_words(&k, c->synopsis);
        else
            offer_recent(&k, top);
    }
}

static int completion_exec(struct session *s, const struct parsed *p)
{
    const char *shell = p->pos[0];
    const char *script = strcmp(shell, "bash") == 0 ? completion_bash
                         : strcmp(shell, "zsh") == 0 ? completion_zsh
                         : strcmp(shell, "fish") == 0 ? completion_fish : NULL;
    if (!script) {
        struct ch_error err;
        err_clear(&err);
        err_set(&err, CH_USAGE, "usage", "completion",
                _("unknown shell '%s' (expected bash, zsh or fish)"), shell);
        return session_report(s, &err);
    }
    fputs(script, stdout);
    return CH_OK;
}

const struct command cmd_complete = {
    .name = "__complete",
    .synopsis = "WORDS...",
    .summary = N_("print completion candidates for the last word (used by the scripts)"),
    .min_args = 0,
    .max_args = -1,
    .flags = CMD_HIDDEN | CMD_NO_CONFIG,
    .exec = complete_exec,
};

const struct command cmd_completion = {
    .name = "completion",
    .synopsis = "bash|zsh|fish",
    .summary = N_("print a shell completion script"),
    .description = N_("Prints the completion script for the shell. For example:\n"
                      "  bash: carhelp completion bash > ~/.local/share/bash-completion/completions/carhelp\n"
                      "  zsh:  carhelp completion zsh > \"${fpath[1]}/_carhelp\"\n"
                      "  fish: carhelp completion fish > ~/.config/fish/completions/carhelp.fish"),
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NO_CONFIG,
    .exec = completion_exec,
};
