/* web.h: the module's admin web server (spec §7), board side: libuv + llhttp.
 *
 * One struct m0__web serves one device's page and JSON API on the host port that
 * WEBPORT (or --web-port) maps to. Every connection has its own request reader
 * (web_req.h) and deadlines for its request's head and whole; every request passes the
 * gate (web_auth.h: Host rule, credentials, routes) before it is answered; nothing the
 * server does blocks the loop (files under --web-root are read in the thread pool). The board calls m0__web_listen() after each
 * device boot so the server follows WEBPORT, and forwards every event line and every
 * byte moved on the UART and the network, which the page shows live over
 * Server-Sent Events. Functions return 0 or a negative errno (UV_E* values).
 */
#ifndef M0_BOARD_WEB_H
#define M0_BOARD_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "m0/dev.h"
#include "web_auth.h"

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
  /* Traffic is gathered per direction and link for one loop iteration, then sent as one
   * record: the core writes a reply in pieces, and a flood must not become one record
   * per read. uv_check runs right after the iteration's I/O. */
  uv_check_t flush_check;     /* traffic records: after I/O callbacks */
  uv_prepare_t flush_prepare; /* ... and after timer callbacks, before poll blocks */
  bool flush_check_open;
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

/* Prepare the server (nothing is bound yet). bind_addr is an IPv4 or IPv6 literal;
 * web_root NULL serves the embedded page, a directory serves its files (development).
 * factory may be NULL (the status page then shows no MAC/firmware). */
int m0__web_init(struct m0__web *w, uv_loop_t *loop, struct m0_dev *dev,
                 struct m0__events *events, const char *bind_addr, const char *web_root,
                 const struct m0_factory *factory);

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

/* ---- internal to web*.c ---- */

/* The page, embedded at build time by web/embed.py (web_assets.c). */
struct m0__web_asset {
  const char *path;         /* "/index.html" */
  const char *content_type;
  const unsigned char *data;
  size_t len;
  const char *etag;         /* quoted strong validator: a hash of the content */
};
extern const struct m0__web_asset m0__web_assets[];
extern const size_t m0__web_asset_count;

/* A growable byte string for response bodies. On allocation failure `failed` is set and
 * further appends are ignored, so builders check once at the end. */
struct m0__web_buf {
  char *data;
  size_t len, cap;
  bool failed;
};
void m0__web_buf_add(struct m0__web_buf *b, const void *data, size_t len);
void m0__web_buf_str(struct m0__web_buf *b, const char *s);
void m0__web_buf_printf(struct m0__web_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included; bytes outside printable ASCII as \u00XX (so any
 * byte string round-trips as Latin-1 text). */
void m0__web_buf_json(struct m0__web_buf *b, const char *s, size_t len);
void m0__web_buf_free(struct m0__web_buf *b);

/* web_api.c: the JSON API bodies. */
void m0__web_api_status(struct m0__web *w, struct m0__web_buf *out);
void m0__web_api_config(struct m0__web *w, struct m0__web_buf *out);
/* Where an answer that had to wait goes: the status and the body (the callee owns it). */
typedef void (*m0__web_answer_fn)(void *ctx, int status, struct m0__web_buf *out);
/* Apply a POST /api/config body. Returns the HTTP status: 200 (every field saved),
 * 422 (some fields refused; the others are saved), 400 (the body is not a flat JSON
 * object of strings); out holds the JSON answer either way. Or returns 0 while the
 * flash write is in flight: later(ctx, status, body) gives the answer then, from the
 * device's outcome (out stays empty). */
int m0__web_api_set_config(struct m0__web *w, const char *body, size_t len,
                           struct m0__web_buf *out, m0__web_answer_fn later, void *ctx);
/* True when some parameter that applies at restart differs between saved and running. */
bool m0__web_restart_needed(const struct m0_dev *dev);

#endif
