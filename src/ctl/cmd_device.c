/* cmd_device.c: m0ctl's control commands about the device as a whole: status, list,
 * restart, factory-reset, power, and call (any request line, as written).
 *
 * Actions print the t_ms of the request: the instant on the event stream's clock from
 * which whatever they caused is stamped, so a script can wait for the outcome with no
 * race: `t=$(m0ctl restart) && m0ctl wait ready --since "$t"` (cmd_events.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"

/* ---- status, list, restart, factory-reset ---- */

static int status(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return m0ctl_simple(cmd, argc, argv, "status", true, true);
}

static int list(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return m0ctl_simple(cmd, argc, argv, "list", false, true);
}

static int restart(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return m0ctl_simple(cmd, argc, argv, "restart", true, false);
}

static int factory_reset(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return m0ctl_simple(cmd, argc, argv, "factory-reset", true, false);
}

const struct m0ctl_cmd m0ctl_cmd_status = {
    .name = "status",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "the device's state as one JSON object (mode, links, counters, faults...)",
    .help = M0CTL_CONN_HELP "  --timeout S     how long to wait for the answer (default 10)\n",
    .exec = status,
};

const struct m0ctl_cmd m0ctl_cmd_list = {
    .name = "list",
    .usage = "[--control SOCK]",
    .summary = "the emulator's devices as one JSON object",
    .help = M0CTL_CONN_HELP,
    .exec = list,
};

const struct m0ctl_cmd m0ctl_cmd_restart = {
    .name = "restart",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "restart the device as AT+Z does; prints the t_ms of the request",
    .help = M0CTL_CONN_HELP,
    .exec = restart,
};

const struct m0ctl_cmd m0ctl_cmd_factory_reset = {
    .name = "factory-reset",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "factory settings saved, then a restart; prints the t_ms of the request",
    .help = M0CTL_CONN_HELP,
    .exec = factory_reset,
};

/* ---- power ---- */

static int power(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {
      M0CTL_CONN_LONGS, {"for", required_argument, NULL, M0CTL_CONN_OPT_FOR}, {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  struct m0ctl_for_opts f = {0};
  char extra[96];
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, m0ctl_for_option, &f, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1 || (strcmp(argv[optind], "on") != 0 && strcmp(argv[optind], "off") != 0))
    return m0ctl_usage(cmd, "expected on or off");
  bool on = strcmp(argv[optind], "on") == 0;
  if (on && f.for_given)
    return m0ctl_usage(cmd, "--for is for power off (a power cycle)");
  char secs[64] = "";
  if (f.for_given)
    m0ctl_seconds_json(secs, sizeof secs, "for_s", f.for_ms);
  snprintf(extra, sizeof extra, "\"state\":\"%s\"%s%s", on ? "on" : "off", f.for_given ? "," : "",
           secs);
  return m0ctl_request(cmd, &co, "power", true, extra, false);
}

const struct m0ctl_cmd m0ctl_cmd_power = {
    .name = "power",
    .usage = "[--control SOCK] [--dev NAME] off [--for S] | on",
    .summary = "cut the device's power or give it back; prints the t_ms of the request",
    .help = M0CTL_CONN_HELP
    "  --for S         power off for S seconds, then on by itself (a power cycle)\n"
    "Off: TCP peers meet silence (no FIN), the UART is silent, flash keeps what was saved.\n"
    "On: the connections of before are reset, then the device boots.\n",
    .exec = power,
};

/* ---- call: any request ---- */

static int call_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {M0CTL_CONN_LONGS, {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  struct m0ctl_conn c;
  struct m0ctl_line l = {0};
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1)
    return m0ctl_usage(cmd, "expected one JSON request, e.g. '{\"cmd\":\"status\"}'");
  rc = m0ctl_conn_open(cmd, &c, co.control, co.dev, co.timeout_ms);
  if (rc != M0CTL_OK)
    return rc;
  const char *req = argv[optind];
  size_t len = strlen(req);
  if (write(c.fd, req, len) != (ssize_t)len || write(c.fd, "\n", 1) != 1) {
    m0ctl_conn_close(&c);
    return m0ctl_fail(cmd, "cannot send: %s", strerror(errno));
  }
  uint64_t deadline = m0ctl_now_ms() + co.timeout_ms;
  rc = M0CTL_FAIL;
  for (;;) {
    char *text;
    size_t tlen;
    int r = m0ctl_conn_read_line(&c, deadline, &text, &tlen);
    if (r == 0)
      m0ctl_fail(cmd, "no answer within %llu ms", (unsigned long long)co.timeout_ms);
    if (r <= 0 || m0ctl_conn_parse(&c, &l, text, tlen) != 0)
      break;
    const struct m0_json_member *ok = m0ctl_member(&l, "ok");
    if (ok == NULL)
      continue;
    printf("%s\n", l.text);
    rc = ok->type == M0_JSON_TRUE ? M0CTL_OK : M0CTL_FAIL;
    break;
  }
  free(l.scratch);
  m0ctl_conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_call = {
    .name = "call",
    .usage = "[--control SOCK] 'JSON'",
    .summary = "send one request line as written, print its answer line (exit 1 if not ok)",
    .help = M0CTL_CONN_HELP,
    .exec = call_cmd,
};
