/* cmd_control.c: m0ctl's control channel group (docs/control.md): status, list, restart,
 * factory-reset, power, the faults, the UART without a pty, events, wait, call.
 *
 * One connection per command: connect (a Unix socket, or tcp:PORT on 127.0.0.1), read
 * the greeting, send one request line, read lines until the answer with its id (event
 * lines met meanwhile are for the commands that asked for them), print, exit. An error
 * answer is one line on stderr naming the emulator's message and code, exit 1; a channel
 * that cannot be reached or does not answer in --timeout (10 s) is exit 1 too.
 *
 * Actions print the t_ms of the request: the instant on the event stream's clock from
 * which whatever they caused is stamped, so a script can wait for the outcome with no
 * race: `t=$(m0ctl restart) && m0ctl wait ready --since "$t"`. wait subscribes with a
 * replay of the recent events at or after --since (the emulator keeps the last 512), so
 * an event that came between the two commands is still found.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ctl.h"
#include "m0/json.h"

#define DEFAULT_TIMEOUT_MS 10000
#define TIMEOUT_MAX_S 86400
#define MEMBERS_MAX 64

/* ---- the connection ---- */

struct conn {
  const struct m0ctl_cmd *cmd;
  int fd;
  char *buf;
  size_t len, cap, start; /* unread bytes are buf[start..len) */
  unsigned long next_id;
  const char *dev;        /* --dev / $M0CTL_DEV, NULL: none */
  uint64_t timeout_ms;    /* for each answer */
};

/* What a parsed line holds (valid until the next read). */
struct line {
  char *text;
  size_t len;
  struct m0_json_member m[MEMBERS_MAX];
  int n;
  char *scratch;
};

static void conn_close(struct conn *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  free(c->buf);
  c->buf = NULL;
}

/* The next line (newline removed) before deadline: 1, 0 at the deadline, -1 when the
 * emulator closed the channel or on an error (message printed). */
static int read_line(struct conn *c, uint64_t deadline, char **out, size_t *out_len) {
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
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int rc = poll(&p, 1, deadline == UINT64_MAX ? -1 : (int)(deadline - now));
    if (rc < 0 && errno == EINTR)
      continue;
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

static int parse(struct conn *c, struct line *l, char *text, size_t len) {
  char err[128];
  free(l->scratch);
  l->scratch = malloc(len + 2 * MEMBERS_MAX + 1);
  if (l->scratch == NULL)
    return m0ctl_fail(c->cmd, "out of memory"), -1;
  l->text = text;
  l->len = len;
  l->n = m0_json_object(text, len, l->m, MEMBERS_MAX, l->scratch, len + 2 * MEMBERS_MAX + 1,
                        err, sizeof err);
  if (l->n < 0) {
    m0ctl_fail(c->cmd, "the emulator sent something that is not a JSON object (%s): %.200s",
               err, text);
    return -1;
  }
  return 0;
}

static const struct m0_json_member *member(const struct line *l, const char *key) {
  return m0_json_find(l->m, (unsigned)l->n, key);
}

static int conn_open(const struct m0ctl_cmd *cmd, struct conn *c, const char *spec,
                     const char *dev, uint64_t timeout_ms) {
  struct line greeting = {0};
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
      conn_close(c);
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
      conn_close(c);
      return m0ctl_fail(cmd, "cannot reach the control channel %s: %s (is m0emu running "
                        "with --control %s?)", spec, strerror(e), spec);
    }
  }
  int rc = read_line(c, m0ctl_now_ms() + timeout_ms, &text, &len);
  if (rc == 0)
    m0ctl_fail(cmd, "no greeting from the control channel within %llu ms",
               (unsigned long long)timeout_ms);
  if (rc <= 0 || parse(c, &greeting, text, len) != 0 || member(&greeting, "m0emu") == NULL) {
    if (rc > 0)
      m0ctl_fail(cmd, "%s does not greet like m0emu's control channel", spec);
    free(greeting.scratch);
    conn_close(c);
    return M0CTL_FAIL;
  }
  free(greeting.scratch);
  return M0CTL_OK;
}

/* Send {"id":N,"cmd":name[,"dev":...][,extra]}. */
static int send_request(struct conn *c, const char *name, bool with_dev, const char *extra,
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

typedef void (*stream_fn)(void *arg, struct line *l);

/* Read until the answer to id: 0 with *ans parsed (ok true), 1 after printing an error
 * answer or a failure. Stream lines met on the way go to on_stream (may be NULL). */
static int await_answer(struct conn *c, unsigned long id, struct line *ans, stream_fn on_stream,
                        void *arg) {
  uint64_t deadline = m0ctl_now_ms() + c->timeout_ms;
  for (;;) {
    char *text;
    size_t len;
    int rc = read_line(c, deadline, &text, &len);
    if (rc == 0)
      return m0ctl_fail(c->cmd, "no answer within %llu ms", (unsigned long long)c->timeout_ms);
    if (rc < 0 || parse(c, ans, text, len) != 0)
      return M0CTL_FAIL;
    const struct m0_json_member *idm = member(ans, "id"), *ok = member(ans, "ok");
    if (ok == NULL) {
      if (on_stream != NULL)
        on_stream(arg, ans);
      continue;
    }
    char want[32];
    snprintf(want, sizeof want, "%lu", id);
    if (idm == NULL || idm->raw_len != strlen(want) || memcmp(idm->raw, want, idm->raw_len) != 0) {
      if (idm != NULL && idm->type == M0_JSON_NULL) { /* refused before its id was read */
        const struct m0_json_member *e = member(ans, "error");
        return m0ctl_fail(c->cmd, "the emulator refused the request: %.*s",
                          e ? (int)e->raw_len : 0, e ? e->raw : "");
      }
      continue;
    }
    if (ok->type == M0_JSON_TRUE)
      return M0CTL_OK;
    const struct m0_json_member *e = member(ans, "error");
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

/* One request and its answer. */
static int call(struct conn *c, const char *name, bool with_dev, const char *extra,
                struct line *ans) {
  unsigned long id;
  int rc = send_request(c, name, with_dev, extra, &id);
  if (rc != M0CTL_OK)
    return rc;
  return await_answer(c, id, ans, NULL, NULL);
}

/* ---- options shared by every command of the group ---- */

enum {
  OPT_CONTROL = 400, OPT_DEV, OPT_TIMEOUT, OPT_FOR, OPT_SINCE, OPT_COUNT, OPT_REPLAY,
  OPT_HELP, OPT_HEX, OPT_BYTES, OPT_UNTIL, OPT_RESET_AFTER, OPT_DIR, OPT_BER, OPT_LOSS,
  OPT_SEED, OPT_DELAY, OPT_JITTER, OPT_RATE, OPT_FAIL, OPT_FULL,
};

#define COMMON_LONGS                                                                         \
  {"control", required_argument, NULL, OPT_CONTROL}, {"dev", required_argument, NULL, OPT_DEV}, \
      {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"help", no_argument, NULL, OPT_HELP}

#define COMMON_HELP                                                                          \
  "  --control SOCK  the control channel: a Unix socket path, or tcp:PORT (or $M0CTL_CONTROL)\n" \
  "  --dev NAME      the device, when the emulator runs several (or $M0CTL_DEV)\n"

struct common {
  const char *control, *dev;
  uint64_t timeout_ms;
  bool timeout_given;
};

/* 1 if taken, 0 if not a common option, -1 after a usage message, 2 for --help. */
static int common_option(const struct m0ctl_cmd *cmd, int opt, const char *arg,
                         struct common *co) {
  switch (opt) {
  case OPT_CONTROL:
    co->control = arg;
    return 1;
  case OPT_DEV:
    co->dev = arg;
    return 1;
  case OPT_TIMEOUT:
    if (m0ctl_seconds(arg, TIMEOUT_MAX_S, &co->timeout_ms) != 0 || co->timeout_ms == 0) {
      m0ctl_usage(cmd, "--timeout: expected seconds (0-%u, e.g. 2.5), got '%s'",
                  TIMEOUT_MAX_S, arg);
      return -1;
    }
    co->timeout_given = true;
    return 1;
  case OPT_HELP:
    m0ctl_cmd_help(cmd, stdout);
    return 2;
  default:
    return 0;
  }
}

static void common_init(struct common *co) {
  co->control = getenv(M0CTL_ENV_CONTROL);
  co->dev = getenv(M0CTL_ENV_DEV);
  if (co->dev != NULL && *co->dev == '\0')
    co->dev = NULL;
  co->timeout_ms = DEFAULT_TIMEOUT_MS;
  co->timeout_given = false;
}

static int bad_option(const struct m0ctl_cmd *cmd, const struct option *longs, int opt,
                      char **argv) {
  if (opt == ':') {
    for (const struct option *o = longs; o->name != NULL; o++)
      if (o->val == optopt)
        return m0ctl_usage(cmd, "--%s: missing value", o->name);
  }
  return m0ctl_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* Parse a command's options: the common ones, and others through `own` (returns 1 taken,
 * 0 unknown, -1 usage error). Returns M0CTL_OK, or an exit status to return (with
 * *done set when --help printed). */
typedef int (*own_fn)(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx);

static int options(const struct m0ctl_cmd *cmd, int argc, char **argv,
                   const struct option *longs, struct common *co, own_fn own, void *ctx,
                   bool *done) {
  int opt;
  common_init(co);
  *done = false;
  optind = 0;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
    int rc = common_option(cmd, opt, optarg, co);
    if (rc == 2) {
      *done = true;
      return M0CTL_OK;
    }
    if (rc < 0)
      return M0CTL_USAGE;
    if (rc == 1)
      continue;
    rc = own != NULL ? own(cmd, opt, optarg, ctx) : 0;
    if (rc < 0)
      return M0CTL_USAGE;
    if (rc == 0)
      return bad_option(cmd, longs, opt, argv);
  }
  return M0CTL_OK;
}

static void print_t_ms(const struct line *ans) {
  const struct m0_json_member *t = member(ans, "t_ms");
  if (t != NULL)
    printf("%.*s\n", (int)t->raw_len, t->raw);
  fflush(stdout);
}

/* A command that is one request: no arguments, prints the result or the t_ms. */
static int simple(const struct m0ctl_cmd *cmd, int argc, char **argv, const char *name,
                  bool with_dev, const char *extra, bool print_result, int positional) {
  static const struct option longs[] = {COMMON_LONGS, {NULL, 0, NULL, 0}};
  struct common co;
  struct conn c;
  struct line ans = {0};
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != positional)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind + positional]);
  rc = conn_open(cmd, &c, co.control, co.dev, co.timeout_ms);
  if (rc != M0CTL_OK)
    return rc;
  rc = call(&c, name, with_dev, extra, &ans);
  if (rc == M0CTL_OK) {
    const struct m0_json_member *res = member(&ans, "result");
    if (print_result && res != NULL)
      printf("%.*s\n", (int)res->raw_len, res->raw);
    else
      print_t_ms(&ans);
  }
  free(ans.scratch);
  conn_close(&c);
  return rc;
}

/* ---- status, list, restart, factory-reset ---- */

static int status(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return simple(cmd, argc, argv, "status", true, NULL, true, 0);
}

static int list(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return simple(cmd, argc, argv, "list", false, NULL, true, 0);
}

static int restart(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return simple(cmd, argc, argv, "restart", true, NULL, false, 0);
}

static int factory_reset(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return simple(cmd, argc, argv, "factory-reset", true, NULL, false, 0);
}

const struct m0ctl_cmd m0ctl_cmd_status = {
    .name = "status",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "the device's state as one JSON object (mode, links, counters, faults...)",
    .help = COMMON_HELP "  --timeout S     how long to wait for the answer (default 10)\n",
    .exec = status,
};

const struct m0ctl_cmd m0ctl_cmd_list = {
    .name = "list",
    .usage = "[--control SOCK]",
    .summary = "the emulator's devices as one JSON object",
    .help = COMMON_HELP,
    .exec = list,
};

const struct m0ctl_cmd m0ctl_cmd_restart = {
    .name = "restart",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "restart the device as AT+Z does; prints the t_ms of the request",
    .help = COMMON_HELP,
    .exec = restart,
};

const struct m0ctl_cmd m0ctl_cmd_factory_reset = {
    .name = "factory-reset",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "factory settings saved, then a restart; prints the t_ms of the request",
    .help = COMMON_HELP,
    .exec = factory_reset,
};

/* ---- power ---- */

/* Milliseconds as JSON seconds, exactly. */
static void seconds_json(char *buf, size_t cap, const char *name, uint64_t ms) {
  snprintf(buf, cap, "\"%s\":%llu.%03llu", name, (unsigned long long)(ms / 1000),
           (unsigned long long)(ms % 1000));
}

struct for_opt {
  uint64_t for_ms;
  bool given;
};

static int for_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct for_opt *f = ctx;
  if (opt != OPT_FOR)
    return 0;
  if (m0ctl_seconds(arg, TIMEOUT_MAX_S, &f->for_ms) != 0 || f->for_ms == 0) {
    m0ctl_usage(cmd, "--for: expected seconds (more than 0, at most %u), got '%s'",
                TIMEOUT_MAX_S, arg);
    return -1;
  }
  f->given = true;
  return 1;
}

static int power(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS, {"for", required_argument, NULL, OPT_FOR},
                                        {NULL, 0, NULL, 0}};
  struct common co;
  struct for_opt f = {0};
  struct conn c;
  struct line ans = {0};
  char extra[96];
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, for_option, &f, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1 || (strcmp(argv[optind], "on") != 0 && strcmp(argv[optind], "off") != 0))
    return m0ctl_usage(cmd, "expected on or off");
  bool on = strcmp(argv[optind], "on") == 0;
  if (on && f.given)
    return m0ctl_usage(cmd, "--for is for power off (a power cycle)");
  char secs[64] = "";
  if (f.given)
    seconds_json(secs, sizeof secs, "for_s", f.for_ms);
  snprintf(extra, sizeof extra, "\"state\":\"%s\"%s%s", on ? "on" : "off", f.given ? "," : "",
           secs);
  rc = conn_open(cmd, &c, co.control, co.dev, co.timeout_ms);
  if (rc != M0CTL_OK)
    return rc;
  rc = call(&c, "power", true, extra, &ans);
  if (rc == M0CTL_OK)
    print_t_ms(&ans);
  free(ans.scratch);
  conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_power = {
    .name = "power",
    .usage = "[--control SOCK] [--dev NAME] off [--for S] | on",
    .summary = "cut the device's power or give it back; prints the t_ms of the request",
    .help = COMMON_HELP
    "  --for S         power off for S seconds, then on by itself (a power cycle)\n"
    "Off: TCP peers meet silence (no FIN), the UART is silent, flash keeps what was saved.\n"
    "On: the connections of before are reset, then the device boots.\n",
    .exec = power,
};

/* ---- cable, hang ---- */

struct cable_opts {
  uint64_t for_ms, reset_ms;
  bool for_given, reset_given;
};

static int cable_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct cable_opts *o = ctx;
  uint64_t *v = opt == OPT_FOR ? &o->for_ms : opt == OPT_RESET_AFTER ? &o->reset_ms : NULL;
  if (v == NULL)
    return 0;
  if (m0ctl_seconds(arg, TIMEOUT_MAX_S, v) != 0 || *v == 0) {
    m0ctl_usage(cmd, "--%s: expected seconds (more than 0, at most %u), got '%s'",
                opt == OPT_FOR ? "for" : "reset-after", TIMEOUT_MAX_S, arg);
    return -1;
  }
  *(opt == OPT_FOR ? &o->for_given : &o->reset_given) = true;
  return 1;
}

/* Run one request with these members and print its t_ms. */
static int action(const struct m0ctl_cmd *cmd, const struct common *co, const char *name,
                  const char *extra) {
  struct conn c;
  struct line ans = {0};
  int rc = conn_open(cmd, &c, co->control, co->dev, co->timeout_ms);
  if (rc != M0CTL_OK)
    return rc;
  rc = call(&c, name, true, extra, &ans);
  if (rc == M0CTL_OK)
    print_t_ms(&ans);
  free(ans.scratch);
  conn_close(&c);
  return rc;
}

static int cable(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS,
                                        {"for", required_argument, NULL, OPT_FOR},
                                        {"reset-after", required_argument, NULL, OPT_RESET_AFTER},
                                        {NULL, 0, NULL, 0}};
  struct common co;
  struct cable_opts o = {0};
  char extra[160], a[64] = "", b[64] = "";
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, cable_option, &o, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1 ||
      (strcmp(argv[optind], "unplug") != 0 && strcmp(argv[optind], "plug") != 0))
    return m0ctl_usage(cmd, "expected unplug or plug");
  bool plug = strcmp(argv[optind], "plug") == 0;
  if (plug && (o.for_given || o.reset_given))
    return m0ctl_usage(cmd, "--for and --reset-after are for unplug");
  if (o.for_given) {
    a[0] = ',';
    seconds_json(a + 1, sizeof a - 1, "for_s", o.for_ms);
  }
  if (o.reset_given) {
    b[0] = ',';
    seconds_json(b + 1, sizeof b - 1, "reset_after_s", o.reset_ms);
  }
  snprintf(extra, sizeof extra, "\"state\":\"%s\"%s%s", plug ? "plugged" : "unplugged", a, b);
  return action(cmd, &co, "cable", extra);
}

const struct m0ctl_cmd m0ctl_cmd_cable = {
    .name = "cable",
    .usage = "[--control SOCK] [--dev NAME] unplug [--for S] [--reset-after S] | plug",
    .summary = "pull the Ethernet cable or plug it back; prints the t_ms of the request",
    .help = COMMON_HELP
    "  --for S         plugged back by itself after S seconds\n"
    "  --reset-after S an unplug this long resets the TCP connections at re-plug, as a\n"
    "                  stack that ran out of retries (default 60)\n"
    "Unplugged: peers see silence (no FIN), data for TCP is kept (16 KiB), datagrams are\n"
    "lost, dials time out after 10 s, the link pin drops.\n",
    .exec = cable,
};

static int hang(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS, {NULL, 0, NULL, 0}};
  struct common co;
  uint64_t ms;
  char extra[64];
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1 || m0ctl_seconds(argv[optind], TIMEOUT_MAX_S, &ms) != 0 || ms == 0)
    return m0ctl_usage(cmd, "expected SECONDS (more than 0, at most %u)", TIMEOUT_MAX_S);
  seconds_json(extra, sizeof extra, "for_s", ms);
  return action(cmd, &co, "hang", extra);
}

const struct m0ctl_cmd m0ctl_cmd_hang = {
    .name = "hang",
    .usage = "[--control SOCK] [--dev NAME] SECONDS",
    .summary = "the firmware hangs, then its watchdog restarts it; prints the request's t_ms",
    .help = COMMON_HELP
    "For SECONDS nothing is answered on the UART or the network (TCP peers see silence);\n"
    "then the connections are reset and the device restarts (restart cause watchdog).\n",
    .exec = hang,
};

/* ---- noise, impair, net-reset, flash, clear ---- */

/* Members gathered from options, as JSON text. */
struct members {
  char text[512];
  size_t len;
};

static void add_member(struct members *m, const char *fmt, const char *name, const char *value) {
  m->len += (size_t)snprintf(m->text + m->len, sizeof m->text - m->len, fmt,
                             m->len ? "," : "", name, value);
}

struct fault_opts {
  const struct m0ctl_cmd *cmd;
  struct members m;
  const char *const *dirs; /* the --dir choices */
};

static int fault_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct fault_opts *o = ctx;
  uint64_t v;
  unsigned long long n;
  char num[48];
  switch (opt) {
  case OPT_DIR:
    for (unsigned i = 0; o->dirs[i] != NULL; i++)
      if (strcmp(arg, o->dirs[i]) == 0) {
        add_member(&o->m, "%s\"%s\":\"%s\"", "dir", arg);
        return 1;
      }
    m0ctl_usage(cmd, "--dir: expected %s, %s or both, got '%s'", o->dirs[0], o->dirs[1], arg);
    return -1;
  case OPT_BER:
  case OPT_LOSS:
    if (m0ctl_probability(arg, &v) != 0) {
      m0ctl_usage(cmd, "--%s: expected a probability 0-1 (0.001, 1e-6), got '%s'",
                  opt == OPT_BER ? "ber" : "loss", arg);
      return -1;
    }
    snprintf(num, sizeof num, "%llu.%09llu", (unsigned long long)(v / 1000000000u),
             (unsigned long long)(v % 1000000000u));
    add_member(&o->m, "%s\"%s\":%s", opt == OPT_BER ? "bit_error" : "loss", num);
    return 1;
  case OPT_DELAY:
  case OPT_JITTER:
  case OPT_FOR:
    if (m0ctl_seconds(arg, opt == OPT_FOR ? 86400 : 60, &v) != 0 || (opt == OPT_FOR && v == 0)) {
      m0ctl_usage(cmd, "--%s: expected seconds (e.g. 0.25), got '%s'",
                  opt == OPT_DELAY ? "delay" : opt == OPT_JITTER ? "jitter" : "for", arg);
      return -1;
    }
    snprintf(num, sizeof num, "%llu.%03llu", (unsigned long long)(v / 1000),
             (unsigned long long)(v % 1000));
    add_member(&o->m, "%s\"%s\":%s",
               opt == OPT_DELAY ? "delay_s" : opt == OPT_JITTER ? "jitter_s" : "for_s", num);
    return 1;
  case OPT_RATE:
  case OPT_SEED:
    if (m0ctl_uint(arg, 0, opt == OPT_RATE ? 16000000ull : (1ull << 62), &n) != 0) {
      m0ctl_usage(cmd, "--%s: expected %s, got '%s'", opt == OPT_RATE ? "rate" : "seed",
                  opt == OPT_RATE ? "bytes per second 0-16000000" : "a number", arg);
      return -1;
    }
    snprintf(num, sizeof num, "%llu", n);
    add_member(&o->m, "%s\"%s\":%s", opt == OPT_RATE ? "rate" : "seed", num);
    return 1;
  default:
    return 0;
  }
}

static const char *const uart_dir_names[] = {"to_host", "from_host", "both", NULL};
static const char *const net_dir_names[] = {"to_net", "from_net", "both", NULL};

static int fault_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv, const char *name,
                     const char *const *dirs, const struct option *longs) {
  struct common co;
  struct fault_opts o = {.cmd = cmd, .dirs = dirs};
  bool done, dir_given;
  int rc = options(cmd, argc, argv, longs, &co, fault_option, &o, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc != optind)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
  dir_given = strstr(o.m.text, "\"dir\"") != NULL;
  if (!dir_given)
    add_member(&o.m, "%s\"%s\":\"%s\"", "dir", "both");
  return action(cmd, &co, name, o.m.text);
}

static int noise_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS,
                                        {"dir", required_argument, NULL, OPT_DIR},
                                        {"ber", required_argument, NULL, OPT_BER},
                                        {"loss", required_argument, NULL, OPT_LOSS},
                                        {"for", required_argument, NULL, OPT_FOR},
                                        {"seed", required_argument, NULL, OPT_SEED},
                                        {NULL, 0, NULL, 0}};
  return fault_cmd(cmd, argc, argv, "uart.fault", uart_dir_names, longs);
}

const struct m0ctl_cmd m0ctl_cmd_noise = {
    .name = "noise",
    .usage = "[--control SOCK] [--dev NAME] [--dir D] [--ber P] [--loss P] [--for S] [--seed N]",
    .summary = "noise on the serial line (no --ber nor --loss: clear it); prints the t_ms",
    .help = COMMON_HELP
    "  --dir D         to_host, from_host or both (default)\n"
    "  --ber P         each data bit flips with probability P (e.g. 1e-4)\n"
    "  --loss P        each byte is lost with probability P\n"
    "  --for S         for S seconds (default: until cleared)\n"
    "  --seed N        reseed the generator first: the same seed hits the same bytes\n",
    .exec = noise_cmd,
};

static int impair_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS,
                                        {"dir", required_argument, NULL, OPT_DIR},
                                        {"delay", required_argument, NULL, OPT_DELAY},
                                        {"jitter", required_argument, NULL, OPT_JITTER},
                                        {"loss", required_argument, NULL, OPT_LOSS},
                                        {"rate", required_argument, NULL, OPT_RATE},
                                        {"for", required_argument, NULL, OPT_FOR},
                                        {"seed", required_argument, NULL, OPT_SEED},
                                        {NULL, 0, NULL, 0}};
  return fault_cmd(cmd, argc, argv, "net.fault", net_dir_names, longs);
}

const struct m0ctl_cmd m0ctl_cmd_impair = {
    .name = "impair",
    .usage = "[--control SOCK] [--dev NAME] [--dir D] [--delay S] [--jitter S] [--loss P] "
             "[--rate B] [--for S] [--seed N]",
    .summary = "a slow, late or lossy network (no option: clear it); prints the t_ms",
    .help = COMMON_HELP
    "  --dir D         to_net, from_net or both (default)\n"
    "  --delay S       every send or arrival is S seconds late (at most 60)\n"
    "  --jitter S      ... plus or minus up to S (order is kept)\n"
    "  --loss P        each datagram is lost with probability P (UDP; TCP loses nothing)\n"
    "  --rate B        at most B bytes per second\n"
    "  --for S         for S seconds (default: until cleared)\n"
    "  --seed N        reseed the generator first\n",
    .exec = impair_cmd,
};

static int net_reset(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return simple(cmd, argc, argv, "net.reset", true, NULL, false, 0);
}

const struct m0ctl_cmd m0ctl_cmd_net_reset = {
    .name = "net-reset",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "reset every TCP connection now (RST to the peers); prints the t_ms",
    .help = COMMON_HELP,
    .exec = net_reset,
};

static int flash_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS, {"for", required_argument, NULL, OPT_FOR},
                                        {NULL, 0, NULL, 0}};
  struct common co;
  struct for_opt f = {0};
  char extra[128], secs[64] = "";
  unsigned long long n = 0;
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, for_option, &f, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  int args = argc - optind;
  const char *what = args >= 1 ? argv[optind] : "";
  if (f.given) {
    secs[0] = ',';
    seconds_json(secs + 1, sizeof secs - 1, "for_s", f.for_ms);
  }
  if (strcmp(what, "fail") == 0 && args == 2 && m0ctl_uint(argv[optind + 1], 1, 1000000, &n) == 0)
    snprintf(extra, sizeof extra, "\"fail_next\":%llu%s", n, secs);
  else if (strcmp(what, "full") == 0 && args == 1)
    snprintf(extra, sizeof extra, "\"full\":true%s", secs);
  else if (strcmp(what, "ok") == 0 && args == 1 && !f.given)
    snprintf(extra, sizeof extra, "\"fail_next\":0");
  else
    return m0ctl_usage(cmd, "expected fail N (1-1000000), full, or ok");
  return action(cmd, &co, "flash.fault", extra);
}

const struct m0ctl_cmd m0ctl_cmd_flash = {
    .name = "flash",
    .usage = "[--control SOCK] [--dev NAME] fail N | full | ok  [--for S]",
    .summary = "flash that fails: the next N saves, or every one (full); ok clears it",
    .help = COMMON_HELP
    "  --for S         the fault ends after S seconds (default: when used up, or ok)\n"
    "A refused save answers +ERR=-5 on the serial port (an error on the web page) and\n"
    "changes nothing.\n",
    .exec = flash_cmd,
};

static int clear_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS, {NULL, 0, NULL, 0}};
  struct common co;
  char extra[64] = "";
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind > 1)
    return m0ctl_usage(cmd, "expected at most one of all, uart, net, flash, cable");
  if (argc - optind == 1) {
    const char *w = argv[optind];
    if (strcmp(w, "all") != 0 && strcmp(w, "uart") != 0 && strcmp(w, "net") != 0 &&
        strcmp(w, "flash") != 0 && strcmp(w, "cable") != 0)
      return m0ctl_usage(cmd, "expected all, uart, net, flash or cable, got '%s'", w);
    snprintf(extra, sizeof extra, "\"fault\":\"%s\"", w);
  }
  return action(cmd, &co, "clear", extra);
}

const struct m0ctl_cmd m0ctl_cmd_clear = {
    .name = "clear",
    .usage = "[--control SOCK] [--dev NAME] [all|uart|net|flash|cable]",
    .summary = "end faults (default all: noise, impairment, flash, a pulled cable)",
    .help = COMMON_HELP,
    .exec = clear_cmd,
};

/* ---- uart write, read, chat ---- */

/* Bytes as a JSON string of one character per byte (what uart.write's "data" reads). */
static char *bytes_json(const unsigned char *data, size_t len) {
  char *out = malloc(len * M0_JSON_ESCAPE_MAX + 3), *p = out;
  if (out == NULL)
    return NULL;
  *p++ = '"';
  for (size_t i = 0; i < len; i++) {
    char esc[M0_JSON_ESCAPE_MAX];
    size_t n = m0_json_escape_byte(data[i], true, esc);
    if (n == 0) {
      *p++ = (char)data[i];
    } else {
      memcpy(p, esc, n);
      p += n;
    }
  }
  *p++ = '"';
  *p = '\0';
  return out;
}

/* A uart.data line's "data" back to bytes (its characters are U+0000..U+00FF). */
static size_t data_bytes(const struct m0_json_member *m, unsigned char *out) {
  size_t n = 0;
  for (size_t i = 0; i < m->str_len; i++) {
    unsigned char c = (unsigned char)m->str[i];
    if (c >= 0xc2 && c <= 0xc3 && i + 1 < m->str_len) {
      out[n++] = (unsigned char)(((c & 0x1f) << 6) | ((unsigned char)m->str[i + 1] & 0x3f));
      i++;
    } else {
      out[n++] = c;
    }
  }
  return n;
}

struct uart_opts {
  bool hex;
  unsigned long long bytes; /* 0: no count */
  const char *until;        /* NULL: none */
  unsigned char until_bytes[1024];
  long until_len;
};

static int uart_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct uart_opts *o = ctx;
  const char *bad = NULL;
  switch (opt) {
  case OPT_HEX:
    o->hex = true;
    return 1;
  case OPT_BYTES:
    if (m0ctl_uint(arg, 1, 1ull << 40, &o->bytes) != 0) {
      m0ctl_usage(cmd, "--bytes: expected a count of bytes, got '%s'", arg);
      return -1;
    }
    return 1;
  case OPT_UNTIL:
    if (strlen(arg) >= sizeof o->until_bytes ||
        (o->until_len = m0ctl_unescape(arg, o->until_bytes, &bad)) <= 0) {
      m0ctl_usage(cmd, "--until: %s", bad ? bad : "expected some text (\\r \\n \\xHH allowed)");
      return -1;
    }
    o->until = arg;
    return 1;
  default:
    return 0;
  }
}

/* Read uart.data lines, writing their bytes to stdout, until --bytes or --until (exit 0)
 * or the deadline (exit 0 when neither was asked for, else 1). `skip_answer` is the id
 * of a request whose answer may come meanwhile (uart chat's write). */
static int uart_stream(const struct m0ctl_cmd *cmd, struct conn *c, const struct uart_opts *o,
                       uint64_t deadline) {
  struct line l = {0};
  unsigned char *seen = NULL, buf[65536];
  size_t seen_len = 0, total = 0;
  int rc = M0CTL_FAIL;
  for (;;) {
    char *text;
    size_t len;
    int r = read_line(c, deadline, &text, &len);
    if (r == 0) {
      if (o->bytes == 0 && o->until == NULL)
        rc = M0CTL_OK;
      else
        m0ctl_fail(cmd, "%s within the timeout (%zu bytes came)",
                   o->until ? "the text did not come" : "fewer bytes than asked", total);
      break;
    }
    if (r < 0 || parse(c, &l, text, len) != 0)
      break;
    const struct m0_json_member *ev = member(&l, "ev"), *data = member(&l, "data");
    if (ev == NULL || ev->type != M0_JSON_STRING || strcmp(ev->str, "uart.data") != 0 ||
        data == NULL || data->type != M0_JSON_STRING || data->str_len > sizeof buf) {
      if (member(&l, "ok") != NULL && member(&l, "ok")->type != M0_JSON_TRUE) {
        m0ctl_fail(cmd, "refused: %s", l.text);
        break;
      }
      continue;
    }
    size_t n = data_bytes(data, buf);
    if (o->bytes != 0 && total + n > o->bytes)
      n = (size_t)(o->bytes - total);
    fwrite(buf, 1, n, stdout);
    fflush(stdout);
    total += n;
    if (o->bytes != 0 && total >= o->bytes) {
      rc = M0CTL_OK;
      break;
    }
    if (o->until != NULL) {
      unsigned char *p = realloc(seen, seen_len + n);
      if (p == NULL)
        break;
      seen = p;
      memcpy(seen + seen_len, buf, n);
      seen_len += n;
      if (memmem(seen, seen_len, o->until_bytes, (size_t)o->until_len) != NULL) {
        rc = M0CTL_OK;
        break;
      }
    }
  }
  free(seen);
  free(l.scratch);
  return rc;
}

static int uart(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS,
                                        {"hex", no_argument, NULL, OPT_HEX},
                                        {"bytes", required_argument, NULL, OPT_BYTES},
                                        {"until", required_argument, NULL, OPT_UNTIL},
                                        {NULL, 0, NULL, 0}};
  struct common co;
  struct uart_opts o;
  struct conn c;
  struct line ans = {0};
  bool done;
  memset(&o, 0, sizeof o);
  int rc = options(cmd, argc, argv, longs, &co, uart_option, &o, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind < 1)
    return m0ctl_usage(cmd, "expected write DATA, read, or chat DATA");
  const char *verb = argv[optind];
  bool write_ = strcmp(verb, "write") == 0, read_ = strcmp(verb, "read") == 0,
       chat = strcmp(verb, "chat") == 0;
  if (!write_ && !read_ && !chat)
    return m0ctl_usage(cmd, "expected write, read or chat, got '%s'", verb);
  if ((write_ || chat) != (argc - optind == 2) || (read_ && argc - optind != 1))
    return m0ctl_usage(cmd, write_ || chat ? "%s needs DATA" : "%s takes no DATA", verb);
  if (write_ && (o.bytes || o.until))
    return m0ctl_usage(cmd, "--bytes and --until are for read and chat");
  if (read_ && o.hex)
    return m0ctl_usage(cmd, "--hex is for the DATA of write and chat");
  /* DATA: C escapes, or hex digits. */
  unsigned char *bytes = NULL;
  long nbytes = 0;
  char *extra = NULL;
  if (write_ || chat) {
    const char *arg = argv[optind + 1], *bad = NULL;
    size_t alen = strlen(arg);
    bytes = malloc(alen + 1);
    if (bytes == NULL)
      return m0ctl_fail(cmd, "out of memory");
    if (o.hex) {
      if (alen % 2 != 0 || strspn(arg, "0123456789abcdefABCDEF") != alen) {
        free(bytes);
        return m0ctl_usage(cmd, "--hex: DATA must be pairs of hex digits");
      }
      extra = malloc(alen + 16);
      if (extra != NULL)
        snprintf(extra, alen + 16, "\"hex\":\"%s\"", arg);
    } else {
      nbytes = m0ctl_unescape(arg, bytes, &bad);
      if (nbytes < 0) {
        free(bytes);
        return m0ctl_usage(cmd, "DATA: %s", bad);
      }
      char *js = bytes_json(bytes, (size_t)nbytes);
      extra = js != NULL ? malloc(strlen(js) + 16) : NULL;
      if (extra != NULL)
        snprintf(extra, strlen(js) + 16, "\"data\":%s", js);
      free(js);
    }
    free(bytes);
    if (extra == NULL)
      return m0ctl_fail(cmd, "out of memory");
  }
  rc = conn_open(cmd, &c, co.control, co.dev, DEFAULT_TIMEOUT_MS);
  if (rc != M0CTL_OK) {
    free(extra);
    return rc;
  }
  uint64_t deadline = m0ctl_now_ms() + co.timeout_ms;
  if (read_ || chat) /* hold: a script's reader must not miss a byte */
    rc = call(&c, "uart.subscribe", true, "\"hold\":true", &ans);
  if (rc == M0CTL_OK && (write_ || chat)) {
    unsigned long id;
    rc = send_request(&c, "uart.write", true, extra, &id);
    if (rc == M0CTL_OK && write_) {
      rc = await_answer(&c, id, &ans, NULL, NULL);
      if (rc == M0CTL_OK)
        print_t_ms(&ans);
    }
  }
  if (rc == M0CTL_OK && (read_ || chat))
    rc = uart_stream(cmd, &c, &o, deadline);
  free(extra);
  free(ans.scratch);
  conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_uart = {
    .name = "uart",
    .usage = "[--control SOCK] [--dev NAME] write DATA | read | chat DATA  [--hex] "
             "[--bytes N] [--until TEXT] [--timeout S]",
    .summary = "the device's UART without a pty: write bytes as the host, read what it sends",
    .help = COMMON_HELP
    "  write DATA      send DATA as if the host typed it (\\r \\n \\t \\0 \\\\ \\xHH escapes, or\n"
    "                  --hex DATA); answered once the device took the last byte\n"
    "  read            print the bytes the device sends its host, raw, until --bytes N\n"
    "                  or --until TEXT came (exit 0; 1 at --timeout), or until --timeout\n"
    "  chat DATA       read (subscribed first, so nothing is missed) after writing DATA\n"
    "  --timeout S     how long read and chat go on (default 10)\n"
    "While a read or chat runs the device's host is attached (its replies are kept), and\n"
    "the device waits for m0ctl as for a tty host: nothing is missed.\n"
    "  m0ctl uart chat '+++' --until a && m0ctl uart chat 'a' --until +ok\n",
    .exec = uart,
};

/* ---- events and wait ---- */

struct events_ctx {
  unsigned long long count, seen;
};

static int events_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct events_ctx *e = ctx;
  if (opt != OPT_COUNT)
    return 0;
  if (m0ctl_uint(arg, 1, 1000000000ull, &e->count) != 0) {
    m0ctl_usage(cmd, "--count: expected a number of events, got '%s'", arg);
    return -1;
  }
  return 1;
}

/* Subscribe (all devices, or --dev's) with a replay of the events at or after since. */
static int subscribe(struct conn *c, bool replay, uint64_t since_ms, struct line *ans) {
  char extra[96];
  if (replay)
    snprintf(extra, sizeof extra, "\"replay\":512,\"since_ms\":%llu",
             (unsigned long long)since_ms);
  else
    extra[0] = '\0';
  return call(c, "subscribe", c->dev != NULL, extra, ans);
}

static int events(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS,
                                        {"count", required_argument, NULL, OPT_COUNT},
                                        {NULL, 0, NULL, 0}};
  struct common co;
  struct events_ctx e = {0};
  struct conn c;
  struct line l = {0};
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, events_option, &e, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc != optind)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
  rc = conn_open(cmd, &c, co.control, co.dev, DEFAULT_TIMEOUT_MS);
  if (rc != M0CTL_OK)
    return rc;
  rc = subscribe(&c, false, 0, &l);
  uint64_t deadline = co.timeout_given ? m0ctl_now_ms() + co.timeout_ms : UINT64_MAX;
  while (rc == M0CTL_OK && (e.count == 0 || e.seen < e.count)) {
    char *text;
    size_t len;
    int r = read_line(&c, deadline, &text, &len);
    if (r <= 0) {
      rc = r == 0 ? M0CTL_OK : M0CTL_FAIL;
      break;
    }
    if (len > 0 && strstr(text, "\"ev\":") != NULL) {
      printf("%s\n", text);
      fflush(stdout);
      e.seen++;
    }
  }
  free(l.scratch);
  conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_events = {
    .name = "events",
    .usage = "[--control SOCK] [--dev NAME] [--timeout S] [--count N]",
    .summary = "print the event stream (as --events writes it) until --timeout or --count",
    .help = COMMON_HELP
    "  --timeout S     stop after S seconds (default: never)\n"
    "  --count N       stop after N events\n",
    .exec = events,
};

struct wait_ctx {
  uint64_t since_ms;
  bool since;
};

static int wait_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct wait_ctx *w = ctx;
  unsigned long long v;
  if (opt != OPT_SINCE)
    return 0;
  if (m0ctl_uint(arg, 0, UINT64_MAX / 2, &v) != 0) {
    m0ctl_usage(cmd, "--since: expected a t_ms (what an action printed), got '%s'", arg);
    return -1;
  }
  w->since_ms = v;
  w->since = true;
  return 1;
}

/* Does the event line match name and every field=value? A string field compares its
 * decoded text, any other its JSON text (link=0, connected=true). */
static bool matches(const struct line *l, const char *name, char **fields, int nfields) {
  const struct m0_json_member *ev = member(l, "ev");
  if (ev == NULL || ev->type != M0_JSON_STRING || strcmp(ev->str, name) != 0)
    return false;
  for (int i = 0; i < nfields; i++) {
    const char *eq = strchr(fields[i], '=');
    char key[128];
    size_t klen = (size_t)(eq - fields[i]);
    memcpy(key, fields[i], klen);
    key[klen] = '\0';
    const struct m0_json_member *m = member(l, key);
    const char *want = eq + 1;
    if (m == NULL)
      return false;
    if (m->type == M0_JSON_STRING ? strcmp(m->str, want) != 0
                                  : (m->raw_len != strlen(want) ||
                                     memcmp(m->raw, want, m->raw_len) != 0))
      return false;
  }
  return true;
}

static int wait_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS,
                                        {"since", required_argument, NULL, OPT_SINCE},
                                        {NULL, 0, NULL, 0}};
  struct common co;
  struct wait_ctx w = {0};
  struct conn c;
  struct line l = {0};
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, wait_option, &w, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind < 1)
    return m0ctl_usage(cmd, "which event? (e.g. ready, net.connected link=0)");
  if (!co.timeout_given)
    return m0ctl_usage(cmd, "--timeout S is required (how long to wait)");
  const char *name = argv[optind];
  char **fields = argv + optind + 1;
  int nfields = argc - optind - 1;
  for (int i = 0; i < nfields; i++) {
    const char *eq = strchr(fields[i], '=');
    if (eq == NULL || eq == fields[i] || (size_t)(eq - fields[i]) >= 128)
      return m0ctl_usage(cmd, "expected field=value, got '%s'", fields[i]);
  }
  rc = conn_open(cmd, &c, co.control, co.dev, DEFAULT_TIMEOUT_MS);
  if (rc != M0CTL_OK)
    return rc;
  uint64_t deadline = m0ctl_now_ms() + co.timeout_ms;
  unsigned long id;
  char extra[96];
  if (w.since)
    snprintf(extra, sizeof extra, "\"replay\":512,\"since_ms\":%llu",
             (unsigned long long)w.since_ms);
  else
    extra[0] = '\0';
  rc = send_request(&c, "subscribe", c.dev != NULL, extra, &id);
  bool answered = false, found = false;
  while (rc == M0CTL_OK && !found) {
    char *text;
    size_t len;
    int r = read_line(&c, deadline, &text, &len);
    if (r == 0)
      break;
    if (r < 0 || parse(&c, &l, text, len) != 0) {
      rc = M0CTL_FAIL;
      break;
    }
    if (member(&l, "ok") != NULL) { /* the subscription's answer */
      if (member(&l, "ok")->type != M0_JSON_TRUE) {
        rc = m0ctl_fail(cmd, "the emulator refused the subscription: %s", l.text);
        break;
      }
      answered = true;
      continue;
    }
    if (answered && matches(&l, name, fields, nfields)) {
      printf("%s\n", l.text);
      found = true;
    }
  }
  if (rc == M0CTL_OK && !found)
    rc = m0ctl_fail(cmd, "no %s event%s within %llu.%03llu s", name,
                    nfields ? " with those fields" : "",
                    (unsigned long long)(co.timeout_ms / 1000),
                    (unsigned long long)(co.timeout_ms % 1000));
  free(l.scratch);
  conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_wait = {
    .name = "wait",
    .usage = "[--control SOCK] [--dev NAME] EVENT [FIELD=VALUE ...] --timeout S [--since T]",
    .summary = "wait for an event (with these fields); exit 0 when seen, 1 at the timeout",
    .help = COMMON_HELP
    "  --timeout S     how long to wait (required)\n"
    "  --since T       also look at the recent events from t_ms T on (what an action\n"
    "                  printed), so an event that came before wait started counts\n"
    "A FIELD's VALUE compares with the event's text for strings, its JSON for the rest:\n"
    "  m0ctl wait net.closed link=0 reason=reset --timeout 5\n"
    "The matching event is printed.\n",
    .exec = wait_cmd,
};

/* ---- call: any request ---- */

static int call_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {COMMON_LONGS, {NULL, 0, NULL, 0}};
  struct common co;
  struct conn c;
  struct line l = {0};
  bool done;
  int rc = options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1)
    return m0ctl_usage(cmd, "expected one JSON request, e.g. '{\"cmd\":\"status\"}'");
  rc = conn_open(cmd, &c, co.control, co.dev, co.timeout_ms);
  if (rc != M0CTL_OK)
    return rc;
  const char *req = argv[optind];
  size_t len = strlen(req);
  if (write(c.fd, req, len) != (ssize_t)len || write(c.fd, "\n", 1) != 1) {
    conn_close(&c);
    return m0ctl_fail(cmd, "cannot send: %s", strerror(errno));
  }
  uint64_t deadline = m0ctl_now_ms() + co.timeout_ms;
  rc = M0CTL_FAIL;
  for (;;) {
    char *text;
    size_t tlen;
    int r = read_line(&c, deadline, &text, &tlen);
    if (r == 0)
      m0ctl_fail(cmd, "no answer within %llu ms", (unsigned long long)co.timeout_ms);
    if (r <= 0 || parse(&c, &l, text, tlen) != 0)
      break;
    const struct m0_json_member *ok = member(&l, "ok");
    if (ok == NULL)
      continue;
    printf("%s\n", l.text);
    rc = ok->type == M0_JSON_TRUE ? M0CTL_OK : M0CTL_FAIL;
    break;
  }
  free(l.scratch);
  conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_call = {
    .name = "call",
    .usage = "[--control SOCK] 'JSON'",
    .summary = "send one request line as written, print its answer line (exit 1 if not ok)",
    .help = COMMON_HELP,
    .exec = call_cmd,
};
