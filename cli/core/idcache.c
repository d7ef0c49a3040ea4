/* Recent IDs for completion (see idcache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "idcache.h"
#include "paths.h"
#include "error.h"
#include "output.h"

static int id_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 120)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return 0;
    /* Completion shows these on the terminal: nothing the sanitiser would change (C1, bidi,
     * invisible characters, bad UTF-8) is kept. */
    char safe[128];
    return strcmp(term_safe(s, safe, sizeof safe), s) == 0;
}

void idcache_add(const char *kind, const char *id)
{
    struct paths p;
    struct ch_error err;
    if (!id_ok(kind) || !id_ok(id) || paths_resolve(&p, &err) || paths_mkdir(p.cache_dir, 0700, &err))
        return;
    char file[PATH_MAX + 16], tmp[PATH_MAX + 32];
    snprintf(file, sizeof file, "%s/recent-ids", p.cache_dir);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", file, (long)getpid());
    FILE *out = fopen(tmp, "w");
    if (!out)
        return;
    fprintf(out, "%s %s\n", kind, id);
    int lines = 1;
    FILE *in = fopen(file, "r");
    if (in) {
        char line[512];
        while (lines < IDCACHE_MAX && fgets(line, sizeof line, in)) {
            char k[64], v[160];
            if (sscanf(line, "%63s %159s", k, v) != 2 || (strcmp(k, kind) == 0 && strcmp(v, id) == 0))
                continue;
            fprintf(out, "%s %s\n", k, v);
            lines++;
        }
        fclose(in);
    }
    if (fclose(out) != 0 || rename(tmp, file) != 0)
        unlink(tmp);
}
