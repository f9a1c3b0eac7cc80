/* test_turn.c: the end-of-turn service (src/board/turn.c) on a real libuv loop.
 *
 * What its users rely on: an armed job runs once per turn however often it was armed,
 * before the loop can block (a job armed by a timer callback runs in the same turn),
 * in arming order; what is armed while the jobs run waits for the next run; a disarmed
 * job does not run; the handles are idle when nothing is armed (the loop can end); a
 * closed service says so, and the loop closes cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "turn.h"

static uv_loop_t loop;
static struct m0__turn turn;

struct probe {
  struct m0__turn_job job;
  int calls;
  int rearm;                   /* arm itself again this many times */
  struct m0__turn_job *arm;    /* arm this one when called */
  struct m0__turn_job *disarm; /* disarm this one when called */
  char *log;                   /* append name here when called */
  char name;
};

static void probe_fn(void *ctx) {
  struct probe *p = ctx;
  p->calls++;
  if (p->log != NULL)
    strncat(p->log, &p->name, 1);
  if (p->rearm > 0) {
    p->rearm--;
    assert_true(m0__turn_arm(&p->job));
  }
  if (p->arm != NULL)
    assert_true(m0__turn_arm(p->arm));
  if (p->disarm != NULL)
    m0__turn_disarm(p->disarm);
}

static void probe_init(struct probe *p, char name, char *log) {
  memset(p, 0, sizeof *p);
  p->name = name;
  p->log = log;
  m0__turn_job_init(&p->job, &turn, probe_fn, p);
}

static int setup(void **state) {
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(m0__turn_init(&turn, &loop), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  m0__turn_close(&turn);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0); /* every handle closed */
  return 0;
}

static void test_once_per_turn_then_idle(void **state) {
  struct probe a;
  (void)state;
  probe_init(&a, 'a', NULL);
  assert_false(uv_loop_alive(&loop)); /* nothing armed: the handles do not run */
  assert_true(m0__turn_arm(&a.job));
  assert_true(m0__turn_arm(&a.job));
  assert_true(uv_loop_alive(&loop));
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(a.calls, 1);
  assert_false(uv_loop_alive(&loop)); /* idle again */
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(a.calls, 1);
}

static void test_order_and_disarm(void **state) {
  char log[16] = "";
  struct probe a, b, c, d;
  (void)state;
  probe_init(&a, 'a', log);
  probe_init(&b, 'b', log);
  probe_init(&c, 'c', log);
  probe_init(&d, 'd', log);
  b.disarm = &d.job; /* d was armed before the run began, and is disarmed within it */
  assert_true(m0__turn_arm(&c.job));
  assert_true(m0__turn_arm(&a.job));
  assert_true(m0__turn_arm(&b.job));
  assert_true(m0__turn_arm(&d.job));
  m0__turn_disarm(&a.job);
  m0__turn_disarm(&a.job); /* twice is harmless */
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_string_equal(log, "cb");
  assert_int_equal(a.calls + d.calls, 0);
}

/* One NOWAIT iteration has two runs: the prepare (before poll) and the check (after). */
static void test_armed_meanwhile_waits_for_the_next_run(void **state) {
  char log[16] = "";
  struct probe a, b;
  (void)state;
  probe_init(&a, 'a', log);
  probe_init(&b, 'b', log);
  a.rearm = 5;      /* always arming itself again */
  a.arm = &b.job;   /* and b, which runs after it in the next run */
  assert_true(m0__turn_arm(&a.job));
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_string_equal(log, "aab"); /* prepare: a; check: a, b (armed in the prepare) */
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_string_equal(log, "aabaab"); /* b, armed again while it waited, ran once */
  uv_run(&loop, UV_RUN_DEFAULT); /* a stops re-arming: the loop ends by itself */
  assert_string_equal(log, "aabaabaab");
  assert_int_equal(a.calls, 6);
  assert_int_equal(b.calls, 3);
  assert_false(uv_loop_alive(&loop));
}

/* A job armed by a timer callback runs in that turn's prepare, before poll: the loop
 * never blocks with work gathered. */
static struct probe timer_probe;
static uv_timer_t arm_timer, guard_timer;
static uv_check_t test_check;
static int test_checks, checks_seen_by_job, guard_fired;

static void on_arm_timer(uv_timer_t *t) {
  (void)t;
  assert_true(m0__turn_arm(&timer_probe.job));
}

static void on_guard(uv_timer_t *t) {
  (void)t;
  guard_fired++;
}

static void on_test_check(uv_check_t *h) {
  (void)h;
  test_checks++;
}

static void timer_job(void *ctx) {
  (void)ctx;
  timer_probe.calls++;
  checks_seen_by_job = test_checks;
  /* Nothing left to wait for: poll must not block if we ran before it. */
  uv_timer_stop(&guard_timer);
  uv_check_stop(&test_check);
}

static void test_armed_by_a_timer_runs_before_poll(void **state) {
  (void)state;
  m0__turn_job_init(&timer_probe.job, &turn, timer_job, NULL);
  timer_probe.calls = 0;
  test_checks = checks_seen_by_job = guard_fired = 0;
  uv_timer_init(&loop, &arm_timer);
  uv_timer_init(&loop, &guard_timer);
  uv_check_init(&loop, &test_check);
  uv_check_start(&test_check, on_test_check);
  uv_timer_start(&arm_timer, on_arm_timer, 0, 0);
  uv_timer_start(&guard_timer, on_guard, 30000, 0); /* only if the job waited for I/O */
  uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(timer_probe.calls, 1);
  assert_int_equal(checks_seen_by_job, 0); /* the prepare of the timer's own turn */
  assert_int_equal(guard_fired, 0);
  uv_close((uv_handle_t *)&arm_timer, NULL);
  uv_close((uv_handle_t *)&guard_timer, NULL);
  uv_close((uv_handle_t *)&test_check, NULL);
}

static void test_closed_service(void **state) {
  struct probe a, b;
  (void)state;
  probe_init(&a, 'a', NULL);
  probe_init(&b, 'b', NULL);
  assert_true(m0__turn_arm(&a.job));
  m0__turn_close(&turn);
  assert_false(m0__turn_arm(&b.job)); /* the caller does its work now */
  m0__turn_disarm(&a.job);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(a.calls + b.calls, 0);
  /* A job without a service is never armed either. */
  struct m0__turn_job none;
  m0__turn_job_init(&none, NULL, probe_fn, &a);
  assert_false(m0__turn_arm(&none));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_once_per_turn_then_idle, setup, teardown),
      cmocka_unit_test_setup_teardown(test_order_and_disarm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_armed_meanwhile_waits_for_the_next_run, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_armed_by_a_timer_runs_before_poll, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_closed_service, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
