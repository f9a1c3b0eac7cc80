/* status.c: <state>/status.json, what a script can ask a running module without the web
 * page or the event stream: its mode (command or transparent), whether the host's line
 * agrees with AT+UART, its socket, its tty and web port.
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

/* The file's text for the board as it is now. Returns its length (0: did not fit). */
static size_t status_text(struct m0__board *b, char *buf, size_t cap) {
  struct m0_status st;
  const struct m0_config *run = m0_dev_running(&b->dev);
  const char *const *protos = m0_params[M0_ID_SOCK].fields[0].choices;
  char tty[2 * PATH_MAX], pts[160];
  m0_dev_status(&b->dev, &st);
  if (b->uart_open) {
    m0_json_string(tty, sizeof tty, b->uart.link_path);
    m0_json_string(pts, sizeof pts, b->uart.slave_path);
  } else { /* --no-tty */
    snprintf(tty, sizeof tty, "null");
    snprintf(pts, sizeof pts, "null");
  }
  int n = snprintf(
      buf, cap,
      "{\"pid\":%ld,\"mode\":\"%s\",\"proto\":\"%s\",\"socket_connected\":%s,"
      "\"uart\":{\"baud\":%lu,\"stop\":%u},\"host_line\":",
      (long)getpid(), m0_mode_name(st.mode), protos[run->proto],
      st.socket_connected ? "true" : "false", (unsigned long)run->baud,
      (unsigned)run->stop_bits);
  if (n < 0 || (size_t)n >= cap)
    return 0;
  size_t len = (size_t)n;
  if (st.host_line_known)
    n = snprintf(buf + len, cap - len, "{\"baud\":%lu,\"stop\":%u}",
                 (unsigned long)st.host_baud, (unsigned)st.host_stop);
  else
    n = snprintf(buf + len, cap - len, "null");
  if (n < 0 || (size_t)n >= cap - len)
    return 0;
  len += (size_t)n;
  n = snprintf(buf + len, cap - len,
               ",\"uart_mismatch\":%s,\"tty\":%s,\"pts\":%s,\"web_port\":%u,"
               "\"restarts\":%llu,\"addr\":",
               st.uart_mismatch ? "true" : "false", tty, pts,
               b->web_open ? (unsigned)m0__web_port(&b->web) : 0u,
               (unsigned long long)st.counters.restarts);
  if (n < 0 || (size_t)n >= cap - len)
    return 0;
  len += (size_t)n;
  /* Which module this is (a fleet's folders are many): its address and name. */
  char addr[64], name[2 * M0__DEV_NAME_MAX + 8];
  m0_json_string(addr, sizeof addr, b->cfg.bind);
  m0_json_string(name, sizeof name, b->events.name);
  n = snprintf(buf + len, cap - len, "%s,\"dev\":%s}\n", addr, name);
  if (n < 0 || (size_t)n >= cap - len)
    return 0;
  return len + (size_t)n;
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

static void status_write(struct m0__board *b) {
  struct m0__status_file *s = &b->status;
  char text[M0__STATUS_TEXT_MAX];
  size_t len = status_text(b, text, sizeof text);
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
