/* web_stream.c: the page's live view: GET /api/events, Server-Sent Events.
 *
 * The stream carries the board's event lines and the bytes that move on the UART and
 * the network. A record is formatted once into a reference-counted blob shared by every
 * client's write and by the history (the last 256 records, replayed to a new client
 * after its Last-Event-ID), so ten open pages cost one copy. A client that owes more than
 * 256 KiB is dropped: a slow page never holds up the device (EventSource reconnects, and
 * the history fills the gap when it is short).
 *
 * Traffic is gathered per direction and link until the end of the loop turn (the
 * process's end-of-turn service, turn.c), then sent as one record of at most 256 bytes
 * shown (hex and Latin-1 text) with the full length: the core writes a reply in pieces,
 * and a flood must not become one record per read. An event line first sends the
 * traffic gathered before it, so the stream keeps the order in which things happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_conn.h"
#include "web_routes.h"

struct m0__web_blob {
  unsigned refs;
  uint64_t id;
  size_t len;
  char data[];
};

/* ---- records ---- */

static struct m0__web_blob *blob_new(size_t len) {
  struct m0__web_blob *b = malloc(sizeof *b + len + 1);
  if (b != NULL) {
    b->refs = 1;
    b->id = 0;
    b->len = len;
  }
  return b;
}

void m0__web_blob_unref(struct m0__web_blob *b) {
  if (b != NULL && --b->refs == 0)
    free(b);
}

static void stream_send(struct m0__web_conn *c, struct m0__web_blob *b) {
  if (c->closing || c->lingering)
    return;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + b->len >
      M0__WEB_SSE_QUEUE_MAX) {
    m0__web_conn_close(c); /* a slow reader loses its stream; EventSource reconnects */
    return;
  }
  b->refs++;
  uv_buf_t buf = uv_buf_init(b->data, (unsigned)b->len);
  m0__web_conn_write(c, &buf, 1, NULL, b);
}

/* Format one record, keep it in the history and send it to every stream client. */
static void publish(struct m0__web *w, const char *event, const char *json, size_t len) {
  if (w->closing)
    return;
  char head[96];
  uint64_t id = ++w->next_id;
  int hn = snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)id,
                    event);
  struct m0__web_blob *b = blob_new((size_t)hn + len + 2);
  if (b == NULL)
    return;
  b->id = id;
  memcpy(b->data, head, (size_t)hn);
  memcpy(b->data + hn, json, len);
  memcpy(b->data + hn + len, "\n\n", 2);
  size_t slot = (size_t)(id % M0__WEB_HISTORY);
  m0__web_blob_unref(w->history[slot]);
  w->history[slot] = b;
  for (struct m0__web_conn *c = w->conns; c != NULL; c = c->next)
    if (c->stream)
      stream_send(c, b);
}

/* ---- traffic ---- */

static void traffic_flush(struct m0__web *w) {
  if (!w->pending.active)
    return;
  w->pending.active = false;
  m0__turn_disarm(&w->flush);
  struct m0__web_buf b = {0};
  m0__web_buf_str(&b, "{\"dir\":");
  m0__web_buf_json(&b, w->pending.dir, strlen(w->pending.dir));
  m0__web_buf_printf(&b, ",\"link\":%u,\"t_ms\":%llu,\"len\":%zu,\"hex\":\"", w->pending.link,
                     (unsigned long long)w->pending.t_ms, w->pending.len);
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < w->pending.shown; i++) {
    uint8_t byte = w->pending.data[i];
    char two[2] = {hex[byte >> 4], hex[byte & 15]};
    m0__web_buf_add(&b, two, 2);
  }
  m0__web_buf_str(&b, "\",\"text\":");
  m0__web_buf_json(&b, (const char *)w->pending.data, w->pending.shown);
  m0__web_buf_printf(&b, ",\"truncated\":%s}",
                     w->pending.shown < w->pending.len ? "true" : "false");
  if (!b.failed)
    publish(w, "traffic", b.data, b.len);
  m0__web_buf_free(&b);
}

static void on_end_of_turn(void *ctx) {
  traffic_flush(ctx);
}

void m0__web_event(struct m0__web *w, const char *json_line) {
  size_t len = strlen(json_line);
  while (len > 0 && (json_line[len - 1] == '\n' || json_line[len - 1] == '\r'))
    len--;
  if (len == 0 || memchr(json_line, '\n', len) != NULL)
    return; /* an SSE data line cannot hold a newline; event lines never do */
  traffic_flush(w); /* the stream keeps the order in which things happened */
  publish(w, "event", json_line, len);
}

void m0__web_traffic(struct m0__web *w, const char *dir, unsigned link, const uint8_t *data,
                     size_t len, uint64_t t_ms) {
  if (w->closing || len == 0)
    return;
  if (w->pending.active &&
      (strcmp(w->pending.dir, dir) != 0 || w->pending.link != link))
    traffic_flush(w);
  if (!w->pending.active) {
    w->pending.active = true;
    snprintf(w->pending.dir, sizeof w->pending.dir, "%s", dir);
    w->pending.link = link;
    w->pending.t_ms = t_ms;
    w->pending.len = w->pending.shown = 0;
  }
  size_t room = M0__WEB_TRAFFIC_SHOWN - w->pending.shown;
  size_t take = len < room ? len : room;
  memcpy(w->pending.data + w->pending.shown, data, take);
  w->pending.shown += take;
  w->pending.len += len;
  if (!m0__turn_arm(&w->flush))
    traffic_flush(w); /* no end-of-turn service (the process is closing) */
}

/* ---- clients ---- */

bool m0__web_stream_start(struct m0__web_conn *c, const struct m0__web_decision *d) {
  if (d->head) {
    struct m0__web_answer a = {.status = 200,
                               .content_type = "text/event-stream; charset=utf-8",
                               .head = true,
                               .no_length = true};
    m0__web_answer(c, &a);
    return false;
  }
  static const char head[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/event-stream; charset=utf-8\r\n"
                             "Cache-Control: no-store\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "X-Accel-Buffering: no\r\n"
                             "Connection: keep-alive\r\n\r\n"
                             "retry: 1000\n\n";
  uv_buf_t buf = uv_buf_init((char *)head, sizeof head - 1);
  m0__web_conn_write(c, &buf, 1, NULL, NULL);
  c->stream = true;
  uv_timer_stop(&c->timer);
  /* A stream may be silent for long: let TCP find a peer that vanished. */
  uv_tcp_keepalive(&c->tcp, 1, 60);
  /* Replay what the client has not seen: all of the history on a first connect, the
   * records after Last-Event-ID on a reconnect (older ones may be gone). */
  uint64_t after = 0;
  const struct m0__web_hval *last = &c->req.h[M0__WEB_H_LAST_ID];
  if (last->seen && !last->over)
    after = strtoull(last->v, NULL, 10);
  struct m0__web *w = c->w;
  uint64_t first = w->next_id >= M0__WEB_HISTORY ? w->next_id - M0__WEB_HISTORY + 1 : 1;
  if (after >= first)
    first = after + 1;
  for (uint64_t id = first; id <= w->next_id && !c->closing; id++) {
    struct m0__web_blob *b = w->history[id % M0__WEB_HISTORY];
    if (b != NULL && b->id == id)
      stream_send(c, b);
  }
  return true;
}

/* ---- lifetime ---- */

void m0__web_stream_init(struct m0__web *w, struct m0__turn *turn) {
  m0__turn_job_init(&w->flush, turn, on_end_of_turn, w);
}

void m0__web_stream_close(struct m0__web *w) {
  m0__turn_disarm(&w->flush);
  for (size_t i = 0; i < M0__WEB_HISTORY; i++) {
    m0__web_blob_unref(w->history[i]);
    w->history[i] = NULL;
  }
}
