/* cmd_at.c: m0ctl's AT group: at, get, set, dump, load, over any serial port (the
 * emulator's tty, a real module's /dev/ttyUSB0), through at_port.c, which enters command
 * mode from whatever state the module is in and reads its replies.
 *
 * get, set, dump and load check every name and value against the emulator's own
 * parameter table (the core's params.c) before anything is sent, and dump writes the
 * flash file's format (AT+NAME=value lines under its header, values in their canonical
 * spelling), which load reads back. Each reply is printed on its own line; the first
 * +ERR or a timeout stops the run (exit 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "at_port.h"
#include "m0/flash_text.h"
#include "m0/params.h"

/* A command line as given: "AT+VER", "at+ver", or a bare "VER" (AT+ added). */
static int normalize(const struct m0ctl_cmd *cmd, const char *arg, char *out, size_t cap) {
  if (strlen(arg) == 0 || strlen(arg) + 4 > cap || strchr(arg, '\r') || strchr(arg, '\n'))
    return m0ctl_usage(cmd, "'%s' is not one AT command line (at most %u bytes, no CR/LF)",
                       arg, M0CTL_AT_LINE_MAX);
  if (strncasecmp(arg, "AT", 2) == 0)
    snprintf(out, cap, "%s", arg);
  else
    snprintf(out, cap, "AT+%s", arg);
  return M0CTL_OK;
}

/* ---- at ---- */

/* The command line's arguments, each made into one AT line by prepare() (checked before
 * anything is sent), then sent in order over the port: what `at` and `set` share. */
typedef int (*prepare_fn)(const struct m0ctl_cmd *cmd, const char *arg, char *line,
                          size_t cap);

static int send_args(const struct m0ctl_cmd *cmd, int argc, char **argv, const char *none,
                     prepare_fn prepare) {
  int rc;
  struct m0ctl_port *p = m0ctl_port_new(cmd, argc, argv, &rc);
  if (p == NULL)
    return rc;
  size_t n = (size_t)(argc - optind);
  if (n == 0)
    return m0ctl_port_end(p, m0ctl_usage(cmd, "%s", none));
  char(*lines)[M0CTL_AT_LINE_MAX + 8] = calloc(n, sizeof *lines);
  if (lines == NULL)
    return m0ctl_port_end(p, m0ctl_fail(cmd, "out of memory"));
  for (size_t i = 0; i < n && rc == M0CTL_OK; i++)
    rc = prepare(cmd, argv[optind + (int)i], lines[i], sizeof lines[i]);
  if (rc == M0CTL_OK)
    rc = m0ctl_port_run(p, lines, n);
  free(lines);
  return m0ctl_port_end(p, rc);
}

static int at(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return send_args(cmd, argc, argv, "which commands? (e.g. AT+VER AT+UART)", normalize);
}

const struct m0ctl_cmd m0ctl_cmd_at = {
    .name = "at",
    .usage = "--tty PATH [--baud N] [--dialect D] [--timeout S] [--stay] CMD...",
    .summary = "send AT commands over a serial port, print each reply on its own line",
    .help = M0CTL_PORT_HELP
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
  char line[M0CTL_AT_LINE_MAX + 8], reply[8192];
  int rc;
  struct m0ctl_port *p = m0ctl_port_new(cmd, argc, argv, &rc);
  if (p == NULL)
    return rc;
  if (argc - optind != 1)
    return m0ctl_port_end(p, m0ctl_usage(cmd, "expected one parameter name (e.g. UART)"));
  const struct m0_param *prm = param_named(argv[optind], strlen(argv[optind]));
  if (prm == NULL || !(prm->forms & M0_FORM_QUERY))
    return m0ctl_port_end(p, m0ctl_usage(cmd, "'%s' is not a parameter that can be read "
                                              "(see AT+H)", argv[optind]));
  snprintf(line, sizeof line, "AT+%s?", prm->name);
  rc = m0ctl_port_open(p);
  if (rc == M0CTL_OK)
    rc = m0ctl_port_command(p, line, reply, sizeof reply);
  if (rc == M0CTL_OK) {
    const char *eq = strchr(reply, '=');
    if (m0ctl_at_is_err(reply) || eq == NULL) {
      rc = m0ctl_fail(cmd, "%s answered %s", line, reply);
    } else {
      printf("%s\n", eq + 1);
      fflush(stdout);
    }
  }
  return m0ctl_port_end(p, rc);
}

const struct m0ctl_cmd m0ctl_cmd_get = {
    .name = "get",
    .usage = "--tty PATH [options] NAME",
    .summary = "print one parameter's value (AT+NAME? without the +ok=)",
    .help = M0CTL_PORT_HELP,
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
    .help = M0CTL_PORT_HELP
    "Every value is checked against the parameter table before anything is sent. Most\n"
    "settings apply at the next restart (m0ctl at --tty PATH AT+Z).\n",
    .exec = set,
};

/* ---- dump, load ---- */

static int dump(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  char line[M0CTL_AT_LINE_MAX + 8], reply[8192];
  int rc, failures = 0;
  struct m0ctl_port *p = m0ctl_port_new(cmd, argc, argv, &rc);
  if (p == NULL)
    return rc;
  if (argc != optind)
    return m0ctl_port_end(p, m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]));
  rc = m0ctl_port_open(p);
  if (rc != M0CTL_OK)
    return m0ctl_port_end(p, rc);
  printf("%s\n", M0_FLASH_HEADER);
  for (unsigned i = 0; i < M0_ID_COUNT && rc == M0CTL_OK; i++) {
    const struct m0_param *prm = &m0_params[i];
    struct m0_config cfg;
    char value[M0_VALUE_MAX];
    if (!m0_param_is_config(prm))
      continue;
    snprintf(line, sizeof line, "AT+%s?", prm->name);
    rc = m0ctl_port_command(p, line, reply, sizeof reply);
    if (rc != M0CTL_OK)
      break;
    const char *eq = strchr(reply, '=');
    m0_config_defaults(&cfg);
    /* An unset value (REGCLOUD's factory ",") has no AT form: the flash file leaves its
     * line out, and so does dump. */
    if (!m0ctl_at_is_err(reply) && eq != NULL && prm->defval != NULL && prm->defval[0] == '\0' &&
        m0_param_format(prm, &cfg, M0_DIALECT_DOC, value, sizeof value) >= 0 &&
        strcmp(value, eq + 1) == 0)
      continue;
    if (m0ctl_at_is_err(reply) || eq == NULL ||
        m0_param_set(prm, &cfg, eq + 1, strlen(eq + 1)) != 0 ||
        m0_param_format(prm, &cfg, M0_DIALECT_DOC, value, sizeof value) < 0) {
      fprintf(stderr, "m0ctl %s: %s answered %s: left out\n", cmd->name, line, reply);
      failures++;
      continue;
    }
    printf("AT+%s=%s\n", prm->name, value);
  }
  fflush(stdout);
  return m0ctl_port_end(p, rc == M0CTL_OK && failures > 0 ? M0CTL_FAIL : rc);
}

const struct m0ctl_cmd m0ctl_cmd_dump = {
    .name = "dump",
    .usage = "--tty PATH [options]",
    .summary = "every setting, as a flash file (AT+NAME=value lines), on standard output",
    .help = M0CTL_PORT_HELP
    "Values are written in their canonical spelling whatever the module's dialect. A\n"
    "setting the module does not answer is left out and named on stderr (exit 1).\n",
    .exec = dump,
};

static int load(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  char(*lines)[M0CTL_AT_LINE_MAX + 8] = NULL;
  size_t n = 0, cap = 0;
  int rc;
  struct m0ctl_port *p = m0ctl_port_new(cmd, argc, argv, &rc);
  if (p == NULL)
    return rc;
  if (argc - optind != 1)
    return m0ctl_port_end(p, m0ctl_usage(cmd, "expected one file (what dump wrote)"));
  const char *path = argv[optind];
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (f == NULL)
    return m0ctl_port_end(p, m0ctl_fail(cmd, "cannot open %s: %s", path, strerror(errno)));
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
    rc = m0ctl_port_run(p, lines, n);
  free(lines);
  return m0ctl_port_end(p, rc);
}

const struct m0ctl_cmd m0ctl_cmd_load = {
    .name = "load",
    .usage = "--tty PATH [options] FILE",
    .summary = "apply a flash file (what dump wrote; - for stdin), each value checked first",
    .help = M0CTL_PORT_HELP
    "Blank lines and # comments are skipped; every other line is AT+NAME=value (or\n"
    "NAME=value), checked against the parameter table before anything is sent. Settings\n"
    "apply at the next restart (m0ctl at --tty PATH AT+Z).\n",
    .exec = load,
};

