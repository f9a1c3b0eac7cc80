/* status.c: the module's status as JSON, built once for every reader, and
 * <state>/status.json, what a script can ask a running module without the web page or
 * the event stream: its mode (command or transparent), whether the host's line agrees
 * with AT+UART, its socket, its tty and web port.
 *
 * m0__status_members() writes the members every reader shares (status.json, the control
 * channel's status and list, the web page's /api/status), without braces: each reader
 * adds its own around them, so a new field is added here once and no two readers can
 * disagree on a value. The counters are a separate member, left out of the file.
 *
 * A file rather than a question on a socket: any tool reads it (cat, jq, a test's
 * open()), with no protocol and no port. It is rewritten whenever an event of the device
 * changed what it says: every event marks it stale, and one 0 ms timer (the next loop
 * turn, once the input that caused the event is fully handled) writes it if its text
 * changed, so a burst of events costs one write and a steady stream (drops, heartbeats)
 * none. Written as status.json.tmp then exchanged with status.json, so a reader never
 * sees half of it (one that keeps it open across two rewrites reads the later one being
 * written: it is read in one go) and no rewrite creates or deletes an inode (swap_in);
 * not fsynced (it describes the running process, not data to keep). Both removed at a
 * clean exit, so a file present means a module running (its pid is in it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "control.h" /* struct m0__jbuf */

void m0__status_members(struct m0__board *b, struct m0__jbuf *out) {
  struct m0_status st;
  const struct m0_config *run = m0_dev_running(&b->dev);
  const char *const *protos = m0_params[M0_ID_SOCK].fields[0].choices;
  m0_dev_status(&b->dev, &st);
  /* Which module this is (a fleet's folders are many): its name and address. */
  M0__JB_LIT(out, "\"dev\":");
  m0__jb_str(out, b->events.name);
  M0__JB_LIT(out, ",\"addr\":");
  m0__jb_str(out, b->cfg.bind);
  m0__jb_printf(out, ",\"mode\":\"%s\",\"proto\":\"%s\",\"socket_connected\":%s,\"link_pin\":%s",
                m0_dev_powered(&b->dev) ? m0_mode_name(st.mode) : "off", protos[run->proto],
                st.socket_connected ? "true" : "false", st.link_pin ? "true" : "false");
  /* The host's line as read from the pty, and whether it differs from AT+UART (the
   * running speed or stop bits): the one thing a user's program cannot see by itself. */
  M0__JB_LIT(out, ",\"host_line\":");
  if (st.host_line_known)
    m0__jb_printf(out, "{\"baud\":%lu,\"stop\":%u}", (unsigned long)st.host_baud,
                  (unsigned)st.host_stop);
  else
    M0__JB_LIT(out, "null");
  m0__jb_printf(out, ",\"uart_mismatch\":%s,\"tty\":",
                st.host_line_known && st.uart_mismatch ? "true" : "false");
  if (b->uart_open)
    m0__jb_str(out, b->uart.link_path);
  else
    M0__JB_LIT(out, "null"); /* --no-tty: its UART is the control channel's */
  m0__jb_printf(out, ",\"web_port\":%u,\"restarts\":%llu",
                b->web_open ? (unsigned)m0__web_port(&b->web) : 0u,
                (unsigned long long)st.counters.restarts);
}

void m0__status_counters(struct m0__board *b, struct m0__jbuf *out) {
  struct m0_status st;
  m0_dev_status(&b->dev, &st);
  const struct m0_counters *k = &st.counters;
  m0__jb_printf(out,
                "\"counters\":{\"uart_rx\":%llu,\"uart_tx\":%llu,\"uart_rx_dropped\":%llu,"
                "\"uart_tx_dropped\":%llu,\"net_rx\":%llu,\"net_tx\":%llu,"
                "\"net_rx_dropped\":%llu,\"net_tx_dropped\":%llu,\"restarts\":%llu}",
                (unsigned long long)k->uart_rx, (unsigned long long)k->uart_tx,
                (unsigned long long)k->uart_rx_dropped, (unsigned long long)k->uart_tx_dropped,
                (unsigned long long)k->net_rx, (unsigned long long)k->net_tx,
                (unsigned long long)k->net_rx_dropped, (unsigned long long)k->net_tx_dropped,
                (unsigned long long)k->restarts);
}

/* The file's text for the board as it is now: the shared members, and what a script
 * finds nowhere else (the pid, the pty's own path, the running UART settings). */
static void status_text(struct m0__board *b, struct m0__jbuf *out) {
  const struct m0_config *run = m0_dev_running(&b->dev);
  m0__jb_printf(out, "{\"pid\":%ld,", (long)getpid());
  m0__status_members(b, out);
  m0__jb_printf(out, ",\"uart\":{\"baud\":%lu,\"stop\":%u},\"pts\":",
                (unsigned long)run->baud, (unsigned)run->stop_bits);
  if (b->uart_open)
    m0__jb_str(out, b->uart.slave_path);
  else
    M0__JB_LIT(out, "null");
  M0__JB_LIT(out, "}\n");
}

/* tmp becomes path. Exchanged, not renamed over it: each name keeps its inode from one
 * rewrite to the next, so a rewrite frees and allocates none. Creating and deleting an
 * inode per rewrite cost a fleet seconds: 1,000 modules connecting rewrite 1,000 files
 * in one turn, and a journal-less ext4 (like this project's test machine) scans every
 * recently deleted inode before it allocates one, so each creation cost more than the
 * last (perf: 88 % of the fleet's CPU in find_inode_bit, the loop stalled 1-3 s). A
 * plain rename where there is nothing to exchange yet (the first write) or the file
 * system cannot exchange. */
static int swap_in(const char *tmp, const char *path) {
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0)
    return 0;
  if (errno != ENOENT && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
    return -errno;
  return rename(tmp, path) == 0 ? 0 : -errno;
}

/* Overwritten, then cut to length, rather than opened with O_TRUNC: ext4 takes a file
 * truncated to nothing for a replaced one and starts writing it to disk at close (its
 * auto_da_alloc), an I/O per rewrite for a file nobody needs on disk. */
static int write_file(const char *tmp, const char *path, const char *text, size_t len) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  int rc = 0;
  off_t at = 0;
  size_t left = len;
  while (left > 0 && rc == 0) {
    ssize_t n = pwrite(fd, text, left, at);
    if (n < 0 && errno != EINTR)
      rc = -errno;
    else if (n > 0) {
      text += n;
      left -= (size_t)n;
      at += n;
    }
  }
  if (rc == 0 && ftruncate(fd, (off_t)len) != 0)
    rc = -errno;
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0)
    rc = swap_in(tmp, path);
  if (rc != 0)
    unlink(tmp);
  return rc;
}

/* Write text unless it is what the file holds already. */
static void write_changed(struct m0__board *b, const char *text, size_t len) {
  struct m0__status_file *s = &b->status;
  if (len == 0 || (len == s->last_len && memcmp(text, s->last, len) == 0))
    return;
  int rc = write_file(s->tmp, s->path, text, len);
  if (rc != 0) {
    /* Once: a state directory that refuses files also shows in flash.error. */
    if (!s->warned)
      m0__log_at(&b->events, M0__LOG_WARNING, "cannot write %s: %s", s->path,
                 strerror(-rc));
    s->warned = true;
    return;
  }
  if (len > s->last_cap) {
    char *grown = realloc(s->last, len);
    if (grown == NULL) { /* written, but not kept: the next change writes again */
      s->last_len = 0;
      return;
    }
    s->last = grown;
    s->last_cap = len;
  }
  memcpy(s->last, text, len);
  s->last_len = len;
}

static void status_write(struct m0__board *b) {
  struct m0__jbuf jb = {0};
  status_text(b, &jb);
  if (!jb.failed) /* out of memory: the next change tries again */
    write_changed(b, jb.s, jb.len);
  m0__jb_free(&jb);
}

static void on_status_timer(uv_timer_t *timer) {
  struct m0__board *b = timer->data;
  b->status.pending = false;
  status_write(b);
}

int m0__status_init(struct m0__board *b) {
  struct m0__status_file *s = &b->status;
  size_t n = strlen(b->state_real) + sizeof "/status.json";
  if (n > PATH_MAX)
    return -ENAMETOOLONG;
  s->path = malloc(n + n + sizeof ".tmp");
  if (s->path == NULL)
    return -ENOMEM;
  s->tmp = s->path + n;
  sprintf(s->path, "%s/status.json", b->state_real);
  sprintf(s->tmp, "%s/status.json.tmp", b->state_real);
  uv_timer_init(b->loop, &s->timer);
  s->timer.data = b;
  s->open = true;
  return 0;
}

void m0__status_changed(struct m0__board *b) {
  struct m0__status_file *s = &b->status;
  if (!s->open || s->pending)
    return;
  s->pending = true;
  uv_timer_start(&s->timer, on_status_timer, 0, 0);
}

void m0__status_write_now(struct m0__board *b) {
  if (b->status.open)
    status_write(b);
}

void m0__status_close(struct m0__board *b) {
  struct m0__status_file *s = &b->status;
  if (!s->open)
    return;
  s->open = false;
  s->pending = false;
  uv_close((uv_handle_t *)&s->timer, NULL);
  if (s->last_len > 0) { /* ours: a module that is not running has no status */
    unlink(s->path);
    unlink(s->tmp); /* the text before the last, kept for the next exchange */
  }
}

void m0__status_free(struct m0__board *b) {
  struct m0__status_file *s = &b->status;
  free(s->path);
  free(s->last);
  s->path = s->tmp = s->last = NULL;
  s->last_len = s->last_cap = 0;
}
