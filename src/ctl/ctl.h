/* ctl.h: m0ctl, the host-side tool of m0emu: its command table and shared helpers.
 *
 * tmux-style: every subcommand is one struct m0ctl_cmd (name, usage, one-line summary,
 * handler), defined in the file of its group and listed once in ctl.c's table, so a new
 * group is a new file and one line there. The groups: AT over a serial port (cmd_at.c);
 * the emulator's control channel (cmd_device.c, cmd_fault.c, cmd_uart.c, cmd_events.c,
 * sharing control_conn.c); the UDP 1500 setup protocols (cmd_search.c, cmd_netset.c,
 * sharing udp_io.c). One option parser serves them all (m0ctl_options). A handler gets
 * argv from the subcommand's own name on (argv[0]) and returns the exit status: 0 done,
 * 1 failed (no answer, refused, +ERR, a timeout, a network error), 2 usage error.
 */
#ifndef M0CTL_CTL_H
#define M0CTL_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { M0CTL_OK = 0, M0CTL_FAIL = 1, M0CTL_USAGE = 2 };

struct m0ctl_cmd {
  const char *name;    /* e.g. "status" */
  const char *usage;   /* the arguments after the name, for the usage line */
  const char *summary; /* one line for `m0ctl --help` */
  const char *help;    /* the options, one per line, for `m0ctl help NAME` (may be NULL) */
  int (*exec)(const struct m0ctl_cmd *self, int argc, char **argv);
};

/* AT over a serial port (cmd_at.c). */
extern const struct m0ctl_cmd m0ctl_cmd_at;
extern const struct m0ctl_cmd m0ctl_cmd_get;
extern const struct m0ctl_cmd m0ctl_cmd_set;
extern const struct m0ctl_cmd m0ctl_cmd_dump;
extern const struct m0ctl_cmd m0ctl_cmd_load;

/* The control channel (control.h). */
extern const struct m0ctl_cmd m0ctl_cmd_status;
extern const struct m0ctl_cmd m0ctl_cmd_list;
extern const struct m0ctl_cmd m0ctl_cmd_restart;
extern const struct m0ctl_cmd m0ctl_cmd_factory_reset;
extern const struct m0ctl_cmd m0ctl_cmd_power;
extern const struct m0ctl_cmd m0ctl_cmd_cable;
extern const struct m0ctl_cmd m0ctl_cmd_hang;
extern const struct m0ctl_cmd m0ctl_cmd_uart;
extern const struct m0ctl_cmd m0ctl_cmd_noise;
extern const struct m0ctl_cmd m0ctl_cmd_impair;
extern const struct m0ctl_cmd m0ctl_cmd_net_reset;
extern const struct m0ctl_cmd m0ctl_cmd_flash;
extern const struct m0ctl_cmd m0ctl_cmd_clear;
extern const struct m0ctl_cmd m0ctl_cmd_events;
extern const struct m0ctl_cmd m0ctl_cmd_wait;
extern const struct m0ctl_cmd m0ctl_cmd_call;

/* The control channel's global options (`m0ctl --control SOCK --dev NAME COMMAND`) reach
 * the commands through the environment, where a user may also set them once. */
#define M0CTL_ENV_CONTROL "M0CTL_CONTROL"
#define M0CTL_ENV_DEV "M0CTL_DEV"
/* The UDP 1500 commands (cmd_search.c, cmd_netset.c). */
extern const struct m0ctl_cmd m0ctl_cmd_search;
extern const struct m0ctl_cmd m0ctl_cmd_netset;

/* "m0ctl NAME: <message>" and the usage line on stderr; returns M0CTL_USAGE. */
int m0ctl_usage(const struct m0ctl_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "m0ctl NAME: <message>" on stderr; returns M0CTL_FAIL. */
int m0ctl_fail(const struct m0ctl_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The full help of one command on out. */
void m0ctl_cmd_help(const struct m0ctl_cmd *cmd, FILE *out);

/* ---- options: one getopt_long loop for every command (ctl.c) ---- */

/* getopt_long values: --help is every command's; a group numbers its own from
 * M0CTL_OPT_GROUP. */
enum { M0CTL_OPT_HELP = 256, M0CTL_OPT_GROUP = 300 };

/* A command's handling of one option: 1 taken, 0 not one of its own, -1 after a usage
 * message. A command has a list of them (its group's shared options, then its own). */
typedef int (*m0ctl_option_fn)(const struct m0ctl_cmd *cmd, int opt, const char *arg,
                               void *ctx);
struct m0ctl_opt_handler {
  m0ctl_option_fn fn; /* NULL ends the list */
  void *ctx;
};
/* Parse argv's options (long ones only, as longs lists them; argv[optind..] are then the
 * arguments): --help prints the command's help and sets *done; every other option goes to
 * the handlers in turn until one takes it. An unknown option, a missing value, or one no
 * handler took is a usage error. Returns M0CTL_OK (see *done) or M0CTL_USAGE, at the
 * first error or --help. */
int m0ctl_options(const struct m0ctl_cmd *cmd, int argc, char **argv,
                  const struct option *longs, const struct m0ctl_opt_handler *handlers,
                  bool *done);

/* ---- shared helpers (ctl.c) ---- */

/* Monotonic milliseconds. */
uint64_t m0ctl_now_ms(void);
/* Wait until fd can be read or the monotonic deadline (UINT64_MAX: none; one that passed
 * still looks once), whatever signals come: 1 readable, 0 the deadline, -1 an error. */
int m0ctl_wait_in(int fd, uint64_t deadline);
/* Seconds as given on a command line ("5", "0.25", "1e-3") into milliseconds: 0, or -1
 * when it is not a non-negative number of at most max_s seconds. */
int m0ctl_seconds(const char *s, uint64_t max_s, uint64_t *ms);
/* A probability ("0.001", "1e-6", "0") into parts per billion: 0 or -1. */
int m0ctl_probability(const char *s, uint64_t *ppb);
/* A decimal integer min..max: 0 or -1. */
int m0ctl_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out);
/* C-style escapes (\r \n \t \\ \xHH \0) into bytes: returns the length, or -1 with a
 * message on a bad escape. out needs strlen(s) bytes. */
long m0ctl_unescape(const char *s, unsigned char *out, const char **bad);

#endif
