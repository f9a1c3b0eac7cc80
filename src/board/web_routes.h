/* web_routes.h: the web server's routes, each with the handler that answers it.
 *
 * The table (web_routes.c) is the one place that says which paths exist, with which
 * methods, what the gate demands of them and who answers; the gate (web_auth.c) looks a
 * request's path up in it once and the connection (web_conn.c) calls the entry's
 * handler. The handlers live with their concern: the JSON API (web_api.c), the event
 * stream (web_stream.c), the page files (web_static.c).
 */
#ifndef M0_BOARD_WEB_ROUTES_H
#define M0_BOARD_WEB_ROUTES_H

#include <stddef.h>

#include "web_auth.h"

extern const struct m0__web_route m0__web_routes[];
extern const size_t m0__web_route_count;

/* web_api.c */
bool m0__web_api_status(struct m0__web_conn *c, const struct m0__web_decision *d);
bool m0__web_api_config(struct m0__web_conn *c, const struct m0__web_decision *d);
bool m0__web_api_set_config(struct m0__web_conn *c, const struct m0__web_decision *d);
bool m0__web_api_restart(struct m0__web_conn *c, const struct m0__web_decision *d);
bool m0__web_api_factory_reset(struct m0__web_conn *c, const struct m0__web_decision *d);
/* web_stream.c */
bool m0__web_stream_start(struct m0__web_conn *c, const struct m0__web_decision *d);
/* web_static.c */
bool m0__web_static_serve(struct m0__web_conn *c, const struct m0__web_decision *d);

#endif
