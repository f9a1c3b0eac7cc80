/* web.h: the module's admin web server (spec §7), board side: libuv + llhttp.
 *
 * One struct m0__web serves one device's page and JSON API on the host port that
 * WEBPORT (or --web-port) maps to. The board calls m0__web_listen() after each device
 * boot so the server follows WEBPORT, and forwards every event line and every byte moved
 * on the UART and the network, which the page shows live over Server-Sent Events.
 * Functions return 0 or a negative errno (UV_E* values).
 *
 * The server's files, one job each: web.c (this interface: listening, the port rule,
 * accepting), web_conn.c (a connection: reading, deadlines, slots, dispatch),
 * web_answer.c (writing answers), web_routes.c (the route table), web_auth.c (the gate),
 * web_req.c (llhttp), web_api.c (the JSON API), web_stream.c (the event stream and its
 * history), web_static.c (the page's files), web_buf.c (bodies out; a form's body is read
 * by the core's JSON reader, m0/json.h). Nothing the server does blocks the loop (files under --web-root are read in the
 * thread pool, flash writes are the core's).
 */
#ifndef M0_BOARD_WEB_H
#define M0_BOARD_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "m0/dev.h"
#include "web_auth.h"
#include "turn.h"

struct m0__events;
struct m0__web_conn;
struct m0__web_listener;
struct m0__web_blob;

/* Limits (docs/web.md; the request's own are in web_auth.h). */
#define M0__WEB_MAX_CONNS 64            /* open connections; then one is evicted, or 503 */
#define M0__WEB_REQUEST_MS 10000        /* waiting for a request to its last byte: else 408
                                         * (or, before its first byte, a silent close) */
#define M0__WEB_HEAD_MS 3000            /* a request's first byte to the end of its head */
#define M0__WEB_SSE_QUEUE_MAX (256 * 1024) /* unsent bytes an event client may owe */
#define M0__WEB_SSE_BEHIND (64 * 1024)  /* ... and may be evicted for a newcomer above */
#define M0__WEB_HISTORY 256             /* stream records replayed to a new client */
#define M0__WEB_TRAFFIC_SHOWN 256       /* bytes of one traffic record sent as hex/text */

struct m0__web {
  uv_loop_t *loop;
  struct m0_dev *dev;
  struct m0__events *events;
  struct m0_factory factory; /* MAC, firmware, production date for the status page */
  char bind_addr[64];
  /* Pointers to the --web-host names below, for the gate's policy. */
  const char *hosts[M0__WEB_HOSTS_MAX];
  size_t nhosts;
  struct m0__web_listener *listener; /* NULL while not listening */
  uint16_t port;             /* host port bound, 0 if none */
  uint16_t requested;        /* the port last asked for */
  struct m0__web_conn *conns; /* every connection, open or closing */
  unsigned nconns;           /* open ones (the 64 cap) */
  /* The stream history: the last M0__WEB_HISTORY records, shared with the writes. */
  struct m0__web_blob *history[M0__WEB_HISTORY];
  uint64_t next_id;          /* id of the next stream record (SSE "id:"), from 1 */
  /* Traffic is gathered per direction and link for one loop turn, then sent as one
   * record: the core writes a reply in pieces, and a flood must not become one record
   * per read. The process's end-of-turn service (turn.h) sends it. */
  struct m0__turn_job flush;
  struct {
    bool active;
    char dir[12];
    unsigned link;
    uint64_t t_ms;          /* of the first bytes */
    size_t len;             /* all bytes, shown or not */
    size_t shown;
    uint8_t data[M0__WEB_TRAFFIC_SHOWN];
  } pending;
  char *read_buf;            /* one for all connections: a read is parsed before the next */
  bool closing;
  /* Last: 8 KiB that m0__web_init does not clear (a fleet's idle module leaves them
   * untouched); meaningful only when given (web_root[0], nhosts). */
  char web_root[4096];       /* "" = the pages embedded at build time */
  char host_names[M0__WEB_HOSTS_MAX][M0__WEB_HOST_NAME_MAX + 1]; /* lower case */
};

/* Prepare the server (nothing is bound yet). turn is the loop's end-of-turn service
 * (NULL: every traffic record is sent at once). bind_addr is an IPv4 or IPv6 literal;
 * web_root NULL serves the embedded page, a directory serves its files (development).
 * factory may be NULL (the status page then shows no MAC/firmware). */
int m0__web_init(struct m0__web *w, uv_loop_t *loop, struct m0__turn *turn,
                 struct m0_dev *dev, struct m0__events *events, const char *bind_addr,
                 const char *web_root, const struct m0_factory *factory);

/* Host names besides IP addresses and localhost that requests may name (--web-host;
 * "*" = any). Each must pass m0__web_host_name_valid(); at most M0__WEB_HOSTS_MAX.
 * Returns 0 or UV_EINVAL. */
int m0__web_allow_hosts(struct m0__web *w, const char *const *names, size_t n);

/* (Re)bind to port: a no-op if already listening there; port 0 stops listening (open
 * connections stay). Privileged-port rule (spec §6.1): a port below 1024 refused for
 * lack of privilege is bound at 8000+port, with event web.port_mapped. A port that cannot
 * be bound gives event web.error and the server keeps running without a listener.
 * Success gives event web.listening. Returns 0 or the bind error. */
int m0__web_listen(struct m0__web *w, uint16_t port);

/* The host port actually bound, 0 if none. */
uint16_t m0__web_port(const struct m0__web *w);

/* One event line of the board's stream ({"t_ms":..,"ev":..}; a trailing newline is
 * ignored), sent to the page's event stream. */
void m0__web_event(struct m0__web *w, const char *json_line);

/* Bytes that moved: dir is "uart_in" (host to device), "uart_out", "net_in" (network to
 * device) or "net_out"; link is the core's link id (0 for the UART). */
void m0__web_traffic(struct m0__web *w, const char *dir, unsigned link, const uint8_t *data,
                     size_t len, uint64_t t_ms);

/* Close every handle (run the loop afterwards to finish) and free the history. */
void m0__web_close(struct m0__web *w);

#endif
