/* The XDG folders of cli.md. CARHELP_*_DIR overrides win; then $XDG_*_HOME/carhelp (only
 * when absolute, as the XDG Base Directory spec says relative values are to be ignored);
 * then the spec's defaults under $HOME. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "paths.h"

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Writes "base/suffix" without doubled or trailing slashes from base. */
static int join(char *dst, size_t size, const char *base, const char *suffix)
{
    size_t n = strlen(base);
    while (n > 1 && base[n - 1] == '/')
        n--;
    int w = snprintf(dst, size, "%.*s%s%s", (int)n, base, suffix && *suffix ? "/" : "",
                     suffix ? suffix : "");
    return w < 0 || (size_t)w >= size ? -1 : 0;
}

static int resolve_one(char *dst, const char *override, const char *xdg, const char *home_rel,
                       struct ch_error *err)
{
    const char *v = env_nonempty(override);
    int rc;
    if (v) {
        rc = join(dst, PATH_MAX, v, NULL);
    } else if ((v = env_nonempty(xdg)) && v[0] == '/') {
        rc = join(dst, PATH_MAX, v, "carhelp");
    } else {
        const char *home = env_nonempty("HOME");
        if (!home) {
            err_set(err, CH_USAGE, "no_home", "paths",
                    "cannot find a folder for carhelp's files: HOME is not set");
            err_hint(err, "set HOME, %s or %s", xdg, override);
            return CH_USAGE;
        }
        char rel[64];
        snprintf(rel, sizeof rel, "%s/carhelp", home_rel);
        rc = join(dst, PATH_MAX, home, rel);
    }
    if (rc != 0)
        return err_set(err, CH_USAGE, "path_too_long", "paths",
                       "the folder for %s is longer than %d bytes", override, PATH_MAX - 1);
    return 0;
}

int paths_resolve(struct paths *p, struct ch_error *err)
{
    memset(p, 0, sizeof *p);
    int rc;
    if ((rc = resolve_one(p->config_dir, "CARHELP_CONFIG_DIR", "XDG_CONFIG_HOME", ".config", err)) ||
        (rc = resolve_one(p->state_dir, "CARHELP_STATE_DIR", "XDG_STATE_HOME", ".local/state", err)) ||
        (rc = resolve_one(p->cache_dir, "CARHELP_CACHE_DIR", "XDG_CACHE_HOME", ".cache", err)))
        return rc;
    if (join(p->config_file, sizeof p->config_file, p->config_dir, "config") ||
        join(p->credentials_file, sizeof p->credentials_file, p->config_dir, "credentials"))
        return err_set(err, CH_USAGE, "path_too_long", "paths",
                       "the configuration folder's path is too long");
    return 0;
}

static int make_one(const char *path, const char *dir, int mode, struct ch_error *err)
{
    if (mkdir(path, (mode_t)mode) == 0)
        return 0;
    int saved = errno;
    struct stat st;
    /* An existing folder is fine whatever mkdir said (EROFS, EACCES on a parent we only pass). */
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        return err_set(err, CH_USAGE, "mkdir_failed", dir,
                       "cannot create the folder: %s exists and is not a folder", path);
    }
    return err_set(err, CH_USAGE, "mkdir_failed", dir, "cannot create the folder %s: %s", path,
                   strerror(saved));
}

int paths_mkdir(const char *dir, int mode, struct ch_error *err)
{
    char path[PATH_MAX];
    if (!dir || !*dir)
        return err_set(err, CH_USAGE, "mkdir_failed", "paths", "empty folder name");
    size_t n = strlen(dir);
    if (n >= sizeof path)
        return err_set(err, CH_USAGE, "path_too_long", "paths", "folder name too long");
    memcpy(path, dir, n + 1);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    /* Create each missing component from the top: "a/b/c" -> "a", "a/b", "a/b/c". */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        int rc = make_one(path, dir, mode, err);
        *p = '/';
        if (rc)
            return rc;
    }
    return make_one(path, dir, mode, err);
}
