/* main.c: the m0emu program: the command line, then the process (proc.c) over its boards.
 *
 * Exit codes (DESIGN.md): 0 clean exit on SIGINT/SIGTERM, 1 runtime failure, 2 usage
 * error, each failure with one line on stderr (through the log, like every stderr line).
 * An explicit --web-port that cannot be bound is a runtime failure, checked before the
 * banner; the port from WEBPORT is not (the device runs on without its page, as a module
 * whose page is unreachable still works).
 * Thin on purpose: the loop, the signals and the devices are proc.c's. The command line
 * describes one device (unnamed unless --name), or with --fleet a fleet of named ones
 * (fleet.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "board.h"

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

/* The user asked for this port and did not get it: say so and fail, rather than run a
 * device whose page is elsewhere or nowhere. A port below 1024 bound at 8000+port for
 * lack of privileges counts as bound: that mapping is the documented rule (spec 6.1).
 * The reason (in use, not permitted) is in the web.error event (and -v's log). */
static bool web_port_refused(struct m0__board *b) {
  const struct m0__dev_cfg *dev = &b->cfg;
  if (dev->web_port == 0 || (b->web_open && m0__web_port(&b->web) != 0))
    return false;
  m0__log_at(&b->events, M0__LOG_ERROR,
             strchr(dev->bind, ':') ? "--web-port %u: cannot listen on [%s]:%u (in use?)"
                                    : "--web-port %u: cannot listen on %s:%u (in use?)",
             (unsigned)dev->web_port, dev->bind, (unsigned)dev->web_port);
  return true;
}

int main(int argc, char **argv) {
  keep_standard_fds();
  struct m0__proc_opts opts;
  struct m0__dev_cfg dev;
  char err[PATH_MAX + 256]; /* a usage line echoes the value, up to a path */
  switch (m0__cli_parse(&opts, &dev, argc, argv, err, sizeof err)) {
  case M0__CLI_HELP:
    m0__cli_help(stdout);
    return 0;
  case M0__CLI_VERSION:
    printf("m0emu %s\n", M0EMU_VERSION);
    return 0;
  case M0__CLI_USAGE:
    m0__log_at(NULL, M0__LOG_ERROR, "%s", err);
    return 2;
  case M0__CLI_RUN:
    break;
  }

  /* A reader of --events - or of the banner may go away; that must not kill us. */
  signal(SIGPIPE, SIG_IGN);

  struct m0__proc proc; /* a failure below has logged its line already */
  if (m0__proc_init(&proc, &opts) != 0 ||
      (opts.fleet ? m0__proc_add_fleet(&proc, &dev) : m0__proc_add(&proc, &dev)) != 0)
    return m0__proc_finish(&proc, 1);
  for (size_t i = 0; i < proc.board_count; i++)
    if (web_port_refused(proc.boards[i]))
      return m0__proc_finish(&proc, 1);
  if (opts.fleet_web_port != 0 &&
      m0__fleet_web_open(&proc, opts.fleet_web_addr, opts.fleet_web_port, dev.web_hosts,
                         dev.nweb_hosts, err, sizeof err) != 0) {
    m0__log_at(&proc.log, M0__LOG_ERROR, "%s", err);
    return m0__proc_finish(&proc, 1);
  }
  return m0__proc_finish(&proc, m0__proc_run(&proc));
}
