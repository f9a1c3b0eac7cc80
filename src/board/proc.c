/* proc.c: the process: one libuv loop, its signals, the event sink and the boards.
 *
 * What is per loop lives here and is shared by every board (the loop, the signals, the
 * sink and the log, the end-of-turn service of turn.c); what is per device lives in its
 * board. The boards are an array of
 * pointers (one board today), each board allocated alone so its libuv handles never move
 * when the array grows. Signals arrive through uv_signal, so the handlers run on the loop
 * like every other input and need no async-signal care: SIGHUP restarts every device,
 * SIGINT/SIGTERM close every one. The control channel (control.h), when asked for, is
 * the process's too: its event history starts with the sink, before any board (their
 * first events, web.listening or ready, are replayable), its listeners open once every
 * board exists (the greeting names them) and it closes first. The shutdown
 * closes every handle and lets the loop finish, so ASan/LSan see a clean exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "control.h"

static const int signal_numbers[3] = {SIGINT, SIGTERM, SIGHUP};

int m0__proc_init(struct m0__proc *p, const struct m0__proc_opts *opts) {
  memset(p, 0, sizeof *p);
  p->opts = *opts;
  m0__uart_watch_init(&p->uart_watch, &p->loop, &p->log); /* opens nothing yet */
  int ev_rc = m0__sink_open(&p->sink, opts->events, uv_hrtime(), opts->verbosity);
  m0__events_attach(&p->log, &p->sink, ""); /* the log works from here on */
  if (opts->control != NULL || opts->control_port != 0) {
    p->control = calloc(1, sizeof *p->control);
    if (p->control == NULL || m0__control_init(p->control, p) != 0) {
      m0__log_at(&p->log, M0__LOG_ERROR, "out of memory");
      return -ENOMEM;
    }
  }
  int rc = uv_loop_init(&p->loop);
  if (rc != 0) {
    m0__log_at(&p->log, M0__LOG_ERROR, "uv_loop_init: %s", uv_strerror(rc));
    return rc;
  }
  p->loop_open = true;
  m0__timers_init(&p->timers, &p->loop);
  rc = m0__turn_init(&p->turn, &p->loop);
  if (rc != 0) {
    m0__log_at(&p->log, M0__LOG_ERROR, "uv_prepare_init: %s", uv_strerror(rc));
    return rc;
  }
  if (ev_rc != 0) {
    m0__log_at(&p->log, M0__LOG_ERROR, "--events %s: %s", opts->events, strerror(-ev_rc));
    return ev_rc;
  }
  return 0;
}

int m0__proc_add(struct m0__proc *p, const struct m0__dev_cfg *cfg) {
  if (p->board_count == p->board_cap) {
    size_t cap = p->board_cap ? p->board_cap * 2 : 4;
    struct m0__board **boards = realloc(p->boards, cap * sizeof *boards);
    if (boards == NULL) {
      m0__log_at(&p->log, M0__LOG_ERROR, "out of memory");
      return -ENOMEM;
    }
    p->boards = boards;
    p->board_cap = cap;
  }
  /* calloc: a board this large comes as fresh zero pages, and stays untouched where the
   * device does not use it (m0__board_init writes only what it needs). */
  struct m0__board *b = calloc(1, sizeof *b);
  if (b == NULL || m0__timers_reserve(&p->timers, p->board_count + 1) != 0) {
    free(b);
    m0__log_at(&p->log, M0__LOG_ERROR, "out of memory");
    return -ENOMEM;
  }
  /* Counted at once: a board that failed half-way still has handles to close. */
  p->boards[p->board_count++] = b;
  char err[PATH_MAX + 256];
  int rc = m0__board_init(b, p, cfg, err, sizeof err);
  if (rc != 0) /* through the board's handle: the line names the device that failed */
    m0__log_at(&b->events, M0__LOG_ERROR, "%s", err);
  return rc;
}

int m0__proc_add_fleet(struct m0__proc *p, const struct m0__dev_cfg *cfg) {
  char err[PATH_MAX + 256];
  const char *prefix = p->opts.prefix ? p->opts.prefix : "m";
  int rc = m0__fleet_plan(&p->fleet, p->opts.fleet, p->opts.count, prefix, cfg->bind,
                          cfg->mac, err, sizeof err);
  if (rc != 0) {
    m0__log_at(&p->log, M0__LOG_ERROR, "%s", err);
    return rc;
  }
  /* One lock for the whole fleet (not a file descriptor per module), then a look at
   * each module's own lock files: a single m0emu may hold one of them. */
  char *lock = malloc(strlen(p->fleet.dir) + sizeof "/fleet.lock");
  char what[PATH_MAX + 32];
  if (lock == NULL) {
    m0__log_at(&p->log, M0__LOG_ERROR, "out of memory");
    return -ENOMEM;
  }
  sprintf(lock, "%s/fleet.lock", p->fleet.dir);
  snprintf(what, sizeof what, "the fleet folder %s", p->fleet.dir);
  rc = m0__lock_use(&p->log, &p->fleet_lock, lock, what, prefix, err, sizeof err);
  free(lock);
  if (rc == 0)
    rc = m0__fleet_probe_members(&p->fleet, cfg->no_tty, err, sizeof err);
  if (rc != 0) {
    m0__log_at(&p->log, M0__LOG_ERROR, "%s", err);
    return rc;
  }
  unsigned long nofile = m0__fleet_raise_nofile();
  /* A pty pair (unless --no-tty), a web listener, a UDP 1500 socket (unless port 0),
   * the --uart servers and a connection per module. */
  unsigned long per = (cfg->no_tty ? 2 : 4) + (cfg->udp1500_port != 0 ? 1 : 0) + cfg->nuart_net;
  unsigned long want = (unsigned long)p->fleet.count * per + 64;
  if (nofile != 0 && nofile < want)
    m0__log_at(&p->log, M0__LOG_WARNING,
               "warning: %zu modules may need about %lu open files, the limit is %lu "
               "(ulimit -n)",
               p->fleet.count, want, nofile);
  for (size_t i = 0; i < p->fleet.count; i++) {
    const struct m0__fleet_member *m = &p->fleet.members[i];
    struct m0__dev_cfg one = *cfg;
    one.name = m->name;
    one.state = m->state;
    one.tty = m->tty;
    one.bind = m->addr;
    for (size_t j = 0; j < one.nuart_net; j++) /* --uart KIND:PORT: at the module's address */
      if (!one.uart_net[j].addr_given)
        snprintf(one.uart_net[j].addr, sizeof one.uart_net[j].addr, "%s", m->addr);
    memcpy(one.mac, m->mac, sizeof one.mac);
    rc = m0__proc_add(p, &one);
    if (rc != 0)
      return rc;
  }
  rc = m0__fleet_write_map(p);
  if (rc != 0)
    m0__log_at(&p->log, M0__LOG_WARNING, "warning: cannot write %s/fleet.tsv: %s",
               p->fleet.dir, strerror(-rc));
  return 0;
}

static void stop(struct m0__proc *p) {
  if (p->stopping)
    return;
  p->stopping = true;
  if (p->signals_open)
    for (int i = 0; i < 3; i++)
      uv_close((uv_handle_t *)&p->signals[i], NULL);
  p->signals_open = false;
  if (p->control != NULL)
    m0__control_close(p->control);
  for (size_t i = 0; i < p->board_count; i++)
    m0__board_close(p->boards[i]);
  m0__uart_watch_close(&p->uart_watch);
  m0__timers_close(&p->timers);
  m0__fleet_web_close(p);
  m0__turn_close(&p->turn); /* a board still closing does its work at once from here */
}

/* The control channel's listeners, once every board exists (it names them to its
 * clients); its history runs since m0__proc_init. */
static int open_control(struct m0__proc *p) {
  char err[PATH_MAX + 128];
  if (p->control == NULL)
    return 0;
  int rc = m0__control_open(p->control, p->opts.control, p->opts.control_port, err,
                            sizeof err);
  if (rc != 0)
    m0__log_at(&p->log, M0__LOG_ERROR, "%s", err);
  return rc;
}

static void on_signal(uv_signal_t *handle, int signum) {
  struct m0__proc *p = handle->data;
  if (signum == SIGHUP) {
    for (size_t i = 0; i < p->board_count; i++)
      m0__board_restart(p->boards[i], "sighup");
    return;
  }
  m0__log(&p->log, "%s: exiting", signum == SIGINT ? "SIGINT" : "SIGTERM");
  stop(p);
}

int m0__proc_run(struct m0__proc *p) {
  for (int i = 0; i < 3; i++) {
    uv_signal_init(&p->loop, &p->signals[i]);
    p->signals[i].data = p;
  }
  p->signals_open = true;
  for (int i = 0; i < 3; i++) {
    int rc = uv_signal_start(&p->signals[i], on_signal, signal_numbers[i]);
    if (rc != 0) {
      m0__log_at(&p->log, M0__LOG_ERROR, "cannot handle signal %d: %s", signal_numbers[i],
                 uv_strerror(rc));
      return 1;
    }
  }
  if (open_control(p) != 0)
    return 1;
  /* With --events -, standard output is the JSON-lines stream and nothing else: a reader
   * parses every line, so the banner goes to standard error instead. */
  FILE *banner = p->sink.out == stdout ? stderr : stdout;
  if (p->opts.verbosity >= 0 && p->fleet.count > 0)
    m0__fleet_banner(p, banner);
  else if (p->opts.verbosity >= 0)
    for (size_t i = 0; i < p->board_count; i++)
      m0__board_banner(p->boards[i], banner);
  if (p->opts.verbosity >= 0 && p->control != NULL) {
    if (p->opts.control != NULL)
      fprintf(banner, "  control: %s\n", p->opts.control);
    if (p->opts.control_port != 0)
      fprintf(banner, "  control: 127.0.0.1:%u\n", (unsigned)p->opts.control_port);
    fflush(banner);
  }
  if (p->opts.verbosity >= 0 && p->overview != NULL) {
    const char *a = p->opts.fleet_web_addr;
    fprintf(banner, strchr(a, ':') ? "  overview: http://[%s]:%u/ (every module)\n"
                                   : "  overview: http://%s:%u/ (every module)\n",
            a, (unsigned)m0__fleet_web_port(p));
    fflush(banner);
  }
  for (size_t i = 0; i < p->board_count; i++)
    m0__board_start(p->boards[i]);
  uv_run(&p->loop, UV_RUN_DEFAULT);
  /* The loop only ends once stop() closed every handle. */
  if (!p->stopping) {
    m0__log_at(&p->log, M0__LOG_ERROR, "internal error: the event loop ended by itself");
    return 1;
  }
  return 0;
}

int m0__proc_finish(struct m0__proc *p, int code) {
  if (p->loop_open) {
    stop(p);
    uv_run(&p->loop, UV_RUN_DEFAULT); /* runs the close callbacks */
  }
  if (p->control != NULL) {
    m0__control_free(p->control);
    free(p->control);
    p->control = NULL;
  }
  for (size_t i = 0; i < p->board_count; i++) {
    m0__board_free(p->boards[i]);
    free(p->boards[i]);
  }
  free(p->boards);
  p->boards = NULL;
  p->board_count = p->board_cap = 0;
  m0__uart_watch_free(&p->uart_watch); /* after the ptys, which leave it */
  m0__timers_free(&p->timers);
  m0__fleet_web_free(p);
  m0__lock_release(&p->fleet_lock); /* after the boards: their ttys are gone */
  m0__fleet_free(&p->fleet);
  m0__sink_close(&p->sink);
  if (p->loop_open && uv_loop_close(&p->loop) != 0 && code == 0) {
    m0__log_at(&p->log, M0__LOG_ERROR, "internal error: handles left open at exit");
    code = 1;
  }
  p->loop_open = false;
  return code;
}
