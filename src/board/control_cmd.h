/* control_cmd.h: what the control channel's command files share (control_cmd.c, the
 * table, the checks and the general commands; control_fault.c, the fault commands): the
 * shape of a table entry and of its checked arguments. Internal to the channel.
 *
 * The table is in pieces, one per file, listed in one order by control_cmd.c (what
 * `commands` shows): a file adding commands adds its piece and nothing else.
 */
#ifndef M0_BOARD_CONTROL_CMD_H
#define M0_BOARD_CONTROL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "control.h"

#define DAY_S 86400u
#define PARAMS_MAX 8

enum ptype {
  P_STRING,  /* any string without NUL, at most `max` bytes */
  P_BYTES,   /* any string, NUL included (\u0000), at most `max` bytes */
  P_CHOICE,  /* one of `choices` */
  P_UINT,    /* an integer 0..max */
  P_SECONDS, /* a number of seconds 0..max, kept in ns */
  P_PROB,    /* a probability 0..1, kept in parts per billion */
  P_BOOL,
};

struct param {
  const char *name;
  enum ptype type;
  uint64_t max;
  const char *const *choices;
};

struct arg {
  bool given;
  uint64_t u;      /* P_UINT, P_SECONDS (ns), P_PROB (ppb), P_BOOL (0/1), P_CHOICE (index) */
  const char *s;   /* P_STRING */
  size_t len;
};

enum dev_use {
  DEV_NONE,   /* about the process: "dev" is refused */
  DEV_ONE,    /* about one device */
  DEV_FILTER, /* "dev" optional: one device, or all when absent */
};

struct m0__ctl_cmd {
  const char *name;
  enum dev_use dev;
  struct param params[PARAMS_MAX];
  unsigned required; /* bit per params[] index */
  int (*run)(struct m0__ctl_req *r, const struct arg *a);
  const char *summary;
};

/* The loop's clock, as the core's inputs take it. */
static inline uint64_t m0__ctl_now_ns(void) { return uv_hrtime(); }

/* ---- control_cmd.c ---- */

/* The error code of the answer for an error of the core (enum m0_err): its one mapping. */
const char *m0__ctl_core_error_code(int err);
/* True when the request's device is powered; else answers "state" and returns false. */
bool m0__ctl_need_power(struct m0__ctl_req *r);

/* ---- control_fault.c ---- */

/* The fault commands (power, cable, hang, uart.fault, net.fault, net.reset, flash.fault,
 * clear, seed). */
extern const struct m0__ctl_cmd m0__ctl_fault_cmds[];
extern const size_t m0__ctl_fault_ncmds;
/* Every fault's state, for status (deadlines on the event stream's clock). */
struct m0__board;
void m0__ctl_faults(struct m0__jbuf *b, const struct m0__board *bd);

#endif
