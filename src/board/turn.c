/* turn.c: the end-of-turn service (turn.h): one prepare + check pair per loop, shared by
 * every job that gathers work during a turn (a device's TCP writer, its web traffic
 * records; a fleet's many devices).
 *
 * The armed jobs are a doubly linked list in arming order, so arming and disarming are
 * O(1) whatever the number of devices. A run takes only the jobs armed before it began
 * (each carries the run number it waits for), so what the jobs arm meanwhile waits for
 * the next prepare or check.
 */
#include <stddef.h>

#include "turn.h"

static void unlink_job(struct m0__turn_job *j) {
  struct m0__turn *t = j->turn;
  if (j->prev)
    j->prev->next = j->next;
  else
    t->head = j->next;
  if (j->next)
    j->next->prev = j->prev;
  else
    t->tail = j->prev;
  j->prev = j->next = NULL;
  j->armed = false;
}

static void on_idle(uv_idle_t *h) {
  (void)h; /* being active is its whole job */
}

static void run(struct m0__turn *t, bool before_poll) {
  uint64_t round = ++t->round;
  while (t->head != NULL && t->head->round <= round) {
    struct m0__turn_job *j = t->head;
    unlink_job(j);
    j->fn(j->ctx); /* may arm or disarm any job, this one included */
  }
  if (!t->open)
    return;
  if (t->head == NULL) {
    uv_prepare_stop(&t->prepare);
    uv_check_stop(&t->check);
    uv_idle_stop(&t->idle);
  } else if (before_poll) {
    uv_idle_start(&t->idle, on_idle); /* armed meanwhile: the check of this turn runs it */
  }
}

static void on_prepare(uv_prepare_t *h) {
  run(h->data, true);
}

static void on_check(uv_check_t *h) {
  run(h->data, false);
}

int m0__turn_init(struct m0__turn *t, uv_loop_t *loop) {
  *t = (struct m0__turn){0};
  int rc = uv_prepare_init(loop, &t->prepare);
  if (rc != 0)
    return rc;
  rc = uv_check_init(loop, &t->check);
  if (rc != 0) {
    uv_close((uv_handle_t *)&t->prepare, NULL);
    return rc;
  }
  rc = uv_idle_init(loop, &t->idle);
  if (rc != 0) {
    uv_close((uv_handle_t *)&t->prepare, NULL);
    uv_close((uv_handle_t *)&t->check, NULL);
    return rc;
  }
  t->prepare.data = t;
  t->check.data = t;
  t->idle.data = t;
  t->open = true;
  return 0;
}

void m0__turn_close(struct m0__turn *t) {
  if (!t->open)
    return;
  t->open = false;
  while (t->head != NULL)
    unlink_job(t->head);
  uv_close((uv_handle_t *)&t->prepare, NULL);
  uv_close((uv_handle_t *)&t->check, NULL);
  uv_close((uv_handle_t *)&t->idle, NULL);
}

void m0__turn_job_init(struct m0__turn_job *j, struct m0__turn *t, m0__turn_fn fn,
                       void *ctx) {
  *j = (struct m0__turn_job){.turn = t, .fn = fn, .ctx = ctx};
}

bool m0__turn_arm(struct m0__turn_job *j) {
  struct m0__turn *t = j->turn;
  if (t == NULL || !t->open)
    return false;
  if (j->armed)
    return true;
  j->armed = true;
  j->round = t->round + 1; /* the next run, not one already under way */
  j->prev = t->tail;
  if (t->tail)
    t->tail->next = j;
  else
    t->head = j;
  t->tail = j;
  if (j->prev == NULL) { /* the first armed: wake the handles */
    uv_prepare_start(&t->prepare, on_prepare);
    uv_check_start(&t->check, on_check);
  }
  return true;
}

void m0__turn_disarm(struct m0__turn_job *j) {
  if (j->armed)
    unlink_job(j);
}
