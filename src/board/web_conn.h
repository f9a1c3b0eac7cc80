/* web_conn.h: inside the web server: one connection, and what the other web*.c files do
 * with it (write to it, answer it, resume or close it).
 *
 * Not for the rest of the board, which knows the server only through web.h.
 */
#ifndef M0_BOARD_WEB_CONN_H
#define M0_BOARD_WEB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "web.h"
#include "web_buf.h"
#include "web_req.h"

#define M0__WEB_READ_BUF 65536 /* one for all connections (struct m0__web.read_buf) */

struct m0__web_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  struct m0__web *w;
  struct m0__web_conn *next, *prev;
  struct m0__web_req req;
  unsigned handles;    /* libuv handles not yet closed; freed at 0 (and no work) */
  unsigned writes;     /* write requests in flight */
  bool closing;        /* uv_close called */
  bool counted;        /* counts against M0__WEB_MAX_CONNS */
  bool close_after;    /* close once the queued answers are written */
  bool lingering;      /* shut down for writing; reading and dropping until EOF */
  bool stream;         /* an event stream client */
  bool work_pending;   /* a file read or a flash write is in the thread pool */
  bool paused;         /* parser paused, reading stopped; bytes kept in pending */
  bool served;         /* has answered a request: idle now means kept alive */
  bool keep_alive;     /* the current request allows another after it */
  bool api;            /* the current request's refusals are JSON */
  bool head_req;       /* the current request is HEAD */
  uint64_t since;      /* loop ms: when the server started waiting for the request, or
                        * the linger began */
  char *pending;
  size_t pending_len;
};

/* ---- web_conn.c ---- */

/* Accept a client from server into a new connection (the caller made room for it). */
void m0__web_conn_accept(struct m0__web *w, uv_stream_t *server);
/* The connection to close for a newcomer when every slot is taken, or NULL; why names
 * what it was doing (docs/events.md, web.evicted): "idle" (answered, kept alive),
 * "waiting" (no whole request yet), "behind" (an event client far behind). */
struct m0__web_conn *m0__web_conn_evict_pick(struct m0__web *w, const char **why);
/* Close now (handles closed, memory freed once they and any work are done). */
void m0__web_conn_close(struct m0__web_conn *c);
/* Queue bufs; owned (malloc) and blob (web_stream.c) are released when written. */
void m0__web_conn_write(struct m0__web_conn *c, uv_buf_t *bufs, unsigned n, char *owned,
                        struct m0__web_blob *blob);
/* The answer that waited is written: parse the bytes that came meanwhile. */
void m0__web_conn_resume(struct m0__web_conn *c);
/* The work on the thread pool is over (c->work_pending). Returns false when the
 * connection closed meanwhile (it may be freed now): drop the answer. */
bool m0__web_conn_work_done(struct m0__web_conn *c);

/* ---- web_answer.c ---- */

struct m0__web_answer {
  int status;
  const char *content_type;
  const void *body;        /* NULL: none */
  size_t len;
  char *owned;             /* body to free after writing (may equal body) */
  const char *cache;       /* Cache-Control; NULL: no-store */
  const char *etag;        /* NULL: none */
  const char *extra;       /* more header lines, each ending in \r\n, or NULL */
  bool head;               /* HEAD: headers only, same Content-Length */
  bool no_length;          /* a stream: no Content-Length, the body runs to the close */
};

/* Write an answer (a->owned is taken whatever happens). */
void m0__web_answer(struct m0__web_conn *c, const struct m0__web_answer *a);
/* A refusal: JSON {"error":...} for the API, text for the page. */
void m0__web_answer_error(struct m0__web_conn *c, int status, const char *message,
                          const char *extra);
/* 421: the Host rule refused host; the answer says how to allow it. */
void m0__web_answer_host_refused(struct m0__web_conn *c, const char *host);
/* A JSON body (taken; a failed one becomes 500). */
void m0__web_answer_json(struct m0__web_conn *c, int status, struct m0__web_buf *b,
                         bool head);

/* ---- web_stream.c ---- */

void m0__web_stream_init(struct m0__web *w, struct m0__turn *turn);
void m0__web_blob_unref(struct m0__web_blob *b);
/* Drop the history and what waits for the end of the turn. */
void m0__web_stream_close(struct m0__web *w);

#endif
