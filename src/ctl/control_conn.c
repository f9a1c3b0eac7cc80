/* control_conn.c: the client side of the emulator's control channel, for m0ctl's
 * control commands (control.h): the connection, its lines and requests, and the options
 * every command of the group takes.
 *
 * Lines are read into one growing buffer (128 KiB first, doubled while less than 64 KiB
 * is free: a status or a replayed event fits many times) and parsed by the core's strict
 * reader, the one the emulator reads requests with. Each answer has its own deadline
 * (--timeout, 10 s by default); a wait or a read sets its own.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "control.h"

/* ---- the connection ---- */

void m0ctl_conn_close(struct m0ctl_conn *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  free(c->buf);
  c->buf = NULL;
}

int m0ctl_conn_read_line(struct m0ctl_conn *c, uint64_t deadline, char **out, size_t *out_len) {
  for (;;) {
    char *nl = c->start < c->len ? memchr(c->buf + c->start, '\n', c->len - c->start) : NULL;
    if (nl != NULL) {
      *out = c->buf + c->start;
      *out_len = (size_t)(nl - *out);
      *nl = '\0';
      c->start += *out_len + 1;
      return 1;
    }
    if (c->start > 0) { /* keep the partial line at the front */
      memmove(c->buf, c->buf + c->start, c->len - c->start);
      c->len -= c->start;
      c->start = 0;
    }
    if (c->cap - c->len < 65536) {
      size_t cap = c->cap ? c->cap * 2 : 131072;
      char *p = realloc(c->buf, cap);
      if (p == NULL) {
        m0ctl_fail(c->cmd, "out of memory");
        return -1;
      }
      c->buf = p;
      c->cap = cap;
    }
    uint64_t now = m0ctl_now_ms();
    if (deadline != UINT64_MAX && now >= deadline)
      return 0;
    int rc = m0ctl_wait_in(c->fd, deadline);
    if (rc < 0) {
      m0ctl_fail(c->cmd, "poll: %s", strerror(errno));
      return -1;
    }
    if (rc == 0)
      return 0;
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0) {
      m0ctl_fail(c->cmd, "the emulator closed the control channel%s%s", n < 0 ? ": " : "",
                 n < 0 ? strerror(errno) : "");
      return -1;
    }
    c->len += (size_t)n;
  }
}

int m0ctl_conn_parse(struct m0ctl_conn *c, struct m0ctl_line *l, char *text, size_t len) {
  char err[128];
  free(l->scratch);
  l->scratch = malloc(len + 2 * M0CTL_CONN_MEMBERS_MAX + 1);
  if (l->scratch == NULL)
    return m0ctl_fail(c->cmd, "out of memory"), -1;
  l->text = text;
  l->len = len;
  l->n = m0_json_object(text, len, l->m, M0CTL_CONN_MEMBERS_MAX, l->scratch,
                        len + 2 * M0CTL_CONN_MEMBERS_MAX + 1, err, sizeof err);
  if (l->n < 0) {
    m0ctl_fail(c->cmd, "the emulator sent something that is not a JSON object (%s): %.200s",
               err, text);
    return -1;
  }
  return 0;
}

const struct m0_json_member *m0ctl_member(const struct m0ctl_line *l, const char *key) {
  return m0_json_find(l->m, (unsigned)l->n, key);
}

int m0ctl_conn_open(const struct m0ctl_cmd *cmd, struct m0ctl_conn *c, const char *spec,
                    const char *dev, uint64_t timeout_ms) {
  struct m0ctl_line greeting = {0};
  char *text;
  size_t len;
  memset(c, 0, sizeof *c);
  c->cmd = cmd;
  c->fd = -1;
  c->dev = dev;
  c->timeout_ms = timeout_ms;
  if (spec == NULL || *spec == '\0')
    return m0ctl_usage(cmd, "no control channel: give --control SOCK (or set $%s)",
                       M0CTL_ENV_CONTROL);
  if (strncmp(spec, "tcp:", 4) == 0) {
    unsigned long long port;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (m0ctl_uint(spec + 4, 1, 65535, &port) != 0)
      return m0ctl_usage(cmd, "--control tcp:PORT needs a port 1-65535, got '%s'", spec + 4);
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
      int e = errno;
      m0ctl_conn_close(c);
      return m0ctl_fail(cmd, "cannot reach the control channel at 127.0.0.1:%llu: %s", port,
                        strerror(e));
    }
  } else {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(spec) >= sizeof sa.sun_path)
      return m0ctl_usage(cmd, "--control: a socket path has at most %zu bytes",
                         sizeof sa.sun_path - 1);
    memcpy(sa.sun_path, spec, strlen(spec) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
      int e = errno;
      m0ctl_conn_close(c);
      return m0ctl_fail(cmd, "cannot reach the control channel %s: %s (is m0emu running "
                        "with --control %s?)", spec, strerror(e), spec);
    }
  }
  int rc = m0ctl_conn_read_line(c, m0ctl_now_ms() + timeout_ms, &text, &len);
  if (rc == 0)
    m0ctl_fail(cmd, "no greeting from the control channel within %llu ms",
               (unsigned long long)timeout_ms);
  if (rc <= 0 || m0ctl_conn_parse(c, &greeting, text, len) != 0 ||
      m0ctl_member(&greeting, "m0emu") == NULL) {
    if (rc > 0)
      m0ctl_fail(cmd, "%s does not greet like m0emu's control channel", spec);
    free(greeting.scratch);
    m0ctl_conn_close(c);
    return M0CTL_FAIL;
  }
  free(greeting.scratch);
  return M0CTL_OK;
}

int m0ctl_conn_send(struct m0ctl_conn *c, const char *name, bool with_dev, const char *extra,
                    unsigned long *id) {
  size_t cap = strlen(name) + (extra ? strlen(extra) : 0) + 6 * 64 + 128;
  char *req = malloc(cap), dev[6 * 64 + 3];
  if (req == NULL)
    return m0ctl_fail(c->cmd, "out of memory");
  *id = ++c->next_id;
  int n = snprintf(req, cap, "{\"id\":%lu,\"cmd\":\"%s\"", *id, name);
  if (with_dev && c->dev != NULL) {
    m0_json_string(dev, sizeof dev, c->dev);
    n += snprintf(req + n, cap - (size_t)n, ",\"dev\":%s", dev);
  }
  if (extra != NULL && *extra != '\0')
    n += snprintf(req + n, cap - (size_t)n, ",%s", extra);
  n += snprintf(req + n, cap - (size_t)n, "}\n");
  const char *p = req;
  size_t left = (size_t)n;
  while (left > 0) {
    ssize_t w = write(c->fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      int e = errno;
      free(req);
      return m0ctl_fail(c->cmd, "cannot send to the control channel: %s", strerror(e));
    }
    p += w;
    left -= (size_t)w;
  }
  free(req);
  return M0CTL_OK;
}

int m0ctl_conn_await(struct m0ctl_conn *c, unsigned long id, struct m0ctl_line *ans) {
  uint64_t deadline = m0ctl_now_ms() + c->timeout_ms;
  for (;;) {
    char *text;
    size_t len;
    int rc = m0ctl_conn_read_line(c, deadline, &text, &len);
    if (rc == 0)
      return m0ctl_fail(c->cmd, "no answer within %llu ms", (unsigned long long)c->timeout_ms);
    if (rc < 0 || m0ctl_conn_parse(c, ans, text, len) != 0)
      return M0CTL_FAIL;
    const struct m0_json_member *idm = m0ctl_member(ans, "id"), *ok = m0ctl_member(ans, "ok");
    if (ok == NULL) /* an event line */
      continue;
    char want[32];
    snprintf(want, sizeof want, "%lu", id);
    if (idm == NULL || idm->raw_len != strlen(want) || memcmp(idm->raw, want, idm->raw_len) != 0) {
      if (idm != NULL && idm->type == M0_JSON_NULL) { /* refused before its id was read */
        const struct m0_json_member *e = m0ctl_member(ans, "error");
        return m0ctl_fail(c->cmd, "the emulator refused the request: %.*s",
                          e ? (int)e->raw_len : 0, e ? e->raw : "");
      }
      continue;
    }
    if (ok->type == M0_JSON_TRUE)
      return M0CTL_OK;
    const struct m0_json_member *e = m0ctl_member(ans, "error");
    if (e == NULL || e->type != M0_JSON_OBJECT)
      return m0ctl_fail(c->cmd, "refused: %s", ans->text);
    /* The error object: its message and code. */
    struct m0_json_member em[8];
    char scratch[2048], err[64];
    int n = m0_json_object(e->raw, e->raw_len, em, 8, scratch, sizeof scratch, err, sizeof err);
    const struct m0_json_member *msg = n > 0 ? m0_json_find(em, (unsigned)n, "message") : NULL;
    const struct m0_json_member *code = n > 0 ? m0_json_find(em, (unsigned)n, "code") : NULL;
    return m0ctl_fail(c->cmd, "%s (%s)", msg && msg->str ? msg->str : "refused",
                      code && code->str ? code->str : "error");
  }
}

int m0ctl_conn_call(struct m0ctl_conn *c, const char *name, bool with_dev, const char *extra,
                    struct m0ctl_line *ans) {
  unsigned long id;
  int rc = m0ctl_conn_send(c, name, with_dev, extra, &id);
  if (rc != M0CTL_OK)
    return rc;
  return m0ctl_conn_await(c, id, ans);
}

/* ---- options shared by every command of the group ---- */

static int common_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct m0ctl_conn_opts *co = ctx;
  switch (opt) {
  case M0CTL_CONN_OPT_CONTROL:
    co->control = arg;
    return 1;
  case M0CTL_CONN_OPT_DEV:
    co->dev = arg;
    return 1;
  case M0CTL_CONN_OPT_TIMEOUT:
    if (m0ctl_seconds(arg, M0CTL_CONN_TIMEOUT_MAX_S, &co->timeout_ms) != 0 ||
        co->timeout_ms == 0) {
      m0ctl_usage(cmd, "--timeout: expected seconds (0-%u, e.g. 2.5), got '%s'",
                  M0CTL_CONN_TIMEOUT_MAX_S, arg);
      return -1;
    }
    co->timeout_given = true;
    return 1;
  default:
    return 0;
  }
}

int m0ctl_conn_options(const struct m0ctl_cmd *cmd, int argc, char **argv,
                       const struct option *longs, struct m0ctl_conn_opts *co,
                       m0ctl_option_fn own, void *ctx, bool *done) {
  const struct m0ctl_opt_handler handlers[] = {{common_option, co}, {own, ctx}, {NULL, NULL}};
  co->control = getenv(M0CTL_ENV_CONTROL);
  co->dev = getenv(M0CTL_ENV_DEV);
  if (co->dev != NULL && *co->dev == '\0')
    co->dev = NULL;
  co->timeout_ms = M0CTL_CONN_TIMEOUT_MS;
  co->timeout_given = false;
  return m0ctl_options(cmd, argc, argv, longs, handlers, done);
}

int m0ctl_for_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct m0ctl_for_opts *o = ctx;
  bool is_for = opt == M0CTL_CONN_OPT_FOR;
  uint64_t *v = is_for ? &o->for_ms : opt == M0CTL_CONN_OPT_RESET_AFTER ? &o->reset_ms : NULL;
  if (v == NULL)
    return 0;
  if (m0ctl_seconds(arg, M0CTL_CONN_TIMEOUT_MAX_S, v) != 0 || *v == 0) {
    m0ctl_usage(cmd, "--%s: expected seconds (more than 0, at most %u), got '%s'",
                is_for ? "for" : "reset-after", M0CTL_CONN_TIMEOUT_MAX_S, arg);
    return -1;
  }
  *(is_for ? &o->for_given : &o->reset_given) = true;
  return 1;
}

void m0ctl_seconds_json(char *buf, size_t cap, const char *name, uint64_t ms) {
  snprintf(buf, cap, "\"%s\":%llu.%03llu", name, (unsigned long long)(ms / 1000),
           (unsigned long long)(ms % 1000));
}

/* ---- one request ---- */

void m0ctl_print_t_ms(const struct m0ctl_line *ans) {
  const struct m0_json_member *t = m0ctl_member(ans, "t_ms");
  if (t != NULL)
    printf("%.*s\n", (int)t->raw_len, t->raw);
  fflush(stdout);
}

int m0ctl_request(const struct m0ctl_cmd *cmd, const struct m0ctl_conn_opts *co,
                  const char *name, bool with_dev, const char *extra, bool print_result) {
  struct m0ctl_conn c;
  struct m0ctl_line ans = {0};
  int rc = m0ctl_conn_open(cmd, &c, co->control, co->dev, co->timeout_ms);
  if (rc != M0CTL_OK)
    return rc;
  rc = m0ctl_conn_call(&c, name, with_dev, extra, &ans);
  if (rc == M0CTL_OK) {
    const struct m0_json_member *res = m0ctl_member(&ans, "result");
    if (print_result && res != NULL)
      printf("%.*s\n", (int)res->raw_len, res->raw);
    else
      m0ctl_print_t_ms(&ans);
  }
  free(ans.scratch);
  m0ctl_conn_close(&c);
  return rc;
}

int m0ctl_simple(const struct m0ctl_cmd *cmd, int argc, char **argv, const char *name,
                 bool with_dev, bool print_result) {
  static const struct option longs[] = {M0CTL_CONN_LONGS, {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc != optind)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
  return m0ctl_request(cmd, &co, name, with_dev, NULL, print_result);
}
