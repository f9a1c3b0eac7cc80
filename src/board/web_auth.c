/* web_auth.c: the web server's gate: target, Host rule, credentials, route, Origin.
 *
 * Pure functions of the parsed request head and the policy (no sockets, no clock), so
 * the unit tests and the fuzz target run the very code the server runs. The Host rule
 * answers DNS rebinding: a page from another site whose name resolves to 127.0.0.1 makes
 * the browser send that name as Host, so only names nobody else controls are accepted
 * (IP literals and localhost) plus the names the user gives with --web-host. It runs
 * before the credentials, so a rebound page never even gets a password prompt.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "web_auth.h"

const char *const m0__web_hdr_names[M0__WEB_H_COUNT] = {
    "authorization", "origin", "host", "if-none-match", "content-type", "last-event-id",
    "expect",
};

/* ---- credentials ---- */

static int b64val(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

int m0__web_b64decode(const char *s, size_t len, unsigned char *out, size_t cap) {
  while (len > 0 && s[len - 1] == '=')
    len--;
  if (len % 4 == 1)
    return -1;
  size_t n = 0;
  uint32_t acc = 0;
  unsigned bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = b64val((unsigned char)s[i]);
    if (v < 0)
      return -1;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == cap)
        return -1;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  return (int)n;
}

bool m0__web_basic_ok(const struct m0__web_hval *auth, const char *user, const char *pass) {
  if (!auth->seen || auth->over || auth->len < 6 || strncasecmp(auth->v, "Basic ", 6) != 0)
    return false;
  const char *s = auth->v + 6;
  size_t len = auth->len - 6;
  while (len > 0 && *s == ' ')
    s++, len--;
  while (len > 0 && s[len - 1] == ' ')
    len--;
  unsigned char given[M0__WEB_AUTH_CMP] = {0};
  int n = m0__web_b64decode(s, len, given, sizeof given);
  if (n < 0)
    return false;
  /* Expected "user:password" zero-padded to the same width: the comparison below runs
   * over every byte whatever the content, so its time tells nothing about the secret. */
  unsigned char expected[M0__WEB_AUTH_CMP] = {0};
  int m = snprintf((char *)expected, sizeof expected, "%s:%s", user, pass);
  volatile unsigned diff = (unsigned)(n ^ m);
  for (size_t i = 0; i < M0__WEB_AUTH_CMP; i++)
    diff |= (unsigned)(given[i] ^ expected[i]);
  return diff == 0;
}

/* ---- Host ---- */

static bool is_alnum(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* RFC 3986 reg-name: unreserved / pct-encoded / sub-delims. */
static bool reg_name_char(char ch) {
  return is_alnum(ch) || (ch != '\0' && strchr("-._~%!$&'()*+,;=", ch) != NULL);
}

static char lower(char ch) {
  return (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
}

/* ":" port, where port is at most 5 digits up to 65535 (RFC 3986 allows it empty). */
static bool port_ok(const char *s, size_t len) {
  if (len == 0)
    return true;
  if (s[0] != ':' || len > 6)
    return false;
  unsigned v = 0;
  for (size_t i = 1; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  return v <= 65535;
}

enum m0__web_host_kind m0__web_host_parse(const char *s, size_t len, char *name_out,
                                          size_t cap) {
  char tmp[M0__WEB_HVAL_MAX + 1];
  if (cap > 0)
    name_out[0] = '\0';
  if (len == 0 || len > M0__WEB_HVAL_MAX)
    return M0__WEB_HOST_BAD;
  if (s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (close == NULL)
      return M0__WEB_HOST_BAD;
    size_t n = (size_t)(close - s) - 1;
    if (n == 0 || n >= sizeof tmp || !port_ok(close + 1, len - n - 2))
      return M0__WEB_HOST_BAD;
    memcpy(tmp, s + 1, n);
    tmp[n] = '\0';
    if (strlen(tmp) != n)
      return M0__WEB_HOST_BAD;
    unsigned char addr[16];
    return inet_pton(AF_INET6, tmp, addr) == 1 ? M0__WEB_HOST_IP : M0__WEB_HOST_BAD;
  }
  const char *colon = memchr(s, ':', len);
  size_t n = colon ? (size_t)(colon - s) : len;
  if (n == 0 || !port_ok(s + n, len - n))
    return M0__WEB_HOST_BAD;
  for (size_t i = 0; i < n; i++) {
    if (!reg_name_char(s[i]))
      return M0__WEB_HOST_BAD;
    tmp[i] = lower(s[i]);
  }
  tmp[n] = '\0';
  unsigned char addr[4];
  if (inet_pton(AF_INET, tmp, addr) == 1)
    return M0__WEB_HOST_IP;
  if (tmp[n - 1] == '.') /* the absolute form of the same name */
    tmp[--n] = '\0';
  if (n == 0 || n >= cap)
    return M0__WEB_HOST_BAD;
  memcpy(name_out, tmp, n + 1);
  return M0__WEB_HOST_NAME;
}

bool m0__web_host_allowed(const char *s, size_t len, const struct m0__web_policy *policy) {
  char name[M0__WEB_HVAL_MAX + 1];
  enum m0__web_host_kind kind = m0__web_host_parse(s, len, name, sizeof name);
  if (kind == M0__WEB_HOST_IP)
    return true;
  if (kind == M0__WEB_HOST_BAD)
    return false;
  if (strcmp(name, "localhost") == 0)
    return true;
  for (size_t i = 0; i < policy->nhosts; i++)
    if (strcmp(policy->hosts[i], "*") == 0 || strcmp(policy->hosts[i], name) == 0)
      return true;
  return false;
}

bool m0__web_host_name_valid(const char *name) {
  size_t len = strlen(name);
  if (strcmp(name, "*") == 0)
    return true;
  if (len == 0 || len > M0__WEB_HOST_NAME_MAX || name[0] == '.' || name[len - 1] == '.')
    return false;
  for (size_t i = 0; i < len; i++) {
    char ch = name[i];
    if (!is_alnum(ch) && ch != '-' && ch != '_' && ch != '.')
      return false;
    if (ch == '.' && name[i + 1] == '.')
      return false;
  }
  return true;
}

/* ---- Origin ---- */

/* host[:port] lower-cased, with the default port 80 made explicit. */
static bool authority(const char *s, size_t len, char *out, size_t cap) {
  if (len == 0 || len + 4 >= cap)
    return false;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (ch == '/' || ch == '@' || ch == ' ' || ch == '\0')
      return false;
    out[i] = lower(ch);
  }
  out[len] = '\0';
  const char *close = strrchr(out, ']');
  const char *colon = strrchr(out, ':');
  if (colon == NULL || (close != NULL && colon < close))
    strcat(out, ":80");
  return true;
}

bool m0__web_same_origin(const char *origin, size_t olen, const char *auth, size_t alen) {
  if (olen < 7 || strncasecmp(origin, "http://", 7) != 0)
    return false;
  char a[M0__WEB_HVAL_MAX + 8], b[M0__WEB_HVAL_MAX + 8];
  olen -= 7;
  if (olen > 0 && origin[7 + olen - 1] == '/')
    olen--;
  if (!authority(origin + 7, olen, a, sizeof a) || !authority(auth, alen, b, sizeof b))
    return false;
  return strcmp(a, b) == 0;
}

/* ---- paths and routes ---- */

bool m0__web_safe_path(const char *p) {
  if (p[0] != '/')
    return false;
  for (const char *s = p; *s; s++) {
    char ch = *s;
    if (!is_alnum(ch) && ch != '-' && ch != '_' && ch != '.' && ch != '/')
      return false;
    if (ch == '/' && (s[1] == '.' || s[1] == '/'))
      return false;
  }
  return true;
}

bool m0__web_status_closes(int status) {
  return status == 400 || status == 408 || status == 413 || status == 431;
}

static bool media_is_json(const struct m0__web_hval *ct) {
  if (!ct->seen || ct->over)
    return false;
  size_t n = strcspn(ct->v, "; ");
  return n == 16 && strncasecmp(ct->v, "application/json", 16) == 0;
}

static int refuse(struct m0__web_decision *d, int status, const char *message) {
  d->status = status;
  d->message = message;
  return status;
}

/* "GET, HEAD, POST": the methods of mask, for an Allow header. */
static void allow_line(unsigned mask, char *out, size_t cap) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{M0__WEB_M_GET, "GET"}, {M0__WEB_M_HEAD, "HEAD"}, {M0__WEB_M_POST, "POST"}};
  size_t n = (size_t)snprintf(out, cap, "Allow: ");
  const char *sep = "";
  for (size_t i = 0; i < sizeof names / sizeof names[0] && n < cap; i++) {
    if (mask & names[i].bit) {
      n += (size_t)snprintf(out + n, cap - n, "%s%s", sep, names[i].name);
      sep = ", ";
    }
  }
  if (n < cap)
    snprintf(out + n, cap - n, "\r\n");
}

/* The path's entries in the table, found in one pass: the one for this method (NULL if
 * none), every method the path answers, and whether any of them needs credentials. A path
 * with no entry of its own is a page (the entry without a path) unless it is under /api/. */
struct lookup {
  const struct m0__web_route *route;
  unsigned methods;
  bool auth;
  bool known;
};

static struct lookup look_up(const struct m0__web_policy *policy, const char *path, bool api,
                             unsigned method) {
  struct lookup l = {0};
  const struct m0__web_route *page = NULL;
  for (size_t i = 0; i < policy->nroutes; i++) {
    const struct m0__web_route *r = &policy->routes[i];
    if (r->path == NULL) {
      page = r;
      continue;
    }
    if (strcmp(r->path, path) != 0)
      continue;
    l.known = true;
    l.methods |= r->methods;
    l.auth |= r->auth;
    if ((method & r->methods) != 0 && l.route == NULL)
      l.route = r;
  }
  if (!l.known && !api && page != NULL) {
    l.known = true;
    l.methods = page->methods;
    l.auth = page->auth;
    l.route = (method & page->methods) != 0 ? page : NULL;
  }
  if (!l.known)
    l.auth = true; /* nothing about what exists is told without credentials */
  return l;
}

static int gate(const struct m0__web_head *req, const struct m0__web_policy *policy,
                struct m0__web_decision *d) {
  const struct m0__web_hval *h = req->h;
  const struct m0__web_hval *host = &h[M0__WEB_H_HOST];
  d->status = 0;
  d->route = NULL;
  d->head = req->method == M0__WEB_M_HEAD;
  d->message = "";
  d->extra[0] = '\0';
  d->host[0] = '\0';

  /* The target: origin-form, or absolute-form (a proxy's) whose authority then stands
   * for the Host header. */
  const char *t = req->target;
  const char *auth = NULL;
  size_t auth_len = 0;
  if (strncasecmp(t, "http://", 7) == 0) {
    auth = t + 7;
    auth_len = strcspn(auth, "/?#");
    t = auth[auth_len] == '/' ? auth + auth_len : "/";
  }
  size_t plen = strcspn(t, "?#");
  if (plen > M0__WEB_HEAD_MAX)
    plen = M0__WEB_HEAD_MAX;
  memcpy(d->path, t, plen);
  d->path[plen] = '\0';
  d->api = strncmp(d->path, "/api/", 5) == 0;
  if (d->path[0] != '/')
    return refuse(d, 400, "the request target must be a path");
  struct lookup found = look_up(policy, d->path, d->api, req->method);

  char name[M0__WEB_HVAL_MAX + 1];
  bool http11 = req->major > 1 || (req->major == 1 && req->minor >= 1);
  if (http11 && !host->seen)
    return refuse(d, 400, "HTTP/1.1 request without a Host header");
  if (host->seen &&
      (host->over || m0__web_host_parse(host->v, host->len, name, sizeof name) ==
                         M0__WEB_HOST_BAD))
    return refuse(d, 400, "malformed Host header");
  if (auth != NULL &&
      m0__web_host_parse(auth, auth_len, name, sizeof name) == M0__WEB_HOST_BAD)
    return refuse(d, 400, "malformed host in the request target");
  if (auth == NULL && host->seen) {
    auth = host->v;
    auth_len = host->len;
  }
  if (auth != NULL && !m0__web_host_allowed(auth, auth_len, policy)) {
    m0__web_host_parse(auth, auth_len, d->host, sizeof d->host);
    return refuse(d, 421, "this server does not answer to that host name");
  }

  if (found.auth && !m0__web_basic_ok(&h[M0__WEB_H_AUTH], policy->user, policy->pass)) {
    snprintf(d->extra, sizeof d->extra, "WWW-Authenticate: Basic realm=\"USR-M0\", "
                                        "charset=\"UTF-8\"\r\n");
    return refuse(d, 401, "authentication required");
  }

  if (!found.known)
    return refuse(d, 404, "no such API");
  if (found.route == NULL) {
    allow_line(found.methods, d->extra, sizeof d->extra);
    return refuse(d, 405, "method not allowed");
  }
  const struct m0__web_hval *origin = &h[M0__WEB_H_ORIGIN];
  if (req->method == M0__WEB_M_POST && origin->seen &&
      (origin->over || auth == NULL ||
       !m0__web_same_origin(origin->v, origin->len, auth, auth_len)))
    return refuse(d, 403, "cross-site request refused (Origin does not match Host)");
  if (found.route->json_body && !media_is_json(&h[M0__WEB_H_CTYPE]))
    return refuse(d, 415, "the body must be application/json");

  if (found.route->path == NULL) { /* a page file */
    if (strcmp(d->path, "/") == 0)
      strcpy(d->path, "/index.html");
    if (!m0__web_safe_path(d->path))
      return refuse(d, 404, "no such page");
  }
  d->route = found.route;
  return 0;
}

void m0__web_decide(const struct m0__web_head *req, const struct m0__web_policy *policy,
                    struct m0__web_decision *d) {
  gate(req, policy, d);
}
