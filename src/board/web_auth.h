/* web_auth.h: who may ask the web server what, as pure functions (no libuv, no llhttp).
 *
 * The gate every request passes before it is answered: the target, the Host rule
 * (against DNS rebinding), Basic credentials, the route and method, the Origin check for
 * state changes and the body's media type. m0__web_decide() turns a parsed request head
 * into one decision, which names the route table's entry that answers, so the rules are
 * unit-tested and fuzzed without sockets and the server only carries the decision out.
 * Limits that belong to the request live here too.
 */
#ifndef M0_BOARD_WEB_AUTH_H
#define M0_BOARD_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Request limits (docs/web.md). */
#define M0__WEB_HEAD_MAX 8192      /* request line + headers; more is 431 */
#define M0__WEB_HEADERS_MAX 100    /* header lines; more is 431 */
#define M0__WEB_BODY_MAX 16384     /* request body; more is 413 */
#define M0__WEB_HVAL_MAX 255       /* a header the server reads; longer is marked over */
#define M0__WEB_HOSTS_MAX 16       /* --web-host names */
#define M0__WEB_HOST_NAME_MAX 253  /* a DNS name */

/* The request headers the server reads; the others are only counted. */
enum m0__web_hdr {
  M0__WEB_H_NONE = -1,
  M0__WEB_H_AUTH,
  M0__WEB_H_ORIGIN,
  M0__WEB_H_HOST,
  M0__WEB_H_INM,
  M0__WEB_H_CTYPE,
  M0__WEB_H_LAST_ID,
  M0__WEB_H_EXPECT,
  M0__WEB_H_COUNT
};
extern const char *const m0__web_hdr_names[M0__WEB_H_COUNT]; /* lower case */

struct m0__web_hval {
  char v[M0__WEB_HVAL_MAX + 1];
  size_t len;
  bool seen;  /* the header was present */
  bool over;  /* ... and longer than M0__WEB_HVAL_MAX: v holds nothing usable */
};

enum { M0__WEB_M_OTHER = 0, M0__WEB_M_GET = 1, M0__WEB_M_HEAD = 2, M0__WEB_M_POST = 4 };

/* A parsed request head, as the gate sees it. */
struct m0__web_head {
  unsigned method;            /* M0__WEB_M_* */
  unsigned major, minor;      /* HTTP version */
  const char *target;         /* the request target as sent, NUL-terminated */
  const struct m0__web_hval *h; /* M0__WEB_H_COUNT values */
};

struct m0__web_conn;
struct m0__web_decision;

/* A route's handler: answers a request the gate let through (web_routes.h lists them).
 * Returns true when the answer is not written yet (a file read on the thread pool, a
 * flash write) or the connection became an event stream: its parser then pauses. */
typedef bool (*m0__web_handler_fn)(struct m0__web_conn *c, const struct m0__web_decision *d);

/* One entry of the route table (web_routes.c): a path and the methods it answers, what
 * the gate demands of it, and who answers. A path may have several entries, one per set
 * of methods; a 405's Allow names every method of the path. */
struct m0__web_route {
  const char *path;          /* exact, without the query; NULL: any other path outside
                              * /api/ (a page file), "/" standing for "/index.html" */
  unsigned methods;          /* M0__WEB_M_* */
  bool auth;                 /* the WEBU credentials are needed (else 401) */
  bool json_body;            /* the body must be application/json (else 415) */
  m0__web_handler_fn handler;
};

/* What the server was told to accept. */
struct m0__web_policy {
  const char *user, *pass;    /* the running WEBU */
  /* --web-host names, lower case; "*" allows any Host (the check is off). */
  const char *const *hosts;
  size_t nhosts;
  const struct m0__web_route *routes; /* the route table */
  size_t nroutes;
};

struct m0__web_decision {
  int status;            /* 0: route answers; else the refusal's status */
  const struct m0__web_route *route; /* the entry that answers (NULL when refused) */
  bool api;              /* the target is under /api/: refusals are JSON */
  bool head;             /* HEAD: headers only */
  const char *message;   /* the refusal's text (static) */
  char extra[96];        /* header lines for the refusal (Allow, WWW-Authenticate) */
  char host[M0__WEB_HVAL_MAX + 1]; /* 421: the host name refused, lower case */
  char path[M0__WEB_HEAD_MAX + 1]; /* the path without query; "/" is "/index.html" */
};

/* The gate, in this order: a target that is not a path (400), HTTP/1.1 without Host or
 * a malformed Host (400), a Host that names neither an IP address, localhost nor a
 * --web-host name (421), credentials (401), no such API (404), method (405, with
 * Allow), a POST whose Origin is another site (403), a body that must be JSON and is
 * not (415), a page path the server would never open (404). The path is looked up once
 * in policy->routes, and the entry found is what answers. The Host of an absolute-form
 * target ("GET http://host/path") replaces the Host header (RFC 9112 §3.2.2). Refusal
 * statuses are only these. */
void m0__web_decide(const struct m0__web_head *req, const struct m0__web_policy *policy,
                    struct m0__web_decision *d);

/* True when a refusal with this status leaves the connection unusable: it is closed
 * after the answer (the stream after a 400, 408, 413 or 431 cannot be trusted). */
bool m0__web_status_closes(int status);

/* ---- the pieces, for the tests ---- */

/* Strict base64 (padding optional, nothing else skipped): decoded length or -1 when
 * malformed or longer than cap. */
int m0__web_b64decode(const char *s, size_t len, unsigned char *out, size_t cap);

/* An Authorization value ("Basic <base64 of user:pass>", scheme case-insensitive,
 * spaces around the token) equal to user:pass, compared in constant time over
 * M0__WEB_AUTH_CMP bytes. */
#define M0__WEB_AUTH_CMP 64 /* user:pass is at most 31 bytes (WEBU) */
bool m0__web_basic_ok(const struct m0__web_hval *auth, const char *user, const char *pass);

enum m0__web_host_kind {
  M0__WEB_HOST_BAD,      /* not a valid host[:port]: 400 */
  M0__WEB_HOST_IP,       /* an IPv4 literal or a bracketed IPv6 literal */
  M0__WEB_HOST_NAME,     /* a registered name: name_out holds it in lower case */
};
/* Classify a Host value (RFC 9110 §7.2: uri-host [":" port]); name_out gets the host
 * without the port, lower case, without one trailing dot (cap >= M0__WEB_HVAL_MAX + 1). */
enum m0__web_host_kind m0__web_host_parse(const char *s, size_t len, char *name_out,
                                          size_t cap);
/* The Host rule: a valid host that is an IP literal, "localhost" or a policy name. */
bool m0__web_host_allowed(const char *s, size_t len, const struct m0__web_policy *policy);

/* A browser's Origin names this server: "http://" + the same host and port as the
 * request's authority (case-insensitive, the default port 80 made explicit). */
bool m0__web_same_origin(const char *origin, size_t olen, const char *authority,
                         size_t alen);

/* A --web-host value: a DNS-style name (letters, digits, '-', '_', '.'; 1-253 bytes) or
 * "*". Returns false with nothing else to say: the CLI names the option and the value. */
bool m0__web_host_name_valid(const char *name);

/* Paths the page uses: letters, digits, '-', '_', '.', '/' and no dot segments or empty
 * segments; under --web-root nothing else is ever opened. */
bool m0__web_safe_path(const char *p);

#endif
