/* The one command table. Every (sub)command is one `const struct command`, defined in the
 * cmd_*.c file of its group; commands.c holds the table. Dispatch, --help, did-you-mean,
 * `__complete`, the completion scripts and the man-page check all read this table: there is
 * no second list of commands or options anywhere. */
#ifndef CARHELP_COMMAND_H
#define CARHELP_COMMAND_H
#include <stdbool.h>

struct session;
struct ch_error;

enum opt_type {
    OPT_FLAG,       /* --yes */
    OPT_STRING,     /* --phone P */
    OPT_MULTI,      /* --attach FILE, repeatable */
};

struct opt {
    const char *name;            /* long name without dashes: "phone" */
    char short_name;             /* 'y' or 0 */
    enum opt_type type;
    const char *metavar;         /* "P", "FILE" (NULL for flags) */
    const char *help;            /* one line */
    const char *const *choices;  /* NULL-terminated allowed values (also completion), or NULL */
    unsigned flags;              /* OPTF_* */
};
#define OPTF_SECRET   0x1u   /* value never echoed, logged or kept in history */
#define OPT_END { 0 }

/* Need-flags handled once by the dispatcher (git's RUN_SETUP idea). */
#define CMD_NEEDS_AUTH     0x01u  /* loads the credential (exit 4 + `carhelp login` hint if none) */
#define CMD_NEEDS_NETWORK  0x02u  /* creates the HTTP client before exec */
#define CMD_CONFIRMS       0x04u  /* asks before acting: honours --yes / --no-input */
#define CMD_HIDDEN         0x08u  /* not in --help or completion (`__complete`) */
#define CMD_NO_CONFIG      0x10u  /* runs without reading config/credentials (--version, completion) */
#define CMD_SAFETY         0x20u  /* safety and support information: what needs no service is
                                   * printed whatever the config, environment, profile or
                                   * credential say; a problem with them is reported after it
                                   * (emergency, contact, checklist) */

#define MAX_OPTS 24
#define MAX_MULTI 16

struct parsed {
    const char *val[MAX_OPTS];              /* last value of each opt (index = position in opts) */
    int count[MAX_OPTS];                    /* how many times given */
    const char *multi[MAX_OPTS][MAX_MULTI]; /* values of OPT_MULTI opts */
    char **pos;                             /* positionals */
    int npos;
};

struct command {
    const char *name;               /* "login", "status" (under "auth") */
    const char *aliases;            /* space-separated aliases or NULL: "orders" */
    const char *synopsis;           /* "[--phone P] [--staff ID] [--with-token]" */
    const char *summary;            /* one line for listings */
    const char *description;        /* paragraph for --help and the man page, or NULL */
    const char *details;            /* a further paragraph several commands share, translated
                                     * on its own (a macro pasted into N_() would not be), or NULL */
    const struct opt *opts;         /* terminated by OPT_END, or NULL */
    int min_args, max_args;         /* positionals; max -1 = unlimited */
    unsigned flags;                 /* CMD_* */
    int (*exec)(struct session *s, const struct parsed *p);   /* NULL for groups */
    const struct command *const *subs;  /* NULL-terminated subcommands for groups, or NULL */
    /* The checks of the command line that need no config, credential or service (cli.md
     * "Input validation"): the dispatcher runs them before any of those, so bad input is
     * exit 2 whether or not anyone is logged in, and no request is sent. 0, or CH_USAGE with
     * err naming the field. NULL when the table's choices and argument counts say it all. */
    int (*validate)(const struct parsed *p, struct ch_error *err);
    /* CMD_SAFETY commands: what is printed first, before the config is read (the emergency
     * guidance), or NULL. */
    void (*preface)(struct session *s, const struct parsed *p);
};

/* The top-level table (NULL-terminated). */
extern const struct command *const commands[];

/* Lookup by name, alias or unique prefix within a table; NULL when none/ambiguous. */
const struct command *command_find(const struct command *const *table, const char *name);
/* Accessors over a parsed command line (name = long option name). */
const char *arg_str(const struct command *c, const struct parsed *p, const char *name);
bool arg_flag(const struct command *c, const struct parsed *p, const char *name);
int arg_multi(const struct command *c, const struct parsed *p, const char *name,
              const char *const **values);

#endif
