/* test_web_auth.c: the web server's gate (src/board/web_auth.c) over its route table
 * (web_routes.c), and its request reader (web_req.c), without sockets.
 *
 * The gate's order matters as much as its rules: a malformed or foreign Host is refused
 * before the credentials are looked at (a rebound page never gets a password prompt),
 * the credentials before the routes (nothing about the API leaks without them), the
 * method before the Origin. The request reader must decide the same whatever way the
 * bytes were split into reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/board/web_auth.h"
#include "../../src/board/web_req.h"
#include "../../src/board/web_routes.h"

#define ADMIN "Basic YWRtaW46YWRtaW4=" /* admin:admin */

static const char *const names[] = {"m0.example", "bench-7"};
/* The server's own route table (web_routes.c); main() fills it in. */
static struct m0__web_policy policy = {
    .user = "admin", .pass = "admin", .hosts = names, .nhosts = 2};

/* The table points at the server's handlers (libuv code, not linked here): stand-ins with
 * their names, so a decision's route is identified by its handler. The gate never calls
 * them. */
#define STAND_IN(name)                                                                     \
  bool name(struct m0__web_conn *c, const struct m0__web_decision *dd) {                  \
    (void)c;                                                                               \
    (void)dd;                                                                              \
    fail_msg("%s called", #name);                                                          \
    return false;                                                                          \
  }
STAND_IN(m0__web_api_status)
STAND_IN(m0__web_api_config)
STAND_IN(m0__web_api_set_config)
STAND_IN(m0__web_api_restart)
STAND_IN(m0__web_api_factory_reset)
STAND_IN(m0__web_stream_start)
STAND_IN(m0__web_static_serve)

static struct m0__web_hval hv(const char *s) {
  struct m0__web_hval h = {.seen = s != NULL};
  if (s != NULL) {
    snprintf(h.v, sizeof h.v, "%s", s);
    h.len = strlen(h.v);
    h.over = strlen(s) > M0__WEB_HVAL_MAX;
  }
  return h;
}

/* One request to the gate: method, target, Host, Authorization, Origin, Content-Type
 * (NULL = absent), HTTP/1.1. */
static struct m0__web_decision d;

static int gate(unsigned method, const char *target, const char *host, const char *auth,
                const char *origin, const char *ctype) {
  struct m0__web_hval h[M0__WEB_H_COUNT] = {0};
  h[M0__WEB_H_HOST] = hv(host);
  h[M0__WEB_H_AUTH] = hv(auth);
  h[M0__WEB_H_ORIGIN] = hv(origin);
  h[M0__WEB_H_CTYPE] = hv(ctype);
  struct m0__web_head head = {.method = method, .major = 1, .minor = 1, .target = target, .h = h};
  m0__web_decide(&head, &policy, &d);
  return d.status;
}

static int get(const char *target, const char *host) {
  return gate(M0__WEB_M_GET, target, host, ADMIN, NULL, NULL);
}

/* ---- pieces ---- */

static void test_b64(void **state) {
  unsigned char out[16];
  (void)state;
  assert_int_equal(m0__web_b64decode("YWRtaW46YWRtaW4=", 16, out, sizeof out), 11);
  assert_memory_equal(out, "admin:admin", 11);
  assert_int_equal(m0__web_b64decode("YWRtaW46YWRtaW4", 15, out, sizeof out), 11);
  assert_int_equal(m0__web_b64decode("", 0, out, sizeof out), 0);
  assert_int_equal(m0__web_b64decode("YQ", 2, out, sizeof out), 1);
  assert_int_equal(out[0], 'a');
  assert_int_equal(m0__web_b64decode("Y", 1, out, sizeof out), -1);       /* dangling */
  assert_int_equal(m0__web_b64decode("YW=R", 4, out, sizeof out), -1);    /* = inside */
  assert_int_equal(m0__web_b64decode("YW Rt", 5, out, sizeof out), -1);
  assert_int_equal(m0__web_b64decode("YWRtaW46YWRtaW4=", 16, out, 10), -1); /* too long */
}

static void test_basic(void **state) {
  (void)state;
  struct m0__web_hval a = hv(ADMIN);
  assert_true(m0__web_basic_ok(&a, "admin", "admin"));
  a = hv("basic   YWRtaW46YWRtaW4  ");
  assert_true(m0__web_basic_ok(&a, "admin", "admin"));
  static const char *const bad[] = {
      "Basic YWRtaW46d3Jvbmc=", /* admin:wrong */
      "Basic YWRtaW46YWRtaQ==", /* admin:admi */
      "Basic YWRtaW4=",         /* admin */
      "Basic YWRtaW46YWRtaW4AAA==", /* admin:admin + NUL */
      "Bearer YWRtaW46YWRtaW4=", "Basic", "Basic !!!!", "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    a = hv(bad[i]);
    assert_false(m0__web_basic_ok(&a, "admin", "admin"));
  }
  a = hv(NULL);
  assert_false(m0__web_basic_ok(&a, "admin", "admin"));
  a = hv(ADMIN);
  a.over = true;
  assert_false(m0__web_basic_ok(&a, "admin", "admin"));
  /* The longest WEBU: 15 + ':' + 15 bytes. */
  a = hv("Basic MTIzNDU2Nzg5MDEyMzQ1OmFiY2RlZmdoaWprbG1ubw==");
  assert_true(m0__web_basic_ok(&a, "123456789012345", "abcdefghijklmno"));
  assert_false(m0__web_basic_ok(&a, "123456789012345", "abcdefghijklmn"));
}

static void test_host_parse(void **state) {
  char name[M0__WEB_HVAL_MAX + 1];
  (void)state;
  static const struct {
    const char *s;
    enum m0__web_host_kind kind;
    const char *name;
  } cases[] = {
      {"127.0.0.1", M0__WEB_HOST_IP, ""},
      {"127.0.0.1:8080", M0__WEB_HOST_IP, ""},
      {"10.0.0.255:", M0__WEB_HOST_IP, ""},
      {"[::1]", M0__WEB_HOST_IP, ""},
      {"[::1]:80", M0__WEB_HOST_IP, ""},
      {"[fe80::1:2]", M0__WEB_HOST_IP, ""},
      {"localhost", M0__WEB_HOST_NAME, "localhost"},
      {"LocalHost.:80", M0__WEB_HOST_NAME, "localhost"},
      {"Evil.Example:8080", M0__WEB_HOST_NAME, "evil.example"},
      {"127.1", M0__WEB_HOST_NAME, "127.1"},             /* not a dotted quad: a name */
      {"127.0.0.01", M0__WEB_HOST_NAME, "127.0.0.01"},
      {"1.2.3.4.", M0__WEB_HOST_NAME, "1.2.3.4"},
      {"", M0__WEB_HOST_BAD, ""},
      {".", M0__WEB_HOST_BAD, ""},
      {":80", M0__WEB_HOST_BAD, ""},
      {"a b", M0__WEB_HOST_BAD, ""},
      {"x@y", M0__WEB_HOST_BAD, ""},
      {"a/b", M0__WEB_HOST_BAD, ""},
      {"x:65536", M0__WEB_HOST_BAD, ""},
      {"x:123456", M0__WEB_HOST_BAD, ""},
      {"x:8a", M0__WEB_HOST_BAD, ""},
      {"x:80:80", M0__WEB_HOST_BAD, ""},
      {"[::1", M0__WEB_HOST_BAD, ""},
      {"[]", M0__WEB_HOST_BAD, ""},
      {"[zz]", M0__WEB_HOST_BAD, ""},
      {"[127.0.0.1]", M0__WEB_HOST_BAD, ""},
      {"[::1]x", M0__WEB_HOST_BAD, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    enum m0__web_host_kind k =
        m0__web_host_parse(cases[i].s, strlen(cases[i].s), name, sizeof name);
    if (k != cases[i].kind)
      fail_msg("host_parse(\"%s\") = %d, want %d", cases[i].s, k, cases[i].kind);
    assert_string_equal(name, cases[i].name);
  }
  assert_int_equal(m0__web_host_parse("[::1\0]", 6, name, sizeof name), M0__WEB_HOST_BAD);
}

static void test_host_allowed(void **state) {
  (void)state;
  static const char *const yes[] = {"127.0.0.1", "192.168.1.7:80", "[::1]:8080", "localhost",
                                    "LOCALHOST:1", "m0.example", "M0.Example.:8080",
                                    "bench-7"};
  static const char *const no[] = {"evil.example", "localhost.evil.example",
                                   "127.0.0.1.nip.io", "m0.example.evil", "sub.m0.example",
                                   "bench-77", "127.1", "", "a b"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (!m0__web_host_allowed(yes[i], strlen(yes[i]), &policy))
      fail_msg("%s refused", yes[i]);
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (m0__web_host_allowed(no[i], strlen(no[i]), &policy))
      fail_msg("%s allowed", no[i]);
  static const char *const any[] = {"*"};
  struct m0__web_policy open = {.user = "a", .pass = "b", .hosts = any, .nhosts = 1};
  assert_true(m0__web_host_allowed("evil.example", 12, &open));
  assert_false(m0__web_host_allowed("a b", 3, &open)); /* still a Host */
}

static void test_host_name_valid(void **state) {
  (void)state;
  assert_true(m0__web_host_name_valid("m0.example"));
  assert_true(m0__web_host_name_valid("M0-Bench_2"));
  assert_true(m0__web_host_name_valid("*"));
  assert_true(m0__web_host_name_valid("a"));
  assert_false(m0__web_host_name_valid(""));
  assert_false(m0__web_host_name_valid(".example"));
  assert_false(m0__web_host_name_valid("example."));
  assert_false(m0__web_host_name_valid("m0..example"));
  assert_false(m0__web_host_name_valid("a b"));
  assert_false(m0__web_host_name_valid("host:80"));
  assert_false(m0__web_host_name_valid("*.example"));
  char long_name[300];
  memset(long_name, 'a', sizeof long_name);
  long_name[253] = '\0';
  assert_true(m0__web_host_name_valid(long_name));
  long_name[253] = 'a';
  long_name[254] = '\0';
  assert_false(m0__web_host_name_valid(long_name));
}

static void test_same_origin(void **state) {
  (void)state;
#define SO(o, a) m0__web_same_origin(o, strlen(o), a, strlen(a))
  assert_true(SO("http://127.0.0.1:8080", "127.0.0.1:8080"));
  assert_true(SO("HTTP://LOCALHOST:8080/", "localhost:8080"));
  assert_true(SO("http://127.0.0.1", "127.0.0.1:80"));
  assert_true(SO("http://127.0.0.1:80", "127.0.0.1"));
  assert_true(SO("http://[::1]:8080", "[::1]:8080"));
  assert_true(SO("http://[::1]", "[::1]:80"));
  assert_false(SO("http://127.0.0.1", "127.0.0.1:8080"));
  assert_false(SO("https://127.0.0.1:8080", "127.0.0.1:8080"));
  assert_false(SO("http://evil.example", "127.0.0.1:8080"));
  assert_false(SO("http://127.0.0.1:8080.evil", "127.0.0.1:8080"));
  assert_false(SO("null", "127.0.0.1:8080"));
  assert_false(SO("http://", "127.0.0.1"));
  assert_false(SO("http://u@127.0.0.1:8080", "127.0.0.1:8080"));
#undef SO
}

static void test_safe_path(void **state) {
  (void)state;
  assert_true(m0__web_safe_path("/index.html"));
  assert_true(m0__web_safe_path("/sub/x-y_z.css"));
  assert_false(m0__web_safe_path("index.html"));
  assert_false(m0__web_safe_path("/../etc/passwd"));
  assert_false(m0__web_safe_path("/a/../b"));
  assert_false(m0__web_safe_path("//etc/passwd"));
  assert_false(m0__web_safe_path("/.hidden"));
  assert_false(m0__web_safe_path("/%2e%2e/x"));
  assert_false(m0__web_safe_path("/a b"));
}

/* ---- the gate ---- */

static void test_gate_order(void **state) {
  (void)state;
  /* The target first, then Host (missing, malformed, foreign), then credentials. */
  assert_int_equal(gate(M0__WEB_M_GET, "nopath", "evil.example", NULL, NULL, NULL), 400);
  assert_int_equal(gate(M0__WEB_M_GET, "/api/status", NULL, ADMIN, NULL, NULL), 400);
  assert_string_equal(d.message, "HTTP/1.1 request without a Host header");
  assert_int_equal(gate(M0__WEB_M_GET, "/api/status", "[::1", NULL, NULL, NULL), 400);
  assert_string_equal(d.message, "malformed Host header");
  assert_int_equal(gate(M0__WEB_M_POST, "/api/restart", "Evil.Example:8080", NULL, NULL,
                        NULL),
                   421);
  assert_string_equal(d.host, "evil.example");
  assert_true(d.api);
  assert_int_equal(gate(M0__WEB_M_GET, "/api/nope", "127.0.0.1", NULL, NULL, NULL), 401);
  assert_string_equal(d.extra, "WWW-Authenticate: Basic realm=\"USR-M0\", charset=\"UTF-8\"\r\n");
  assert_int_equal(gate(M0__WEB_M_GET, "/api/nope", "127.0.0.1", ADMIN, NULL, NULL), 404);
  assert_true(d.api);
  assert_int_equal(gate(M0__WEB_M_OTHER, "/api/status", "127.0.0.1", ADMIN, NULL, NULL), 405);
  assert_string_equal(d.extra, "Allow: GET, HEAD\r\n");
  /* 405 before the Origin check: a cross-site GET of /api/restart is only "wrong method". */
  assert_int_equal(
      gate(M0__WEB_M_GET, "/api/restart", "127.0.0.1", ADMIN, "http://evil", NULL), 405);
  assert_string_equal(d.extra, "Allow: POST\r\n");
  assert_int_equal(
      gate(M0__WEB_M_POST, "/api/restart", "127.0.0.1", ADMIN, "http://evil", NULL), 403);
  assert_int_equal(gate(M0__WEB_M_POST, "/api/config", "127.0.0.1:8080", ADMIN,
                        "http://127.0.0.1:8080", "text/plain"),
                   415);
  assert_int_equal(gate(M0__WEB_M_POST, "/api/config", "127.0.0.1:8080", ADMIN,
                        "http://127.0.0.1:8080", "Application/JSON; charset=utf-8"),
                   0);
  assert_ptr_equal(d.route->handler, m0__web_api_set_config);
  /* A GET with a foreign Origin is a read from our own Host: allowed. */
  assert_int_equal(gate(M0__WEB_M_GET, "/api/config", "localhost", ADMIN, "http://evil", NULL),
                   0);
  assert_ptr_equal(d.route->handler, m0__web_api_config);
  for (int s = 0; s < 600; s++)
    assert_int_equal(m0__web_status_closes(s), s == 400 || s == 408 || s == 413 || s == 431);
}

static void test_gate_routes(void **state) {
  (void)state;
  static const struct {
    unsigned method;
    const char *target;
    m0__web_handler_fn handler;
    const char *path;
  } ok[] = {
      {M0__WEB_M_GET, "/", m0__web_static_serve, "/index.html"},
      {M0__WEB_M_HEAD, "/app.js?v=1#top", m0__web_static_serve, "/app.js"},
      {M0__WEB_M_GET, "/api/status?x", m0__web_api_status, "/api/status"},
      {M0__WEB_M_HEAD, "/api/config", m0__web_api_config, "/api/config"},
      {M0__WEB_M_POST, "/api/restart", m0__web_api_restart, "/api/restart"},
      {M0__WEB_M_POST, "/api/factory-reset", m0__web_api_factory_reset, "/api/factory-reset"},
      {M0__WEB_M_GET, "/api/events", m0__web_stream_start, "/api/events"},
      {M0__WEB_M_HEAD, "/api/events", m0__web_stream_start, "/api/events"},
      {M0__WEB_M_GET, "http://127.0.0.1:8080/api/status", m0__web_api_status, "/api/status"},
      {M0__WEB_M_GET, "http://127.0.0.1:8080", m0__web_static_serve, "/index.html"},
      {M0__WEB_M_GET, "HTTP://localhost?x/y", m0__web_static_serve, "/index.html"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    if (gate(ok[i].method, ok[i].target, "127.0.0.1", ADMIN, NULL, NULL) != 0)
      fail_msg("%s: %d %s", ok[i].target, d.status, d.message);
    assert_ptr_equal(d.route->handler, ok[i].handler);
    assert_string_equal(d.path, ok[i].path);
    assert_int_equal(d.head, ok[i].method == M0__WEB_M_HEAD);
  }
  assert_int_equal(get("/../etc/passwd", "127.0.0.1"), 404);
  assert_false(d.api);
  assert_int_equal(get("/api", "127.0.0.1"), 0); /* a page name: no such file, 404 later */
  assert_ptr_equal(d.route->handler, m0__web_static_serve);
  assert_false(d.api);
  assert_int_equal(gate(M0__WEB_M_POST, "/", "127.0.0.1", ADMIN, NULL, NULL), 405);
  assert_string_equal(d.extra, "Allow: GET, HEAD\r\n");
  assert_int_equal(gate(M0__WEB_M_OTHER, "/api/config", "127.0.0.1", ADMIN, NULL, NULL), 405);
  assert_string_equal(d.extra, "Allow: GET, HEAD, POST\r\n");
}

static void test_gate_absolute_form(void **state) {
  (void)state;
  /* The target's host stands for the Host header (RFC 9112 §3.2.2). */
  assert_int_equal(get("http://evil.example/api/status", "127.0.0.1"), 421);
  assert_string_equal(d.host, "evil.example");
  assert_int_equal(get("http://127.0.0.1:8080/api/status", "evil.example"), 0);
  assert_int_equal(get("http:///api/status", "127.0.0.1"), 400);
  assert_int_equal(get("http://a b/", "127.0.0.1"), 400);
  /* ... and is what the Origin is compared with. */
  assert_int_equal(gate(M0__WEB_M_POST, "http://m0.example:8080/api/restart", "127.0.0.1",
                        ADMIN, "http://m0.example:8080", NULL),
                   0);
  assert_int_equal(gate(M0__WEB_M_POST, "http://m0.example:8080/api/restart", "127.0.0.1",
                        ADMIN, "http://127.0.0.1", NULL),
                   403);
  /* Still a malformed Host header is 400 even when the target names the host. */
  assert_int_equal(get("http://127.0.0.1/api/status", "x@y"), 400);
}

static void test_gate_http10(void **state) {
  (void)state;
  struct m0__web_hval h[M0__WEB_H_COUNT] = {0};
  h[M0__WEB_H_AUTH] = hv(ADMIN);
  struct m0__web_head head = {.method = M0__WEB_M_GET, .major = 1, .minor = 0,
                              .target = "/api/status", .h = h};
  m0__web_decide(&head, &policy, &d);
  assert_int_equal(d.status, 0); /* HTTP/1.0 needs no Host; no browser omits it */
  /* A POST with an Origin but no Host to compare it with is cross-site. */
  h[M0__WEB_H_ORIGIN] = hv("http://127.0.0.1");
  head.method = M0__WEB_M_POST;
  head.target = "/api/restart";
  m0__web_decide(&head, &policy, &d);
  assert_int_equal(d.status, 403);
}

/* The server's table: one entry answers each path and method, every path is matched
 * once, and exactly one entry (the page's) takes the other paths outside /api/. */
static void test_route_table(void **state) {
  (void)state;
  size_t pages = 0;
  for (size_t i = 0; i < m0__web_route_count; i++) {
    const struct m0__web_route *r = &m0__web_routes[i];
    assert_non_null(r->handler);
    assert_true(r->auth); /* like the module's pages: nothing without WEBU */
    assert_int_not_equal(r->methods, 0);
    if (r->path == NULL) {
      pages++;
      continue;
    }
    assert_int_equal(strncmp(r->path, "/api/", 5), 0);
    for (size_t k = 0; k < i; k++)
      if (m0__web_routes[k].path != NULL && strcmp(m0__web_routes[k].path, r->path) == 0)
        assert_int_equal(m0__web_routes[k].methods & r->methods, 0);
    /* The gate finds this very entry for each of its methods. */
    for (unsigned m = M0__WEB_M_GET; m <= M0__WEB_M_POST; m <<= 1) {
      if (!(r->methods & m))
        continue;
      int st = gate(m, r->path, "127.0.0.1", ADMIN, "http://127.0.0.1",
                    r->json_body ? "application/json" : NULL);
      if (st != 0)
        fail_msg("%s: %d %s", r->path, st, d.message);
      assert_ptr_equal(d.route, r);
    }
  }
  assert_int_equal(pages, 1);
}

/* What an entry says is what the gate does: a route without credentials, the Allow of a
 * path with two entries, the JSON body demanded per entry. */
static bool handled(struct m0__web_conn *c, const struct m0__web_decision *dd) {
  (void)c;
  (void)dd;
  return false;
}

static void test_gate_follows_the_table(void **state) {
  (void)state;
  static const struct m0__web_route table[] = {
      {.path = "/api/open", .methods = M0__WEB_M_GET, .handler = handled},
      {.path = "/api/two", .methods = M0__WEB_M_POST, .auth = true, .handler = handled},
      {.path = "/api/two", .methods = M0__WEB_M_HEAD, .auth = true, .json_body = true,
       .handler = handled},
  };
  struct m0__web_policy own = policy;
  own.routes = table;
  own.nroutes = sizeof table / sizeof table[0];
  struct m0__web_hval h[M0__WEB_H_COUNT] = {0};
  h[M0__WEB_H_HOST] = hv("127.0.0.1");
  struct m0__web_head head = {.method = M0__WEB_M_GET, .major = 1, .minor = 1,
                              .target = "/api/open", .h = h};
  m0__web_decide(&head, &own, &d);
  assert_int_equal(d.status, 0); /* no credentials needed */
  assert_ptr_equal(d.route, &table[0]);
  head.target = "/api/other";
  m0__web_decide(&head, &own, &d);
  assert_int_equal(d.status, 401); /* an unknown path still tells nothing without them */
  head.target = "/index.html";
  m0__web_decide(&head, &own, &d);
  assert_int_equal(d.status, 401); /* no page entry: not even a page */
  h[M0__WEB_H_AUTH] = hv(ADMIN);
  m0__web_decide(&head, &own, &d);
  assert_int_equal(d.status, 404);
  head.target = "/api/two";
  m0__web_decide(&head, &own, &d);
  assert_int_equal(d.status, 405);
  assert_string_equal(d.extra, "Allow: HEAD, POST\r\n");
  head.method = M0__WEB_M_HEAD;
  m0__web_decide(&head, &own, &d);
  assert_int_equal(d.status, 415);
  head.method = M0__WEB_M_POST;
  m0__web_decide(&head, &own, &d);
  assert_int_equal(d.status, 0);
  assert_ptr_equal(d.route, &table[1]);
}

/* ---- the request reader ---- */

struct seen {
  int n;
  char url[M0__WEB_HEAD_MAX + 1];
  size_t head_bytes, body_len;
  char host[M0__WEB_HVAL_MAX + 1];
  bool keep_alive, expect;
};

static int on_complete(struct m0__web_req *r) {
  struct seen *s = r->owner;
  s->n++;
  snprintf(s->url, sizeof s->url, "%s", r->url);
  snprintf(s->host, sizeof s->host, "%s", r->h[M0__WEB_H_HOST].v);
  s->head_bytes = r->head_bytes;
  s->body_len = r->body_len;
  s->keep_alive = r->keep_alive;
  s->expect = r->expect_continue;
  return 0;
}

static const struct m0__web_req_hooks hooks = {.on_complete = on_complete};

/* Feed text in pieces of `piece` bytes (0: whole); returns the last error. */
static llhttp_errno_t feed(const char *text, size_t len, size_t piece, struct seen *s,
                           int *status) {
  static struct m0__web_req r;
  memset(s, 0, sizeof *s);
  m0__web_req_init(&r, &hooks, s);
  llhttp_errno_t err = HPE_OK;
  for (size_t off = 0; off < len && err == HPE_OK;) {
    size_t n = piece == 0 || piece > len - off ? len - off : piece;
    size_t used;
    const char *message;
    err = m0__web_req_feed(&r, text + off, n, &used, &message);
    off += n;
  }
  *status = r.error_status;
  m0__web_req_free(&r);
  return err;
}

static void test_req_split_invariant(void **state) {
  (void)state;
  static const char text[] = "POST /api/config?x=1 HTTP/1.1\r\n"
                             "Host: 127.0.0.1:8080\r\n"
                             "X-A-Rather-Long-Header-Name-Over-32: v\r\n"
                             "Authorization: " ADMIN "\r\n"
                             "Expect: 100-continue\r\n"
                             "Content-Length: 5\r\n\r\n"
                             "{\"a\"}";
  struct seen whole, split;
  int st;
  assert_int_equal(feed(text, sizeof text - 1, 0, &whole, &st), HPE_OK);
  assert_int_equal(whole.n, 1);
  assert_string_equal(whole.url, "/api/config?x=1");
  assert_string_equal(whole.host, "127.0.0.1:8080");
  assert_int_equal(whole.body_len, 5);
  assert_true(whole.expect);
  assert_true(whole.keep_alive);
  for (size_t piece = 1; piece < 40; piece++) {
    assert_int_equal(feed(text, sizeof text - 1, piece, &split, &st), HPE_OK);
    assert_int_equal(split.n, 1);
    assert_string_equal(split.url, whole.url);
    assert_string_equal(split.host, whole.host);
    /* The head's size does not depend on the reads (it used to count ": " and CRLF once
     * per piece of a header name). */
    assert_int_equal(split.head_bytes, whole.head_bytes);
    assert_int_equal(split.body_len, whole.body_len);
  }
}

static void test_req_limits(void **state) {
  (void)state;
  static char text[20000];
  struct seen s;
  int st;
  /* Exactly 8 KiB of head is accepted; one byte more is 431, in one read or byte by byte. */
  const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX-F: ";
  size_t fixed = 1 + (4 + 4 + 1) + (3 + 4); /* the target, then name + ": " + CRLF + value */
  size_t fill = M0__WEB_HEAD_MAX - fixed;
  int n = snprintf(text, sizeof text, "%s", start);
  memset(text + n, 'a', fill);
  n += (int)fill;
  n += snprintf(text + n, sizeof text - (size_t)n, "\r\n\r\n");
  for (size_t piece = 0; piece < 3; piece++) {
    assert_int_equal(feed(text, (size_t)n, piece, &s, &st), HPE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.head_bytes, M0__WEB_HEAD_MAX);
  }
  n = snprintf(text, sizeof text, "%s", start);
  memset(text + n, 'a', fill + 1);
  n += (int)fill + 1;
  n += snprintf(text + n, sizeof text - (size_t)n, "\r\n\r\n");
  for (size_t piece = 0; piece < 3; piece++) {
    assert_int_not_equal(feed(text, (size_t)n, piece, &s, &st), HPE_OK);
    assert_int_equal(st, 431);
    assert_int_equal(s.n, 0);
  }
  /* 101 header lines. */
  n = snprintf(text, sizeof text, "GET / HTTP/1.1\r\n");
  for (int i = 0; i < 101; i++)
    n += snprintf(text + n, sizeof text - (size_t)n, "H%d: 1\r\n", i);
  n += snprintf(text + n, sizeof text - (size_t)n, "\r\n");
  assert_int_not_equal(feed(text, (size_t)n, 0, &s, &st), HPE_OK);
  assert_int_equal(st, 431);
  /* A body over 16 KiB, announced or chunked. */
  n = snprintf(text, sizeof text, "POST / HTTP/1.1\r\nContent-Length: 16385\r\n\r\n");
  assert_int_not_equal(feed(text, (size_t)n, 0, &s, &st), HPE_OK);
  assert_int_equal(st, 413);
  n = snprintf(text, sizeof text, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "4001\r\n");
  memset(text + n, ' ', 0x4001);
  n += 0x4001;
  assert_int_not_equal(feed(text, (size_t)n, 7, &s, &st), HPE_OK);
  assert_int_equal(st, 413);
  /* A header the gate reads, twice; and llhttp's own refusal. */
  n = snprintf(text, sizeof text, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n");
  assert_int_not_equal(feed(text, (size_t)n, 0, &s, &st), HPE_OK);
  assert_int_equal(st, 400);
  n = snprintf(text, sizeof text, "HELLO\r\n\r\n");
  assert_int_not_equal(feed(text, (size_t)n, 0, &s, &st), HPE_OK);
  assert_int_equal(st, 400);
}

int main(void) {
  policy.routes = m0__web_routes;
  policy.nroutes = m0__web_route_count;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_b64),
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_host_parse),
      cmocka_unit_test(test_host_allowed),
      cmocka_unit_test(test_host_name_valid),
      cmocka_unit_test(test_same_origin),
      cmocka_unit_test(test_safe_path),
      cmocka_unit_test(test_gate_order),
      cmocka_unit_test(test_gate_routes),
      cmocka_unit_test(test_gate_absolute_form),
      cmocka_unit_test(test_gate_http10),
      cmocka_unit_test(test_route_table),
      cmocka_unit_test(test_gate_follows_the_table),
      cmocka_unit_test(test_req_split_invariant),
      cmocka_unit_test(test_req_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
