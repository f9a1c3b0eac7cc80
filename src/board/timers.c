/* timers.c: every device's single deadline on one binary heap and one uv_timer.
 *
 * The heap is an array of pointers, each timer knowing its own slot, so moving or
 * removing a deadline needs no search: O(log n) either way, 8 bytes per armed timer.
 * The uv_timer is armed for the earliest deadline: libuv counts whole milliseconds from
 * a loop time cached per iteration, so it is armed for the ceiling millisecond from the
 * live clock and, if libuv wakes it early (up to 1 ms), it re-arms instead of firing a
 * timer before its deadline (the core must never see a time before the one it asked
 * for). A wake-up first takes every due timer out, then fires them, each once: a device
 * that arms again for now waits for the next wake-up, as it did on its own uv_timer.
 * libuv also computes how long to block from that cached time, so a turn that worked
 * for 25 ms (1,000 modules' status files, a burst of heartbeats) would oversleep every
 * timer by as much; a prepare handle, run just before the loop computes its timeout,
 * reads the clock again (one clock_gettime a turn).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "timers.h"

#define NEVER UINT64_MAX
#define NS_PER_MS 1000000ull

/* ---- the heap ---- */

static void place(struct m0__timer_heap *h, size_t i, struct m0__timer *t) {
  h->a[i] = t;
  t->slot = i + 1;
}

static void sift_up(struct m0__timer_heap *h, size_t i) {
  struct m0__timer *t = h->a[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (h->a[parent]->when <= t->when)
      break;
    place(h, i, h->a[parent]);
    i = parent;
  }
  place(h, i, t);
}

static void sift_down(struct m0__timer_heap *h, size_t i) {
  struct m0__timer *t = h->a[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= h->len)
      break;
    if (child + 1 < h->len && h->a[child + 1]->when < h->a[child]->when)
      child++;
    if (t->when <= h->a[child]->when)
      break;
    place(h, i, h->a[child]);
    i = child;
  }
  place(h, i, t);
}

int m0__timer_heap_reserve(struct m0__timer_heap *h, size_t n) {
  if (n <= h->cap)
    return 0;
  size_t cap = h->cap ? h->cap : 16;
  while (cap < n)
    cap *= 2;
  struct m0__timer **a = realloc(h->a, cap * sizeof *a);
  if (a == NULL)
    return -ENOMEM;
  h->a = a;
  h->cap = cap;
  return 0;
}

static void remove_at(struct m0__timer_heap *h, size_t i) {
  struct m0__timer *gone = h->a[i];
  gone->slot = 0;
  h->len--;
  if (i == h->len)
    return;
  place(h, i, h->a[h->len]);
  /* The last one moved into the hole: it may belong above or below it. */
  if (i > 0 && h->a[(i - 1) / 2]->when > h->a[i]->when)
    sift_up(h, i);
  else
    sift_down(h, i);
}

int m0__timer_heap_set(struct m0__timer_heap *h, struct m0__timer *t, uint64_t when) {
  if (when == NEVER) {
    if (t->slot != 0)
      remove_at(h, t->slot - 1);
    return 0;
  }
  if (t->slot != 0) {
    uint64_t before = t->when;
    t->when = when;
    if (when < before)
      sift_up(h, t->slot - 1);
    else
      sift_down(h, t->slot - 1);
    return 0;
  }
  if (h->len == h->cap && m0__timer_heap_reserve(h, h->len + 1) != 0)
    return -ENOMEM;
  t->when = when;
  place(h, h->len++, t);
  sift_up(h, h->len - 1);
  return 0;
}

struct m0__timer *m0__timer_heap_top(const struct m0__timer_heap *h) {
  return h->len > 0 ? h->a[0] : NULL;
}

struct m0__timer *m0__timer_heap_pop_due(struct m0__timer_heap *h, uint64_t now) {
  struct m0__timer *t = m0__timer_heap_top(h);
  if (t == NULL || t->when > now)
    return NULL;
  remove_at(h, 0);
  return t;
}

void m0__timer_heap_free(struct m0__timer_heap *h) {
  free(h->a);
  memset(h, 0, sizeof *h);
}

/* ---- the uv_timer over it ---- */

static void on_uv(uv_timer_t *handle);

/* The uv_timer follows the heap's top. */
static void sync_uv(struct m0__timers *ts) {
  if (!ts->uv_open)
    return;
  struct m0__timer *top = m0__timer_heap_top(&ts->heap);
  if (top == NULL) {
    uv_timer_stop(&ts->uv);
    return;
  }
  uint64_t now = ts->clock();
  uint64_t ms = top->when <= now ? 0 : (top->when - now + NS_PER_MS - 1) / NS_PER_MS;
  uv_update_time(ts->loop); /* the timeout counts from now, not from the iteration start */
  uv_timer_start(&ts->uv, on_uv, ms, 0);
}

static void on_uv(uv_timer_t *handle) {
  struct m0__timers *ts = handle->data;
  uint64_t now = ts->clock();
  size_t n = 0;
  struct m0__timer *t;
  while ((t = m0__timer_heap_pop_due(&ts->heap, now)) != NULL) {
    if (n == ts->due_cap) {
      size_t cap = ts->due_cap ? ts->due_cap * 2 : 16;
      struct m0__timer **due = realloc(ts->due, cap * sizeof *due);
      if (due == NULL) { /* fire what we hold; the rest waits for the next wake-up */
        m0__timer_heap_set(&ts->heap, t, now);
        break;
      }
      ts->due = due;
      ts->due_cap = cap;
    }
    t->firing = true;
    ts->due[n++] = t;
  }
  for (size_t i = 0; i < n; i++) {
    /* Armed again or disarmed by an earlier fire of this batch: that call decides. */
    t = ts->due[i];
    if (t->firing) {
      t->firing = false;
      t->fire(t, ts->clock());
    }
  }
  sync_uv(ts);
}

static void on_fresh(uv_prepare_t *handle) {
  uv_update_time(handle->loop);
}

void m0__timers_init(struct m0__timers *ts, uv_loop_t *loop) {
  memset(ts, 0, sizeof *ts);
  ts->loop = loop;
  ts->clock = uv_hrtime;
  if (uv_timer_init(loop, &ts->uv) == 0) {
    ts->uv.data = ts;
    ts->uv_open = true;
  }
  if (uv_prepare_init(loop, &ts->fresh) == 0) {
    ts->fresh_open = true;
    uv_prepare_start(&ts->fresh, on_fresh);
    uv_unref((uv_handle_t *)&ts->fresh); /* keeps no loop running */
  }
}

int m0__timers_reserve(struct m0__timers *ts, size_t n) {
  return m0__timer_heap_reserve(&ts->heap, n);
}

int m0__timers_arm(struct m0__timers *ts, struct m0__timer *t, uint64_t when_ns) {
  t->firing = false;
  struct m0__timer *top = m0__timer_heap_top(&ts->heap);
  uint64_t top_when = top ? top->when : NEVER;
  int rc = m0__timer_heap_set(&ts->heap, t, when_ns);
  struct m0__timer *after = m0__timer_heap_top(&ts->heap);
  /* Only a change of the earliest deadline touches the uv_timer. */
  if (after != top || (after != NULL && after->when != top_when))
    sync_uv(ts);
  return rc;
}

void m0__timers_close(struct m0__timers *ts) {
  if (ts->uv_open) {
    ts->uv_open = false;
    uv_close((uv_handle_t *)&ts->uv, NULL);
  }
  if (ts->fresh_open) {
    ts->fresh_open = false;
    uv_close((uv_handle_t *)&ts->fresh, NULL);
  }
}

void m0__timers_free(struct m0__timers *ts) {
  m0__timer_heap_free(&ts->heap);
  free(ts->due);
  ts->due = NULL;
  ts->due_cap = 0;
}
