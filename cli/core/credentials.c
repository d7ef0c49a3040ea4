/* The credentials file: INI, one [NAME] section per profile with token, expires_at, role,
 * subject and api_url. The file's type (no symbolic links), mode and owner, and its folder's
 * owner and mode, are checked before a byte of it is read,
 * and it is only ever replaced whole (temp file 0600, fsync, rename, fsync of the folder),
 * so a crash leaves either the old file or the new one.
 *
 * It has its own small reader rather than inih: tokens are opaque and may outgrow inih's
 * fixed line length, and what is written must read back byte for byte (no inline comments,
 * no continuation lines). Token values never appear in error messages. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "credentials.h"
#include "paths.h"

#define CRED_MAX_SIZE (1024 * 1024)

struct kv {
    char *key;
    char *value;
};

struct section {
    char *name;
    struct kv *kv;
    size_t n;
};

struct credfile {
    struct section *sec;
    size_t n;
};

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void credential_free(struct credential *c)
{
    if (!c)
        return;
    wipe_free(c->token);
    free(c->expires_at);
    free(c->role);
    free(c->subject);
    free(c->api_url);
    memset(c, 0, sizeof *c);
}

static void section_clear(struct section *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->kv[i].key);
        wipe_free(s->kv[i].value);
    }
    free(s->kv);
    free(s->name);
    memset(s, 0, sizeof *s);
}

static void credfile_free(struct credfile *f)
{
    for (size_t i = 0; i < f->n; i++)
        section_clear(&f->sec[i]);
    free(f->sec);
    memset(f, 0, sizeof *f);
}

static struct section *find_section(struct credfile *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->sec[i].name, name) == 0)
            return &f->sec[i];
    return NULL;
}

static struct section *add_section(struct credfile *f, const char *name)
{
    struct section *s = find_section(f, name);
    if (s)
        return s;   /* a repeated header continues the section */
    f->sec = xrealloc(f->sec, (f->n + 1) * sizeof *f->sec);
    s = &f->sec[f->n++];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name);
    return s;
}

static const char *get_value(const struct section *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->kv[i].key, key) == 0)
            return s->kv[i].value;
    return NULL;
}

static void set_kv(struct section *s, const char *key, const char *value)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->kv[i].key, key) == 0) {
            wipe_free(s->kv[i].value);
            s->kv[i].value = xstrdup(value);
            return;
        }
    s->kv = xrealloc(s->kv, (s->n + 1) * sizeof *s->kv);
    s->kv[s->n].key = xstrdup(key);
    s->kv[s->n].value = xstrdup(value);
    s->n++;
}

/* ---------------------------------------------------------------- checks */

/* Regular file, mode 0600 or stricter, owned by us (as OpenSSH wants its private keys).
 * `check_mode` = 0 skips the mode (a rewrite replaces the file with a 0600 one anyway).
 * Each refusal is exit 4, code "credentials_insecure"; err_set is spelled out each time so
 * that xgettext finds the format as its fifth argument. */
static int check_stat(const char *path, const struct stat *st, int check_mode, struct ch_error *err)
{
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if (S_ISLNK(st->st_mode)) {
        err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                "%s is a symbolic link; credentials are read only from a regular file", path);
        err_hint(err, "remove the link and run `carhelp login` again, or move the file it "
                      "points to in its place");
        return CH_AUTH;
    }
    if (!S_ISREG(st->st_mode)) {
        err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                "%s is not a regular file", path);
        err_hint(err, "remove it and run `carhelp login` again");
        return CH_AUTH;
    }
    if (st->st_uid != geteuid()) {
        err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                "%s is owned by uid %ld, not you (uid %ld)", path, (long)st->st_uid,
                (long)geteuid());
        err_hint(err, "move it away and run `carhelp login` again");
        return CH_AUTH;
    }
    if (check_mode && (mode & 077)) {
        if (mode & 044)
            err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                    "%s is readable by others (mode %04o)", path, mode);
        else if (mode & 022)
            err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                    "%s is writable by others (mode %04o)", path, mode);
        else
            err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                    "%s is accessible by others (mode %04o)", path, mode);
        err_hint(err, "chmod 600 %s", path);
        return CH_AUTH;
    }
    return 0;
}

static void split_path(const char *path, char *dir, size_t dirsz, const char **base);

/* The folder holding the file: whoever may write to it can swap the file under us. It must
 * be ours (or root's) and not writable by group or others, as OpenSSH's StrictModes wants
 * of ~/.ssh. Its parents are not checked (see docs/DECISIONS.md). */
static int check_folder(const char *path, struct ch_error *err)
{
    char dir[PATH_MAX];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(err, CH_AUTH, "credentials_unreadable", "credentials", "cannot check %s: %s",
                       dir, strerror(errno));
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                "%s: its folder %s is owned by uid %ld, not you (uid %ld)", path, dir,
                (long)st.st_uid, (long)geteuid());
        err_hint(err, "keep the credentials in a folder of your own (CARHELP_CONFIG_DIR or "
                      "XDG_CONFIG_HOME)");
        return CH_AUTH;
    }
    unsigned mode = (unsigned)(st.st_mode & 07777);
    if (mode & 022) {
        if (mode & 002)
            err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                    "%s: its folder is writable by others (mode %04o)", path, mode);
        else
            err_set(err, CH_AUTH, "credentials_insecure", "credentials",
                    "%s: its folder is writable by its group (mode %04o)", path, mode);
        err_hint(err, "chmod 700 %s", dir);
        return CH_AUTH;
    }
    return 0;
}

static int check_path(const char *path, int check_mode, struct ch_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(err, CH_AUTH, "credentials_unreadable", "credentials", "cannot check %s: %s",
                       path, strerror(errno));
    }
    int rc = check_stat(path, &st, check_mode, err);
    return rc ? rc : check_folder(path, err);
}

int credentials_check_mode(const char *path, struct ch_error *err)
{
    return check_path(path, 1, err);
}

int credentials_check_storable(const char *path, struct ch_error *err)
{
    return check_path(path, 0, err);
}

static int not_logged_in(const char *profile, struct ch_error *err)
{
    if (strcmp(profile, "default") == 0) {
        err_set(err, CH_AUTH, "not_logged_in", "credentials", "not logged in");
        err_hint(err, "run `carhelp login`");
    } else {
        err_set(err, CH_AUTH, "not_logged_in", "credentials", "not logged in (profile '%s')", profile);
        err_hint(err, "run `carhelp --profile %s login`", profile);
    }
    return CH_AUTH;
}

/* ---------------------------------------------------------------- reading */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int bad_file(const char *path, int line, const char *why, struct ch_error *err)
{
    err_set(err, CH_AUTH, "credentials_invalid", "credentials", "%s:%d: %s", path, line, why);
    err_hint(err, "move %s away and run `carhelp login` again", path);
    return CH_AUTH;
}

/* Parses text in place. Messages name the line, never its content (it may hold a token). */
static int parse(const char *path, char *text, size_t len, struct credfile *f, struct ch_error *err)
{
    if (memchr(text, '\0', len))
        return bad_file(path, 1, "contains a NUL byte (is this a text file?)", err);
    struct section *cur = NULL;
    int lineno = 0;
    char *next;
    for (char *line = text; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']')
                return bad_file(path, lineno, "unterminated section header", err);
            s[n - 1] = '\0';
            char *name = trim(s + 1);
            if (!*name)
                return bad_file(path, lineno, "empty section name", err);
            cur = add_section(f, name);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            return bad_file(path, lineno, "expected key = value", err);
        if (!cur)
            return bad_file(path, lineno, "key outside a [profile] section", err);
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key)
            return bad_file(path, lineno, "empty key", err);
        set_kv(cur, key, value);
    }
    return 0;
}

/* Reads and parses the file; 0 with f empty when it does not exist (*exists = 0). The checks
 * run on the open descriptor, so what is checked is what is read. */
static int read_credfile(const char *path, int check_mode, struct credfile *f, int *exists,
                         struct ch_error *err)
{
    memset(f, 0, sizeof *f);
    *exists = 0;
    /* O_NOFOLLOW: a link is refused, never read through (nor written through: see
     * write_atomic). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    struct stat st;
    if (fd < 0) {
        int saved = errno;
        if (saved == ENOENT)
            return 0;
        *exists = 1;
        if (saved == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            return check_stat(path, &st, check_mode, err);
        return err_set(err, CH_AUTH, "credentials_unreadable", "credentials", "cannot read %s: %s",
                       path, strerror(saved));
    }
    *exists = 1;
    int rc;
    if ((rc = check_folder(path, err)) != 0) {
        close(fd);
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = err_set(err, CH_AUTH, "credentials_unreadable", "credentials", "cannot check %s: %s",
                     path, strerror(errno));
        close(fd);
        return rc;
    }
    if ((rc = check_stat(path, &st, check_mode, err)) != 0) {
        close(fd);
        return rc;
    }
    if (st.st_size > CRED_MAX_SIZE) {
        close(fd);
        return bad_file(path, 1, "the file is too large to be a credentials file", err);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *text = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > CRED_MAX_SIZE) {
                rc = bad_file(path, 1, "the file is too large to be a credentials file", err);
                break;
            }
            char *bigger = xmalloc(cap * 2);   /* grown by copy so the old copy can be wiped */
            memcpy(bigger, text, len);
            explicit_bzero(text, len);
            free(text);
            text = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, text + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_set(err, CH_AUTH, "credentials_unreadable", "credentials", "cannot read %s: %s",
                         path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (rc == 0) {
        text[len] = '\0';
        rc = parse(path, text, len, f, err);
    }
    explicit_bzero(text, cap);
    free(text);
    if (rc)
        credfile_free(f);
    return rc;
}

int credentials_load(const char *path, const char *profile, struct credential *c,
                     struct ch_error *err)
{
    memset(c, 0, sizeof *c);
    if (!profile || !*profile)
        profile = "default";
    struct credfile f;
    int exists;
    int rc = read_credfile(path, 1, &f, &exists, err);
    if (rc)
        return rc;
    if (!exists)
        return not_logged_in(profile, err);
    struct section *s = find_section(&f, profile);
    const char *token = s ? get_value(s, "token") : NULL;
    if (!token || !*token) {
        credfile_free(&f);
        return not_logged_in(profile, err);
    }
    const char *v;
    c->token = xstrdup(token);
    c->expires_at = (v = get_value(s, "expires_at")) && *v ? xstrdup(v) : NULL;
    c->role = (v = get_value(s, "role")) && *v ? xstrdup(v) : NULL;
    c->subject = (v = get_value(s, "subject")) && *v ? xstrdup(v) : NULL;
    c->api_url = (v = get_value(s, "api_url")) && *v ? xstrdup(v) : NULL;
    credfile_free(&f);
    return 0;
}

static int valid_profile(const char *p);

void credentials_each(const char *path, void (*fn)(const char *profile, const char *api_url,
                                                   void *ctx), void *ctx)
{
    struct credfile f;
    int exists;
    struct ch_error err;
    if (read_credfile(path, 1, &f, &exists, &err) || !exists)
        return;
    for (size_t i = 0; i < f.n; i++) {
        const char *token = get_value(&f.sec[i], "token");
        if (token && *token && valid_profile(f.sec[i].name))
            fn(f.sec[i].name, get_value(&f.sec[i], "api_url"), ctx);
    }
    credfile_free(&f);
}

/* ---------------------------------------------------------------- writing */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void serialize(const struct credfile *f, struct buf *b)
{
    buf_puts(b, "# carhelp credentials, written by `carhelp login`. Keep private (mode 0600).\n");
    for (size_t i = 0; i < f->n; i++) {
        buf_printf(b, "\n[%s]\n", f->sec[i].name);
        for (size_t j = 0; j < f->sec[i].n; j++)
            buf_printf(b, "%s = %s\n", f->sec[i].kv[j].key, f->sec[i].kv[j].value);
    }
}

static void split_path(const char *path, char *dir, size_t dirsz, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dirsz, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dirsz, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dirsz, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

static void fsync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);   /* best effort: some filesystems refuse fsync on a folder */
        close(dfd);
    }
}

static int write_failed(const char *path, const char *step, int saved, struct ch_error *err)
{
    return err_set(err, CH_USAGE, "credentials_write", "credentials", "cannot %s %s: %s", step, path,
                   strerror(saved));
}

/* Creates DIR/.BASE.XXXXXXXX with O_CREAT|O_EXCL and mode 0600. */
static int create_temp(const char *dir, const char *base, char *tmp, size_t tmpsz)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned long long r;
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
            r = (unsigned long long)getpid() * 2654435761ULL ^ (unsigned long long)time(NULL) ^
                (unsigned long long)attempt << 40;
        int w = snprintf(tmp, tmpsz, "%s/.%s.%012llx.tmp", dir, base, r & 0xFFFFFFFFFFFFULL);
        if (w < 0 || (size_t)w >= tmpsz) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static int write_atomic(const char *path, const struct credfile *f, struct ch_error *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 64];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    int rc = paths_mkdir(dir, 0700, err);
    if (rc || (rc = check_folder(path, err)) != 0)
        return rc;
    /* A new file, O_EXCL|O_NOFOLLOW, renamed over PATH: rename replaces a link at PATH
     * itself, so nothing is ever written where a link points. */
    int fd = create_temp(dir, base, tmp, sizeof tmp);
    if (fd < 0)
        return write_failed(dir, "create a temporary file in", errno, err);
    struct buf b;
    buf_init(&b);
    serialize(f, &b);
    const char *step = NULL;
    if (fchmod(fd, 0600) != 0)   /* exact, whatever the umask took away */
        step = "set the mode of";
    else if (write_all(fd, b.data, b.len) != 0)
        step = "write";
    else if (fsync(fd) != 0)
        step = "sync";
    int saved = errno;
    explicit_bzero(b.data, b.cap);
    buf_free(&b);
    if (close(fd) != 0 && !step) {
        step = "write";
        saved = errno;
    }
    if (!step && rename(tmp, path) != 0) {
        step = "replace";
        saved = errno;
    }
    if (step) {
        unlink(tmp);
        return write_failed(path, step, saved, err);
    }
    fsync_dir(dir);
    return 0;
}

static int valid_profile(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 64)
        return 0;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

/* A value must read back exactly: no line breaks or other control characters, no
 * surrounding blanks. The value itself is never quoted in the message. */
static int check_value(const char *name, const char *v, struct ch_error *err)
{
    size_t n = strlen(v);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return err_set(err, CH_USAGE, "credentials_value", "credentials",
                           "the %s contains a line break or another control character; not saved",
                           name);
    if (n > 0 && (v[0] == ' ' || v[n - 1] == ' '))
        return err_set(err, CH_USAGE, "credentials_value", "credentials",
                       "the %s starts or ends with a space; not saved", name);
    return 0;
}

int credentials_store(const char *path, const char *profile, const struct credential *c,
                      struct ch_error *err)
{
    if (!profile || !*profile)
        profile = "default";
    if (!valid_profile(profile))
        return err_set(err, CH_USAGE, "invalid_profile", "--profile",
                       "expected a profile name of 1–64 letters, digits, '_', '-' or '.'");
    if (!c || !c->token || !*c->token)
        return err_set(err, CH_USAGE, "credentials_value", "credentials", "no token to save");
    const struct { const char *key, *value; } fields[] = {
        { "token", c->token }, { "expires_at", c->expires_at }, { "role", c->role },
        { "subject", c->subject }, { "api_url", c->api_url },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].value && check_value(fields[i].key, fields[i].value, err))
            return CH_USAGE;
    struct credfile f;
    int exists;
    int rc = read_credfile(path, 0, &f, &exists, err);
    if (rc)
        return rc;
    struct section *s = find_section(&f, profile);
    if (s) {   /* replace in place, keeping the profile's position in the file */
        for (size_t i = 0; i < s->n; i++) {
            free(s->kv[i].key);
            wipe_free(s->kv[i].value);
        }
        s->n = 0;
    } else {
        s = add_section(&f, profile);
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].value && *fields[i].value)
            set_kv(s, fields[i].key, fields[i].value);
    rc = write_atomic(path, &f, err);
    credfile_free(&f);
    return rc;
}

int credentials_remove(const char *path, const char *profile, struct ch_error *err)
{
    if (!profile || !*profile)
        profile = "default";
    struct credfile f;
    int exists;
    int rc = read_credfile(path, 0, &f, &exists, err);
    if (rc || !exists)
        return rc;
    struct section *s = find_section(&f, profile);
    if (!s) {
        credfile_free(&f);
        return 0;
    }
    section_clear(s);
    size_t idx = (size_t)(s - f.sec);
    memmove(&f.sec[idx], &f.sec[idx + 1], (f.n - idx - 1) * sizeof *f.sec);
    f.n--;
    if (f.n == 0) {
        credfile_free(&f);
        if (unlink(path) != 0 && errno != ENOENT)
            return write_failed(path, "remove", errno, err);
        char dir[PATH_MAX];
        const char *base;
        split_path(path, dir, sizeof dir, &base);
        fsync_dir(dir);
        return 0;
    }
    rc = write_atomic(path, &f, err);
    credfile_free(&f);
    return rc;
}
