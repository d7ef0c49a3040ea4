/* The credentials file (INI, one section per profile: token, expires_at, role, subject,
 * api_url). Mode 0600; refused with exit 4 and the chmod to run when group/other can read it,
 * and refused when it is a symbolic link, is another user's, or sits in a folder that is
 * another user's (root excepted) or that group/other can write to. Written atomically (temp
 * file 0600 with O_EXCL|O_NOFOLLOW, fsync, rename), never through a link. */
#ifndef CARHELP_CREDENTIALS_H
#define CARHELP_CREDENTIALS_H
#include "error.h"

struct credential {
    char *token;
    char *expires_at;   /* RFC 3339 */
    char *role;         /* customer | staff */
    char *subject;      /* acc_1001 | field01 */
    char *api_url;      /* the API it was issued by */
};

void credential_free(struct credential *c);
/* 0 and c filled when the profile has a token; CH_AUTH with err when the file is missing,
 * has no such profile (code "not_logged_in"), is group/world readable (code
 * "credentials_insecure", hint "chmod 600 FILE"), or cannot be parsed. */
int credentials_load(const char *path, const char *profile, struct credential *c,
                     struct ch_error *err);
int credentials_store(const char *path, const char *profile, const struct credential *c,
                      struct ch_error *err);
/* Removes the profile's section; removes the file when nothing remains. Missing is fine. */
int credentials_remove(const char *path, const char *profile, struct ch_error *err);
/* Calls fn for each profile (of a valid name) that holds a token, with the API it was issued by (NULL when the
 * file does not say), never with the token. Nothing when the file is missing or refused. */
void credentials_each(const char *path, void (*fn)(const char *profile, const char *api_url,
                                                   void *ctx), void *ctx);
/* 0 when the file does not exist, or passes every check above; CH_AUTH otherwise. */
int credentials_check_mode(const char *path, struct ch_error *err);
/* 0 when credentials_store could write the file: no link, the user's own, a private folder
 * (loose permission bits pass: the store writes 0600). login checks it before any request. */
int credentials_check_storable(const char *path, struct ch_error *err);

#endif
