/* The XDG folders of cli.md, with CARHELP_CONFIG_DIR / CARHELP_STATE_DIR / CARHELP_CACHE_DIR
 * overrides (tests use them). */
#ifndef CARHELP_PATHS_H
#define CARHELP_PATHS_H
#include <limits.h>
#include "error.h"

struct paths {
    char config_dir[PATH_MAX];   /* $XDG_CONFIG_HOME/carhelp or ~/.config/carhelp */
    char state_dir[PATH_MAX];    /* $XDG_STATE_HOME/carhelp or ~/.local/state/carhelp */
    char cache_dir[PATH_MAX];    /* $XDG_CACHE_HOME/carhelp or ~/.cache/carhelp */
    char config_file[PATH_MAX];  /* config_dir/config */
    char credentials_file[PATH_MAX]; /* config_dir/credentials */
};

/* Resolves from the environment (getenv); does not create anything. Exit 2 when no folder
 * can be determined (no HOME and no XDG variables) or a path is too long. */
int paths_resolve(struct paths *p, struct ch_error *err);
/* mkdir -p with the given mode for each missing component. */
int paths_mkdir(const char *dir, int mode, struct ch_error *err);

#endif
