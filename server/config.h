/* Command-line configuration of carhelp-server, read-only once the daemon runs. */
#ifndef CARHELP_SERVER_CONFIG_H
#define CARHELP_SERVER_CONFIG_H

#include <stdbool.h>

#define SERVER_NAME "carhelp-server"
#ifndef CARHELP_VERSION
#define CARHELP_VERSION "0.0.0"
#endif
#define DEFAULT_LISTEN "127.0.0.1:8765"
#define DEFAULT_VEHICLE_DELAY_MS 800

struct server_config {
    const char *listen;   /* ADDR:PORT or [ADDR6]:PORT */
    const char *db_path;  /* NULL: in-memory */
    const char *seed;     /* NULL or "demo" */
    long vehicle_delay_ms;
    bool faults;          /* honour X-Fault */
    const char *tls_cert; /* both set: HTTPS */
    const char *tls_key;
    const char *now;      /* service clock start, RFC 3339 */
};

#endif
