/* ctl.c: m0ctl's entry point: the command table and the dispatch (see ctl.h).
 *
 * `m0ctl [--control SOCK] [--dev NAME] COMMAND [ARGS]` runs one subcommand; a unique
 * prefix of its name is enough (`m0ctl st` is status). The two global options are for
 * the control channel's commands and go to them through the environment (M0CTL_CONTROL,
 * M0CTL_DEV), which a user may also set once for a whole script. `m0ctl --help` lists
 * the commands, `m0ctl help COMMAND` or `m0ctl COMMAND --help` shows one. Exit status:
 * 0, 1 failure, 2 usage.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "m0/json.h"
#include "m0/params.h"

#ifndef M0EMU_VERSION
#define M0EMU_VERSION "0.0.0"
#endif

/* One line per subcommand; a new group adds its entries here. */
static const struct m0ctl_cmd *const table[] = {
    &m0ctl_cmd_at,
    &m0ctl_cmd_get,
    &m0ctl_cmd_set,
    &m0ctl_cmd_dump,
    &m0ctl_cmd_load,
    &m0ctl_cmd_status,
    &m0ctl_cmd_list,
    &m0ctl_cmd_restart,
    &m0ctl_cmd_factory_reset,
    &m0ctl_cmd_power,
    &m0ctl_cmd_cable,
    &m0ctl_cmd_hang,
    &m0ctl_cmd_uart,
    &m0ctl_cmd_noise,
    &m0ctl_cmd_impair,
    &m0ctl_cmd_net_reset,
    &m0ctl_cmd_flash,
    &m0ctl_cmd_clear,
    &m0ctl_cmd_events,
    &m0ctl_cmd_wait,
    &m0ctl_cmd_call,
    &m0ctl_cmd_search,
    &m0ctl_cmd_netset,
    NULL,
};

static void usage_line(const struct m0ctl_cmd *cmd, FILE *out) {
  fprintf(out, "usage: m0ctl %s %s\n", cmd->name, cmd->usage);
}

void m0ctl_cmd_help(const struct m0ctl_cmd *cmd, FILE *out) {
  usage_line(cmd, out);
  fprintf(out, "%s\n", cmd->summary);
  if (cmd->help != NULL)
    fprintf(out, "\n%s", cmd->help);
}

/* "m0ctl NAME: <message>" on stderr. */
static void say(const struct m0ctl_cmd *cmd, const char *fmt, va_list ap) {
  fprintf(stderr, "m0ctl %s: ", cmd->name);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

int m0ctl_usage(const struct m0ctl_cmd *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  say(cmd, fmt, ap);
  va_end(ap);
  usage_line(cmd, stderr);
  return M0CTL_USAGE;
}

int m0ctl_fail(const struct m0ctl_cmd *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  say(cmd, fmt, ap);
  va_end(ap);
  return M0CTL_FAIL;
}

/* getopt_long's refusal as a usage error: a missing value names its option. */
static int bad_option(const struct m0ctl_cmd *cmd, const struct option *longs, int opt,
                      char **argv) {
  if (opt == ':') {
    for (const struct option *o = longs; o->name != NULL; o++)
      if (o->val == optopt)
        return m0ctl_usage(cmd, "--%s: missing value", o->name);
  }
  return m0ctl_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

int m0ctl_options(const struct m0ctl_cmd *cmd, int argc, char **argv,
                  const struct option *longs, const struct m0ctl_opt_handler *handlers,
                  bool *done) {
  int opt;
  *done = false;
  optind = 0; /* glibc: start again from argv[1], whatever parsed before */
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
    if (opt == M0CTL_OPT_HELP) {
      m0ctl_cmd_help(cmd, stdout);
      *done = true;
      return M0CTL_OK;
    }
    int rc = 0;
    for (const struct m0ctl_opt_handler *h = handlers; rc == 0 && opt != ':' && opt != '?' &&
                                                       h != NULL && h->fn != NULL; h++)
      rc = h->fn(cmd, opt, optarg, h->ctx);
    if (rc < 0)
      return M0CTL_USAGE;
    if (rc == 0)
      return bad_option(cmd, longs, opt, argv);
  }
  return M0CTL_OK;
}

/* ---- helpers ---- */

uint64_t m0ctl_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int m0ctl_wait_in(int fd, uint64_t deadline) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t now = m0ctl_now_ms();
    int rc = poll(&p, 1, deadline == UINT64_MAX ? -1 : now >= deadline ? 0 : (int)(deadline - now));
    if (rc >= 0 || errno != EINTR)
      return rc > 0 ? 1 : rc;
  }
}

/* A number from the command line through the JSON reader's exact fixed point. */
static int fixed(const char *s, unsigned digits, uint64_t *out) {
  char line[96];
  struct m0_json_member m;
  char scratch[128], err[8];
  if (strlen(s) > 64)
    return -1;
  snprintf(line, sizeof line, "{\"n\":%s}", s);
  if (m0_json_object(line, strlen(line), &m, 1, scratch, sizeof scratch, err, sizeof err) != 1)
    return -1;
  return m0_json_fixed(&m, digits, out);
}

int m0ctl_seconds(const char *s, uint64_t max_s, uint64_t *ms) {
  if (fixed(s, 3, ms) != 0 || *ms > max_s * 1000u)
    return -1;
  return 0;
}

int m0ctl_probability(const char *s, uint64_t *ppb) {
  if (fixed(s, 9, ppb) != 0 || *ppb > 1000000000u)
    return -1;
  return 0;
}

int m0ctl_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out) {
  char *end;
  unsigned long long v;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

long m0ctl_unescape(const char *s, unsigned char *out, const char **bad) {
  long n = 0;
  for (; *s != '\0'; s++) {
    if (*s != '\\') {
      out[n++] = (unsigned char)*s;
      continue;
    }
    s++;
    switch (*s) {
    case 'r': out[n++] = '\r'; break;
    case 'n': out[n++] = '\n'; break;
    case 't': out[n++] = '\t'; break;
    case '0': out[n++] = 0; break;
    case '\\': out[n++] = '\\'; break;
    case 'x':
      if (m0_hex_digit(s[1]) < 0 || m0_hex_digit(s[2]) < 0) {
        *bad = "\\x needs two hex digits";
        return -1;
      }
      out[n++] = (unsigned char)(m0_hex_digit(s[1]) << 4 | m0_hex_digit(s[2]));
      s += 2;
      break;
    default:
      *bad = *s == '\0' ? "a lone \\ at the end" : "unknown escape (\\r \\n \\t \\0 \\\\ \\xHH)";
      return -1;
    }
  }
  return n;
}

static void help(FILE *out) {
  size_t i;
  fputs("usage: m0ctl [--control SOCK] [--dev NAME] COMMAND [ARGS]\n"
        "The host-side tool of m0emu: AT over any serial port (the emulator's tty or a\n"
        "real module's), and the emulator's control channel (--control SOCK: a Unix socket\n"
        "path, or tcp:PORT for 127.0.0.1:PORT; also $M0CTL_CONTROL, and $M0CTL_DEV); and the\n"
        "vendor's setup protocols on UDP 1500 (search, netset; real USR modules too).\n"
        "\ncommands:\n",
        out);
  for (i = 0; table[i] != NULL; i++)
    fprintf(out, "  %-13s %s\n", table[i]->name, table[i]->summary);
  fputs("\n`m0ctl help COMMAND` or `m0ctl COMMAND --help` describes one.\n"
        "Exit status: 0 done, 1 failure (+ERR, no answer, refused, timeout), 2 usage error.\n",
        out);
}

/* The command named `name` or by a unique prefix of it; NULL after a message naming the
 * candidates when the prefix fits several (`se`: set or search), or none. */
static const struct m0ctl_cmd *find(const char *name) {
  const struct m0ctl_cmd *found = NULL;
  size_t i, len = strlen(name), matches = 0;
  for (i = 0; table[i] != NULL; i++) {
    if (strcmp(table[i]->name, name) == 0)
      return table[i];
    if (len > 0 && strncmp(table[i]->name, name, len) == 0) {
      found = table[i];
      matches++;
    }
  }
  if (matches == 1)
    return found;
  if (matches == 0) {
    fprintf(stderr, "m0ctl: unknown command '%s' (see m0ctl --help)\n", name);
    return NULL;
  }
  fprintf(stderr, "m0ctl: ambiguous command '%s': ", name);
  for (i = 0; table[i] != NULL; i++) {
    if (strncmp(table[i]->name, name, len) != 0)
      continue;
    matches--;
    fprintf(stderr, "%s%s", table[i]->name, matches > 1 ? ", " : matches == 1 ? " or " : "");
  }
  fprintf(stderr, "? (see m0ctl --help)\n");
  return NULL;
}

/* --control SOCK / --control=SOCK and the same for --dev, before the command. Returns how
 * many argv entries were used, or -1 after a message. */
static int global_option(int argc, char **argv, int i) {
  static const struct {
    const char *opt, *env;
  } globals[] = {{"--control", M0CTL_ENV_CONTROL}, {"--dev", M0CTL_ENV_DEV}};
  for (size_t k = 0; k < 2; k++) {
    size_t n = strlen(globals[k].opt);
    const char *value = NULL;
    int used = 0;
    if (strcmp(argv[i], globals[k].opt) == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "m0ctl: %s: missing value\n", globals[k].opt);
        return -1;
      }
      value = argv[i + 1];
      used = 2;
    } else if (strncmp(argv[i], globals[k].opt, n) == 0 && argv[i][n] == '=') {
      value = argv[i] + n + 1;
      used = 1;
    }
    if (value != NULL) {
      if (setenv(globals[k].env, value, 1) != 0) {
        fprintf(stderr, "m0ctl: %s: %s\n", globals[k].opt, strerror(errno));
        return -1;
      }
      return used;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  const struct m0ctl_cmd *cmd;
  int i = 1;
  /* An emulator that closes the channel (or exits) is an error to report, not a signal
   * that kills the tool silently. */
  signal(SIGPIPE, SIG_IGN);
  while (i < argc) {
    int used = global_option(argc, argv, i);
    if (used < 0)
      return M0CTL_USAGE;
    if (used == 0)
      break;
    i += used;
  }
  argc -= i - 1;
  argv += i - 1;
  if (argc < 2) {
    help(stderr);
    return M0CTL_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    help(stdout);
    return M0CTL_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("m0ctl %s\n", M0EMU_VERSION);
    return M0CTL_OK;
  }
  if (strcmp(argv[1], "help") == 0) {
    if (argc == 2) {
      help(stdout);
      return M0CTL_OK;
    }
    cmd = find(argv[2]);
    if (cmd == NULL)
      return M0CTL_USAGE;
    m0ctl_cmd_help(cmd, stdout);
    return M0CTL_OK;
  }
  if (argv[1][0] == '-') {
    fprintf(stderr, "m0ctl: unknown option '%s' (see m0ctl --help)\n", argv[1]);
    return M0CTL_USAGE;
  }
  cmd = find(argv[1]);
  if (cmd == NULL)
    return M0CTL_USAGE;
  return cmd->exec(cmd, argc - 1, argv + 1);
}
