/* The credentials file: 0600 on create, refusal when others can read it, when it is a
 * symbolic link or another user's, or when its folder is not private; round trips with
 * several profiles, atomic replacement without leftovers, and no token in any message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "credentials.h"

#define TOKEN_A "a3f1c9e2b4d6f8a0a3f1c9e2b4d6f8a0a3f1c9e2b4d6f8a0a3f1c9e2b4d6f8a0"
#define TOKEN_B "77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa"

static char base[] = "/tmp/carhelp-cred-XXXXXX";
static char dir[256], path[300];

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(base) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    return system(cmd);
}

/* Each test gets a fresh, not yet existing folder (two levels, so store must create them). */
static int fresh_dir(void **state)
{
    (void)state;
    static int n;
    snprintf(dir, sizeof dir, "%s/t%d/carhelp", base, ++n);
    snprintf(path, sizeof path, "%s/credentials", dir);
    umask(022);
    return 0;
}

static struct credential customer(void)
{
    struct credential c = { TOKEN_A, "2026-12-02T19:41:00+08:00", "customer", "acc_1001",
                            "http://127.0.0.1:8765" };
    return c;
}

static void write_file(const char *text, int mode)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static int count_entries(const char *d)
{
    DIR *dh = opendir(d);
    assert_non_null(dh);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dh)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(dh);
    return n;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void store_creates_file_0600_and_folder_0700(void **state)
{
    (void)state;
    struct credential c = customer();
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(credentials_check_mode(path, &e), 0);
}

static void store_is_0600_even_under_a_lax_umask(void **state)
{
    (void)state;
    umask(0);
    struct credential c = customer();
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, "default", &c, &e), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
}

static void load_round_trips_every_field(void **state)
{
    (void)state;
    struct credential in = customer(), out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &in, &e), 0);
    assert_int_equal(credentials_load(path, NULL, &out, &e), 0);
    assert_string_equal(out.token, TOKEN_A);
    assert_string_equal(out.expires_at, "2026-12-02T19:41:00+08:00");
    assert_string_equal(out.role, "customer");
    assert_string_equal(out.subject, "acc_1001");
    assert_string_equal(out.api_url, "http://127.0.0.1:8765");
    credential_free(&out);
    assert_null(out.token);
}

static void two_profiles_store_load_remove(void **state)
{
    (void)state;
    struct credential a = customer();
    struct credential b = { TOKEN_B, "2026-11-26T07:41:00+08:00", "staff", "field01",
                            "https://api.example.com" };
    struct credential out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &a, &e), 0);
    assert_int_equal(credentials_store(path, "work", &b, &e), 0);

    assert_int_equal(credentials_load(path, "default", &out, &e), 0);
    assert_string_equal(out.token, TOKEN_A);
    credential_free(&out);
    assert_int_equal(credentials_load(path, "work", &out, &e), 0);
    assert_string_equal(out.token, TOKEN_B);
    assert_string_equal(out.role, "staff");
    assert_string_equal(out.subject, "field01");
    credential_free(&out);

    /* Re-login replaces only that profile. */
    struct credential a2 = customer();
    a2.token = "0000";
    a2.role = NULL;
    assert_int_equal(credentials_store(path, NULL, &a2, &e), 0);
    assert_int_equal(credentials_load(path, NULL, &out, &e), 0);
    assert_string_equal(out.token, "0000");
    assert_null(out.role);
    credential_free(&out);
    assert_int_equal(credentials_load(path, "work", &out, &e), 0);
    assert_string_equal(out.token, TOKEN_B);
    credential_free(&out);

    assert_int_equal(credentials_remove(path, NULL, &e), 0);
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "not_logged_in");
    assert_int_equal(credentials_load(path, "work", &out, &e), 0);
    assert_string_equal(out.token, TOKEN_B);
    credential_free(&out);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    assert_int_equal(credentials_remove(path, "work", &e), 0);
    assert_int_equal(stat(path, &st), -1);   /* nothing left: the file is gone */
    assert_int_equal(count_entries(dir), 0);
}

static void refuses_0644_with_chmod_hint(void **state)
{
    (void)state;
    struct credential c = customer(), out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_int_equal(e.exit_code, CH_AUTH);
    assert_string_equal(e.code, "credentials_insecure");
    char want[400];
    snprintf(want, sizeof want, "%s is readable by others (mode 0644)", path);
    assert_string_equal(e.message, want);
    snprintf(want, sizeof want, "chmod 600 %s", path);
    assert_string_equal(e.hint, want);
    assert_null(out.token);

    err_clear(&e);
    assert_int_equal(credentials_check_mode(path, &e), CH_AUTH);
    assert_string_equal(e.code, "credentials_insecure");
}

static void refuses_other_loose_modes(void **state)
{
    (void)state;
    static const struct { int mode; const char *word; } cases[] = {
        { 0640, "readable" }, { 0604, "readable" }, { 0620, "writable" }, { 0602, "writable" },
        { 0610, "accessible" }, { 0666, "readable" },
    };
    struct credential c = customer(), out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(chmod(path, (mode_t)cases[i].mode), 0);
        err_clear(&e);
        assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
        char want[64];
        snprintf(want, sizeof want, "%s by others (mode %04o)", cases[i].word, cases[i].mode);
        if (!strstr(e.message, want))
            fail_msg("%s lacks %s", e.message, want);
    }
    /* 0600 and stricter are fine. */
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(credentials_load(path, NULL, &out, &e), 0);
    credential_free(&out);
}

static void store_replaces_a_loose_file_with_a_0600_one(void **state)
{
    (void)state;
    write_file("[default]\ntoken = old\n", 0644);
    struct credential c = customer(), out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(credentials_load(path, NULL, &out, &e), 0);
    assert_string_equal(out.token, TOKEN_A);
    credential_free(&out);
}

static void refuses_non_regular_and_foreign_files(void **state)
{
    (void)state;
    struct credential out;
    struct ch_error e;
    err_clear(&e);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);   /* a folder where the file should be */
    assert_int_equal(system(cmd), 0);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "credentials_insecure");
    assert_non_null(strstr(e.message, "not a regular file"));
    assert_int_equal(credentials_check_mode(path, &e), CH_AUTH);
    assert_int_equal(rmdir(path), 0);

    if (geteuid() != 0)
        return;   /* only root can give a file away */
    write_file("[default]\ntoken = t\n", 0600);
    assert_int_equal(chown(path, 65534, 65534), 0);
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_non_null(strstr(e.message, "is owned by uid 65534, not you"));
    assert_non_null(strstr(e.message, path));
    struct credential c = customer();
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_AUTH);
}

static void missing_file_or_profile_is_not_logged_in(void **state)
{
    (void)state;
    struct credential out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "not_logged_in");
    assert_string_equal(e.hint, "run `carhelp login`");
    assert_int_equal(credentials_check_mode(path, &e), 0);

    write_file("# nothing yet\n[work]\ntoken = x\n[empty]\ntoken =\n", 0600);
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "not_logged_in");
    err_clear(&e);
    assert_int_equal(credentials_load(path, "home", &out, &e), CH_AUTH);
    assert_string_equal(e.code, "not_logged_in");
    assert_non_null(strstr(e.hint, "carhelp --profile home login"));
    err_clear(&e);
    assert_int_equal(credentials_load(path, "empty", &out, &e), CH_AUTH);
    assert_string_equal(e.code, "not_logged_in");
}

static void atomic_write_leaves_no_temp_files(void **state)
{
    (void)state;
    struct credential c = customer();
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    /* Holding the old file open keeps its inode number from being reused. */
    int old_fd = open(path, O_RDONLY);
    assert_true(old_fd >= 0);
    struct stat before, after;
    assert_int_equal(fstat(old_fd, &before), 0);
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(credentials_store(path, name, &c, &e), 0);
    }
    for (int i = 0; i < 20; i += 2) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(credentials_remove(path, name, &e), 0);
    }
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_ino != after.st_ino);   /* replaced by rename, not rewritten in place */
    close(old_fd);
}

static void newlines_in_values_are_refused_without_echo(void **state)
{
    (void)state;
    struct credential c = customer();
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    char *before = strdup(slurp(path));

    c.token = "secrettoken\n[default]\ntoken = evil";
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_USAGE);
    assert_null(strstr(e.message, "secrettoken"));
    assert_non_null(strstr(e.message, "token"));
    c = customer();
    c.subject = "acc\r1001";
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_USAGE);
    c = customer();
    c.role = " customer";
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_USAGE);
    c = customer();
    c.token = "";
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_USAGE);
    c = customer();
    assert_int_equal(credentials_store(path, "bad]name", &c, &e), CH_USAGE);
    assert_int_equal(credentials_store(path, "a\nb", &c, &e), CH_USAGE);
    assert_string_equal(slurp(path), before);   /* untouched */
    free(before);
}

static void parse_errors_name_the_line_not_the_token(void **state)
{
    (void)state;
    write_file("[default]\ntoken = " TOKEN_A "\n" TOKEN_B "\n", 0600);
    struct credential out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "credentials_invalid");
    assert_non_null(strstr(e.message, ":3:"));
    assert_null(strstr(e.message, TOKEN_A));
    assert_null(strstr(e.message, TOKEN_B));
    assert_null(strstr(e.hint, TOKEN_B));

    write_file("token = " TOKEN_A "\n", 0600);
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_non_null(strstr(e.message, ":1:"));
    assert_null(strstr(e.message, TOKEN_A));

    write_file("[default\ntoken = x\n", 0600);
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "credentials_invalid");

    /* A broken file is not overwritten by a store (other profiles would be lost). */
    struct credential c = customer();
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_AUTH);
    assert_string_equal(slurp(path), "[default\ntoken = x\n");
}

static void store_keeps_other_profiles_and_unknown_keys(void **state)
{
    (void)state;
    write_file("; hand-edited\r\n[ci]\r\ntoken = citoken\r\nnote = keep me\r\n\r\n[default]\ntoken = old\n", 0600);
    struct credential c = customer(), out;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    const char *text = slurp(path);
    assert_non_null(strstr(text, "[ci]\ntoken = citoken\nnote = keep me\n"));
    assert_null(strstr(text, "old"));
    assert_int_equal(credentials_load(path, "ci", &out, &e), 0);
    assert_string_equal(out.token, "citoken");
    assert_null(out.role);
    credential_free(&out);
}

static void long_tokens_round_trip(void **state)
{
    (void)state;
    static char big[20000];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = "abcdef0123456789.-_"[i % 19];
    big[sizeof big - 1] = '\0';
    struct credential c = customer(), out;
    c.token = big;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    assert_int_equal(credentials_load(path, NULL, &out, &e), 0);
    assert_string_equal(out.token, big);
    credential_free(&out);
}

static void remove_of_missing_things_is_fine(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_remove(path, NULL, &e), 0);
    struct credential c = customer();
    assert_int_equal(credentials_store(path, "work", &c, &e), 0);
    char *before = strdup(slurp(path));
    assert_int_equal(credentials_remove(path, NULL, &e), 0);
    assert_string_equal(slurp(path), before);
    free(before);
}

/* A second, real credentials file elsewhere, and PATH a symbolic link to it. */
static void link_to(const char *target)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(symlink(target, path), 0);
}

static void a_symlink_to_a_real_credentials_file_is_refused_and_not_read(void **state)
{
    (void)state;
    char other[400];
    snprintf(other, sizeof other, "%s/elsewhere/credentials", dir);
    struct credential c = customer();
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(other, NULL, &c, &e), 0);
    link_to(other);
    struct credential out = { 0 };
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "credentials_insecure");
    assert_non_null(strstr(e.message, "is a symbolic link"));
    assert_non_null(strstr(e.message, path));
    assert_null(strstr(e.message, TOKEN_A));
    assert_null(out.token);
    err_clear(&e);
    assert_int_equal(credentials_check_mode(path, &e), CH_AUTH);
    assert_non_null(strstr(e.message, "is a symbolic link"));
}

static void store_and_remove_never_write_through_a_symlink(void **state)
{
    (void)state;
    char other[400], dangling[400];
    snprintf(other, sizeof other, "%s.target", dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fputs("[default]\ntoken = precious\n", f);
    fclose(f);
    assert_int_equal(chmod(other, 0600), 0);
    char *before = strdup(slurp(other));
    link_to(other);
    struct credential c = customer();
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_AUTH);
    assert_non_null(strstr(e.message, "is a symbolic link"));
    assert_int_equal(credentials_remove(path, NULL, &e), CH_AUTH);
    assert_string_equal(slurp(other), before);
    free(before);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(count_entries(dir), 1);   /* no temp file left */

    /* A link to a file that does not exist yet: not created through it either. */
    assert_int_equal(unlink(path), 0);
    snprintf(dangling, sizeof dangling, "%s.not-yet", dir);
    assert_int_equal(symlink(dangling, path), 0);
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_AUTH);
    assert_int_equal(access(dangling, F_OK), -1);
    struct credential out = { 0 };
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_string_equal(e.code, "credentials_insecure");
}

static void a_folder_others_can_write_to_is_refused_with_the_chmod(void **state)
{
    (void)state;
    struct credential c = customer(), out = { 0 };
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    const int modes[] = { 0770, 0777, 0703, 01777 };
    char want[400];
    snprintf(want, sizeof want, "chmod 700 %s", dir);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(dir, (mode_t)modes[i]), 0);
        err_clear(&e);
        assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
        assert_string_equal(e.code, "credentials_insecure");
        assert_non_null(strstr(e.message, dir));
        assert_non_null(strstr(e.message, "writable by"));
        assert_string_equal(e.hint, want);
        assert_null(out.token);
        assert_int_equal(credentials_check_mode(path, &e), CH_AUTH);
        assert_int_equal(credentials_store(path, NULL, &c, &e), CH_AUTH);
    }
    /* Readable by others (not writable) is fine: the file itself is 0600. */
    assert_int_equal(chmod(dir, 0755), 0);
    err_clear(&e);
    assert_int_equal(credentials_load(path, NULL, &out, &e), 0);
    credential_free(&out);
    /* A fresh login into a folder others can write to is refused too, before any write. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_AUTH);
    assert_int_equal(count_entries(dir), 0);
}

static void a_folder_of_another_user_is_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();   /* only root can give a folder away */
    struct credential c = customer(), out = { 0 };
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(credentials_store(path, NULL, &c, &e), 0);
    assert_int_equal(chown(dir, 65534, 65534), 0);
    assert_int_equal(credentials_load(path, NULL, &out, &e), CH_AUTH);
    assert_non_null(strstr(e.message, "is owned by uid 65534, not you"));
    assert_null(out.token);
    assert_int_equal(credentials_store(path, NULL, &c, &e), CH_AUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(store_creates_file_0600_and_folder_0700, fresh_dir),
        cmocka_unit_test_setup(store_is_0600_even_under_a_lax_umask, fresh_dir),
        cmocka_unit_test_setup(load_round_trips_every_field, fresh_dir),
        cmocka_unit_test_setup(two_profiles_store_load_remove, fresh_dir),
        cmocka_unit_test_setup(refuses_0644_with_chmod_hint, fresh_dir),
        cmocka_unit_test_setup(refuses_other_loose_modes, fresh_dir),
        cmocka_unit_test_setup(store_replaces_a_loose_file_with_a_0600_one, fresh_dir),
        cmocka_unit_test_setup(refuses_non_regular_and_foreign_files, fresh_dir),
        cmocka_unit_test_setup(missing_file_or_profile_is_not_logged_in, fresh_dir),
        cmocka_unit_test_setup(atomic_write_leaves_no_temp_files, fresh_dir),
        cmocka_unit_test_setup(newlines_in_values_are_refused_without_echo, fresh_dir),
        cmocka_unit_test_setup(parse_errors_name_the_line_not_the_token, fresh_dir),
        cmocka_unit_test_setup(store_keeps_other_profiles_and_unknown_keys, fresh_dir),
        cmocka_unit_test_setup(long_tokens_round_trip, fresh_dir),
        cmocka_unit_test_setup(remove_of_missing_things_is_fine, fresh_dir),
        cmocka_unit_test_setup(a_symlink_to_a_real_credentials_file_is_refused_and_not_read, fresh_dir),
        cmocka_unit_test_setup(store_and_remove_never_write_through_a_symlink, fresh_dir),
        cmocka_unit_test_setup(a_folder_others_can_write_to_is_refused_with_the_chmod, fresh_dir),
        cmocka_unit_test_setup(a_folder_of_another_user_is_refused, fresh_dir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
