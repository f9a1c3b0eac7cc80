/* fuzz_rfc2217_server.c: any bytes as what a host sends to the UART's RFC 2217 server
 * (src/board/rfc2217_server.c), and as the module's bytes it frames for the host.
 *
 * The first byte chooses the two output buffers' sizes (small ones, so the parser's
 * stopping for room is exercised); the rest is the host's stream. After every call it
 * checks, not only that nothing crashed:
 *  - progress: with room for one data byte and M0__R2S_REPLY_MAX reply bytes, a call
 *    takes at least one byte; no call writes past the room it was given;
 *  - bounds: parser state, option states, subnegotiation length, the line (baud > 0,
 *    5-8 data bits, parity NONE..SPACE, 1 or 2 stop bits) and every SET-CONTROL value
 *    stay within what the protocol defines;
 *  - the replies are whole Telnet commands only (IAC verb option, or IAC SB ... IAC SE
 *    with every 255 inside doubled): never data, never half a command;
 *  - the same stream fed whole with large buffers, and byte by byte, gives the same
 *    replies and final settings, and the same data unless it holds a PURGE-DATA;
 *  - escaping round-trips: the stream taken as the module's data, framed by encode()
 *    (binary, and NVT for a host that refused BINARY), parses back to exactly itself,
 *    with no reply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m0/params.h"
#include "rfc2217_server.h"

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "fuzz_rfc2217_server: broken: %s (line %d)\n", #cond, __LINE__); \
      abort();                                                                          \
    }                                                                                   \
  } while (0)

#define MAX_IN 4096

static const struct m0__rfc2217_line LINE = {115200, 8, M0_PARITY_NONE, 1};

static void bounds(const struct m0__rfc2217_server *s) {
  CHECK(s->state <= 4);
  CHECK(s->sb_len <= M0__R2S_SB_MAX);
  for (int k = 0; k < M0__R2S_NOPTS; k++)
    CHECK(s->us[k] <= M0__R2S_WANTYES && s->him[k] <= M0__R2S_WANTYES);
  CHECK(s->line.baud > 0);
  CHECK(s->line.data_bits >= 5 && s->line.data_bits <= 8);
  CHECK(s->line.parity <= M0_PARITY_SPACE);
  CHECK(s->line.stop_bits == 1 || s->line.stop_bits == 2);
  CHECK((s->flow_out >= 1 && s->flow_out <= 3) || (s->flow_out >= 17 && s->flow_out <= 19));
  CHECK(s->flow_in >= 14 && s->flow_in <= 16);
  CHECK(s->brk == 5 || s->brk == 6);
  CHECK(s->dtr == 8 || s->dtr == 9);
  CHECK(s->rts == 11 || s->rts == 12);
  CHECK(strlen(s->signature) <= M0__R2S_SIGNATURE_MAX);
}

/* The replies as a host parses them: whole commands, nothing else. */
static void whole_commands(const uint8_t *r, size_t n) {
  size_t i = 0;
  while (i < n) {
    CHECK(r[i] == 255 && i + 1 < n);
    uint8_t verb = r[i + 1];
    if (verb >= 251 && verb <= 254) {
      CHECK(i + 2 < n);
      i += 3;
      continue;
    }
    CHECK(verb == 250);
    CHECK(i + 3 < n && r[i + 2] == 44 && r[i + 3] >= 100); /* COM-PORT, a server code */
    i += 4;
    for (;;) {
      CHECK(i < n);
      if (r[i] != 255) {
        i++;
        continue;
      }
      CHECK(i + 1 < n && (r[i + 1] == 255 || r[i + 1] == 240));
      i += 2;
      if (r[i - 1] == 240)
        break;
    }
  }
}

struct result {
  uint8_t data[MAX_IN], reply[MAX_IN * 8];
  size_t data_len, reply_len;
  struct m0__rfc2217_server end;
};

/* Feed in with data and reply buffers of the given room, emptied into r whenever a call
 * takes nothing; step > 0 feeds at most step bytes per call. */
static void run(const uint8_t *in, size_t len, size_t data_room, size_t reply_room,
                size_t step, struct result *r) {
  static uint8_t data[MAX_IN], reply[MAX_IN * 8];
  struct m0__rfc2217_server s;
  m0__rfc2217_server_init(&s, &LINE, 0xb0, "m0emu-fuzz");
  struct m0__rfc2217_io io = {.data = data, .data_cap = data_room, .reply = reply,
                              .reply_cap = reply_room};
  r->data_len = r->reply_len = 0;
  m0__rfc2217_server_start(&s, &io);
  size_t off = 0;
  while (off < len || io.data_len > 0 || io.reply_len > 0) {
    size_t n = len - off;
    if (step > 0 && n > step)
      n = step;
    size_t before_data = io.data_len, before_reply = io.reply_len;
    size_t took = off < len ? m0__rfc2217_server_input(&s, in + off, n, &io) : 0;
    CHECK(took <= n);
    CHECK(io.data_len <= io.data_cap && io.reply_len <= io.reply_cap);
    CHECK(io.data_len <= before_data + took || io.data_len == 0);
    (void)before_reply;
    bounds(&s);
    s.changes = 0;
    off += took;
    if (took == 0 || off == len) {
      /* Hand the outputs over, as the board does when its socket took them. */
      CHECK(!(took == 0 && off < len && before_data == 0 && io.data_len == 0 &&
              io.reply_len == 0 && io.data_cap > 0 && io.reply_cap >= M0__R2S_REPLY_MAX));
      whole_commands(io.reply, io.reply_len);
      CHECK(r->data_len + io.data_len <= sizeof r->data);
      CHECK(r->reply_len + io.reply_len <= sizeof r->reply);
      memcpy(r->data + r->data_len, io.data, io.data_len);
      memcpy(r->reply + r->reply_len, io.reply, io.reply_len);
      r->data_len += io.data_len;
      r->reply_len += io.reply_len;
      io.data_len = io.reply_len = 0;
    }
  }
  r->end = s;
}

static bool holds_purge(const uint8_t *in, size_t len) {
  for (size_t i = 0; i + 1 < len; i++)
    if (in[i] == 44 && in[i + 1] == 12)
      return true;
  return false;
}

static void same_settings(const struct m0__rfc2217_server *a,
                          const struct m0__rfc2217_server *b) {
  CHECK(a->state == b->state && a->after_cr == b->after_cr);
  CHECK(memcmp(a->us, b->us, sizeof a->us) == 0 && memcmp(a->him, b->him, sizeof a->him) == 0);
  CHECK(a->line.baud == b->line.baud && a->line.data_bits == b->line.data_bits &&
        a->line.parity == b->line.parity && a->line.stop_bits == b->line.stop_bits);
  CHECK(a->flow_out == b->flow_out && a->flow_in == b->flow_in && a->brk == b->brk &&
        a->dtr == b->dtr && a->rts == b->rts && a->suspended == b->suspended);
  CHECK(a->linestate_mask == b->linestate_mask && a->modemstate_mask == b->modemstate_mask);
}

/* The data framed by encode() for a host in binary (or NVT) mode parses back whole. */
static void round_trip(const uint8_t *in, size_t len, bool nvt) {
  static uint8_t framed[MAX_IN * 2], back[MAX_IN], reply[256];
  static const uint8_t refuse[] = {255, 252, 0, 255, 254, 0}; /* WONT, DONT BINARY */
  struct m0__rfc2217_server tx, rx;
  struct m0__rfc2217_io io = {.data = back, .data_cap = sizeof back, .reply = reply,
                              .reply_cap = sizeof reply};
  m0__rfc2217_server_init(&tx, &LINE, 0, "");
  m0__rfc2217_server_init(&rx, &LINE, 0, "");
  m0__rfc2217_server_start(&tx, &io);
  m0__rfc2217_server_start(&rx, &io);
  io.reply_len = 0;
  if (nvt) {
    CHECK(m0__rfc2217_server_input(&tx, refuse, sizeof refuse, &io) == sizeof refuse);
    CHECK(m0__rfc2217_server_input(&rx, refuse, sizeof refuse, &io) == sizeof refuse);
  }
  io.reply_len = 0;
  size_t framed_len, took = m0__rfc2217_server_encode(&tx, in, len, framed, sizeof framed,
                                                      &framed_len);
  CHECK(took == len);
  CHECK(framed_len <= 2 * len);
  CHECK(m0__rfc2217_server_input(&rx, framed, framed_len, &io) == framed_len);
  CHECK(io.reply_len == 0);
  CHECK(io.data_len == len && memcmp(back, in, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size) {
  static struct result small, whole, bytewise;
  if (size < 1 || size > MAX_IN + 1)
    return 0;
  uint8_t h = buf[0];
  const uint8_t *in = buf + 1;
  size_t len = size - 1;

  run(in, len, (size_t)(h & 15) + 1, M0__R2S_REPLY_MAX + (size_t)(h >> 4) * 3, 0, &small);
  run(in, len, MAX_IN, sizeof whole.reply, 0, &whole);
  run(in, len, MAX_IN, sizeof bytewise.reply, 1, &bytewise);

  CHECK(whole.reply_len == bytewise.reply_len &&
        memcmp(whole.reply, bytewise.reply, whole.reply_len) == 0);
  CHECK(whole.reply_len == small.reply_len &&
        memcmp(whole.reply, small.reply, whole.reply_len) == 0);
  same_settings(&whole.end, &bytewise.end);
  same_settings(&whole.end, &small.end);
  if (!holds_purge(in, len)) {
    CHECK(whole.data_len == bytewise.data_len &&
          memcmp(whole.data, bytewise.data, whole.data_len) == 0);
    CHECK(whole.data_len == small.data_len &&
          memcmp(whole.data, small.data, whole.data_len) == 0);
  }
  round_trip(in, len, false);
  round_trip(in, len, true);
  return 0;
}
