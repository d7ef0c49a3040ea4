/* The schema as ordered migrations; migration i brings user_version from i to i+1.
 * Never edit a released migration: append a new one. */
#ifndef CARHELP_SERVER_DB_SCHEMA_H
#define CARHELP_SERVER_DB_SCHEMA_H

extern const char *const db_migrations[];
extern const int db_migration_count;

#endif
