/* The auth group: one-time codes, tokens (random, stored as SHA-256), whoami, and the
 * bearer-token check every protected route runs first. */
#ifndef CARHELP_SERVER_AUTH_H
#define CARHELP_SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct request;

#define OTP_TTL_S 300
#define OTP_MAX_FAILURES 5
#define CUSTOMER_TOKEN_TTL_S (7 * 24 * 3600)
#define STAFF_TOKEN_TTL_S (12 * 3600)

/* Fills req->who from the bearer token, or replies 401 and returns false. */
bool auth_authenticate(struct request *req);

void auth_otp_create(struct request *req);
void auth_token_create(struct request *req);
void auth_token_revoke(struct request *req);
void auth_whoami(struct request *req);

/* A yescrypt hash of password (for seeding staff); returns 0 on success. */
int auth_hash_password(const char *password, char *out, size_t out_len);

#endif
