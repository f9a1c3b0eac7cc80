/* uart_watch.c: one inotify instance for every pty of the process.
 *
 * A pty's host open/close is seen through inotify on /dev/pts/N (uart_pty.c says why).
 * An instance per pty would end a fleet at 128 modules (fs.inotify.max_user_instances,
 * the default limit per user), so the process has one, polled once, and a table from
 * watch descriptor to pty: each event goes to its pty (m0__uart_on_watch), and once the
 * queue is empty the ptys that saw a close check their count against /proc
 * (m0__uart_settle), as one pty alone did. Watch descriptors are small and grow, so the
 * table is an array indexed by them. An overflow of the shared queue (16384 events by
 * default) loses events of unknown ptys: every pty is then recounted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "board.h"

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  struct m0__uart_watch *w = handle->data;
  if (status < 0) {
    m0__log_at(w->events, M0__LOG_WARNING, "warning: inotify poll: %s", uv_strerror(status));
    return;
  }
  m0__uart_watch_drain(w);
}

void m0__uart_watch_init(struct m0__uart_watch *w, uv_loop_t *loop, struct m0__events *ev) {
  memset(w, 0, sizeof *w);
  w->loop = loop;
  w->events = ev;
  w->fd = -1;
}

static int watch_open(struct m0__uart_watch *w) {
  w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->fd < 0)
    return -errno;
  int rc = uv_poll_init(w->loop, &w->poll, w->fd);
  if (rc != 0) {
    close(w->fd);
    w->fd = -1;
    return rc;
  }
  w->poll.data = w;
  w->poll_open = true;
  rc = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  return rc;
}

int m0__uart_watch_add(struct m0__uart_watch *w, struct m0__uart *u, const char *path) {
  if (w->fd < 0 && !w->poll_open) {
    int rc = watch_open(w);
    if (rc != 0)
      return rc;
  }
  int wd = inotify_add_watch(w->fd, path, IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
  if (wd < 0)
    return -errno;
  if ((size_t)wd >= w->cap) {
    size_t cap = w->cap ? w->cap : 64;
    while (cap <= (size_t)wd)
      cap *= 2;
    struct m0__uart **grown = realloc(w->by_wd, cap * sizeof *grown);
    if (grown == NULL) {
      inotify_rm_watch(w->fd, wd);
      return -ENOMEM;
    }
    memset(grown + w->cap, 0, (cap - w->cap) * sizeof *grown);
    w->by_wd = grown;
    w->cap = cap;
  }
  w->by_wd[wd] = u;
  w->count++;
  return wd;
}

void m0__uart_watch_remove(struct m0__uart_watch *w, struct m0__uart *u, int wd) {
  if (wd < 0 || (size_t)wd >= w->cap || w->by_wd[wd] != u)
    return;
  w->by_wd[wd] = NULL;
  w->count--;
  if (w->fd >= 0)
    inotify_rm_watch(w->fd, wd);
  /* Off the settle list too: the pty is going away. */
  for (struct m0__uart **p = &w->settle; *p != NULL; p = &(*p)->settle_next)
    if (*p == u) {
      *p = u->settle_next;
      break;
    }
  u->settle_next = NULL;
  u->settle_due = false;
}

void m0__uart_watch_settle_later(struct m0__uart_watch *w, struct m0__uart *u) {
  if (u->settle_due)
    return;
  u->settle_due = true;
  u->settle_next = w->settle;
  w->settle = u;
}

unsigned m0__uart_watch_read(struct m0__uart_watch *w) {
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  if (w->fd < 0)
    return 0;
  ssize_t n = read(w->fd, buf, sizeof buf);
  unsigned count = 0;
  for (char *p = buf; n > 0 && p < buf + n; count++) {
    const struct inotify_event *ev = (const struct inotify_event *)p;
    p += sizeof *ev + ev->len;
    if (ev->mask & IN_Q_OVERFLOW) {
      m0__log_at(w->events, M0__LOG_WARNING,
                 "warning: inotify queue overflow: recounting the hosts of every pty");
      for (size_t wd = 0; wd < w->cap; wd++)
        if (w->by_wd[wd] != NULL)
          m0__uart_watch_settle_later(w, w->by_wd[wd]);
      continue;
    }
    if (ev->wd < 0 || (size_t)ev->wd >= w->cap || w->by_wd[ev->wd] == NULL)
      continue; /* a pty already gone (IN_IGNORED after its removal) */
    m0__uart_on_watch(w->by_wd[ev->wd], ev->mask);
  }
  return count;
}

void m0__uart_watch_drain(struct m0__uart_watch *w) {
  for (;;) {
    while (m0__uart_watch_read(w) > 0) {
    }
    struct m0__uart *u = w->settle;
    if (u == NULL)
      return;
    w->settle = u->settle_next;
    u->settle_next = NULL;
    u->settle_due = false;
    m0__uart_settle(u);
  }
}

void m0__uart_watch_close(struct m0__uart_watch *w) {
  if (w->poll_open) {
    w->poll_open = false;
    uv_close((uv_handle_t *)&w->poll, NULL);
  }
}

void m0__uart_watch_free(struct m0__uart_watch *w) {
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
  free(w->by_wd);
  w->by_wd = NULL;
  w->cap = w->count = 0;
}
