/* fuzz_web.c: any bytes as what one client sends to the web server.
 *
 * The bytes go through the server's own request reader (web_req.c: llhttp with the
 * callbacks and limits web_conn.c uses) and every complete request through the gate
 * (web_auth.c: Host rule, credentials, the route table of web_routes.c, Origin, media
 * type); POST /api/config bodies through the JSON reader (json_reader.c). No sockets: the
 * hooks stand where web_conn.c answers. After every input it checks, not only that
 * nothing crashed:
 *  - the stream gives the same decisions (status, route, head and body sizes, JSON
 *    result) whole, split at one point and cut into small pieces: a client's way of
 *    writing must not change what the server decides;
 *  - the head never passes 8 KiB nor 100 lines and the body never 16 KiB once accepted;
 *    a refusal is one of the statuses the server documents;
 *  - a request is served only with the credentials admin:admin (checked by a separate
 *    base64 decoder here), a Host that is an IP literal, localhost or a --web-host name,
 *    and for a POST with Origin, that Origin naming the same host; a 421 only for a name
 *    that is none of those;
 *  - an answered request has the table's entry for its path and method, a refused one
 *    none;
 *  - the JSON reader's accepted objects read back the same after re-encoding, and its
 *    refusals say where ("at byte N" with N within the body).
 * The input is also given to the JSON reader and the Host/Origin/credential functions
 * directly, so they are reached without a valid request around them.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web_auth.h"
#include "json_reader.h"
#include "web_req.h"
#include "web_routes.h"

#define MAX_RECS 64

static const char *const names[] = {"m0.example", "bench-7"};
/* The server's own route table (web_routes.c); filled in at the first input. */
static struct m0__web_policy policy = {
    .user = "admin", .pass = "admin", .hosts = names, .nhosts = 2};

/* The table points at the server's handlers (libuv code, not linked here): stand-ins
 * with their names, so a route is known by its handler. The gate never calls them. */
#define STAND_IN(name)                                                                     \
  bool name(struct m0__web_conn *c, const struct m0__web_decision *dd) {                  \
    (void)c;                                                                               \
    (void)dd;                                                                              \
    abort();                                                                               \
  }
STAND_IN(m0__web_api_status)
STAND_IN(m0__web_api_config)
STAND_IN(m0__web_api_set_config)
STAND_IN(m0__web_api_restart)
STAND_IN(m0__web_api_factory_reset)
STAND_IN(m0__web_stream_start)
STAND_IN(m0__web_static_serve)

struct rec {
  int status;
  int route;           /* index in the table, -1 when refused */
  size_t head_bytes, body_len;
  bool keep_alive;
  int json;            /* -1 not read, 0 refused, 1 accepted */
  unsigned npairs;
  uint64_t json_hash;
};

struct run {
  struct rec recs[MAX_RECS];
  size_t n;
  bool stopped;        /* a hook ended the connection, as web_conn.c would */
  int end;             /* 0, or the refusal of a malformed stream, or -1 upgrade */
};

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ s[i]) * 1099511628211ull;
  return h;
}

/* ---- independent oracles ---- */

/* Base64 by lookup string, padding optional: what the client meant. */
static int ref_b64(const char *s, size_t len, char *out, size_t cap) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  while (len > 0 && s[len - 1] == '=')
    len--;
  size_t n = 0, bits = 0;
  unsigned acc = 0;
  for (size_t i = 0; i < len; i++) {
    const char *p = s[i] ? strchr(alphabet, s[i]) : NULL;
    if (p == NULL)
      return -1;
    acc = (acc << 6 | (unsigned)(p - alphabet)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == cap)
        return -1;
      out[n++] = (char)(acc >> bits);
    }
  }
  if (bits >= 6) /* one dangling character */
    return -1;
  return (int)n;
}

static bool ref_auth_ok(const struct m0__web_hval *a) {
  if (!a->seen || a->over || a->len < 6 || strncasecmp(a->v, "basic ", 6) != 0)
    return false;
  const char *s = a->v + 6;
  size_t len = a->len - 6;
  while (len && *s == ' ')
    s++, len--;
  while (len && s[len - 1] == ' ')
    len--;
  char out[80];
  int n = ref_b64(s, len, out, sizeof out);
  return n == 11 && memcmp(out, "admin:admin", 11) == 0;
}

/* The host of a Host value, lower case, without port or one trailing dot; *ip when it
 * is an address literal. Returns false when no such split exists. */
static bool ref_host(const char *v, size_t len, char *out, size_t cap, bool *ip) {
  *ip = false;
  if (len == 0 || len >= cap)
    return false;
  if (v[0] == '[') {
    const char *close = memchr(v, ']', len);
    if (close == NULL)
      return false;
    size_t n = (size_t)(close - v - 1);
    memcpy(out, v + 1, n);
    out[n] = '\0';
    unsigned char a[16];
    *ip = inet_pton(AF_INET6, out, a) == 1;
    return true;
  }
  size_t n = 0;
  while (n < len && v[n] != ':') {
    out[n] = (char)(v[n] >= 'A' && v[n] <= 'Z' ? v[n] + 32 : v[n]);
    n++;
  }
  out[n] = '\0';
  unsigned char a[4];
  *ip = inet_pton(AF_INET, out, a) == 1;
  if (n > 0 && out[n - 1] == '.')
    out[n - 1] = '\0';
  return true;
}

static bool ref_name_allowed(const char *name) {
  return strcmp(name, "localhost") == 0 || strcmp(name, names[0]) == 0 ||
         strcmp(name, names[1]) == 0;
}

/* ---- the JSON reader ---- */

static void json_put(char *buf, size_t *n, const char *s) {
  buf[(*n)++] = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[(*n)++] = '\\';
      buf[(*n)++] = (char)c;
    } else if (c < 0x20) {
      *n += (size_t)sprintf(buf + *n, "\\u%04x", c);
    } else {
      buf[(*n)++] = (char)c;
    }
  }
  buf[(*n)++] = '"';
}

static struct m0__json_pair pairs[M0__JSON_PAIRS_MAX], again[M0__JSON_PAIRS_MAX];

/* Read body; check what the reader promises; 1 accepted, 0 refused. */
static int check_json(const char *body, size_t len, unsigned *np, uint64_t *hash) {
  char err[256];
  unsigned n = 0;
  *hash = 1469598103934665603ull;
  if (!m0__json_read_object(body, len, pairs, &n, err, sizeof err)) {
    size_t at;
    if (sscanf(err, "at byte %zu: ", &at) != 1 || at > len)
      abort();
    *hash = fnv(*hash, err, strlen(err));
    *np = 0;
    return 0;
  }
  if (n > M0__JSON_PAIRS_MAX)
    abort();
  /* Re-encode what was read whole (neither cut nor holding a NUL) and read it again. */
  static char buf[M0__JSON_PAIRS_MAX * (M0__JSON_KEY_MAX + M0_VALUE_MAX) * 6 + 16];
  size_t bn = 0;
  unsigned kept = 0;
  buf[bn++] = '{';
  for (unsigned i = 0; i < n; i++) {
    if (strnlen(pairs[i].key, sizeof pairs[i].key) == sizeof pairs[i].key ||
        strnlen(pairs[i].value, sizeof pairs[i].value) == sizeof pairs[i].value)
      abort();
    for (unsigned j = 0; j < i; j++)
      if (!pairs[i].key_long && !pairs[j].key_long && strcmp(pairs[i].key, pairs[j].key) == 0)
        abort(); /* duplicates are refused */
    *hash = fnv(*hash, pairs[i].key, strlen(pairs[i].key) + 1);
    *hash = fnv(*hash, pairs[i].value, strlen(pairs[i].value) + 1);
    *hash = fnv(*hash, &pairs[i].key_long, 1);
    *hash = fnv(*hash, &pairs[i].value_bad, 1);
    if (pairs[i].key_long || pairs[i].value_bad)
      continue;
    if (kept++)
      buf[bn++] = ',';
    json_put(buf, &bn, pairs[i].key);
    buf[bn++] = ':';
    json_put(buf, &bn, pairs[i].value);
  }
  buf[bn++] = '}';
  unsigned m = 0;
  if (!m0__json_read_object(buf, bn, again, &m, err, sizeof err) || m != kept)
    abort();
  for (unsigned i = 0, k = 0; i < n; i++) {
    if (pairs[i].key_long || pairs[i].value_bad)
      continue;
    if (strcmp(pairs[i].key, again[k].key) != 0 || strcmp(pairs[i].value, again[k].value) ||
        again[k].key_long || again[k].value_bad)
      abort();
    k++;
  }
  *np = n;
  return 1;
}

/* ---- the request reader's hooks: the gate, as web_conn.c's on_req_complete runs it ---- */

static void on_head(struct m0__web_req *r) {
  if (r->head_bytes > M0__WEB_HEAD_MAX || r->nheaders > M0__WEB_HEADERS_MAX ||
      r->url_len > M0__WEB_HEAD_MAX || strlen(r->url) != r->url_len)
    abort();
  for (int i = 0; i < M0__WEB_H_COUNT; i++)
    if (r->h[i].len > M0__WEB_HVAL_MAX || (!r->h[i].over && strlen(r->h[i].v) != r->h[i].len))
      abort();
}

static int on_complete(struct m0__web_req *r) {
  struct run *run = r->owner;
  on_head(r);
  if (r->body_len > M0__WEB_BODY_MAX)
    abort();
  struct m0__web_head head;
  m0__web_req_head(r, &head);
  static struct m0__web_decision d;
  m0__web_decide(&head, &policy, &d);

  static const int allowed[] = {0, 400, 401, 403, 404, 405, 415, 421};
  bool known = false;
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
    known |= d.status == allowed[i];
  if (!known || (d.status != 0 && d.message[0] == '\0'))
    abort();

  const struct m0__web_hval *host = &r->h[M0__WEB_H_HOST], *origin = &r->h[M0__WEB_H_ORIGIN];
  bool absolute = strncasecmp(r->url, "http://", 7) == 0;
  char name[M0__WEB_HVAL_MAX + 1];
  bool ip;
  if (d.status == 0 || d.status == 401) {
    /* Past the Host rule: the Host (for an origin-form target) names us. */
    if (head.major == 1 && head.minor >= 1 && !host->seen)
      abort();
    if (!absolute && host->seen &&
        (!ref_host(host->v, host->len, name, sizeof name, &ip) ||
         (!ip && !ref_name_allowed(name))))
      abort();
  }
  if (d.status == 421 && (strcmp(d.host, "localhost") == 0 || ref_name_allowed(d.host)))
    abort();
  if (d.status == 421 && !absolute &&
      (!ref_host(host->v, host->len, name, sizeof name, &ip) || ip || strcmp(name, d.host)))
    abort();
  if (d.status == 0 && !ref_auth_ok(&r->h[M0__WEB_H_AUTH]))
    abort();
  if (d.status == 401 && ref_auth_ok(&r->h[M0__WEB_H_AUTH]))
    abort();
  if (d.status == 0 && head.method == M0__WEB_M_POST && origin->seen && !absolute) {
    /* The Origin is http:// + the Host, give or take case, ":80" and a final '/'. */
    char a[M0__WEB_HVAL_MAX + 8], b[M0__WEB_HVAL_MAX + 8];
    snprintf(a, sizeof a, "%s", origin->v);
    snprintf(b, sizeof b, "http://%s", host->v);
    for (char *p = a; *p; p++)
      *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    for (char *p = b; *p; p++)
      *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    size_t al = strlen(a);
    if (al > 0 && a[al - 1] == '/')
      a[--al] = '\0';
    if (strcmp(a, b) != 0 && !(strncmp(a, b, strlen(b)) == 0 && strcmp(a + strlen(b), ":80") == 0) &&
        !(strncmp(a, b, al) == 0 && strcmp(b + al, ":80") == 0))
      abort();
  }
  /* An answered request has the entry of its path and method; a refused one none. */
  if ((d.status == 0) != (d.route != NULL))
    abort();
  if (d.route != NULL && ((d.route->methods & head.method) == 0 ||
                          (d.route->path != NULL && strcmp(d.route->path, d.path) != 0)))
    abort();
  if (d.status == 0 && d.route->path == NULL && (!m0__web_safe_path(d.path) || d.api))
    abort();
  if (d.status == 0 && d.route->handler == m0__web_api_set_config &&
      (head.method != M0__WEB_M_POST || strcmp(d.path, "/api/config") != 0))
    abort();

  struct rec *rec = run->n < MAX_RECS ? &run->recs[run->n] : NULL;
  run->n++;
  if (rec != NULL) {
    int route = d.route != NULL ? (int)(d.route - policy.routes) : -1;
    *rec = (struct rec){.status = d.status, .route = route, .head_bytes = r->head_bytes,
                        .body_len = r->body_len, .keep_alive = r->keep_alive, .json = -1};
    if (d.status == 0 && d.route->json_body)
      rec->json = check_json(r->body ? r->body : "", r->body_len, &rec->npairs,
                             &rec->json_hash);
  }
  /* Where web_conn.c stops reading: a refusal that closes, the last request of a
   * connection, an event stream. */
  if (m0__web_status_closes(d.status) || !r->keep_alive ||
      (d.status == 0 && d.route->handler == m0__web_stream_start && !d.head)) {
    run->stopped = true;
    return HPE_PAUSED;
  }
  return 0;
}

static const struct m0__web_req_hooks hooks = {.on_head = on_head, .on_complete = on_complete};

static struct m0__web_req req;

/* Feed data in pieces whose sizes come from cut (0: whole). */
static void drive(const uint8_t *data, size_t size, struct run *run, size_t at,
                  uint32_t seed) {
  memset(run, 0, sizeof *run);
  m0__web_req_init(&req, &hooks, run);
  size_t off = 0;
  while (off < size && !run->stopped) {
    size_t n = size - off;
    if (at != 0) { /* one cut */
      n = off < at ? at - off : size - off;
    } else if (seed != 0) { /* small pieces */
      seed = seed * 1103515245u + 12345u;
      n = 1 + (seed >> 16) % 16;
      if (n > size - off)
        n = size - off;
    }
    size_t used;
    const char *message;
    llhttp_errno_t err = m0__web_req_feed(&req, (const char *)data + off, n, &used, &message);
    if (used > n)
      abort();
    if (err == HPE_PAUSED_UPGRADE) {
      run->end = -1;
      break;
    }
    if (err == HPE_PAUSED) {
      if (!run->stopped)
        abort(); /* only a hook pauses */
      break;
    }
    if (err != HPE_OK) {
      run->end = req.error_status;
      if (run->end != 400 && run->end != 413 && run->end != 431 && run->end != 500)
        abort();
      if (message == NULL || message[0] == '\0')
        abort();
      break;
    }
    off += n;
  }
  m0__web_req_free(&req);
}

static bool same(const struct run *a, const struct run *b) {
  if (a->n != b->n || a->end != b->end || a->stopped != b->stopped)
    return false;
  for (size_t i = 0; i < a->n && i < MAX_RECS; i++) {
    const struct rec *x = &a->recs[i], *y = &b->recs[i];
    if (x->status != y->status || x->route != y->route || x->head_bytes != y->head_bytes ||
        x->body_len != y->body_len || x->keep_alive != y->keep_alive || x->json != y->json ||
        x->npairs != y->npairs || x->json_hash != y->json_hash)
      return false;
  }
  return true;
}

static struct run whole, split;

static void check_pieces(const uint8_t *data, size_t size) {
  /* The JSON reader on its own. */
  unsigned np;
  uint64_t hash;
  check_json((const char *)data, size, &np, &hash);
  /* Host, Origin and credentials on the first two lines. */
  const uint8_t *nl = memchr(data, '\n', size);
  size_t a = nl ? (size_t)(nl - data) : size;
  char name[M0__WEB_HVAL_MAX + 1];
  enum m0__web_host_kind kind = m0__web_host_parse((const char *)data, a, name, sizeof name);
  if (kind == M0__WEB_HOST_NAME && (name[0] == '\0' || strlen(name) > M0__WEB_HVAL_MAX))
    abort();
  if (kind == M0__WEB_HOST_IP && !m0__web_host_allowed((const char *)data, a, &policy))
    abort();
  if (nl != NULL) {
    const char *b = (const char *)nl + 1;
    size_t blen = size - a - 1;
    bool so = m0__web_same_origin((const char *)data, a, b, blen);
    if (so && (a < 7 || strncasecmp((const char *)data, "http://", 7) != 0))
      abort();
  }
  struct m0__web_hval h = {.seen = true};
  if (size <= M0__WEB_HVAL_MAX) {
    memcpy(h.v, data, size);
    h.v[size] = '\0';
    h.len = size;
    if (memchr(data, '\0', size) == NULL &&
        m0__web_basic_ok(&h, policy.user, policy.pass) != ref_auth_ok(&h))
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  policy.routes = m0__web_routes;
  policy.nroutes = m0__web_route_count;
  check_pieces(data, size);
  drive(data, size, &whole, 0, 0);
  uint64_t h = fnv(1469598103934665603ull, data, size);
  if (size > 1) {
    drive(data, size, &split, 1 + h % (size - 1), 0);
    if (!same(&whole, &split))
      abort();
  }
  drive(data, size, &split, 0, (uint32_t)(h >> 32) | 1);
  if (!same(&whole, &split))
    abort();
  return 0;
}
