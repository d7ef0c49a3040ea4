/* The demo dataset of api.md, loaded by --seed demo. Loading twice is a no-op. */
#ifndef CARHELP_SERVER_SEED_H
#define CARHELP_SERVER_SEED_H

#include <stdbool.h>

bool seed_known(const char *name);
/* Returns 0 when the dataset is present afterwards. */
int seed_load(const char *name);

#endif
