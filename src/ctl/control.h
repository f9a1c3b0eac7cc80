/* control.h: what m0ctl's control-channel commands share (control_conn.c): the client
 * connection to the emulator's channel (docs/control.md) and the group's options.
 *
 * One connection per command: connect (a Unix socket, or tcp:PORT on 127.0.0.1), read
 * the greeting, send one request line, read lines until the answer with its id (event
 * lines met meanwhile are for the commands that asked for them), print, exit. An error
 * answer is one line on stderr naming the emulator's message and code, exit 1; a channel
 * that cannot be reached or does not answer in --timeout (10 s) is exit 1 too. The
 * commands are in cmd_device.c (status, list, restart, factory-reset, power, call),
 * cmd_fault.c (cable, hang, noise, impair, net-reset, flash, clear), cmd_uart.c (uart)
 * and cmd_events.c (events, wait).
 */
#ifndef M0CTL_CONTROL_H
#define M0CTL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "m0/json.h"

#define M0CTL_CONN_TIMEOUT_MS 10000 /* for each answer, unless --timeout */
#define M0CTL_CONN_TIMEOUT_MAX_S 86400
#define M0CTL_CONN_MEMBERS_MAX 64

struct m0ctl_conn {
  const struct m0ctl_cmd *cmd;
  int fd;
  char *buf;
  size_t len, cap, start; /* unread bytes are buf[start..len) */
  unsigned long next_id;
  const char *dev;        /* --dev / $M0CTL_DEV, NULL: none */
  uint64_t timeout_ms;    /* for each answer */
};

/* What a parsed line holds (valid until the next read); scratch is the caller's to free. */
struct m0ctl_line {
  char *text;
  size_t len;
  struct m0_json_member m[M0CTL_CONN_MEMBERS_MAX];
  int n;
  char *scratch;
};

/* Connect to spec (a socket path or tcp:PORT) and read the greeting: an exit status. */
int m0ctl_conn_open(const struct m0ctl_cmd *cmd, struct m0ctl_conn *c, const char *spec,
                    const char *dev, uint64_t timeout_ms);
void m0ctl_conn_close(struct m0ctl_conn *c);
/* The next line (newline removed) before deadline (UINT64_MAX: none): 1, 0 at the
 * deadline, -1 when the emulator closed the channel or on an error (message printed). */
int m0ctl_conn_read_line(struct m0ctl_conn *c, uint64_t deadline, char **out, size_t *out_len);
/* text as one JSON object into l: 0, or -1 after the message. */
int m0ctl_conn_parse(struct m0ctl_conn *c, struct m0ctl_line *l, char *text, size_t len);
const struct m0_json_member *m0ctl_member(const struct m0ctl_line *l, const char *key);
/* Send {"id":N,"cmd":name[,"dev":...][,extra]}: an exit status, the request's id in *id. */
int m0ctl_conn_send(struct m0ctl_conn *c, const char *name, bool with_dev, const char *extra,
                    unsigned long *id);
/* Read until the answer to id, skipping event lines: M0CTL_OK with *ans parsed (ok true),
 * M0CTL_FAIL after printing an error answer or a failure. */
int m0ctl_conn_await(struct m0ctl_conn *c, unsigned long id, struct m0ctl_line *ans);
/* One request and its answer. */
int m0ctl_conn_call(struct m0ctl_conn *c, const char *name, bool with_dev, const char *extra,
                    struct m0ctl_line *ans);

/* ---- the options every command of the group takes ---- */

enum {
  M0CTL_CONN_OPT_CONTROL = M0CTL_OPT_GROUP, M0CTL_CONN_OPT_DEV, M0CTL_CONN_OPT_TIMEOUT,
  M0CTL_CONN_OPT_FOR, M0CTL_CONN_OPT_RESET_AFTER,
  M0CTL_CONN_OPT_OWN /* a command's own options from here */
};

#define M0CTL_CONN_LONGS                                                                     \
  {"control", required_argument, NULL, M0CTL_CONN_OPT_CONTROL},                              \
      {"dev", required_argument, NULL, M0CTL_CONN_OPT_DEV},                                  \
      {"timeout", required_argument, NULL, M0CTL_CONN_OPT_TIMEOUT},                          \
      {"help", no_argument, NULL, M0CTL_OPT_HELP}

#define M0CTL_CONN_HELP                                                                      \
  "  --control SOCK  the control channel: a Unix socket path, or tcp:PORT (or $M0CTL_CONTROL)\n" \
  "  --dev NAME      the device, when the emulator runs several (or $M0CTL_DEV)\n"

struct m0ctl_conn_opts {
  const char *control, *dev;
  uint64_t timeout_ms;
  bool timeout_given;
};

/* A command's options: the common ones into co, the rest through own (may be NULL).
 * As m0ctl_options: M0CTL_OK (with *done after --help) or M0CTL_USAGE. */
int m0ctl_conn_options(const struct m0ctl_cmd *cmd, int argc, char **argv,
                       const struct option *longs, struct m0ctl_conn_opts *co,
                       m0ctl_option_fn own, void *ctx, bool *done);

/* --for S and --reset-after S (power, cable, flash): seconds, more than 0. */
struct m0ctl_for_opts {
  uint64_t for_ms, reset_ms;
  bool for_given, reset_given;
};
int m0ctl_for_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx);
/* Milliseconds as the JSON member "name":S.mmm, exactly. */
void m0ctl_seconds_json(char *buf, size_t cap, const char *name, uint64_t ms);

/* The answer's t_ms on stdout (what an action prints). */
void m0ctl_print_t_ms(const struct m0ctl_line *ans);
/* Connect, send one request with these members, print its "result" (print_result) or its
 * t_ms: an exit status. */
int m0ctl_request(const struct m0ctl_cmd *cmd, const struct m0ctl_conn_opts *co,
                  const char *name, bool with_dev, const char *extra, bool print_result);
/* A command that is one request and takes no arguments. */
int m0ctl_simple(const struct m0ctl_cmd *cmd, int argc, char **argv, const char *name,
                 bool with_dev, bool print_result);

#endif
