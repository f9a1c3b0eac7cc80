/* cmd_events.c: m0ctl events and wait: the emulator's event stream over the control
 * channel (control.h; the events: docs/events.md).
 *
 * events prints the lines as the emulator sends them. wait subscribes with a replay of
 * the recent events at or after --since (the emulator keeps the last 512), so an event
 * that came between an action and the wait is still found:
 * `t=$(m0ctl restart) && m0ctl wait ready --since "$t"`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

enum { OPT_SINCE = M0CTL_CONN_OPT_OWN, OPT_COUNT };

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

static int events(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {M0CTL_CONN_LONGS,
                                        {"count", required_argument, NULL, OPT_COUNT},
                                        {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  struct events_ctx e = {0};
  struct m0ctl_conn c;
  struct m0ctl_line l = {0};
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, events_option, &e, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc != optind)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
  rc = m0ctl_conn_open(cmd, &c, co.control, co.dev, M0CTL_CONN_TIMEOUT_MS);
  if (rc != M0CTL_OK)
    return rc;
  rc = m0ctl_conn_call(&c, "subscribe", c.dev != NULL, NULL, &l); /* all devices, or --dev's */
  uint64_t deadline = co.timeout_given ? m0ctl_now_ms() + co.timeout_ms : UINT64_MAX;
  while (rc == M0CTL_OK && (e.count == 0 || e.seen < e.count)) {
    char *text;
    size_t len;
    int r = m0ctl_conn_read_line(&c, deadline, &text, &len);
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
  m0ctl_conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_events = {
    .name = "events",
    .usage = "[--control SOCK] [--dev NAME] [--timeout S] [--count N]",
    .summary = "print the event stream (as --events writes it) until --timeout or --count",
    .help = M0CTL_CONN_HELP
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
static bool matches(const struct m0ctl_line *l, const char *name, char **fields, int nfields) {
  const struct m0_json_member *ev = m0ctl_member(l, "ev");
  if (ev == NULL || ev->type != M0_JSON_STRING || strcmp(ev->str, name) != 0)
    return false;
  for (int i = 0; i < nfields; i++) {
    const char *eq = strchr(fields[i], '=');
    char key[128];
    size_t klen = (size_t)(eq - fields[i]);
    memcpy(key, fields[i], klen);
    key[klen] = '\0';
    const struct m0_json_member *m = m0ctl_member(l, key);
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
  static const struct option longs[] = {M0CTL_CONN_LONGS,
                                        {"since", required_argument, NULL, OPT_SINCE},
                                        {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  struct wait_ctx w = {0};
  struct m0ctl_conn c;
  struct m0ctl_line l = {0};
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, wait_option, &w, &done);
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
  rc = m0ctl_conn_open(cmd, &c, co.control, co.dev, M0CTL_CONN_TIMEOUT_MS);
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
  rc = m0ctl_conn_send(&c, "subscribe", c.dev != NULL, extra, &id);
  bool answered = false, found = false;
  while (rc == M0CTL_OK && !found) {
    char *text;
    size_t len;
    int r = m0ctl_conn_read_line(&c, deadline, &text, &len);
    if (r == 0)
      break;
    if (r < 0 || m0ctl_conn_parse(&c, &l, text, len) != 0) {
      rc = M0CTL_FAIL;
      break;
    }
    if (m0ctl_member(&l, "ok") != NULL) { /* the subscription's answer */
      if (m0ctl_member(&l, "ok")->type != M0_JSON_TRUE) {
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
  m0ctl_conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_wait = {
    .name = "wait",
    .usage = "[--control SOCK] [--dev NAME] EVENT [FIELD=VALUE ...] --timeout S [--since T]",
    .summary = "wait for an event (with these fields); exit 0 when seen, 1 at the timeout",
    .help = M0CTL_CONN_HELP
    "  --timeout S     how long to wait (required)\n"
    "  --since T       also look at the recent events from t_ms T on (what an action\n"
    "                  printed), so an event that came before wait started counts\n"
    "A FIELD's VALUE compares with the event's text for strings, its JSON for the rest:\n"
    "  m0ctl wait net.closed link=0 reason=reset --timeout 5\n"
    "The matching event is printed.\n",
    .exec = wait_cmd,
};

