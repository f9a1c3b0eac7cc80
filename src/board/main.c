/* main.c: the m0emu program: command line, signals, the loop, exit codes.
 *
 * Exit codes (DESIGN.md): 0 clean exit on SIGINT/SIGTERM, 1 runtime failure, 2 usage
 * error, each failure with one line on stderr. Signals arrive through uv_signal, so the
 * handlers run on the loop like every other input and need no async-signal care. The
 * shutdown closes every handle and lets the loop finish, so ASan/LSan see a clean exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"

struct program {
  uv_loop_t loop;
  struct m0__board *board;
  uv_signal_t signals[3];
  bool signals_open;
  bool stopping;
};

static const int signal_numbers[3] = {SIGINT, SIGTERM, SIGHUP};

static void stop(struct program *p) {
  if (p->stopping)
    return;
  p->stopping = true;
  if (p->signals_open)
    for (int i = 0; i < 3; i++)
      uv_close((uv_handle_t *)&p->signals[i], NULL);
  p->signals_open = false;
  m0__board_close(p->board);
}

static void on_signal(uv_signal_t *handle, int signum) {
  struct program *p = handle->data;
  if (signum == SIGHUP) {
    m0__board_restart(p->board, "sighup");
    return;
  }
  m0__log(&p->board->events, "%s: exiting", signum == SIGINT ? "SIGINT" : "SIGTERM");
  stop(p);
}

static int finish(struct program *p, int code) {
  stop(p);
  uv_run(&p->loop, UV_RUN_DEFAULT); /* runs the close callbacks */
  m0__board_free(p->board);
  free(p->board);
  if (uv_loop_close(&p->loop) != 0 && code == 0) {
    fprintf(stderr, "m0emu: internal error: handles left open at exit\n");
    code = 1;
  }
  return code;
}

/* Started with stdin, stdout or stderr closed (CI without standard input, daemons), the
 * next open() would take that number: the pty or the epoll fd would become "stdout",
 * and libuv refuses to close an fd below 3. Park /dev/null on the missing ones. */
static void keep_standard_fds(void) {
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      int null = open("/dev/null", O_RDWR);
      if (null >= 0 && null != fd) { /* lower ones are open: it is fd, else dup it */
        dup2(null, fd);
        close(null);
      }
    }
}

int main(int argc, char **argv) {
  keep_standard_fds();
  struct m0__cli cli;
  char err[PATH_MAX + 256];
  switch (m0__cli_parse(&cli, argc, argv, err, sizeof err)) {
  case M0__CLI_HELP:
    m0__cli_help(stdout);
    return 0;
  case M0__CLI_VERSION:
    printf("m0emu %s\n", M0EMU_VERSION);
    return 0;
  case M0__CLI_USAGE:
    fprintf(stderr, "m0emu: %s\n", err);
    return 2;
  case M0__CLI_RUN:
    break;
  }

  /* A reader of --events - or of the banner may go away; that must not kill us. */
  signal(SIGPIPE, SIG_IGN);

  struct program p = {0};
  int rc = uv_loop_init(&p.loop);
  if (rc != 0) {
    fprintf(stderr, "m0emu: uv_loop_init: %s\n", uv_strerror(rc));
    return 1;
  }
  p.board = calloc(1, sizeof *p.board);
  if (p.board == NULL) {
    fprintf(stderr, "m0emu: out of memory\n");
    uv_loop_close(&p.loop);
    return 1;
  }
  if (m0__board_init(p.board, &p.loop, &cli, err, sizeof err) != 0) {
    fprintf(stderr, "m0emu: %s\n", err);
    return finish(&p, 1);
  }
  for (int i = 0; i < 3; i++) {
    uv_signal_init(&p.loop, &p.signals[i]);
    p.signals[i].data = &p;
  }
  p.signals_open = true;
  for (int i = 0; i < 3; i++) {
    rc = uv_signal_start(&p.signals[i], on_signal, signal_numbers[i]);
    if (rc != 0) {
      fprintf(stderr, "m0emu: cannot handle signal %d: %s\n", signal_numbers[i],
              uv_strerror(rc));
      return finish(&p, 1);
    }
  }
  if (cli.verbosity >= 0)
    m0__board_banner(p.board, stdout);
  m0__board_start(p.board);
  uv_run(&p.loop, UV_RUN_DEFAULT);
  /* The loop only ends once stop() closed every handle. */
  if (!p.stopping) {
    fprintf(stderr, "m0emu: internal error: the event loop ended by itself\n");
    return finish(&p, 1);
  }
  return finish(&p, 0);
}
