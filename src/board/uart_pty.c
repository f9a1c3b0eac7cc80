/* uart_pty.c: the module's UART as a pseudo-terminal (spec §2).
 *
 * One pty pair for the process's life, kept across device restarts. We open and hold
 * our own slave fd from the start, so the master never sees EIO/HUP while no host has
 * the port open; because of that, attach/detach cannot come from the master and is
 * observed with inotify on /dev/pts/N instead: opens minus closes, 0->1 attach, 1->0
 * detach (our own open happened before the watch, so it is not counted); after a close,
 * /proc corrects the count for events inotify merged (see m0__uart_settle). The inotify
 * instance is the process's, shared by every pty (uart_watch.c): one per pty would stop
 * a fleet at 128. When the last
 * host closes we flush the slave's input through our fd, so nothing stale reaches the
 * next program that opens the port. The host's termios is read through the master on
 * attach and every 100 ms while attached (a pty gives no change notification).
 * Reads take at most m0_dev_uart_rx_budget() bytes: the core owns receive pacing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
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
  memset(u, 0, offsetof(struct m0__uart, link_path));
  u->loop = loop;
  u->events = events;
  u->watch = watch;
  u->master = u->slave = u->wd = -1;
  u->rx_enabled = true;
  if (strlen(link_path) >= sizeof u->link_path)
    return fail(err, cap, -ENAMETOOLONG, "--tty %s", link_path);
  strcpy(u->link_path, link_path);

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
  u->master_poll.data = u->termios_timer.data = u->retry_timer.data = u;
  u->handles_open = true;

  return publish_link(u, err, cap);
}

static void on_master(uv_poll_t *handle, int status, int events);

/* One uv_poll per fd (epoll allows no second one): the mask is the union of what the
 * core wants read (pacing) and whether a short write waits for room. */
static void update_poll(struct m0__uart *u) {
  if (u->dev == NULL || !u->handles_open)
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
  m0_dev_on_host_termios(u->dev, uv_hrtime(), baud, stop_bits);
}

static void on_termios_timer(uv_timer_t *timer) {
  read_termios(timer->data);
}

static void tty_event(struct m0__uart *u, const char *name) {
  char fields[128];
  size_t n = (size_t)snprintf(fields, sizeof fields, "\"pts\":");
  m0__json_string(fields + n, sizeof fields - n, u->slave_path);
  m0__events_emit(u->events, name, fields);
}

static void host_attached(struct m0__uart *u) {
  tty_event(u, "tty.attach");
  m0_dev_on_host_attach(u->dev, uv_hrtime(), true);
  u->termios_known = false;
  read_termios(u);
  uv_timer_start(&u->termios_timer, on_termios_timer, TERMIOS_POLL_MS, TERMIOS_POLL_MS);
}

static void host_detached(struct m0__uart *u) {
  tty_event(u, "tty.detach");
  uv_timer_stop(&u->termios_timer);
  m0_dev_on_host_attach(u->dev, uv_hrtime(), false);
  /* What the device wrote that no host read would reach the next opener, stale. */
  if (tcflush(u->slave, TCIFLUSH) != 0)
    m0__log(u->events, "tcflush %s: %s", u->slave_path, strerror(errno));
}

/* Whether another process holds the slave open, from /proc: 1 yes, 0 no, -1 cannot tell
 * (a process whose fds we may not read, and no holder found). Only used to correct the
 * inotify count, see drain_inotify(). */
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

static void set_opens(struct m0__uart *u, unsigned opens) {
  unsigned before = u->opens;
  u->opens = opens;
  if (u->dev == NULL)
    return; /* not started: m0__uart_start tells the device what the count is then */
  if (before == 0 && opens > 0)
    host_attached(u);
  else if (before > 0 && opens == 0)
    host_detached(u);
}

/* One event of our slave, from the process's watch (uart_watch.c). A host that opens
 * and writes at once must be attached before its first byte is delivered: on_master
 * drains the watch first while no host is counted. inotify merges identical consecutive
 * unread events, so two hosts opening (or closing) at the same instant may count as
 * one; after a close, once the queue is empty, m0__uart_settle() asks /proc. */
void m0__uart_on_watch(struct m0__uart *u, uint32_t mask) {
  if (mask & IN_OPEN)
    set_opens(u, u->opens + 1);
  if (mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) {
    set_opens(u, u->opens > 0 ? u->opens - 1 : 0);
    m0__uart_watch_settle_later(u->watch, u);
  }
}

/* Nobody else holds the slave means detached; someone does while we count none means
 * merged opens, unless the IN_OPEN of a host that just arrived is waiting (the kernel
 * queues it before the new fd appears in /proc, so one more read finds it). */
void m0__uart_settle(struct m0__uart *u) {
  if (u->dev == NULL)
    return;
  int others = others_hold_slave(u);
  if (others == 0 && u->opens > 0) {
    set_opens(u, 0);
  } else if (others == 1 && u->opens == 0) {
    m0__uart_watch_read(u->watch);
    if (u->opens == 0 && !u->settle_due)
      set_opens(u, 1);
  }
}

static void drain_inotify(struct m0__uart *u) {
  m0__uart_watch_drain(u->watch);
}

static void on_retry(uv_timer_t *timer) {
  struct m0__uart *u = timer->data;
  u->rx_paused = false;
  update_poll(u);
}

static void pause_reading(struct m0__uart *u, const char *what) {
  fprintf(stderr, "m0emu: pty %s: %s (retrying in %d ms)\n", u->slave_path, what,
          READ_RETRY_MS);
  u->rx_paused = true;
  update_poll(u);
  uv_timer_start(&u->retry_timer, on_retry, READ_RETRY_MS, 0);
}

/* Up to READS_PER_WAKEUP reads per readiness event: a pty hands over at most about 4 KiB
 * per read, and taking several before returning to the loop saves an epoll_wait each
 * and lets the network side send them in one write (net.c gathers a loop turn's sends). */
#define READS_PER_WAKEUP 16

static void read_host(struct m0__uart *u) {
  for (int i = 0; i < READS_PER_WAKEUP && u->rx_enabled && !u->rx_paused; i++) {
    uint64_t now = uv_hrtime();
    size_t budget = m0_dev_uart_rx_budget(u->dev, now);
    if (budget == 0)
      return; /* the core has stopped reading and will re-enable it */
    uint8_t buf[READ_CHUNK];
    ssize_t n = read(u->master, buf, budget < sizeof buf ? budget : sizeof buf);
    if (n > 0) {
      if (u->tap != NULL)
        u->tap(u->tap_ctx, false, buf, (size_t)n);
      m0_dev_on_uart_rx(u->dev, now, buf, (size_t)n);
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
    m0_dev_on_uart_writable(u->dev, uv_hrtime());
  }
  if ((events & UV_READABLE) && u->rx_enabled && !u->rx_paused) {
    /* A host that opens the tty and writes at once: its open must reach the core before
     * its bytes (the echo would be dropped as "no host"). While a host is attached there
     * is nothing to order, and no syscall to spend per read. */
    if (u->opens == 0)
      drain_inotify(u);
    read_host(u);
  }
}

int m0__uart_start(struct m0__uart *u, struct m0_dev *dev) {
  u->dev = dev;
  update_poll(u);
  /* A host may have opened the link between its creation and now: counted meanwhile
   * (set_opens), told now, then whatever is still queued. */
  if (u->opens > 0)
    host_attached(u);
  drain_inotify(u);
  return 0;
}

void m0__uart_rx_enable(struct m0__uart *u, bool enable) {
  u->rx_enabled = enable;
  update_poll(u);
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
  if (n > 0 && u->tap != NULL)
    u->tap(u->tap_ctx, true, data, (size_t)n);
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
}
