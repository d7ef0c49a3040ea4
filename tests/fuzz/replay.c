/* The harnesses without libFuzzer: runs every input file named on the command line (a folder
 * stands for the files in it, in name order; dotfiles skipped) through LLVMFuzzerTestOneInput
 * once. `make unit` runs each harness built this way over tests/fuzz/regressions/TARGET/ (the
 * inputs that once crashed) and tests/fuzz/corpus/TARGET/, so a fixed crash stays fixed in
 * the normal suite, with the normal compiler and without clang. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    unsigned char *data = malloc(cap);
    for (size_t r; data && (r = fread(data + len, 1, cap - len, f)) > 0;) {
        len += r;
        if (len == cap)
            data = realloc(data, cap *= 2);
    }
    fclose(f);
    if (!data)
        abort();
    /* An exact-size copy, so an overread of the input is caught as under libFuzzer. */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    int n = 0, bad = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            if (errno == ENOENT)
                continue;   /* a target without regressions yet */
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            bad = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            int r = run_file(argv[i]);
            n += r > 0;
            bad |= r < 0;
            continue;
        }
        struct dirent **list;
        int m = scandir(argv[i], &list, NULL, by_name);
        if (m < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            bad = 1;
            continue;
        }
        for (int j = 0; j < m; j++) {
            if (list[j]->d_name[0] != '.') {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], list[j]->d_name);
                int r = run_file(path);
                n += r > 0;
                bad |= r < 0;
            }
            free(list[j]);
        }
        free(list);
    }
    const char *slash = strrchr(argv[0], '/');
    printf("replay: %s: %d inputs, no crash\n", slash ? slash + 1 : argv[0], n);
    return bad;
}
