/* Shared by the libFuzzer harnesses in tests/fuzz/ (one fuzz_TARGET.c per target, see
 * docs/DECISIONS.md "Fuzzing"). Each harness defines LLVMFuzzerInitialize and
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (`make fuzz`, clang) or with
 * replay.c (`make unit`, the normal compiler), which runs the saved inputs once each.
 *
 * Harness rules: no leaks (LeakSanitizer is on), no state carried from one input to the
 * next (files written per input are removed or overwritten), no network, nothing printed
 * on stdout. A broken invariant calls fuzz_fail, which aborts: libFuzzer keeps the input. */
#ifndef CARHELP_FUZZ_H
#define CARHELP_FUZZ_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private scratch folder, made on first use (on /dev/shm when there is one: the file-based
 * targets then never wait for a disk) and removed at exit. */
const char *fuzz_dir(void);
/* fuzz_dir()/name into out (aborts when it does not fit). */
void fuzz_path(char *out, size_t outsz, const char *name);
/* Replaces path with exactly these bytes, created with mode (aborts on failure). */
void fuzz_write(const char *path, const void *data, size_t size, int mode);
/* The input as a NUL-terminated copy (caller frees); cut at the first NUL byte. */
char *fuzz_cstr(const uint8_t *data, size_t size);
/* Splits text in place at lines that are exactly "%%": fills parts[] and returns their
 * number (at most max; the last part keeps the rest). */
int fuzz_split(char *text, char **parts, int max);
/* Reports a broken invariant on stderr and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* True when s contains a byte below 0x20 or 0x7f (a terminal control character). */
int fuzz_has_control(const char *s);

#endif
