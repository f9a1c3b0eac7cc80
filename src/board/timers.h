/* timers.h: every device's single deadline on one heap and one libuv timer (timers.c).
 *
 * A device core keeps one deadline (struct m0_hal's timer_arm). A fleet of thousands
 * would make as many uv_timers; instead the process keeps a binary min-heap of
 * (deadline, timer) and arms one uv_timer for the earliest. Arming, moving or removing a
 * deadline is O(log n); a wake-up fires every timer that is due, each once.
 */
#ifndef M0_BOARD_TIMERS_H
#define M0_BOARD_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct m0__timer;
/* A deadline passed: now is the clock at the call (never before the deadline). */
typedef void (*m0__timer_fn)(struct m0__timer *t, uint64_t now);

/* One deadline, embedded in its owner (a board). Zero-filled is "not armed". */
struct m0__timer {
  uint64_t when;    /* ns; meaningful while slot != 0 */
  size_t slot;      /* 1 + its index in the heap; 0 = not in it */
  bool firing;      /* taken out as due; any arm or disarm before its turn cancels it */
  m0__timer_fn fire;
  void *data;
};

/* ---- the heap (pure: no clock, no libuv; tests/unit/test_timers.c) ---- */

struct m0__timer_heap {
  struct m0__timer **a;
  size_t len, cap;
};

/* Room for n timers at once, so that setting one never allocates. 0 or -ENOMEM. */
int m0__timer_heap_reserve(struct m0__timer_heap *h, size_t n);
/* Put t in at when, move it there if it is in already; when UINT64_MAX takes it out.
 * 0, or -ENOMEM if t is new and no room was reserved and none can be had. */
int m0__timer_heap_set(struct m0__timer_heap *h, struct m0__timer *t, uint64_t when);
/* The earliest timer, NULL when empty. */
struct m0__timer *m0__timer_heap_top(const struct m0__timer_heap *h);
/* Take the earliest timer out if it is due at now (when <= now), else NULL. */
struct m0__timer *m0__timer_heap_pop_due(struct m0__timer_heap *h, uint64_t now);
void m0__timer_heap_free(struct m0__timer_heap *h);

/* ---- the process's timers: the heap behind one uv_timer ---- */

struct m0__timers {
  struct m0__timer_heap heap;
  uv_loop_t *loop;
  uv_timer_t uv;
  uv_prepare_t fresh; /* the loop's clock read again right before it may block */
  bool uv_open, fresh_open;
  uint64_t (*clock)(void); /* uv_hrtime */
  struct m0__timer **due;  /* one wake-up's due timers (reused) */
  size_t due_cap;
};

void m0__timers_init(struct m0__timers *ts, uv_loop_t *loop);
/* Arm t for absolute time when_ns (UINT64_MAX disarms), replacing its earlier arming.
 * fire(t, now) follows on the loop at or after it. Returns 0 or -ENOMEM (see reserve). */
int m0__timers_arm(struct m0__timers *ts, struct m0__timer *t, uint64_t when_ns);
int m0__timers_reserve(struct m0__timers *ts, size_t n);
/* Close the uv_timer (uv_run afterwards), then free. */
void m0__timers_close(struct m0__timers *ts);
void m0__timers_free(struct m0__timers *ts);

#endif
