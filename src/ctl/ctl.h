/* ctl.h: m0ctl, the host-side tool of m0emu: its command table and shared helpers.
 *
 * tmux-style: every subcommand is one struct m0ctl_cmd (name, usage, one-line summary,
 * handler), defined in its own file (cmd_search.c, cmd_netset.c; what the UDP 1500 ones
 * share is udp_io.c) and listed once in ctl.c's table, so a new command is a new file and
 * one line there. A handler gets argv from the subcommand's own name on (argv[0]) and
 * returns the exit status: 0 done, 1 failed (no answer, refused, network error), 2 usage
 * error.
 */
#ifndef M0CTL_CTL_H
#define M0CTL_CTL_H

#include <stdio.h>

enum { M0CTL_OK = 0, M0CTL_FAIL = 1, M0CTL_USAGE = 2 };

struct m0ctl_cmd {
  const char *name;    /* e.g. "search" */
  const char *usage;   /* the arguments after the name, for the usage line */
  const char *summary; /* one line for `m0ctl --help` */
  const char *help;    /* the options, one per line, for `m0ctl help NAME` (may be NULL) */
  int (*exec)(const struct m0ctl_cmd *self, int argc, char **argv);
};

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

#endif
