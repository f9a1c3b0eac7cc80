/* uart_pty.c: the module's UART as a pseudo-terminal (spec §2).
 *
 * One pty pair for the process's life, kept across device restarts. We open and hold
 * our own slave fd from the start, so the master never sees EIO/HUP while no host has
 * the port open; because of that, attach/detach cannot come from the master and is
 * observed with inotify on /dev/pts/N instead: opens minus closes, 0->1 attach, 1->0
 * detach (our own open happened before the watch, so it is not counted); after a close,
 * a /proc scan on the thread pool corrects the count for events inotify merged.
 * The inotify instance is the process's, shared by every pty (uart_watch.c): one per
 * pty would stop a fleet at 128 (the default per-user limit).
 *
 * Programs that use the port one after another must each get only their own bytes, and
 * Linux discards nothing when a program closes a pty (not even without our slave fd):
 * we learn of the close after the fact. At the last close, in this order: what the host
 * wrote and the device has not read is taken from the master (all of it, since its
 * writes returned before its close), the device's unread output is flushed through our
 * slave fd, tty.detach is reported, and the taken bytes go to the core with no host
 * attached (their answers are lost, as on a real UART whose host has gone). Only then
 * can the next host be attached. inotify is read before the master on every wakeup, so
 * no bytes are read before the open or close that precedes them. What remains is the
 * time between a close and our reading it (median 0.1 ms, ms under load): a program that
 * opens within it can meet the end of the previous one's exchange (docs/user-guide.md).
 *
 * The host's termios is read through the master on attach and every 100 ms while
 * attached (a pty gives no change notification). Reads take at most
 * m0_dev_uart_rx_budget() bytes: the core owns receive pacing. The pty is one front end
 * of the board's UART line (uart.h): it reports its host and bytes to the line, which
 * decides whether they reach the core.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "board.h"

/* How often the host's line settings are sampled while a host is attached. */
#define TERMIOS_POLL_MS 100
/* Back-off after an unexpected read error, so a broken fd cannot spin the loop. */
#define READ_RETRY_MS 100
/* One read from the master: a pty moves at most 4 KiB per wakeup anyway (N_TTY). */
#define READ_CHUNK 4096

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t cap, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < cap)
    snprintf(err + n, cap - (size_t)n, ": %s", strerror(-rc));
  return rc;
}

/* Make --tty point at the slave in one step: a symlink under a temporary name in the
 * same directory, renamed over the target (rename is atomic; symlink() cannot replace). */
static int publish_link(struct m0__uart *u, char *err, size_t cap) {
  struct stat st;
  if (lstat(u->link_path, &st) == 0 && !S_ISLNK(st.st_mode)) {
    snprintf(err, cap, "--tty %s exists and is not a symlink; refusing to replace it",
             u->link_path);
    return -EEXIST;
  }
  char tmp[PATH_MAX];
  const char *slash = strrchr(u->link_path, '/');
  int n;
  if (slash == NULL)
    n = snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", u->link_path, (long)getpid());
  else
    n = snprintf(tmp, sizeof tmp, "%.*s/.%s.%ld.tmp", (int)(slash - u->link_path),
                 u->link_path, slash + 1, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof tmp)
    return fail(err, cap, -ENAMETOOLONG, "--tty %s", u->link_path);
  unlink(tmp); /* a leftover of an earlier process with our pid */
  if (symlink(u->slave_path, tmp) != 0)
    return fail(err, cap, -errno, "cannot create the --tty symlink %s", u->link_path);
  if (rename(tmp, u->link_path) != 0) {
    int rc = -errno;
    unlink(tmp);
    return fail(err, cap, rc, "cannot publish the --tty symlink %s", u->link_path);
  }
  u->link_made = true;
  return 0;
}

int m0__uart_open(struct m0__uart *u, uv_loop_t *loop, const char *link_path,
                  struct m0__events *events, struct m0__uart_watch *watch, char *err,
                  size_t cap) {
  /* Not the tail buffer before them: an idle fleet module leaves it untouched. */
  memset((char *)u + offsetof(struct m0__uart, loop), 0,
         sizeof *u - offsetof(struct m0__uart, loop));
  u->loop = loop;
  u->events = events;
  u->watch = watch;
  u->master = u->slave = u->wd = -1;
  u->rx_enabled = true;
  u->link_path = strdup(link_path); /* too long for a path: the symlink's ENAMETOOLONG */
  if (u->link_path == NULL)
    return fail(err, cap, -ENOMEM, "out of memory");

  u->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (u->master < 0)
    return fail(err, cap, -errno, "cannot create a pty (posix_openpt)");
  if (grantpt(u->master) != 0 || unlockpt(u->master) != 0)
    return fail(err, cap, -errno, "cannot unlock the pty");
  int rc = ptsname_r(u->master, u->slave_path, sizeof u->slave_path);
  if (rc != 0)
    return fail(err, cap, -rc, "cannot name the pty slave");
  int fl = fcntl(u->master, F_GETFL);
  if (fl < 0 || fcntl(u->master, F_SETFL, fl | O_NONBLOCK) != 0)
    return fail(err, cap, -errno, "cannot make the pty master non-blocking");

  /* Our own slave fd, held until exit. O_NOCTTY: the pty must never become our
   * controlling terminal (its hangup would end us). */
  u->slave = open(u->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (u->slave < 0)
    return fail(err, cap, -errno, "cannot open %s", u->slave_path);
  struct termios t;
  if (tcgetattr(u->slave, &t) != 0)
    return fail(err, cap, -errno, "tcgetattr %s", u->slave_path);
  /* Raw, so the line discipline never echoes or translates; 115200 is the factory
   * AT+UART, so a host that never sets a speed starts without a mismatch. */
  cfmakeraw(&t);
  cfsetispeed(&t, B115200);
  cfsetospeed(&t, B115200);
  if (tcsetattr(u->slave, TCSANOW, &t) != 0)
    return fail(err, cap, -errno, "tcsetattr %s", u->slave_path);

  /* The watch is added after our own open, so only hosts are counted. */
  rc = m0__uart_watch_add(watch, u, u->slave_path);
  if (rc < 0)
    return fail(err, cap, rc, "cannot watch %s with inotify", u->slave_path);
  u->wd = rc;

  if ((rc = uv_poll_init(loop, &u->master_poll, u->master)) != 0)
    return fail(err, cap, rc, "uv_poll_init (pty)");
  uv_timer_init(loop, &u->termios_timer);
  uv_timer_init(loop, &u->retry_timer);
  uv_timer_init(loop, &u->tail_timer);
  u->master_poll.data = u->termios_timer.data = u->retry_timer.data = u->tail_timer.data = u;
  u->handles_open = true;

  return publish_link(u, err, cap);
}

static void on_master(uv_poll_t *handle, int status, int events);

/* One uv_poll per fd (epoll allows no second one): the mask is the union of what the
 * core wants read (pacing) and whether a short write waits for room. */
static void update_poll(struct m0__uart *u) {
  if (u->port.line == NULL || !u->handles_open)
    return;
  int ev = (u->rx_enabled && !u->rx_paused ? UV_READABLE : 0) |
           (u->want_writable ? UV_WRITABLE : 0);
  if (ev == u->master_events)
    return;
  u->master_events = ev;
  if (ev != 0)
    uv_poll_start(&u->master_poll, ev, on_master);
  else
    uv_poll_stop(&u->master_poll);
}

static uint32_t speed_to_baud(speed_t s) {
  static const struct {
    speed_t speed;
    uint32_t baud;
  } table[] = {
      {B0, 0},           {B50, 50},         {B75, 75},           {B110, 110},
      {B134, 134},       {B150, 150},       {B200, 200},         {B300, 300},
      {B600, 600},       {B1200, 1200},     {B1800, 1800},       {B2400, 2400},
      {B4800, 4800},     {B9600, 9600},     {B19200, 19200},     {B38400, 38400},
      {B57600, 57600},   {B115200, 115200}, {B230400, 230400},   {B460800, 460800},
      {B500000, 500000}, {B576000, 576000}, {B921600, 921600},   {B1000000, 1000000},
      {B1152000, 1152000}, {B1500000, 1500000}, {B2000000, 2000000}, {B2500000, 2500000},
      {B3000000, 3000000}, {B3500000, 3500000}, {B4000000, 4000000},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].speed == s)
      return table[i].baud;
  return (uint32_t)s; /* a libc whose speed_t is already numeric */
}

/* On Linux, termios requests on a pty master act on the slave: this is the host's view. */
static void read_termios(struct m0__uart *u) {
  struct termios t;
  if (tcgetattr(u->master, &t) != 0)
    return;
  uint32_t baud = speed_to_baud(cfgetospeed(&t));
  uint8_t stop_bits = (t.c_cflag & CSTOPB) ? 2 : 1;
  if (u->termios_known && baud == u->host_baud && stop_bits == u->host_stop_bits)
    return;
  u->termios_known = true;
  u->host_baud = baud;
  u->host_stop_bits = stop_bits;
  m0__log(u->events, "host termios: %u baud, %u stop bits", (unsigned)baud,
          (unsigned)stop_bits);
  m0__uart_line_settings(&u->port, baud, 0, stop_bits, 0);
}

static void on_termios_timer(uv_timer_t *timer) {
  read_termios(timer->data);
}

static void tty_event(struct m0__uart *u, const char *name) {
  char fields[128];
  size_t n = (size_t)snprintf(fields, sizeof fields, "\"pts\":");
  m0_json_string(fields + n, sizeof fields - n, u->slave_path);
  m0__events_emit(u->events, name, fields);
}

static void host_attached(struct m0__uart *u) {
  u->attached = true;
  m0__uart_line_host(&u->port, true); /* tty.attach once it is the device's host */
  u->termios_known = false;
  read_termios(u);
  uv_timer_start(&u->termios_timer, on_termios_timer, TERMIOS_POLL_MS, TERMIOS_POLL_MS);
}

/* The flush comes after the core's detach: catching up first, the core still writes
 * what its pacing made due (real timing) before it stops writing. */
static void host_detached(struct m0__uart *u) {
  u->attached = false;
  uv_timer_stop(&u->termios_timer);
  m0__uart_line_host(&u->port, false);
  /* What the device wrote that no host read would reach the next opener, stale. */
  if (tcflush(u->slave, TCIFLUSH) != 0)
    m0__log(u->events, "tcflush %s: %s", u->slave_path, strerror(errno));
}

/* Take from the master all the departed hosts wrote that the device has not read yet.
 * Their writes returned before their closes, so the bytes are in the master's buffer or
 * still on their way to it (the kernel moves them in a work item, ~1.6 ms late under
 * load); a read that finds the buffer empty first waits for that work, so reading until
 * EAGAIN gets every one of them, and only bytes written after the close can be left. */
static void take_tail(struct m0__uart *u) {
  if (u->tail_off > 0) {
    memmove(u->tail, u->tail + u->tail_off, u->tail_len - u->tail_off);
    u->tail_len -= u->tail_off;
    u->tail_off = 0;
  }
  size_t before = u->tail_len;
  while (u->tail_len < sizeof u->tail) {
    ssize_t n = read(u->master, u->tail + u->tail_len, sizeof u->tail - u->tail_len);
    if (n > 0)
      u->tail_len += (size_t)n;
    else if (n < 0 && errno == EINTR)
      continue;
    else
      break; /* EAGAIN: all taken; an error is read_host's to report */
  }
  if (u->tail_len > before)
    m0__log(u->events, "pty: %zu bytes the last host wrote before closing, taken "
                       "detached",
            u->tail_len - before);
  if (u->tail_len == sizeof u->tail)
    m0__log(u->events, "pty %s: more than %zu unread bytes at a close: the rest is read "
                       "as the next host's", u->slave_path, sizeof u->tail);
}

/* Hand the tail to the core, within its receive budget, while no host is attached: the
 * device reads what the departed host sent and its answers are lost, as on a real UART
 * whose host has gone. Stops when the core stops reading (it re-enables: tail_timer). */
static void feed_tail(struct m0__uart *u) {
  while (u->tail_off < u->tail_len && u->rx_enabled) {
    size_t budget = m0__uart_line_budget(&u->port);
    if (budget == 0)
      break;
    size_t n = u->tail_len - u->tail_off;
    if (n > budget)
      n = budget;
    if (n > READ_CHUNK)
      n = READ_CHUNK; /* one pty read's worth: a frame ends there in fast timing */
    const uint8_t *p = u->tail + u->tail_off;
    u->tail_off += n;
    m0__uart_line_rx(&u->port, p, n);
  }
  if (u->tail_off == u->tail_len)
    u->tail_off = u->tail_len = 0;
}

/* A host is attached once one holds the tty and the tail of the last one is consumed:
 * until then the device's output is dropped and the new host's bytes wait in the pty. */
static void settle_attach(struct m0__uart *u) {
  if (u->opens > 0 && u->tail_len == 0 && !u->attached)
    host_attached(u);
}

static void on_tail_timer(uv_timer_t *timer) {
  struct m0__uart *u = timer->data;
  feed_tail(u);
  settle_attach(u);
}

/* Whether another process holds the slave open, from /proc: 1 yes, 0 no, -1 cannot tell
 * (a process whose fds we may not read, and no holder found). Only used to correct the
 * inotify count, see scan_done(). */
static int others_hold_slave(const struct m0__uart *u) {
  DIR *proc = opendir("/proc");
  if (proc == NULL)
    return -1;
  long self = (long)getpid();
  int result = 0;
  struct dirent *de;
  while (result != 1 && (de = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self)
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    DIR *fds = opendir(path);
    if (fds == NULL) {
      if (errno == EACCES || errno == EPERM)
        result = -1;
      continue; /* ENOENT: it has exited */
    }
    struct dirent *fe;
    while ((fe = readdir(fds)) != NULL) {
      char target[sizeof u->slave_path];
      ssize_t n = readlinkat(dirfd(fds), fe->d_name, target, sizeof target - 1);
      if (n <= 0)
        continue;
      target[n] = '\0';
      if (strcmp(target, u->slave_path) == 0) {
        result = 1;
        break;
      }
    }
    closedir(fds);
  }
  closedir(proc);
  return result;
}

/* The last close. The bytes it left are taken first, before a later host's can follow
 * them; then the device's unread output is flushed and the detach reported; then the
 * bytes go to the core with no host attached, and the next host is attached after them.
 * A host that opened before we saw this close may have written already, and its bytes
 * cannot be told from the last one's: they are taken too (read by the device, answers
 * lost). Leaving them all for the new host instead answers the last one's leftovers to
 * it, after its tty.attach: with the tail taken, a host that waits for its tty.attach
 * gets only its own bytes whatever the timing (docs/user-guide.md). */
static void set_opens(struct m0__uart *u, unsigned opens) {
  unsigned before = u->opens;
  u->opens = opens;
  if (u->port.line == NULL)
    return; /* not started (the watch is shared): m0__uart_start settles the count */
  if (before > 0 && opens == 0) {
    take_tail(u);
    if (u->attached)
      host_detached(u);
    feed_tail(u);
  }
  settle_attach(u);
}

/* One event of our slave, from the process's watch (uart_watch.c); a close asks for a
 * /proc recount once the shared queue is empty (m0__uart_settle). */
void m0__uart_on_watch(struct m0__uart *u, uint32_t mask) {
  u->event_gen++;
  if (mask & IN_OPEN)
    set_opens(u, u->opens + 1);
  if (mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) {
    set_opens(u, u->opens > 0 ? u->opens - 1 : 0);
    m0__uart_watch_settle_later(u->watch, u);
  }
}

/* After a close, /proc settles what inotify cannot: it merges identical consecutive
 * unread events, so two hosts opening (or closing) at the same instant may count as one.
 * Nobody else holding the slave means detached; someone holding it while we count none
 * means merged opens. The scan reads every process's fds (2-6 ms with ~100 processes,
 * more on a desktop), so it runs on libuv's thread pool: on the loop it would leave
 * the next host's open and the last one's bytes unwatched for that long. Its answer is
 * used only if no event arrived while it ran (the kernel queues a host's IN_OPEN before
 * its fd appears in /proc, so the drain in scan_done finds such a host's open first). */
static void request_scan(struct m0__uart *u);

static void scan_work(uv_work_t *req) {
  struct m0__uart *u = req->data;
  u->scan_result = others_hold_slave(u); /* reads only slave_path, fixed since open */
}

static void drain_inotify(struct m0__uart *u);

static void scan_done(uv_work_t *req, int status) {
  struct m0__uart *u = req->data;
  unsigned gen = u->scan_gen;
  bool again = u->scan_again;
  u->scan_busy = false;
  u->scan_again = false;
  if (status != 0 || !u->handles_open)
    return;
  drain_inotify(u); /* may start the next scan itself */
  if (again || u->event_gen != gen) {
    if (!u->scan_busy)
      request_scan(u); /* the count moved while we looked: look again */
    return;
  }
  if (u->scan_result == 0 && u->opens > 0)
    set_opens(u, 0);
  else if (u->scan_result == 1 && u->opens == 0)
    set_opens(u, 1);
}

static void request_scan(struct m0__uart *u) {
  if (u->scan_busy) {
    u->scan_again = true;
    return;
  }
  u->scan_gen = u->event_gen;
  u->scan_req.data = u;
  int rc = uv_queue_work(u->loop, &u->scan_req, scan_work, scan_done);
  if (rc == 0)
    u->scan_busy = true;
  else
    m0__log(u->events, "pty %s: cannot recount hosts: %s", u->slave_path,
            uv_strerror(rc));
}

/* Read every pending inotify event of the process's watch (one read when there is none).
 * Called before each master read too: a host that opens and writes at once is attached
 * before its first byte is delivered, and one that closes has its tail taken before the
 * next host's. A pty that saw a close (or an overflow) is recounted once the queue is
 * empty (m0__uart_settle). */
static void drain_inotify(struct m0__uart *u) {
  m0__uart_watch_drain(u->watch);
}

void m0__uart_settle(struct m0__uart *u) {
  if (u->handles_open)
    request_scan(u);
}

static void on_retry(uv_timer_t *timer) {
  struct m0__uart *u = timer->data;
  u->rx_paused = false;
  update_poll(u);
}

static void pause_reading(struct m0__uart *u, const char *what) {
  m0__log(u->events, "pty %s: %s (retrying in %d ms)", u->slave_path, what,
          READ_RETRY_MS);
  u->rx_paused = true;
  update_poll(u);
  uv_timer_start(&u->retry_timer, on_retry, READ_RETRY_MS, 0);
}

/* Up to READS_PER_WAKEUP reads per readiness event: a pty hands over at most about 4 KiB
 * per read, and taking several before returning to the loop saves an epoll_wait each
 * and lets the network side send them in one write (net_tcp.c gathers a loop turn's sends). */
#define READS_PER_WAKEUP 16

static void read_host(struct m0__uart *u) {
  for (int i = 0; i < READS_PER_WAKEUP && u->rx_enabled && !u->rx_paused; i++) {
    size_t budget = m0__uart_line_budget(&u->port);
    if (budget == 0)
      return; /* the core has stopped reading and will re-enable it */
    uint8_t buf[READ_CHUNK];
    ssize_t n = read(u->master, buf, budget < sizeof buf ? budget : sizeof buf);
    if (n > 0) {
      m0__uart_line_rx(&u->port, buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      pause_reading(u, strerror(errno));
    return;
  }
}

static void on_master(uv_poll_t *handle, int status, int events) {
  struct m0__uart *u = handle->data;
  if (status < 0) {
    pause_reading(u, uv_strerror(status));
    return;
  }
  if (events & UV_WRITABLE) {
    u->want_writable = false; /* the core's retry may set it again */
    update_poll(u);
    m0__uart_line_writable(&u->port);
  }
  if ((events & UV_READABLE) && u->rx_enabled && !u->rx_paused) {
    /* Opens and closes first, one inotify read per wakeup (not per master read): a host
     * that opens and writes at once must be attached before its bytes are read, and the
     * bytes a host left at its close must be taken as its tail, not as the next host's
     * input. The tail goes first; the master's bytes wait until it is consumed. */
    drain_inotify(u);
    if (u->tail_len > 0) {
      feed_tail(u);
      settle_attach(u);
    }
    if (u->tail_len == 0)
      read_host(u);
  }
}

static struct m0__uart *pty_of(struct m0__uart_port *port) {
  return (struct m0__uart *)((char *)port - offsetof(struct m0__uart, port));
}

static size_t port_write(struct m0__uart_port *port, const uint8_t *data, size_t len) {
  return m0__uart_write(pty_of(port), data, len);
}

static void port_rx_enable(struct m0__uart_port *port, bool enable) {
  m0__uart_rx_enable(pty_of(port), enable);
}

static void port_owner(struct m0__uart_port *port, bool owner) {
  tty_event(pty_of(port), owner ? "tty.attach" : "tty.detach");
}

static const struct m0__uart_port_ops pty_ops = {
    .write = port_write, .rx_enable = port_rx_enable, .owner = port_owner};

int m0__uart_start(struct m0__uart *u, struct m0__uart_line *line) {
  m0__uart_line_add(line, &u->port, "tty", &pty_ops);
  update_poll(u);
  /* A host may have opened the link between its creation and now. */
  drain_inotify(u);
  settle_attach(u);
  return 0;
}

void m0__uart_rx_enable(struct m0__uart *u, bool enable) {
  u->rx_enabled = enable;
  update_poll(u);
  /* Called from inside the core: the tail is fed from the loop, not from here. */
  if (enable && u->tail_len > 0 && u->handles_open)
    uv_timer_start(&u->tail_timer, on_tail_timer, 0, 0);
}

size_t m0__uart_rx_pending(const struct m0__uart *u) {
  int n = 0;
  if (u->master < 0 || ioctl(u->master, FIONREAD, &n) != 0 || n < 0)
    return 0; /* unknown: as if none */
  return (size_t)n;
}

size_t m0__uart_write(struct m0__uart *u, const uint8_t *data, size_t len) {
  if (len == 0)
    return 0;
  ssize_t n = write(u->master, data, len);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR)
      m0__log(u->events, "write to pty: %s", strerror(errno));
    n = 0;
  }
  if ((size_t)n < len) {
    u->want_writable = true;
    update_poll(u);
  }
  return (size_t)n;
}

void m0__uart_close(struct m0__uart *u) {
  if (u->watch != NULL) /* no more events for a closing pty */
    m0__uart_watch_remove(u->watch, u, u->wd);
  if (!u->handles_open)
    return;
  u->handles_open = false;
  uv_close((uv_handle_t *)&u->master_poll, NULL);
  uv_close((uv_handle_t *)&u->termios_timer, NULL);
  uv_close((uv_handle_t *)&u->retry_timer, NULL);
  uv_close((uv_handle_t *)&u->tail_timer, NULL);
}

void m0__uart_free(struct m0__uart *u) {
  if (u->link_made) {
    /* Remove it only if it is still ours: another instance may have taken the path. */
    char target[sizeof u->slave_path];
    ssize_t n = readlink(u->link_path, target, sizeof target - 1);
    if (n >= 0) {
      target[n] = '\0';
      if (strcmp(target, u->slave_path) == 0)
        unlink(u->link_path);
    }
    u->link_made = false;
  }
  if (u->watch != NULL)
    m0__uart_watch_remove(u->watch, u, u->wd);
  if (u->slave >= 0)
    close(u->slave);
  if (u->master >= 0)
    close(u->master);
  u->slave = u->master = -1;
  free(u->link_path);
  u->link_path = NULL;
}
