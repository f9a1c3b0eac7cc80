/* web_routes.c: the route table of the admin web server (docs/web.md, "API").
 *
 * One entry per path and set of methods, carrying its handler, as the AT table carries
 * its actions: adding an API is one line here and one handler, and no second place
 * matches paths. Seven entries, scanned in one pass per request (a table this small
 * needs no index). Every route needs the WEBU credentials, like the module's pages.
 */
#include "web_routes.h"

#define GET_HEAD (M0__WEB_M_GET | M0__WEB_M_HEAD)

const struct m0__web_route m0__web_routes[] = {
    {.path = "/api/status", .methods = GET_HEAD, .auth = true,
     .handler = m0__web_api_status},
    {.path = "/api/config", .methods = GET_HEAD, .auth = true,
     .handler = m0__web_api_config},
    {.path = "/api/config", .methods = M0__WEB_M_POST, .auth = true, .json_body = true,
     .handler = m0__web_api_set_config},
    {.path = "/api/restart", .methods = M0__WEB_M_POST, .auth = true,
     .handler = m0__web_api_restart},
    {.path = "/api/factory-reset", .methods = M0__WEB_M_POST, .auth = true,
     .handler = m0__web_api_factory_reset},
    {.path = "/api/events", .methods = GET_HEAD, .auth = true,
     .handler = m0__web_stream_start},
    /* Any other path outside /api/: a file of the page. */
    {.path = NULL, .methods = GET_HEAD, .auth = true, .handler = m0__web_static_serve},
};

const size_t m0__web_route_count = sizeof m0__web_routes / sizeof m0__web_routes[0];
