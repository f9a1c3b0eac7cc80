/* at_port.c: m0ctl's side of a serial port that has a USR-M0 on it (at_port.h): the port
 * opened raw, command mode entered and left, one AT command and its reply; what at, get,
 * set, dump and load (cmd_at.c) share. It talks the way a careful host program talks to
 * the module (spec section 3).
 *
 * The port is opened raw (8N1, --baud, no flow control). Entering command mode must work
 * from any state without knowing it: after an idle guard of 200 ms (far above the four
 * character times the module wants) "+++" goes in one write; a module in transparent
 * mode answers "a" at once, we answer "a" and it says "+ok" (+OK accepted too). No "a"
 * within a second means it was booting, or already in command mode with our "+++" now
 * on its command line: a CR ends that line, and a module in command mode answers it
 * (+ERR=-1: "+++" is no command) - so it is already there and we go on. Neither answer:
 * we try again, until --timeout. An "a" that was only network data is harmless: our "a"
 * then completes nothing, no "+ok" comes and we try again. Only the first entry of a
 * session may probe with a CR; after AT+Z, AT+RELD or AT+ENTM the module is known to be
 * in transparent mode and is only ever sent "+++" (a CR there would be network data).
 *
 * A reply is CR LF + body + CR LF after the echo of our line (when echo is on): its body
 * starts at the first CR LF "+" (an echo holds no CR LF), so one parser reads echo on and
 * off and both dialects. AT+H answers several lines; they end when the line is quiet for
 * 300 ms. Each reply body is printed on its own line; the first +ERR or a timeout stops
 * the run (exit 1). Unless --stay, command mode is left with AT+ENTM at the end, even
 * after an error, so the module goes back to moving data.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "at_port.h"

#define GUARD_MS 200
#define A_WAIT_MS 1000      /* the module's 'a' after +++ */
#define OK_WAIT_MS 1000     /* its +ok after our 'a' */
#define PROBE_WAIT_MS 1000  /* a command-mode answer to our CR */
#define MULTILINE_QUIET_MS 300
#define DEFAULT_TIMEOUT_MS 5000
#define TIMEOUT_MAX_S 600

/* ---- the port ---- */

static const struct {
  unsigned long long baud;
  speed_t speed;
} speeds[] = {
    {600, B600},       {1200, B1200},     {2400, B2400},     {4800, B4800},
    {9600, B9600},     {19200, B19200},   {38400, B38400},   {57600, B57600},
    {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600},
};

int m0ctl_port_open(struct m0ctl_port *p) {
  struct termios t;
  speed_t speed = 0;
  for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++)
    if (speeds[i].baud == p->baud)
      speed = speeds[i].speed;
  if (speed == 0)
    return m0ctl_usage(p->cmd, "--baud: %llu is not a serial speed this tool can set",
                       p->baud);
  p->fd = open(p->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (p->fd < 0)
    return m0ctl_fail(p->cmd, "cannot open %s: %s", p->path, strerror(errno));
  if (tcgetattr(p->fd, &t) != 0) {
    int e = errno;
    close(p->fd);
    p->fd = -1;
    return m0ctl_fail(p->cmd, "%s is not a serial port: %s", p->path, strerror(e));
  }
  cfmakeraw(&t);
  t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
  t.c_cflag |= CS8 | CLOCAL | CREAD;
  t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  cfsetispeed(&t, speed);
  cfsetospeed(&t, speed);
  if (tcsetattr(p->fd, TCSANOW, &t) != 0) {
    int e = errno;
    close(p->fd);
    p->fd = -1;
    return m0ctl_fail(p->cmd, "cannot set %s to %llu 8N1: %s", p->path, p->baud, strerror(e));
  }
  return M0CTL_OK;
}

/* Read what arrives before deadline into buf (at least one read's worth if any comes):
 * 1 something came, 0 nothing by the deadline, -1 error. */
static int port_read(struct m0ctl_port *p, uint64_t deadline) {
  for (;;) {
    if (p->len == M0CTL_PORT_BUF_MAX) { /* nobody consumes this much noise: keep the newest half */
      memmove(p->buf, p->buf + M0CTL_PORT_BUF_MAX / 2, M0CTL_PORT_BUF_MAX / 2);
      p->len = M0CTL_PORT_BUF_MAX / 2;
    }
    int rc = m0ctl_wait_in(p->fd, deadline); /* past the deadline: one look still */
    if (rc < 0)
      return -1;
    if (rc == 0)
      return 0;
    ssize_t n = read(p->fd, p->buf + p->len, M0CTL_PORT_BUF_MAX - p->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0) {
      m0ctl_fail(p->cmd, "reading %s: %s", p->path, strerror(errno));
      return -1;
    }
    if (n == 0) { /* a pty whose other side is gone, or a hung-up line */
      m0ctl_fail(p->cmd, "%s: end of input (hung up?)", p->path);
      return -1;
    }
    p->len += (size_t)n;
    return 1;
  }
}

static int port_write(struct m0ctl_port *p, const void *data, size_t len) {
  const char *d = data;
  uint64_t deadline = m0ctl_now_ms() + p->timeout_ms;
  while (len > 0) {
    ssize_t n = write(p->fd, d, len);
    if (n > 0) {
      d += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return m0ctl_fail(p->cmd, "writing %s: %s", p->path, strerror(errno));
    struct pollfd pf = {.fd = p->fd, .events = POLLOUT};
    uint64_t now = m0ctl_now_ms();
    if (now >= deadline)
      return m0ctl_fail(p->cmd, "%s takes no more bytes (flow control?)", p->path);
    poll(&pf, 1, (int)(deadline - now));
  }
  return M0CTL_OK;
}

static void consume(struct m0ctl_port *p, size_t n) {
  if (n > p->len)
    n = p->len;
  memmove(p->buf, p->buf + n, p->len - n);
  p->len -= n;
}

static void discard(struct m0ctl_port *p, const char *why) {
  if (p->len > 0 && p->verbose)
    fprintf(stderr, "m0ctl %s: %zu bytes %s\n", p->cmd->name, p->len, why);
  p->len = 0;
}

/* Wait until pred finds what it wants in buf or the deadline: its position, or -1. */
typedef long (*find_fn)(const struct m0ctl_port *p);

static long wait_for(struct m0ctl_port *p, uint64_t deadline, find_fn find, bool *failed) {
  *failed = false;
  for (;;) {
    long at = find(p);
    if (at >= 0)
      return at;
    int rc = port_read(p, deadline);
    if (rc < 0) {
      *failed = true;
      return -1;
    }
    if (rc == 0)
      return find(p);
  }
}

static long find_a(const struct m0ctl_port *p) {
  const void *a = memchr(p->buf, 'a', p->len);
  return a != NULL ? (long)((const unsigned char *)a - p->buf) : -1;
}

static long find_ok(const struct m0ctl_port *p) {
  for (size_t i = 0; i + 3 <= p->len; i++)
    if (p->buf[i] == '+' && (p->buf[i + 1] | 0x20) == 'o' && (p->buf[i + 2] | 0x20) == 'k')
      return (long)i;
  return -1;
}

/* A complete reply: the index just past its closing CR LF; the body is found again by
 * reply_body(). */
static long find_reply(const struct m0ctl_port *p) {
  for (size_t i = 0; i + 2 < p->len; i++) {
    if (p->buf[i] != '\r' || p->buf[i + 1] != '\n' || p->buf[i + 2] != '+')
      continue;
    for (size_t j = i + 3; j + 1 < p->len; j++)
      if (p->buf[j] == '\r' && p->buf[j + 1] == '\n')
        return (long)(j + 2);
    return -1;
  }
  return -1;
}

/* The body of the reply that ends at end (exclusive), into out. */
static void reply_body(const struct m0ctl_port *p, long end, char *out, size_t cap) {
  size_t i = 0;
  while (!(p->buf[i] == '\r' && p->buf[i + 1] == '\n' && p->buf[i + 2] == '+'))
    i++;
  size_t from = i + 2, to = (size_t)end - 2, n = to - from;
  if (n >= cap)
    n = cap - 1;
  memcpy(out, p->buf + from, n);
  out[n] = '\0';
}

/* Sleep ms while reading and dropping what comes (transparent-mode data). */
static int idle(struct m0ctl_port *p, uint64_t ms) {
  uint64_t until = m0ctl_now_ms() + ms;
  for (;;) {
    int rc = port_read(p, until);
    if (rc < 0)
      return -1;
    discard(p, "of data dropped while entering command mode");
    if (rc == 0 && m0ctl_now_ms() >= until)
      return 0;
  }
}

/* ---- command mode ---- */

static void check_dialect(struct m0ctl_port *p, const char *body) {
  bool upper = strncmp(body, "+OK", 3) == 0, lower = strncmp(body, "+ok", 3) == 0;
  if ((p->dialect == M0CTL_DIALECT_DOC && upper) || (p->dialect == M0CTL_DIALECT_FIELD && lower))
    fprintf(stderr, "m0ctl %s: the module answers %.3s, not the %s dialect's spelling\n",
            p->cmd->name, body, p->dialect == M0CTL_DIALECT_DOC ? "doc" : "field");
}

static int enter(struct m0ctl_port *p) {
  uint64_t budget = p->timeout_ms > 3000 ? p->timeout_ms : 3000;
  uint64_t give_up = m0ctl_now_ms() + budget;
  bool failed;
  unsigned attempts = 0;
  while (m0ctl_now_ms() < give_up) {
    attempts++;
    if (idle(p, GUARD_MS) != 0 || port_write(p, "+++", 3) != M0CTL_OK)
      return M0CTL_FAIL;
    long at = wait_for(p, m0ctl_now_ms() + A_WAIT_MS, find_a, &failed);
    if (failed)
      return M0CTL_FAIL;
    if (at >= 0) {
      consume(p, (size_t)at + 1);
      if (port_write(p, "a", 1) != M0CTL_OK)
        return M0CTL_FAIL;
      at = wait_for(p, m0ctl_now_ms() + OK_WAIT_MS, find_ok, &failed);
      if (failed)
        return M0CTL_FAIL;
      if (at >= 0) {
        consume(p, (size_t)at + 3);
        p->in_command = true;
        p->probed = true;
        return M0CTL_OK;
      }
      continue; /* that 'a' was data: the handshake did not start */
    }
    if (p->probed)
      continue; /* known to be in transparent mode (or booting): only +++ again */
    /* Already in command mode? Our "+++" is on its command line: end it. */
    discard(p, "of echo or data before the probe");
    if (port_write(p, "\r", 1) != M0CTL_OK)
      return M0CTL_FAIL;
    at = wait_for(p, m0ctl_now_ms() + PROBE_WAIT_MS, find_reply, &failed);
    if (failed)
      return M0CTL_FAIL;
    if (at >= 0) {
      consume(p, (size_t)at);
      p->in_command = true;
      p->probed = true;
      if (p->verbose)
        fprintf(stderr, "m0ctl %s: the module was already in command mode\n", p->cmd->name);
      return M0CTL_OK;
    }
  }
  return m0ctl_fail(p->cmd, "no +++ handshake with the module on %s within %llu ms (%u "
                    "attempts; wrong --baud, or nothing there?)", p->path,
                    (unsigned long long)budget, attempts);
}

/* Is line (without AT prefix checks) one after which the module leaves command mode? */
static bool leaves_command_mode(const char *line) {
  return strcasecmp(line, "AT+Z") == 0 || strcasecmp(line, "AT+RELD") == 0 ||
         strcasecmp(line, "AT+ENTM") == 0;
}

/* One command line; its reply body (several lines for AT+H, joined with \n) in out.
 * Returns M0CTL_OK (reply in out, maybe +ERR) or M0CTL_FAIL (timeout, I/O). */
int m0ctl_port_command(struct m0ctl_port *p, const char *line, char *out, size_t cap) {
  bool failed;
  if (!p->in_command && enter(p) != M0CTL_OK)
    return M0CTL_FAIL;
  discard(p, "unasked for in command mode");
  if (port_write(p, line, strlen(line)) != M0CTL_OK || port_write(p, "\r", 1) != M0CTL_OK)
    return M0CTL_FAIL;
  long end = wait_for(p, m0ctl_now_ms() + p->timeout_ms, find_reply, &failed);
  if (failed)
    return M0CTL_FAIL;
  if (end < 0)
    return m0ctl_fail(p->cmd, "no reply to %s within %llu ms", line,
                      (unsigned long long)p->timeout_ms);
  reply_body(p, end, out, cap);
  consume(p, (size_t)end);
  check_dialect(p, out);
  if (strcasecmp(line, "AT+H") == 0 || strcasecmp(line, "AT+H?") == 0) {
    size_t n = strlen(out);
    for (;;) {
      int rc = port_read(p, m0ctl_now_ms() + MULTILINE_QUIET_MS);
      if (rc < 0)
        return M0CTL_FAIL;
      if (rc == 0)
        break;
    }
    /* The rest: lines separated by CR LF, empty ones dropped. */
    size_t i = 0;
    while (i < p->len) {
      size_t j = i;
      while (j < p->len && p->buf[j] != '\r' && p->buf[j] != '\n')
        j++;
      if (j > i && n + (j - i) + 2 < cap) {
        out[n++] = '\n';
        memcpy(out + n, p->buf + i, j - i);
        n += j - i;
        out[n] = '\0';
      }
      i = j + 1;
    }
    p->len = 0;
  }
  if (strncmp(out, "+ERR", 4) != 0 && leaves_command_mode(line))
    p->in_command = false;
  return M0CTL_OK;
}

static int leave(struct m0ctl_port *p) {
  char reply[M0CTL_AT_LINE_MAX * 4];
  if (!p->in_command || p->stay)
    return M0CTL_OK;
  if (m0ctl_port_command(p, "AT+ENTM", reply, sizeof reply) != M0CTL_OK)
    return M0CTL_FAIL;
  if (strncmp(reply, "+ERR", 4) == 0)
    return m0ctl_fail(p->cmd, "AT+ENTM answered %s: the module stays in command mode", reply);
  return M0CTL_OK;
}

/* ---- options ---- */

enum { OPT_TTY = M0CTL_OPT_GROUP, OPT_BAUD, OPT_DIALECT, OPT_TIMEOUT, OPT_STAY, OPT_VERBOSE };

static const struct option longs[] = {
    {"tty", required_argument, NULL, OPT_TTY},
    {"baud", required_argument, NULL, OPT_BAUD},
    {"dialect", required_argument, NULL, OPT_DIALECT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"stay", no_argument, NULL, OPT_STAY},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, M0CTL_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* One option of the group (an m0ctl_option_fn). */
static int port_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct m0ctl_port *p = ctx;
  switch (opt) {
  case OPT_TTY:
    p->path = arg;
    return 1;
  case OPT_BAUD:
    if (m0ctl_uint(arg, 1, 10000000, &p->baud) != 0) {
      m0ctl_usage(cmd, "--baud: expected a speed such as 115200, got '%s'", arg);
      return -1;
    }
    return 1;
  case OPT_DIALECT:
    if (strcmp(arg, "doc") == 0) {
      p->dialect = M0CTL_DIALECT_DOC;
    } else if (strcmp(arg, "field") == 0) {
      p->dialect = M0CTL_DIALECT_FIELD;
    } else if (strcmp(arg, "auto") == 0) {
      p->dialect = M0CTL_DIALECT_AUTO;
    } else {
      m0ctl_usage(cmd, "--dialect: expected doc, field or auto, got '%s'", arg);
      return -1;
    }
    return 1;
  case OPT_TIMEOUT:
    if (m0ctl_seconds(arg, TIMEOUT_MAX_S, &p->timeout_ms) != 0 || p->timeout_ms == 0) {
      m0ctl_usage(cmd, "--timeout: expected seconds (e.g. 2.5, at most %u), got '%s'",
                  TIMEOUT_MAX_S, arg);
      return -1;
    }
    return 1;
  case OPT_STAY:
    p->stay = true;
    return 1;
  case OPT_VERBOSE:
    p->verbose = true;
    return 1;
  default:
    return 0;
  }
}

struct m0ctl_port *m0ctl_port_new(const struct m0ctl_cmd *cmd, int argc, char **argv, int *rc) {
  struct m0ctl_port *p = malloc(sizeof *p);
  const struct m0ctl_opt_handler handlers[] = {{port_option, p}, {NULL, NULL}};
  bool done;
  if (p == NULL) {
    *rc = m0ctl_fail(cmd, "out of memory");
    return NULL;
  }
  memset(p, 0, sizeof *p);
  p->cmd = cmd;
  p->fd = -1;
  p->baud = 115200;
  p->timeout_ms = DEFAULT_TIMEOUT_MS;
  *rc = m0ctl_options(cmd, argc, argv, longs, handlers, &done);
  if (*rc == M0CTL_OK && !done && p->path == NULL)
    *rc = m0ctl_usage(cmd, "which serial port? (--tty PATH)");
  if (*rc != M0CTL_OK || done) {
    free(p);
    return NULL;
  }
  return p;
}

int m0ctl_port_end(struct m0ctl_port *p, int rc) {
  if (leave(p) != M0CTL_OK)
    rc = M0CTL_FAIL;
  if (p->fd >= 0)
    close(p->fd);
  free(p);
  return rc;
}

int m0ctl_port_run(struct m0ctl_port *p, char lines[][M0CTL_AT_LINE_MAX + 8], size_t n) {
  char reply[8192];
  int rc = m0ctl_port_open(p);
  for (size_t i = 0; i < n && rc == M0CTL_OK; i++) {
    rc = m0ctl_port_command(p, lines[i], reply, sizeof reply);
    if (rc != M0CTL_OK)
      break;
    printf("%s\n", reply);
    fflush(stdout);
    if (m0ctl_at_is_err(reply))
      rc = M0CTL_FAIL;
  }
  return rc;
}
