/* test_htpc.c: HTTP client mode (spec §6.5): request bytes and response delivery.
 *
 * Requests are compared byte for byte and also parsed back with llhttp as a server would
 * (target, headers end, body). Responses are fed whole, at every single cut, at every
 * pair of cuts and byte by byte; the bytes delivered to the UART, the result and where
 * the response ended must not depend on the split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/core/htpc.h"
#include "m0/params.h"

/* ---- requests ---- */

static struct m0_config config(void) {
  struct m0_config cfg;
  m0_config_defaults(&cfg);
  cfg.proto = M0_PROTO_HTPC;
  return cfg;
}

static void set(struct m0_config *cfg, const char *name, const char *value) {
  const struct m0_param *p = m0_param_find(name, strlen(name));
  assert_non_null(p);
  assert_int_equal(m0_param_set(p, cfg, value, strlen(value)), 0);
}

static uint8_t req[M0__HTPC_REQUEST_MAX];

static int build(const struct m0_config *cfg, const void *frame, size_t len) {
  return m0__htpc_request(cfg, frame, len, req, sizeof req);
}

static size_t expect_request(const struct m0_config *cfg, const char *frame,
                             const char *want) {
  int n = build(cfg, frame, strlen(frame));
  assert_int_equal(n, (int)strlen(want));
  assert_memory_equal(req, want, (size_t)n);
  return (size_t)n;
}

/* What a server's parser sees in a request. */
struct seen {
  char url[2048];
  size_t url_len;
  uint8_t body[512];
  size_t body_len;
  int headers, complete;
};

static int req_url(llhttp_t *p, const char *at, size_t len) {
  struct seen *s = p->data;
  memcpy(s->url + s->url_len, at, len);
  s->url_len += len;
  return 0;
}

static int req_body(llhttp_t *p, const char *at, size_t len) {
  struct seen *s = p->data;
  memcpy(s->body + s->body_len, at, len);
  s->body_len += len;
  return 0;
}

static int req_field(llhttp_t *p, const char *at, size_t len) {
  (void)at;
  (void)len;
  ((struct seen *)p->data)->headers++;
  return 0;
}

static int req_complete(llhttp_t *p) {
  ((struct seen *)p->data)->complete++;
  return HPE_PAUSED;
}

/* Parse req[0..n) as one request; it must end exactly at n. */
static void parse_request(size_t n, struct seen *s) {
  llhttp_settings_t st;
  llhttp_t p;
  memset(s, 0, sizeof *s);
  llhttp_settings_init(&st);
  st.on_url = req_url;
  st.on_body = req_body;
  st.on_header_field = req_field;
  st.on_message_complete = req_complete;
  llhttp_init(&p, HTTP_REQUEST, &st);
  p.data = s;
  assert_int_equal(llhttp_execute(&p, (const char *)req, n), HPE_PAUSED);
  assert_ptr_equal(llhttp_get_error_pos(&p), (const char *)req + n);
  assert_int_equal(s->complete, 1);
}

static void test_get_default(void **state) {
  struct m0_config cfg = config();
  struct seen s;
  (void)state;
  size_t n = expect_request(&cfg, "abc",
                            "GET /2.php?abc HTTP/1.1\r\n"
                            "Host: 192.168.0.201:8234\r\n"
                            "User_Agent: Mozilla/4.0\r\n"
                            "Connection: close\r\n"
                            "\r\n");
  parse_request(n, &s);
  assert_int_equal(s.url_len, 10);
  assert_memory_equal(s.url, "/2.php?abc", 10);
  assert_int_equal(s.headers, 3);
  assert_int_equal(s.body_len, 0);
}

static void test_host_header(void **state) {
  struct m0_config cfg = config();
  (void)state;
  set(&cfg, "SOCK", "HTPC,example.com,80");
  set(&cfg, "HTPHEAD", "");
  expect_request(&cfg, "x", "GET /2.php?x HTTP/1.1\r\nHost: example.com\r\n\r\n");
  set(&cfg, "SOCK", "HTPC,10.0.0.1,8080");
  expect_request(&cfg, "x", "GET /2.php?x HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n\r\n");
  set(&cfg, "SOCK", "HTPC,10.0.0.1,1");
  expect_request(&cfg, "x", "GET /2.php?x HTTP/1.1\r\nHost: 10.0.0.1:1\r\n\r\n");
  set(&cfg, "SOCK", "HTPC,10.0.0.1,65535");
  expect_request(&cfg, "x", "GET /2.php?x HTTP/1.1\r\nHost: 10.0.0.1:65535\r\n\r\n");
}

/* However <<CRLF>> is placed, the block has the same lines and one blank line at its end. */
static void test_htphead_forms(void **state) {
  static const char *const two[] = {
    "A: 1<<CRLF>>B: 2", "A: 1<<CRLF>>B: 2<<CRLF>>", "A: 1<<CRLF>>B: 2<<CRLF>><<CRLF>>",
    "<<CRLF>>A: 1<<CRLF>><<CRLF>>B: 2", "A: 1<<CRLF>><<CRLF>><<CRLF>>B: 2<<CRLF>>",
  };
  static const char *const none[] = {"", "<<CRLF>>", "<<CRLF>><<CRLF>>"};
  struct m0_config cfg = config();
  struct seen s;
  (void)state;
  set(&cfg, "SOCK", "HTPC,h,80");
  for (size_t i = 0; i < sizeof two / sizeof two[0]; i++) {
    set(&cfg, "HTPHEAD", two[i]);
    size_t n =
      expect_request(&cfg, "f", "GET /2.php?f HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n");
    parse_request(n, &s);
    assert_int_equal(s.headers, 3);
  }
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
    set(&cfg, "HTPHEAD", none[i]);
    expect_request(&cfg, "f", "GET /2.php?f HTTP/1.1\r\nHost: h\r\n\r\n");
  }
  /* One header without any token; a token spelled differently is just text. */
  set(&cfg, "HTPHEAD", "X-Id: 7");
  expect_request(&cfg, "f", "GET /2.php?f HTTP/1.1\r\nHost: h\r\nX-Id: 7\r\n\r\n");
  set(&cfg, "HTPHEAD", "X: a<<crlf>>b, c<CRLF>");
  expect_request(&cfg, "f", "GET /2.php?f HTTP/1.1\r\nHost: h\r\nX: a<<crlf>>b, c<CRLF>\r\n\r\n");
}

static void test_post(void **state) {
  struct m0_config cfg = config();
  struct seen s;
  static const uint8_t frame[] = {'a', ' ', 0, '\r', '\n', 0xFF, '#', '%'};
  (void)state;
  set(&cfg, "HTPTP", "POST");
  expect_request(&cfg, "abc",
                 "POST /2.php? HTTP/1.1\r\n"
                 "Host: 192.168.0.201:8234\r\n"
                 "User_Agent: Mozilla/4.0\r\n"
                 "Connection: close\r\n"
                 "Content-Length: 3\r\n"
                 "\r\n"
                 "abc");
  /* The body is the frame as it is, any bytes. */
  set(&cfg, "HTPHEAD", "");
  set(&cfg, "HTPURL", "/in");
  int n = build(&cfg, frame, sizeof frame);
  static const char head[] = "POST /in HTTP/1.1\r\nHost: 192.168.0.201:8234\r\n"
                             "Content-Length: 8\r\n\r\n";
  assert_int_equal(n, (int)(sizeof head - 1 + sizeof frame));
  assert_memory_equal(req, head, sizeof head - 1);
  assert_memory_equal(req + sizeof head - 1, frame, sizeof frame);
  parse_request((size_t)n, &s);
  assert_int_equal(s.body_len, sizeof frame);
  assert_memory_equal(s.body, frame, sizeof frame);
  assert_int_equal(s.url_len, 3);
  /* An empty body still says so. */
  expect_request(&cfg, "", "POST /in HTTP/1.1\r\nHost: 192.168.0.201:8234\r\n"
                           "Content-Length: 0\r\n\r\n");
}

static int unhex(char c) {
  return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* Frame bytes that may not appear in a target are %XX; the target decodes to the frame. */
static void test_get_odd_bytes(void **state) {
  struct m0_config cfg = config();
  (void)state;
  set(&cfg, "SOCK", "HTPC,h,80");
  set(&cfg, "HTPHEAD", "");
  set(&cfg, "HTPURL", "/q?");
  expect_request(&cfg, "a b\r\n#\"<>",
                 "GET /q?a%20b%0D%0A%23%22%3C%3E HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_request(&cfg, "t=1&u=x-y_z.~!$'()*+,;=:@/?",
                 "GET /q?t=1&u=x-y_z.~!$'()*+,;=:@/? HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_request(&cfg, "\xC3\xA9\x7F", "GET /q?%C3%A9%7F HTTP/1.1\r\nHost: h\r\n\r\n");
  /* A valid escape passes as is; a stray % is escaped itself. */
  expect_request(&cfg, "%41%e9", "GET /q?%41%e9 HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_request(&cfg, "50%", "GET /q?50%25 HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_request(&cfg, "%4", "GET /q?%254 HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_request(&cfg, "%zz%", "GET /q?%25zz%25 HTTP/1.1\r\nHost: h\r\n\r\n");
  /* HTPURL goes through the same rule. */
  set(&cfg, "HTPURL", "/a b/%7e?");
  expect_request(&cfg, "", "GET /a%20b/%7e? HTTP/1.1\r\nHost: h\r\n\r\n");
  /* Every byte value: the target parses and decodes back to the frame. */
  set(&cfg, "HTPURL", "/");
  uint8_t all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (uint8_t)(i == '%' ? 'p' : i);
  int n = build(&cfg, all, sizeof all);
  assert_true(n > 0);
  struct seen s;
  parse_request((size_t)n, &s);
  uint8_t back[256];
  size_t k = 0;
  for (size_t i = 1; i < s.url_len; i++) {
    if (s.url[i] == '%') {
      back[k++] = (uint8_t)(unhex(s.url[i + 1]) << 4 | unhex(s.url[i + 2]));
      i += 2;
    } else {
      back[k++] = (uint8_t)s.url[i];
    }
  }
  assert_int_equal(k, 256);
  assert_memory_equal(back, all, 256);
}

static void test_request_capacity(void **state) {
  struct m0_config cfg = config();
  uint8_t frame[M0_FRAME_MAX];
  char text[M0_HTPHEAD_MAX + 1];
  (void)state;
  /* The worst case: longest URL, host and header, a frame that is all %XX. */
  set(&cfg, "SOCK", "HTPC,abcdefghijabcdefghijabcdefghij,65535");
  memset(text, 'u', M0_HTPURL_MAX);
  text[0] = '/';
  text[M0_HTPURL_MAX] = 0;
  set(&cfg, "HTPURL", text);
  memset(text, 'h', M0_HTPHEAD_MAX);
  text[1] = ':';
  text[M0_HTPHEAD_MAX] = 0;
  set(&cfg, "HTPHEAD", text);
  memset(frame, 0xFF, sizeof frame);
  int n = build(&cfg, frame, sizeof frame);
  assert_int_equal(n, 1492);
  assert_true(n <= M0__HTPC_REQUEST_MAX);
  set(&cfg, "HTPTP", "POST");
  assert_true(build(&cfg, frame, sizeof frame) <= M0__HTPC_REQUEST_MAX);
  /* Exactly enough room, and one byte less. */
  set(&cfg, "HTPTP", "GET");
  assert_int_equal(m0__htpc_request(&cfg, frame, sizeof frame, req, 1492), 1492);
  assert_int_equal(m0__htpc_request(&cfg, frame, sizeof frame, req, 1491), M0__HTPC_ENOSPC);
  assert_int_equal(m0__htpc_request(&cfg, frame, sizeof frame, req, 0), M0__HTPC_ENOSPC);
}

/* ---- responses ---- */

struct got {
  uint8_t data[4096];
  size_t len;
  int result;
  size_t end; /* offset in the stream where the response ended (sum of used) */
  int eof_result;
};

static void collect(void *arg, const uint8_t *data, size_t len) {
  struct got *g = arg;
  assert_true(len > 0);
  assert_true(g->len + len <= sizeof g->data);
  memcpy(g->data + g->len, data, len);
  g->len += len;
}

/* Feed stream cut at cuts[] (ascending); then, if close, report the close. */
static void respond(bool body_only, const char *stream, const size_t *cuts, size_t ncuts,
                    bool close, struct got *g) {
  struct m0__htpc_resp r;
  size_t len = strlen(stream), at = 0;
  memset(g, 0, sizeof *g);
  m0__htpc_resp_init(&r, body_only);
  g->result = M0__HTPC_MORE;
  for (size_t c = 0; c <= ncuts; c++) {
    size_t end = c < ncuts ? cuts[c] : len, used = 99999;
    int rc = m0__htpc_resp_feed(&r, (const uint8_t *)stream + at, end - at, &used, collect, g);
    if (g->result == M0__HTPC_MORE) {
      g->end += used;
      if (rc == M0__HTPC_MORE)
        assert_int_equal(used, end - at);
    } else {
      assert_int_equal(rc, g->result); /* sticky */
      assert_int_equal(used, 0);
    }
    g->result = rc;
    at = end;
  }
  assert_int_equal(r.rx_bytes, g->end);
  g->eof_result = close ? m0__htpc_resp_eof(&r) : 0;
}

struct resp_case {
  const char *name, *stream;
  bool close;             /* the server closes after the stream */
  int result, eof_result; /* after the bytes; after the close */
  const char *end_marker; /* the response ends where this starts (NULL: at the end) */
  const char *body;       /* what HTPCHD=on delivers */
};

static const struct resp_case cases[] = {
  {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false,
   M0__HTPC_DONE, 0, NULL, "hello"},
  {"bytes after the end", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false,
   M0__HTPC_DONE, 0, "EXTRA", "ok"},
  {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nEXTRA", false,
   M0__HTPC_DONE, 0, "EXTRA", "hello world"},
  {"content-length 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nEXTRA", false,
   M0__HTPC_DONE, 0, "EXTRA", ""},
  {"204", "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\nEXTRA", false, M0__HTPC_DONE, 0,
   "EXTRA", ""},
  {"304 with a length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\nEXTRA", false,
   M0__HTPC_DONE, 0, "EXTRA", ""},
  {"close-delimited", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the close", true,
   M0__HTPC_MORE, M0__HTPC_DONE, NULL, "until the close"},
  {"http/1.0", "HTTP/1.0 200 OK\r\n\r\nold", true, M0__HTPC_MORE, M0__HTPC_DONE, NULL, "old"},
  {"100 continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                         "Content-Length: 2\r\n\r\nokEXTRA", false, M0__HTPC_DONE, 0,
   "EXTRA", "ok"},
  {"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nshort", true,
   M0__HTPC_MORE, M0__HTPC_ETRUNCATED, NULL, "short"},
  {"truncated headers", "HTTP/1.1 200 OK\r\nContent-Le", true, M0__HTPC_MORE,
   M0__HTPC_ETRUNCATED, NULL, ""},
  {"only interim", "HTTP/1.1 100 Continue\r\n\r\n", true, M0__HTPC_MORE, M0__HTPC_ETRUNCATED,
   NULL, ""},
  {"garbage", "garbage\r\n", true, M0__HTPC_EMALFORMED, M0__HTPC_EMALFORMED, "garbage", ""},
  {"bad status", "HTTP/1.1 abc OK\r\n\r\n", false, M0__HTPC_EMALFORMED, 0, "abc", ""},
  {"bad length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nab", false,
   M0__HTPC_EMALFORMED, 0, "x\r\n", ""},
  {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "2\r\nok\r\nzz\r\n", false, M0__HTPC_EMALFORMED, 0, "zz", "ok"},
  {"length and chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         "Content-Length: 3\r\n\r\n0\r\n\r\n", false, M0__HTPC_EMALFORMED,
   0, "0\r\n\r\n", ""},
};

static size_t end_of(const struct resp_case *c) {
  const char *m = c->end_marker != NULL ? strstr(c->stream, c->end_marker) : NULL;
  return m != NULL ? (size_t)(m - c->stream) : strlen(c->stream);
}

static void check(const struct resp_case *c, bool body_only, const struct got *g) {
  size_t end = end_of(c);
  if (g->result != c->result || g->end != end)
    fail_msg("%s: result %d end %zu, want %d end %zu", c->name, g->result, g->end, c->result,
             end);
  if (c->close && g->eof_result != c->eof_result)
    fail_msg("%s: at close %d, want %d", c->name, g->eof_result, c->eof_result);
  if (body_only) {
    if (g->len != strlen(c->body) || memcmp(g->data, c->body, g->len) != 0)
      fail_msg("%s: body \"%.*s\"", c->name, (int)g->len, (const char *)g->data);
  } else if (g->len != end || memcmp(g->data, c->stream, end) != 0) {
    fail_msg("%s: delivered %zu bytes, want the %zu received", c->name, g->len, end);
  }
}

static void test_responses_whole(void **state) {
  struct got g;
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (int body_only = 0; body_only < 2; body_only++) {
      respond(body_only, cases[i].stream, NULL, 0, cases[i].close, &g);
      check(&cases[i], body_only, &g);
    }
  }
}

static void test_responses_split(void **state) {
  struct got g;
  size_t cuts[256];
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct resp_case *c = &cases[i];
    size_t len = strlen(c->stream);
    assert_true(len < 256);
    for (int body_only = 0; body_only < 2; body_only++) {
      for (size_t a = 0; a <= len; a++) {
        cuts[0] = a;
        respond(body_only, c->stream, cuts, 1, c->close, &g);
        check(c, body_only, &g);
      }
      for (size_t k = 0; k < len; k++)
        cuts[k] = k;
      respond(body_only, c->stream, cuts, len, c->close, &g);
      check(c, body_only, &g);
    }
  }
  /* Every pair of cuts through a chunked response. */
  const struct resp_case *c = &cases[2];
  size_t len = strlen(c->stream);
  for (size_t a = 0; a <= len; a++)
    for (size_t b = a; b <= len; b++) {
      size_t two[2] = {a, b};
      respond(true, c->stream, two, 2, false, &g);
      check(c, true, &g);
    }
}

static void test_error_details(void **state) {
  struct m0__htpc_resp r;
  struct got g = {.len = 0};
  size_t used;
  (void)state;
  m0__htpc_resp_init(&r, false);
  assert_int_equal(m0__htpc_resp_feed(&r, (const uint8_t *)"garbage", 7, &used, collect, &g),
                   M0__HTPC_EMALFORMED);
  assert_int_equal(used, 0);
  assert_int_equal(g.len, 0);
  assert_string_equal(r.code, "HPE_INVALID_CONSTANT");
  assert_non_null(r.reason);
  assert_true(strlen(r.reason) > 0);
  assert_int_equal(m0__htpc_resp_eof(&r), M0__HTPC_EMALFORMED);
  /* A close before anything arrived. */
  m0__htpc_resp_init(&r, true);
  assert_int_equal(m0__htpc_resp_eof(&r), M0__HTPC_ETRUNCATED);
  assert_string_equal(r.reason, "connection closed before a response");
  /* Status, empty feeds, feeds after the end, and init for the next request. */
  static const char ok[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx";
  m0__htpc_resp_init(&r, true);
  assert_int_equal(m0__htpc_resp_status(&r), 0);
  assert_int_equal(m0__htpc_resp_feed(&r, NULL, 0, &used, collect, &g), M0__HTPC_MORE);
  assert_int_equal(m0__htpc_resp_feed(&r, (const uint8_t *)ok, sizeof ok - 1, NULL, collect,
                                      &g), M0__HTPC_DONE);
  assert_int_equal(m0__htpc_resp_status(&r), 404);
  assert_int_equal(g.len, 1);
  assert_int_equal(m0__htpc_resp_feed(&r, (const uint8_t *)"more", 4, &used, collect, &g),
                   M0__HTPC_DONE);
  assert_int_equal(used, 0);
  assert_int_equal(m0__htpc_resp_eof(&r), M0__HTPC_DONE);
  assert_int_equal(g.len, 1);
  assert_null(r.reason);
  m0__htpc_resp_init(&r, true);
  assert_int_equal(r.result, M0__HTPC_MORE);
  assert_int_equal(r.rx_bytes, 0);
}

/* The state may be copied between reads (it is embedded in the device struct). */
static void test_resp_is_copyable(void **state) {
  static const char s[] =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  struct m0__htpc_resp a, b;
  struct got g = {.len = 0};
  (void)state;
  m0__htpc_resp_init(&a, true);
  assert_int_equal(m0__htpc_resp_feed(&a, (const uint8_t *)s, 50, NULL, collect, &g),
                   M0__HTPC_MORE);
  memcpy(&b, &a, sizeof b);
  memset(&a, 0xA5, sizeof a);
  assert_int_equal(m0__htpc_resp_feed(&b, (const uint8_t *)s + 50, sizeof s - 1 - 50, NULL,
                                      collect, &g), M0__HTPC_DONE);
  assert_int_equal(g.len, 3);
  assert_memory_equal(g.data, "abc", 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_get_default),
    cmocka_unit_test(test_host_header),
    cmocka_unit_test(test_htphead_forms),
    cmocka_unit_test(test_post),
    cmocka_unit_test(test_get_odd_bytes),
    cmocka_unit_test(test_request_capacity),
    cmocka_unit_test(test_responses_whole),
    cmocka_unit_test(test_responses_split),
    cmocka_unit_test(test_error_details),
    cmocka_unit_test(test_resp_is_copyable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
