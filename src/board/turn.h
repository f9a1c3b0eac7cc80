/* turn.h: "at the end of this loop turn", one service per loop (owned by the process).
 *
 * Work gathered during one turn of the loop (the TCP bytes of every frame cut from one
 * pty read, the traffic bytes the web page shows) is done once, right after the
 * callbacks that gathered it and before the loop can block: the owner arms its job, and
 * one prepare handle (after timer callbacks) and one check handle (after I/O callbacks)
 * per loop call every armed job once. The handles run only while something is armed, so
 * an idle loop wakes for nothing. A job armed while the jobs run (by itself or another)
 * runs at the next prepare or check, never twice in one run, so a job that always re-arms
 * cannot hold the loop; one armed during the prepare's run keeps the poll from blocking
 * (an idle handle, libuv's way), so it still runs in this turn, at the check. The jobs
 * live in their owners (no allocation); arming is O(1).
 */
#ifndef M0_BOARD_TURN_H
#define M0_BOARD_TURN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

typedef void (*m0__turn_fn)(void *ctx);

struct m0__turn_job {
  struct m0__turn *turn;
  m0__turn_fn fn;
  void *ctx;
  struct m0__turn_job *prev, *next; /* the armed list */
  bool armed;
  uint64_t round;                   /* the run it waits for */
};

struct m0__turn {
  uv_prepare_t prepare;
  uv_check_t check;
  uv_idle_t idle;                   /* active: the poll must not block */
  bool open;
  uint64_t round;                   /* runs so far */
  struct m0__turn_job *head, *tail; /* armed jobs, in the order they were armed */
};

/* Prepare the service on loop (nothing runs until a job is armed). Returns 0 or the
 * libuv error. */
int m0__turn_init(struct m0__turn *t, uv_loop_t *loop);
/* Close both handles (run the loop afterwards to finish). Armed jobs are dropped; from
 * now on m0__turn_arm() says false. */
void m0__turn_close(struct m0__turn *t);

/* A job of t that calls fn(ctx). t may be NULL: the job is then never armed. */
void m0__turn_job_init(struct m0__turn_job *j, struct m0__turn *t, m0__turn_fn fn, void *ctx);
/* Run the job once at the end of this turn (a no-op if it is armed already). Returns
 * false when the service is closed (or the job has none): the caller does the work now. */
bool m0__turn_arm(struct m0__turn_job *j);
/* Not run after all (the owner did the work itself, or is closing). */
void m0__turn_disarm(struct m0__turn_job *j);

#endif
