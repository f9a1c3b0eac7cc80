/* uart_ctl.c: the UART without a pty, over the control channel (docs/control.md): a
 * test writes bytes as if the host had sent them and subscribes to the bytes the module
 * sends its host, with no tty opened. How a fleet module without a pty is driven.
 *
 * It is one more front end (port, "control") of the UART's line (uart.h), seated when a
 * client first uses the UART, so pacing, command mode and every fault behave the same.
 * Its host is there while the channel has a subscriber: the line makes it the device's
 * host unless another front end (the pty, a network client) already is. The board's
 * uart_write comes here first once it exists: the line's owner takes what it can (its
 * short write holds the device back as ever), and every subscriber gets the same bytes,
 * whoever owns the line, as one
 * `uart.data` line each time the core writes, with `at`, the offset of its first byte in
 * everything written so far, so a gap is seen where it is. A subscriber that does not
 * read does not hold the device back and does not grow memory: past 1 MiB owed its lines
 * are dropped and counted (control.c's stream rule, control.lost). One that asks to hold
 * (a bulk reader that must lose nothing) is a host like the pty's: past 256 KiB owed the
 * core's writes are cut short, and it is told it may write again once the subscriber
 * caught up; the device then keeps and drops as for a host that does not read its tty.
 * From the host: written bytes wait here (at most 256 KiB per device; more is refused
 * "busy") and are fed through the line at the core's receive budget, exactly as the pty's
 * reader does, resumed when the core enables reading again, as the voice of the line's
 * owner when another front end owns it (a test may type beside a program on the tty); a
 * write is answered once its last byte was taken.
 *
 * Calls into the line happen only from this file's own timer (attach changes and
 * feeding are applied there, at 0 ms), never from the requests' or the event tap's call
 * stacks, so a client closing inside an event line cannot re-enter the core.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "control.h"

#define FEED_CHUNK 4096 /* a pty read's worth per core input */

struct ack {
  struct m0__ctl_client *client;
  char id[96];
  uint64_t end; /* answered once fed reaches this */
  size_t bytes;
};

struct sub {
  struct m0__ctl_client *client;
  bool hex;  /* its lines carry "hex" instead of "data" */
  bool hold; /* it holds the device back like a host on the tty: nothing lost for it */
};

/* A holding subscriber may owe this much before the device's writes wait for it (well
 * under the 1 MiB at which stream lines are dropped: a line is at most 6 bytes a byte
 * of the 8 KiB the core writes at once). */
#define HOLD_MAX (256 * 1024)

struct m0__uart_ctl {
  struct m0__uart_port port; /* its seat on the board's line: a host while subscribed */
  struct m0__board *b;
  struct sub *subs;
  unsigned nsubs, subs_cap;
  uint8_t *in;
  size_t start, end, cap; /* bytes waiting: in[start..end) */
  uint64_t queued, fed;   /* cumulative */
  struct ack *acks;
  unsigned nacks, acks_cap;
  uv_timer_t kick;
  bool kick_open;
  bool stalled;           /* a write was cut short for a holding subscriber */
  uint64_t to_subscribers; /* bytes toward the host given to subscribers (each counted once) */
};

static void on_kick(uv_timer_t *t);
static size_t hold_room(const struct m0__uart_ctl *u, size_t len);

static void arm(struct m0__uart_ctl *u) {
  if (u->kick_open)
    uv_timer_start(&u->kick, on_kick, 0, 0);
}

/* The line's calls (uart.h). Everything the core writes went through m0__uart_ctl_to_host
 * already, which copied it to the subscribers: as the owner there is nothing more to do. */
static size_t port_write(struct m0__uart_port *port, const uint8_t *data, size_t len) {
  (void)port;
  (void)data;
  return len;
}

static void port_rx_enable(struct m0__uart_port *port, bool enable) {
  struct m0__uart_ctl *u = (struct m0__uart_ctl *)port;
  if (enable && u->start < u->end)
    arm(u); /* possibly inside a core call: feed from the timer */
}

static const struct m0__uart_port_ops port_ops = {
    .write = port_write,
    .rx_enable = port_rx_enable,
    .owner = NULL,
};

static struct m0__uart_ctl *get(struct m0__board *b) {
  if (b->uart_ctl != NULL)
    return b->uart_ctl;
  struct m0__uart_ctl *u = calloc(1, sizeof *u);
  if (u == NULL)
    return NULL;
  u->b = b;
  if (uv_timer_init(b->loop, &u->kick) == 0) {
    u->kick.data = u;
    u->kick_open = true;
  }
  m0__uart_line_add(&b->line, &u->port, "control", &port_ops);
  u->port.yields = true; /* a subscriber is a host beside the others, not against them */
  b->uart_ctl = u;
  return u;
}

/* ---- the host side, toward the core (from the timer only) ---- */

static void apply_attach(struct m0__uart_ctl *u) {
  if (u->port.line != NULL)
    m0__uart_line_host(&u->port, u->nsubs > 0);
}

/* Who speaks for the core: this front end, or the line's owner when it is another. */
static struct m0__uart_port *voice(struct m0__uart_ctl *u) {
  struct m0__uart_line *line = &u->b->line;
  return line->owner != NULL ? line->owner : &u->port;
}

static void answer_acks(struct m0__uart_ctl *u) {
  unsigned kept = 0;
  for (unsigned i = 0; i < u->nacks; i++) {
    struct ack *a = &u->acks[i];
    if (a->end <= u->fed) {
      char result[64];
      snprintf(result, sizeof result, "{\"bytes\":%zu}", a->bytes);
      m0__ctl_ok_later(u->b->proc->control, a->client, a->id, result);
    } else {
      u->acks[kept++] = *a;
    }
  }
  u->nacks = kept;
}

static void feed(struct m0__uart_ctl *u) {
  if (u->port.line == NULL)
    return;
  while (u->start < u->end) {
    size_t budget = m0__uart_line_budget(voice(u));
    if (budget == 0)
      break; /* the core stopped reading: its rx_enable(true) brings us back */
    size_t n = u->end - u->start;
    if (n > budget)
      n = budget;
    if (n > FEED_CHUNK)
      n = FEED_CHUNK;
    m0__uart_line_rx(voice(u), u->in + u->start, n);
    u->start += n;
    u->fed += n;
  }
  if (u->start == u->end)
    u->start = u->end = 0;
  answer_acks(u);
}

static void on_kick(uv_timer_t *t) {
  struct m0__uart_ctl *u = t->data;
  apply_attach(u);
  feed(u);
  if (u->stalled && hold_room(u, 1) > 0) {
    u->stalled = false;
    if (u->b->line.owner != NULL)
      m0__uart_line_writable(u->b->line.owner);
  }
}

void m0__uart_ctl_drained(struct m0__board *b) {
  struct m0__uart_ctl *u = b->uart_ctl;
  if (u != NULL && u->stalled)
    arm(u); /* a holding subscriber caught up: the device writes again, from the timer */
}

/* ---- the board's HAL ---- */

/* How much the holding subscribers let through now. */
static size_t hold_room(const struct m0__uart_ctl *u, size_t len) {
  for (unsigned i = 0; i < u->nsubs; i++) {
    size_t owed;
    if (!u->subs[i].hold)
      continue;
    owed = m0__ctl_owed(u->subs[i].client);
    if (owed >= HOLD_MAX)
      return 0;
    /* A line costs up to 6 bytes a byte plus its frame. */
    if (len > (HOLD_MAX - owed) / 6)
      len = (HOLD_MAX - owed) / 6;
  }
  return len;
}

size_t m0__uart_ctl_to_host(struct m0__board *b, const uint8_t *data, size_t len) {
  struct m0__uart_ctl *u = b->uart_ctl;
  size_t n = hold_room(u, len);
  if (n < len)
    u->stalled = true; /* the core waits for m0_dev_on_uart_writable (on_kick) */
  if (n == 0)
    return 0;
  n = m0__uart_line_write(&b->line, data, n); /* the owner's share (the tap's too) */
  if (n == 0 || u->nsubs == 0)
    return n;
  for (int hex = 0; hex <= 1; hex++) { /* one line per format, only if someone wants it */
    unsigned i;
    for (i = 0; i < u->nsubs && u->subs[i].hex != hex; i++)
      ;
    if (i == u->nsubs)
      continue;
    struct m0__jbuf line = {0};
    m0__jb_printf(&line, "{\"t_ms\":%llu,\"ev\":\"uart.data\"",
                  (unsigned long long)m0__sink_ms(b->events.sink));
    if (b->events.name[0] != '\0') {
      M0__JB_LIT(&line, ",\"dev\":");
      m0__jb_str(&line, b->events.name);
    }
    m0__jb_printf(&line, ",\"at\":%llu,\"bytes\":%zu,\"%s\":",
                  (unsigned long long)u->to_subscribers, n, hex ? "hex" : "data");
    if (hex)
      m0__jb_hex(&line, data, n);
    else
      m0__jb_bytes(&line, data, n);
    M0__JB_LIT(&line, "}\n");
    if (!line.failed)
      for (; i < u->nsubs; i++)
        if (u->subs[i].hex == hex)
          m0__ctl_stream(u->subs[i].client, line.s, line.len, n);
    m0__jb_free(&line);
  }
  u->to_subscribers += n;
  return n;
}

void m0__uart_ctl_rx_enable(struct m0__board *b, bool enable) {
  struct m0__uart_ctl *u = b->uart_ctl;
  if (enable && u->start < u->end)
    arm(u); /* inside a core call: feed from the timer */
}

/* ---- the channel's requests ---- */

int m0__uart_ctl_subscribe(struct m0__board *b, struct m0__ctl_client *client, bool hex,
                           bool hold) {
  struct m0__uart_ctl *u = get(b);
  if (u == NULL)
    return -ENOMEM;
  for (unsigned i = 0; i < u->nsubs; i++)
    if (u->subs[i].client == client) {
      u->subs[i].hex = hex;
      u->subs[i].hold = hold;
      arm(u); /* no longer holding: a stalled device may go on */
      return 0;
    }
  if (u->nsubs == u->subs_cap) {
    unsigned cap = u->subs_cap ? u->subs_cap * 2 : 4;
    void *p = realloc(u->subs, cap * sizeof *u->subs);
    if (p == NULL)
      return -ENOMEM;
    u->subs = p;
    u->subs_cap = cap;
  }
  u->subs[u->nsubs].client = client;
  u->subs[u->nsubs].hold = hold;
  u->subs[u->nsubs++].hex = hex;
  arm(u);
  return 0;
}

void m0__uart_ctl_unsubscribe(struct m0__board *b, struct m0__ctl_client *client) {
  struct m0__uart_ctl *u = b->uart_ctl;
  if (u == NULL)
    return;
  for (unsigned i = 0; i < u->nsubs; i++)
    if (u->subs[i].client == client) {
      u->subs[i] = u->subs[--u->nsubs];
      arm(u);
      return;
    }
}

int m0__uart_ctl_write(struct m0__board *b, struct m0__ctl_client *client, const char *id,
                       const uint8_t *data, size_t len) {
  struct m0__uart_ctl *u = get(b);
  if (u == NULL)
    return -ENOMEM;
  if (u->end - u->start + len > M0__UART_CTL_QUEUE_MAX)
    return -EBUSY;
  if (u->end + len > u->cap) {
    if (u->start > 0) { /* the waiting bytes to the front first */
      memmove(u->in, u->in + u->start, u->end - u->start);
      u->end -= u->start;
      u->start = 0;
    }
    if (u->end + len > u->cap) {
      size_t cap = u->cap ? u->cap : 4096;
      while (cap < u->end + len)
        cap *= 2;
      uint8_t *p = realloc(u->in, cap);
      if (p == NULL)
        return -ENOMEM;
      u->in = p;
      u->cap = cap;
    }
  }
  if (u->nacks == u->acks_cap) {
    unsigned cap = u->acks_cap ? u->acks_cap * 2 : 4;
    void *p = realloc(u->acks, cap * sizeof *u->acks);
    if (p == NULL)
      return -ENOMEM;
    u->acks = p;
    u->acks_cap = cap;
  }
  memcpy(u->in + u->end, data, len);
  u->end += len;
  u->queued += len;
  struct ack *a = &u->acks[u->nacks++];
  a->client = client;
  snprintf(a->id, sizeof a->id, "%s", id);
  a->end = u->queued;
  a->bytes = len;
  arm(u);
  return 0;
}

void m0__uart_ctl_forget(struct m0__board *b, struct m0__ctl_client *client) {
  struct m0__uart_ctl *u = b->uart_ctl;
  unsigned kept = 0;
  if (u == NULL)
    return;
  m0__uart_ctl_unsubscribe(b, client);
  for (unsigned i = 0; i < u->nacks; i++)
    if (u->acks[i].client != client)
      u->acks[kept++] = u->acks[i];
  u->nacks = kept; /* its bytes are still fed: they were sent on the line */
}

void m0__uart_ctl_status(struct m0__board *b, struct m0__jbuf *out) {
  struct m0__uart_ctl *u = b->uart_ctl;
  if (u == NULL) {
    M0__JB_LIT(out, "null");
    return;
  }
  m0__jb_printf(out,
                "{\"subscribers\":%u,\"waiting\":%zu,\"fed\":%llu,\"to_subscribers\":%llu}",
                u->nsubs, u->end - u->start, (unsigned long long)u->fed,
                (unsigned long long)u->to_subscribers);
}

void m0__uart_ctl_close(struct m0__board *b) {
  struct m0__uart_ctl *u = b->uart_ctl;
  if (u != NULL && u->kick_open) {
    u->kick_open = false;
    uv_close((uv_handle_t *)&u->kick, NULL);
  }
}

void m0__uart_ctl_free(struct m0__board *b) {
  struct m0__uart_ctl *u = b->uart_ctl;
  if (u == NULL)
    return;
  free(u->subs);
  free(u->in);
  free(u->acks);
  free(u);
  b->uart_ctl = NULL;
}
