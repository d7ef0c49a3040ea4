/* `carhelp triage` (and a bare `carhelp` on a TTY): the support line's voice menu. It asks what
 * the problem is, only what it needs next, runs the right commands in-process (dispatch_argv)
 * and ends with a next step: a ticket ID (and its QR pass), or the number to call with the
 * checklist. Every answer can be a number or a word. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "session.h"
#include "i18n.h"
#include "cmd_shell.h"
#include "core/paths.h"
#include "core/support.h"

struct choice {
    const char *label;      /* shown */
    const char *words;      /* accepted words, space-separated (English and the label) */
};

/* Reads one answer; NULL at end of input. */
static const char *ask(struct session *s, const char *question, char *buf, size_t bufsz)
{
    struct ch_error err;
    char prompt[512];
    snprintf(prompt, sizeof prompt, "%s\n> ", question);
    if (session_read_line(s, prompt, false, buf, bufsz, &err))
        return NULL;
    char *b = buf;
    while (isspace((unsigned char)*b))
        b++;
    memmove(buf, b, strlen(b) + 1);
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    return buf;
}

static bool word_matches(const char *answer, const char *words)
{
    size_t alen = strlen(answer);
    if (!alen)
        return false;
    for (const char *w = words; *w;) {
        size_t n = strcspn(w, " ");
        if (n >= alen && strncasecmp(w, answer, alen) == 0)
            return true;
        w += n;
        while (*w == ' ')
            w++;
    }
    return false;
}

/* Asks until the answer names one choice (by number or word); -1 at end of input. */
static int menu(struct session *s, const char *question, const struct choice *ch, int n)
{
    char q[768], buf[256];
    size_t used = (size_t)snprintf(q, sizeof q, "%s", question);
    for (int i = 0; i < n && used < sizeof q; i++)
        used += (size_t)snprintf(q + used, sizeof q - used, "\n  %d %s", i + 1, _(ch[i].label));
    for (int tries = 0; tries < 5; tries++) {
        const char *a = ask(s, q, buf, sizeof buf);
        if (!a)
            return -1;
        char *end;
        long k = strtol(a, &end, 10);
        if (*a && !*end && k >= 1 && k <= n)
            return (int)k - 1;
        int found = -1, hits = 0;
        for (int i = 0; i < n; i++)
            if (word_matches(a, ch[i].words) || word_matches(a, _(ch[i].label)) ||
                strncasecmp(a, _(ch[i].label), strlen(a)) == 0 ||
                strncasecmp(a, ch[i].label, strlen(a)) == 0) {
                found = i;
                hits++;
            }
        if (hits == 1)
            return found;
        fprintf(stderr, _("Please answer with a number from 1 to %d, or a word from the list.\n"), n);
    }
    return -1;
}

static int run(struct session *s, const char *const *args)
{
    char *argv[24];
    int argc = 0;
    argv[argc++] = (char *)"carhelp";
    if (s->profile) {
        argv[argc++] = (char *)"--profile";
        argv[argc++] = (char *)s->profile;
    }
    for (; *args && argc < 23; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    int rc = dispatch_argv(s, argc, argv);
    ch_interrupted = 0;
    fflush(stdout);
    return rc;
}

/* The newest ticket in the recent-ID cache (report and dispute put it there). */
static bool newest_ticket(char *out, size_t outsz)
{
    struct paths p;
    struct ch_error err;
    if (paths_resolve(&p, &err))
        return false;
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/recent-ids", p.cache_dir);
    FILE *f = fopen(file, "r");
    if (!f)
        return false;
    char line[256], kind[64], id[160];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %159s", kind, id) == 2 && strcmp(kind, "ticket") == 0) {
            snprintf(out, outsz, "%s", id);
            found = true;
        }
    fclose(f);
    return found;
}

/* The end of every path: the ticket and its pass, or the checklist and the number to call. */
static int next_step(struct session *s, int rc, const char *before, const char *issue)
{
    char ticket[160] = "", buf[64];
    if (rc == 0 && newest_ticket(ticket, sizeof ticket) && strcmp(ticket, before) != 0) {
        printf(_("\nNext step: your ticket is %s. Follow it with 'carhelp ticket show %s'.\n"), ticket,
               ticket);
        static const struct choice yn[] = { { N_("yes"), "yes y" }, { N_("no"), "no n" } };
        if (menu(s, _("Show the ticket's QR pass for the service desk?"), yn, 2) == 0) {
            const char *qr[] = { "ticket", "qr", ticket, NULL };
            run(s, qr);
        }
        (void)buf;
        return 0;
    }
    if (rc == 0 && !*issue)
        return 0;
    const char *cl[] = { "checklist", "--issue", *issue ? issue : "app", NULL };
    printf("\n");
    run(s, cl);
    printf(_("\nNext step: call support at %s and have the checklist above ready.\n"),
           support_service_number());
    return rc;
}

static int report(struct session *s, const char *category, const char *plate, const char *order,
                  const char *message)
{
    const char *args[12] = { "report", category, "--message", message };
    int n = 4;
    if (plate && *plate) {
        args[n++] = "--vehicle";
        args[n++] = plate;
    }
    if (order && *order) {
        args[n++] = "--order";
        args[n++] = order;
    }
    args[n] = NULL;
    return run(s, args);
}

static int triage_exec(struct session *s, const struct parsed *p)
{
    (void)p;
    return triage_run(s);
}

int triage_run(struct session *s)
{
    static const struct choice top[] = {
        { N_("account"), "account login verify" },
        { N_("vehicle"), "vehicle car" },
        { N_("billing"), "billing bill fee fees charge payment" },
        { N_("accident/emergency"), "accident emergency crash injury" },
        { N_("app"), "app application" },
    };
    char before[160] = "", plate[64] = "", order[96] = "", msg[1024] = "", phone[64] = "",
         last4[32] = "";
    newest_ticket(before, sizeof before);
    printf("%s\n", _("carhelp triage: answer by number or by word; Ctrl-D stops."));
    int what = menu(s, _("What is the problem?"), top, 5);
    int rc = 0;
    switch (what) {
    case 0: {
        static const struct choice sub[] = {
            { N_("verify my identity"), "verify identity" },
            { N_("something else"), "else other something" },
        };
        int k = menu(s, _("Account: what do you need?"), sub, 2);
        if (k < 0)
            return CH_USAGE;
        if (k == 0) {
            if (!ask(s, _("Your phone number:"), phone, sizeof phone) ||
                !ask(s, _("The last four characters of your ID number:"), last4, sizeof last4))
                return CH_USAGE;
            const char *args[] = { "account", "verify", "--phone", phone, "--id-last4", last4, NULL };
            rc = run(s, args);
            if (rc == 0) {
                printf("%s\n", _("\nNext step: you are verified; support can now act on your account."));
                return 0;
            }
            return next_step(s, rc, before, "account");
        }
        if (!ask(s, _("Describe the problem in one line:"), msg, sizeof msg))
            return CH_USAGE;
        return next_step(s, report(s, "account", NULL, NULL, msg), before, "account");
    }
    case 1: {
        static const struct choice sub[] = {
            { N_("won't open"), "open unlock locked" },
            { N_("fault or damage"), "fault damage broken start" },
            { N_("something else"), "else other something" },
        };
        int k = menu(s, _("Vehicle: what is wrong?"), sub, 3);
        if (k < 0 || !ask(s, _("The car's plate (e.g. 沪A12345):"), plate, sizeof plate))
            return CH_USAGE;
        if (k == 0) {
            const char *args[] = { "unlock", plate, NULL };
            rc = run(s, args);
            if (rc == 0) {
                printf("%s\n", _("\nNext step: the car is open. Have a good trip."));
                return 0;
            }
            printf("%s\n", _("The car did not open; filing a ticket so support can open it."));
            snprintf(msg, sizeof msg, "won't open: remote unlock of %s failed (exit %d)", plate, rc);
            /* the plate goes in the message: the service may not know it as typed */
            return next_step(s, report(s, "vehicle", NULL, NULL, msg), before, "vehicle");
        } else if (!ask(s, _("Describe the problem in one line:"), msg, sizeof msg)) {
            return CH_USAGE;
        }
        return next_step(s, report(s, "vehicle", plate, NULL, msg), before, "vehicle");
    }
    case 2: {
        if (!ask(s, _("The order ID (e.g. ord_2001):"), order, sizeof order))
            return CH_USAGE;
        const char *args[] = { "order", "audit", order, NULL };
        rc = run(s, args);
        if (rc != 0 && rc != CH_NO)
            return next_step(s, rc, before, "billing");
        static const struct choice yn[] = { { N_("yes"), "yes y" }, { N_("no"), "no n" } };
        if (menu(s, _("Dispute this order's fees?"), yn, 2) != 0) {
            printf("%s\n", _("\nNext step: nothing to do; the audit is above."));
            return 0;
        }
        if (!ask(s, _("Why do you dispute it (one line)?"), msg, sizeof msg))
            return CH_USAGE;
        const char *d[] = { "order", "dispute", order, "--reason", msg, NULL };
        return next_step(s, run(s, d), before, "billing");
    }
    case 3: {
        const char *args[] = { "emergency", NULL };
        rc = run(s, args);
        return next_step(s, rc, before, "accident");
    }
    case 4: {
        if (!ask(s, _("Describe the problem in one line:"), msg, sizeof msg))
            return CH_USAGE;
        return next_step(s, report(s, "app", NULL, NULL, msg), before, "app");
    }
    default:
        return CH_USAGE;
    }
}

const struct command cmd_triage = {
    .name = "triage",
    .synopsis = "",
    .summary = N_("guided help: asks what the problem is and runs the right commands"),
    .description = N_("Like the support line's voice menu: asks what the problem is (1 account, "
                      "2 vehicle, 3 billing, 4 accident/emergency, 5 app), asks only what it needs, "
                      "runs the right commands (account verify, unlock, report, order audit and "
                      "dispute, emergency, checklist, ticket qr) and ends with a next step: the "
                      "ticket ID and its QR pass, or the number to call with the checklist. Every "
                      "answer can be a number or a word. A bare 'carhelp' on a terminal starts it."),
    .min_args = 0,
    .max_args = 0,
    .exec = triage_exec,
};
