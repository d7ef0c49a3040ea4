/* Accounts: a customer sees their own; staff see an account once this token verified it. */
#ifndef CARHELP_SERVER_ACCOUNTS_H
#define CARHELP_SERVER_ACCOUNTS_H

#include <stdbool.h>

struct request;

void accounts_get(struct request *req);
/* Whether the caller's token has verified this account (staff). */
bool accounts_verified_by(const char *token_hash, const char *account_id);

#endif
