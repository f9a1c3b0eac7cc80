/* cmd_at.c: m0ctl's AT group: at, get, set, dump, load, over any serial port (the
 * emulator's tty, a real module's /dev/ttyUSB0), the way a careful host program talks to
 * a USR-M0 (spec section 3).
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
 *
 * get, set, dump and load check every name and value against the emulator's own
 * parameter table (the core's params.c) before anything is sent, and dump writes the
 * flash file's format (AT+NAME=value lines under its header, values in their canonical
 * spelling), which load reads back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "m0/flash_text.h"
#include "m0/params.h"

#define GUARD_MS 200
#define A_WAIT_MS 1000      /* the module's 'a' after +++ */
#define OK_WAIT_MS 1000     /* its +ok after our 'a' */
#define PROBE_WAIT_MS 1000  /* a command-mode answer to our CR */
#define MULTILINE_QUIET_MS 300
#define DEFAULT_TIMEOUT_MS 5000
#define TIMEOUT_MAX_S 600
#define BUF_MAX 65536
#define LINE_MAX_AT 256

enum dialect { DIALECT_AUTO, DIALECT_DOC, DIALECT_FIELD };

struct port {
  const struct m0ctl_cmd *cmd;
  const char *path;
  int fd;
  unsigned long long baud;
  enum dialect dialect;
  uint64_t timeout_ms;
  bool stay;
  bool verbose;
  bool in_command;  /* the module is in command mode now */
  bool probed;      /* the first entry (the only one that may probe with a CR) is done */
  unsigned char buf[BUF_MAX];
  size_t len;
};

/* ---- the port ---- */

static const struct {
  unsigned long long baud;
  speed_t speed;
} speeds[] = {
    {600, B600},       {1200, B1200},     {2400, B2400},     {4800, B4800},
    {9600, B9600},     {19200, B19200},   {38400, B38400},   {57600, B57600},
    {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600},
};

static int port_open(struct port *p) {
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
    return m0ctl_fail(p->cmd, "cannot set %s to %llu 8N1: %s", p->path, p->baud, strerror(e));
  }
  return M0CTL_OK;
}

/* Read what arrives before deadline into buf (at least one read's worth if any comes):
 * 1 something came, 0 nothing by the deadline, -1 error. */
static int port_read(struct port *p, uint64_t deadline) {
  for (;;) {
    uint64_t now = m0ctl_now_ms();
    if (p->len == BUF_MAX) { /* nobody consumes this much noise: keep the newest half */
      memmove(p->buf, p->buf + BUF_MAX / 2, BUF_MAX / 2);
      p->len = BUF_MAX / 2;
    }
    struct pollfd pf = {.fd = p->fd, .events = POLLIN};
    int rc = poll(&pf, 1, now >= deadline ? 0 : (int)(deadline - now));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc < 0)
      return -1;
    if (rc == 0)
      return 0;
    ssize_t n = read(p->fd, p->buf + p->len, BUF_MAX - p->len);
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

static int port_write(struct port *p, const void *data, size_t len) {
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

static void consume(struct port *p, size_t n) {
  if (n > p->len)
    n = p->len;
  memmove(p->buf, p->buf + n, p->len - n);
  p->len -= n;
}

static void discard(struct port *p, const char *why) {
  if (p->len > 0 && p->verbose)
    fprintf(stderr, "m0ctl %s: %zu bytes %s\n", p->cmd->name, p->len, why);
  p->len = 0;
}

/* Wait until pred finds what it wants in buf or the deadline: its position, or -1. */
typedef long (*find_fn)(const struct port *p);

static long wait_for(struct port *p, uint64_t deadline, find_fn find, bool *failed) {
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

static long find_a(const struct port *p) {
  const void *a = memchr(p->buf, 'a', p->len);
  return a != NULL ? (long)((const unsigned char *)a - p->buf) : -1;
}

static long find_ok(const struct port *p) {
  for (size_t i = 0; i + 3 <= p->len; i++)
    if (p->buf[i] == '+' && (p->buf[i + 1] | 0x20) == 'o' && (p->buf[i + 2] | 0x20) == 'k')
      return (long)i;
  return -1;
}

/* A complete reply: the index just past its closing CR LF; the body is found again by
 * reply_body(). */
static long find_reply(const struct port *p) {
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
static void reply_body(const struct port *p, long end, char *out, size_t cap) {
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
static int idle(struct port *p, uint64_t ms) {
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

static void check_dialect(struct port *p, const char *body) {
  bool upper = strncmp(body, "+OK", 3) == 0, lower = strncmp(body, "+ok", 3) == 0;
  if ((p->dialect == DIALECT_DOC && upper) || (p->dialect == DIALECT_FIELD && lower))
    fprintf(stderr, "m0ctl %s: the module answers %.3s, not the %s dialect's spelling\n",
            p->cmd->name, body, p->dialect == DIALECT_DOC ? "doc" : "field");
}

static int enter(struct port *p) {
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
static int command(struct port *p, const char *line, char *out, size_t cap) {
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

static int leave(struct port *p) {
  char reply[LINE_MAX_AT * 4];
  if (!p->in_command || p->stay)
    return M0CTL_OK;
  if (command(p, "AT+ENTM", reply, sizeof reply) != M0CTL_OK)
    return M0CTL_FAIL;
  if (strncmp(reply, "+ERR", 4) == 0)
    return m0ctl_fail(p->cmd, "AT+ENTM answered %s: the module stays in command mode", reply);
  return M0CTL_OK;
}

static bool is_err(const char *body) { return strncmp(body, "+ERR", 4) == 0; }

/* ---- options ---- */

enum { OPT_TTY = 500, OPT_BAUD, OPT_DIALECT, OPT_TIMEOUT, OPT_STAY, OPT_VERBOSE, OPT_HELP };

static const struct option longs[] = {
    {"tty", required_argument, NULL, OPT_TTY},
    {"baud", required_argument, NULL, OPT_BAUD},
    {"dialect", required_argument, NULL, OPT_DIALECT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"stay", no_argument, NULL, OPT_STAY},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

#define PORT_HELP                                                                            \
  "  --tty PATH      the serial port: the emulator's --tty, /dev/ttyUSB0, ... (required)\n" \
  "  --baud N        its speed (default 115200, the factory AT+UART); 8N1, no flow control\n" \
  "  --dialect D     doc, field or auto (default): the spelling the module answers with\n" \
  "                  (+ok or +OK); a module that answers otherwise gets a warning\n"         \
  "  --timeout S     how long to wait for each reply (default 5)\n"                        \
  "  --stay          stay in command mode at the end (default: AT+ENTM)\n"                 \
  "  --verbose       say what was dropped on the way and how command mode was found\n"

/* Options of every command of the group; argv[optind..] are its arguments. Returns
 * M0CTL_OK, or an exit status (with *done for --help). */
static int port_options(const struct m0ctl_cmd *cmd, int argc, char **argv, struct port *p,
                        bool *done) {
  int opt;
  memset(p, 0, sizeof *p);
  p->cmd = cmd;
  p->fd = -1;
  p->baud = 115200;
  p->timeout_ms = DEFAULT_TIMEOUT_MS;
  *done = false;
  optind = 0;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
    switch (opt) {
    case OPT_TTY:
      p->path = optarg;
      break;
    case OPT_BAUD:
      if (m0ctl_uint(optarg, 1, 10000000, &p->baud) != 0)
        return m0ctl_usage(cmd, "--baud: expected a speed such as 115200, got '%s'", optarg);
      break;
    case OPT_DIALECT:
      if (strcmp(optarg, "doc") == 0)
        p->dialect = DIALECT_DOC;
      else if (strcmp(optarg, "field") == 0)
        p->dialect = DIALECT_FIELD;
      else if (strcmp(optarg, "auto") == 0)
        p->dialect = DIALECT_AUTO;
      else
        return m0ctl_usage(cmd, "--dialect: expected doc, field or auto, got '%s'", optarg);
      break;
    case OPT_TIMEOUT:
      if (m0ctl_seconds(optarg, TIMEOUT_MAX_S, &p->timeout_ms) != 0 || p->timeout_ms == 0)
        return m0ctl_usage(cmd, "--timeout: expected seconds (e.g. 2.5, at most %u), got '%s'",
                           TIMEOUT_MAX_S, optarg);
      break;
    case OPT_STAY:
      p->stay = true;
      break;
    case OPT_VERBOSE:
      p->verbose = true;
      break;
    case OPT_HELP:
      m0ctl_cmd_help(cmd, stdout);
      *done = true;
      return M0CTL_OK;
    case ':':
      for (const struct option *o = longs; o->name != NULL; o++)
        if (o->val == optopt)
          return m0ctl_usage(cmd, "--%s: missing value", o->name);
      return m0ctl_usage(cmd, "missing value");
    default:
      return m0ctl_usage(cmd, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (p->path == NULL)
    return m0ctl_usage(cmd, "which serial port? (--tty PATH)");
  return M0CTL_OK;
}

/* A command line as given: "AT+VER", "at+ver", or a bare "VER" (AT+ added). */
static int normalize(const struct m0ctl_cmd *cmd, const char *arg, char *out, size_t cap) {
  if (strlen(arg) == 0 || strlen(arg) + 4 > cap || strchr(arg, '\r') || strchr(arg, '\n'))
    return m0ctl_usage(cmd, "'%s' is not one AT command line (at most %u bytes, no CR/LF)",
                       arg, LINE_MAX_AT);
  if (strncasecmp(arg, "AT", 2) == 0)
    snprintf(out, cap, "%s", arg);
  else
    snprintf(out, cap, "AT+%s", arg);
  return M0CTL_OK;
}

/* Run lines in order, printing each reply; stop at the first +ERR or failure. Leaves
 * command mode at the end (unless --stay) whatever happened. */
static int run_lines(struct port *p, char lines[][LINE_MAX_AT + 8], size_t n, bool print) {
  char reply[8192];
  int rc = M0CTL_OK;
  for (size_t i = 0; i < n && rc == M0CTL_OK; i++) {
    rc = command(p, lines[i], reply, sizeof reply);
    if (rc != M0CTL_OK)
      break;
    if (print) {
      printf("%s\n", reply);
      fflush(stdout);
    }
    if (is_err(reply)) {
      if (!print)
        fprintf(stderr, "m0ctl %s: %s answered %s\n", p->cmd->name, lines[i], reply);
      rc = M0CTL_FAIL;
    }
  }
  if (leave(p) != M0CTL_OK)
    rc = M0CTL_FAIL;
  return rc;
}

/* ---- at ---- */

/* The command line's arguments, each made into one AT line by prepare() (checked before
 * anything is sent), then sent in order over the port: what `at` and `set` share. */
typedef int (*prepare_fn)(const struct m0ctl_cmd *cmd, const char *arg, char *line,
                          size_t cap);

static int send_args(const struct m0ctl_cmd *cmd, int argc, char **argv, const char *none,
                     prepare_fn prepare) {
  struct port *p = malloc(sizeof *p);
  bool done;
  int rc;
  if (p == NULL)
    return m0ctl_fail(cmd, "out of memory");
  rc = port_options(cmd, argc, argv, p, &done);
  if (rc != M0CTL_OK || done)
    goto out;
  size_t n = (size_t)(argc - optind);
  if (n == 0) {
    rc = m0ctl_usage(cmd, "%s", none);
    goto out;
  }
  char(*lines)[LINE_MAX_AT + 8] = calloc(n, sizeof *lines);
  if (lines == NULL) {
    rc = m0ctl_fail(cmd, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n && rc == M0CTL_OK; i++)
    rc = prepare(cmd, argv[optind + (int)i], lines[i], sizeof lines[i]);
  if (rc == M0CTL_OK)
    rc = port_open(p);
  if (rc == M0CTL_OK) {
    rc = run_lines(p, lines, n, true);
    close(p->fd);
  }
  free(lines);
out:
  free(p);
  return rc;
}

static int at(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return send_args(cmd, argc, argv, "which commands? (e.g. AT+VER AT+UART)", normalize);
}

const struct m0ctl_cmd m0ctl_cmd_at = {
    .name = "at",
    .usage = "--tty PATH [--baud N] [--dialect D] [--timeout S] [--stay] CMD...",
    .summary = "send AT commands over a serial port, print each reply on its own line",
    .help = PORT_HELP
    "Each CMD is one command line (AT+VER, or VER: AT+ is added). Command mode is\n"
    "entered however the module is found (transparent, booting, already in command\n"
    "mode), each reply (+ok=..., +ERR=-N) is printed, and command mode is left with\n"
    "AT+ENTM unless --stay (or a CMD left it: AT+Z, AT+RELD, AT+ENTM).\n"
    "Exit 1 at the first +ERR (the rest is not sent) or when a reply does not come.\n",
    .exec = at,
};

/* ---- get, set ---- */

static const struct m0_param *param_named(const char *name, size_t len) {
  if (len > 3 && strncasecmp(name, "AT+", 3) == 0) {
    name += 3;
    len -= 3;
  }
  return m0_param_find(name, len);
}

static int get(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  struct port *p = malloc(sizeof *p);
  char line[LINE_MAX_AT + 8], reply[8192];
  bool done;
  int rc;
  if (p == NULL)
    return m0ctl_fail(cmd, "out of memory");
  rc = port_options(cmd, argc, argv, p, &done);
  if (rc != M0CTL_OK || done)
    goto out;
  if (argc - optind != 1) {
    rc = m0ctl_usage(cmd, "expected one parameter name (e.g. UART)");
    goto out;
  }
  const struct m0_param *prm = param_named(argv[optind], strlen(argv[optind]));
  if (prm == NULL || !(prm->forms & M0_FORM_QUERY)) {
    rc = m0ctl_usage(cmd, "'%s' is not a parameter that can be read (see AT+H)", argv[optind]);
    goto out;
  }
  snprintf(line, sizeof line, "AT+%s?", prm->name);
  rc = port_open(p);
  if (rc != M0CTL_OK)
    goto out;
  rc = command(p, line, reply, sizeof reply);
  if (rc == M0CTL_OK) {
    const char *eq = strchr(reply, '=');
    if (is_err(reply) || eq == NULL) {
      rc = m0ctl_fail(cmd, "%s answered %s", line, reply);
    } else {
      printf("%s\n", eq + 1);
      fflush(stdout);
    }
  }
  if (leave(p) != M0CTL_OK)
    rc = M0CTL_FAIL;
  close(p->fd);
out:
  free(p);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_get = {
    .name = "get",
    .usage = "--tty PATH [options] NAME",
    .summary = "print one parameter's value (AT+NAME? without the +ok=)",
    .help = PORT_HELP,
    .exec = get,
};

/* NAME=VALUE checked against the table: the line to send, or a usage error. */
static int setting(const struct m0ctl_cmd *cmd, const char *arg, char *line, size_t cap,
                   const char *where) {
  const char *eq = strchr(arg, '=');
  struct m0_config scratch;
  if (eq == NULL)
    return m0ctl_usage(cmd, "%s'%s': expected NAME=VALUE", where, arg);
  const struct m0_param *prm = param_named(arg, (size_t)(eq - arg));
  if (prm == NULL || !m0_param_is_config(prm))
    return m0ctl_usage(cmd, "%s'%.*s' is not a setting (see AT+H)", where, (int)(eq - arg),
                       arg);
  m0_config_defaults(&scratch);
  if (m0_param_set(prm, &scratch, eq + 1, strlen(eq + 1)) != 0)
    return m0ctl_usage(cmd, "%s%s: '%s' is not a valid value (%s: %s)", where, prm->name,
                       eq + 1, prm->syntax, prm->range);
  int n = snprintf(line, cap, "AT+%s=", prm->name);
  size_t vlen = strlen(eq + 1);
  if (n < 0 || (size_t)n + vlen >= cap)
    return m0ctl_usage(cmd, "%s%s: the value is too long", where, prm->name);
  memcpy(line + n, eq + 1, vlen + 1);
  return M0CTL_OK;
}

static int set_line(const struct m0ctl_cmd *cmd, const char *arg, char *line, size_t cap) {
  return setting(cmd, arg, line, cap, "");
}

static int set(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return send_args(cmd, argc, argv, "expected NAME=VALUE ...", set_line);
}

const struct m0ctl_cmd m0ctl_cmd_set = {
    .name = "set",
    .usage = "--tty PATH [options] NAME=VALUE...",
    .summary = "set parameters (each checked first), print each reply",
    .help = PORT_HELP
    "Every value is checked against the parameter table before anything is sent. Most\n"
    "settings apply at the next restart (m0ctl at --tty PATH AT+Z).\n",
    .exec = set,
};

/* ---- dump, load ---- */

static int dump(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  struct port *p = malloc(sizeof *p);
  char line[LINE_MAX_AT + 8], reply[8192];
  bool done;
  int rc, failures = 0;
  if (p == NULL)
    return m0ctl_fail(cmd, "out of memory");
  rc = port_options(cmd, argc, argv, p, &done);
  if (rc != M0CTL_OK || done)
    goto out;
  if (argc != optind) {
    rc = m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
    goto out;
  }
  rc = port_open(p);
  if (rc != M0CTL_OK)
    goto out;
  printf("%s\n", M0_FLASH_HEADER);
  for (unsigned i = 0; i < M0_ID_COUNT && rc == M0CTL_OK; i++) {
    const struct m0_param *prm = &m0_params[i];
    struct m0_config cfg;
    char value[M0_VALUE_MAX];
    if (!m0_param_is_config(prm))
      continue;
    snprintf(line, sizeof line, "AT+%s?", prm->name);
    rc = command(p, line, reply, sizeof reply);
    if (rc != M0CTL_OK)
      break;
    const char *eq = strchr(reply, '=');
    m0_config_defaults(&cfg);
    /* An unset value (REGCLOUD's factory ",") has no AT form: the flash file leaves its
     * line out, and so does dump. */
    if (!is_err(reply) && eq != NULL && prm->defval != NULL && prm->defval[0] == '\0' &&
        m0_param_format(prm, &cfg, M0_DIALECT_DOC, value, sizeof value) >= 0 &&
        strcmp(value, eq + 1) == 0)
      continue;
    if (is_err(reply) || eq == NULL ||
        m0_param_set(prm, &cfg, eq + 1, strlen(eq + 1)) != 0 ||
        m0_param_format(prm, &cfg, M0_DIALECT_DOC, value, sizeof value) < 0) {
      fprintf(stderr, "m0ctl %s: %s answered %s: left out\n", cmd->name, line, reply);
      failures++;
      continue;
    }
    printf("AT+%s=%s\n", prm->name, value);
  }
  fflush(stdout);
  if (leave(p) != M0CTL_OK)
    rc = M0CTL_FAIL;
  if (rc == M0CTL_OK && failures > 0)
    rc = M0CTL_FAIL;
  close(p->fd);
out:
  free(p);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_dump = {
    .name = "dump",
    .usage = "--tty PATH [options]",
    .summary = "every setting, as a flash file (AT+NAME=value lines), on standard output",
    .help = PORT_HELP
    "Values are written in their canonical spelling whatever the module's dialect. A\n"
    "setting the module does not answer is left out and named on stderr (exit 1).\n",
    .exec = dump,
};

static int load(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  struct port *p = malloc(sizeof *p);
  char(*lines)[LINE_MAX_AT + 8] = NULL;
  size_t n = 0, cap = 0;
  bool done;
  int rc;
  if (p == NULL)
    return m0ctl_fail(cmd, "out of memory");
  rc = port_options(cmd, argc, argv, p, &done);
  if (rc != M0CTL_OK || done)
    goto out;
  if (argc - optind != 1) {
    rc = m0ctl_usage(cmd, "expected one file (what dump wrote)");
    goto out;
  }
  const char *path = argv[optind];
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (f == NULL) {
    rc = m0ctl_fail(cmd, "cannot open %s: %s", path, strerror(errno));
    goto out;
  }
  char text[1024];
  unsigned number = 0;
  while (rc == M0CTL_OK && fgets(text, sizeof text, f) != NULL) {
    char where[64];
    size_t len = strlen(text);
    number++;
    if (len > 0 && text[len - 1] != '\n' && !feof(f)) {
      rc = m0ctl_usage(cmd, "%s:%u: line too long", path, number);
      break;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
      text[--len] = '\0';
    if (len == 0 || text[0] == '#')
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      void *q = realloc(lines, ncap * sizeof *lines);
      if (q == NULL) {
        rc = m0ctl_fail(cmd, "out of memory");
        break;
      }
      lines = q;
      cap = ncap;
    }
    snprintf(where, sizeof where, "%s:%u: ", path, number);
    rc = setting(cmd, text, lines[n], sizeof lines[n], where);
    n++;
  }
  if (f != stdin)
    fclose(f);
  if (rc == M0CTL_OK && n == 0)
    rc = m0ctl_usage(cmd, "%s holds no settings", path);
  if (rc == M0CTL_OK)
    rc = port_open(p);
  if (rc == M0CTL_OK) {
    rc = run_lines(p, lines, n, true);
    close(p->fd);
  }
out:
  free(lines);
  free(p);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_load = {
    .name = "load",
    .usage = "--tty PATH [options] FILE",
    .summary = "apply a flash file (what dump wrote; - for stdin), each value checked first",
    .help = PORT_HELP
    "Blank lines and # comments are skipped; every other line is AT+NAME=value (or\n"
    "NAME=value), checked against the parameter table before anything is sent. Settings\n"
    "apply at the next restart (m0ctl at --tty PATH AT+Z).\n",
    .exec = load,
};
