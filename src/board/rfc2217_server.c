/* rfc2217_server.c: the UART's RFC 2217 server protocol (Telnet COM Port Control), pure.
 *
 * A byte-at-a-time Telnet parser (RFC 854: IAC commands, IAC IAC for a 255 data byte;
 * RFC 855 subnegotiation) with RFC 1143's loop-free option negotiation, minus WANTNO
 * (the server never turns an option off, it only refuses). The server offers and accepts
 * BINARY and SGA both ways and the COM-PORT option (44); anything else, ECHO included (the
 * module echoes by itself), is refused. A host that refuses BINARY gets NVT line ends:
 * CR NUL out, and a NUL after CR dropped in. An option still being negotiated counts as
 * BINARY, so nothing changes for a client that agrees a round trip later.
 *
 * COM-PORT commands are answered with the server's value under the code + 100, as
 * RFC 2217 asks: a value the emulated line cannot take (data bits outside 5-8, parity
 * outside 1-5, 1.5 stop bits) is answered with the value in force, which the client
 * reads as a refusal. A 0 (or a missing value) asks for the current one. The modem lines
 * are fixed by the caller (the board: CD, DSR and CTS up while a host is connected) and
 * sent once the host's COM-PORT option is on (its WILL, or its first COM-PORT command)
 * and after every SET-MODEMSTATE-MASK; a client's NOTIFY-MODEMSTATE or NOTIFY-LINESTATE
 * (pyserial's poll) gets the current state.
 * Every buffer is the caller's, bounded, and checked before a byte is taken.
 */
#include <string.h>

#include "m0/params.h"
#include "rfc2217_server.h"

enum {
  ST_DATA, /* plain data */
  ST_IAC,  /* IAC seen in data */
  ST_VERB, /* WILL/WONT/DO/DONT seen: the option follows */
  ST_SB,   /* inside IAC SB ... */
  ST_SB_IAC,
};

static void put(struct m0__rfc2217_io *io, uint8_t c) {
  if (io->reply_len < io->reply_cap)
    io->reply[io->reply_len++] = c;
}

static void put_escaped(struct m0__rfc2217_io *io, uint8_t c) {
  put(io, c);
  if (c == M0__TN_IAC)
    put(io, c);
}

static void put_option(struct m0__rfc2217_io *io, uint8_t verb, uint8_t option) {
  put(io, M0__TN_IAC);
  put(io, verb);
  put(io, option);
}

/* IAC SB COM-PORT <code> <value, escaped> IAC SE */
static void put_sb(struct m0__rfc2217_io *io, uint8_t code, const uint8_t *value, size_t len) {
  put(io, M0__TN_IAC);
  put(io, M0__TN_SB);
  put(io, M0__TN_COMPORT);
  put(io, code);
  for (size_t i = 0; i < len; i++)
    put_escaped(io, value[i]);
  put(io, M0__TN_IAC);
  put(io, M0__TN_SE);
}

static void put_sb1(struct m0__rfc2217_io *io, uint8_t code, uint8_t value) {
  put_sb(io, code, &value, 1);
}

static void notify_modem(struct m0__rfc2217_server *s, struct m0__rfc2217_io *io) {
  put_sb1(io, M0__R2S_SERVER + M0__R2S_NOTIFY_MODEMSTATE,
          (uint8_t)(s->modemstate & s->modemstate_mask));
}

void m0__rfc2217_server_init(struct m0__rfc2217_server *s, const struct m0__rfc2217_line *line,
                             uint8_t modemstate, const char *signature) {
  memset(s, 0, sizeof *s);
  s->state = ST_DATA;
  s->line = *line;
  s->flow_out = 1; /* no flow control */
  s->flow_in = 14;
  s->brk = 6;
  s->dtr = 8;
  s->rts = 11;
  s->linestate_mask = 0;    /* RFC 2217's defaults: no line state, every modem line */
  s->modemstate_mask = 0xFF;
  s->linestate = M0__R2S_LINE_IDLE;
  s->modemstate = modemstate;
  size_t n = strlen(signature);
  if (n > M0__R2S_SIGNATURE_MAX)
    n = M0__R2S_SIGNATURE_MAX;
  memcpy(s->signature, signature, n);
  s->signature[n] = '\0';
}

void m0__rfc2217_server_start(struct m0__rfc2217_server *s, struct m0__rfc2217_io *io) {
  put_option(io, M0__TN_WILL, M0__TN_BINARY);
  put_option(io, M0__TN_DO, M0__TN_BINARY);
  put_option(io, M0__TN_WILL, M0__TN_SGA);
  put_option(io, M0__TN_DO, M0__TN_SGA);
  put_option(io, M0__TN_DO, M0__TN_COMPORT);
  s->us[M0__R2S_OPT_BINARY] = s->him[M0__R2S_OPT_BINARY] = M0__R2S_WANTYES;
  s->us[M0__R2S_OPT_SGA] = s->him[M0__R2S_OPT_SGA] = M0__R2S_WANTYES;
  s->him[M0__R2S_OPT_COMPORT] = M0__R2S_WANTYES;
}

static int option_index(uint8_t option) {
  switch (option) {
  case M0__TN_BINARY:
    return M0__R2S_OPT_BINARY;
  case M0__TN_SGA:
    return M0__R2S_OPT_SGA;
  case M0__TN_COMPORT:
    return M0__R2S_OPT_COMPORT;
  default:
    return -1;
  }
}

/* RFC 1143: answer only a change, so two agreeing sides never loop. */
static void negotiate(struct m0__rfc2217_server *s, uint8_t verb, uint8_t option,
                      struct m0__rfc2217_io *io) {
  int k = option_index(option);
  bool asks_us = verb == M0__TN_DO || verb == M0__TN_DONT;
  bool yes = verb == M0__TN_WILL || verb == M0__TN_DO;
  if (k < 0) {
    if (yes) /* refuse; a WONT or DONT for an option we never do needs no answer */
      put_option(io, asks_us ? M0__TN_WONT : M0__TN_DONT, option);
    return;
  }
  uint8_t *q = asks_us ? &s->us[k] : &s->him[k];
  uint8_t before = *q;
  if (yes) {
    if (*q == M0__R2S_NO)
      put_option(io, asks_us ? M0__TN_WILL : M0__TN_DO, option);
    *q = M0__R2S_YES;
  } else {
    if (*q == M0__R2S_YES)
      put_option(io, asks_us ? M0__TN_WONT : M0__TN_DONT, option);
    *q = M0__R2S_NO;
  }
  /* The host now sends COM-PORT commands: it gets the modem lines at once (pyserial
   * raises on reading CTS/DSR/CD until it heard them once). */
  if (!asks_us && k == M0__R2S_OPT_COMPORT && before != M0__R2S_YES && *q == M0__R2S_YES)
    notify_modem(s, io);
}

/* RFC 2217's parity codes: 1 NONE, 2 ODD, 3 EVEN, 4 MARK, 5 SPACE. */
static uint8_t parity_code(uint8_t parity) {
  switch (parity) {
  case M0_PARITY_ODD:
    return 2;
  case M0_PARITY_EVEN:
    return 3;
  case M0_PARITY_MASK:
    return 4;
  case M0_PARITY_SPACE:
    return 5;
  default:
    return 1;
  }
}

static const uint8_t parities[] = {M0_PARITY_NONE, M0_PARITY_ODD, M0_PARITY_EVEN,
                                   M0_PARITY_MASK, M0_PARITY_SPACE};

static void set_control(struct m0__rfc2217_server *s, uint8_t v, struct m0__rfc2217_io *io) {
  const uint8_t *field;
  bool query = v == 0 || v == 4 || v == 7 || v == 10 || v == 13;
  switch (v) {
  case 0: /* queries: answer what is set */
    field = &s->flow_out;
    break;
  case 4:
    field = &s->brk;
    break;
  case 7:
    field = &s->dtr;
    break;
  case 10:
    field = &s->rts;
    break;
  case 13:
    field = &s->flow_in;
    break;
  case 1: case 2: case 3: case 17: case 18: case 19:
    s->flow_out = v;
    field = &s->flow_out;
    break;
  case 5: case 6:
    s->brk = v;
    field = &s->brk;
    break;
  case 8: case 9:
    s->dtr = v;
    field = &s->dtr;
    break;
  case 11: case 12:
    s->rts = v;
    field = &s->rts;
    break;
  case 14: case 15: case 16:
    s->flow_in = v;
    field = &s->flow_in;
    break;
  default:
    return; /* not a SET-CONTROL value: no answer */
  }
  if (!query)
    s->changes |= M0__R2S_CH_CONTROL;
  put_sb1(io, M0__R2S_SERVER + M0__R2S_SET_CONTROL, *field);
}

static void comport(struct m0__rfc2217_server *s, struct m0__rfc2217_io *io) {
  uint8_t code = s->sb[1];
  /* A host that sends COM-PORT commands does the option, whatever it said: pyserial
   * never says WILL when our DO reached it before it got round to it. It gets the modem
   * lines first, as if it had. */
  if (s->him[M0__R2S_OPT_COMPORT] != M0__R2S_YES) {
    s->him[M0__R2S_OPT_COMPORT] = M0__R2S_YES;
    notify_modem(s, io);
  }
  const uint8_t *v = s->sb + 2;
  size_t n = (size_t)s->sb_len - 2;
  uint8_t v0 = n > 0 ? v[0] : 0;
  if (s->sb_cut && code != M0__R2S_SIGNATURE)
    return; /* too long to be a command: garbage */
  switch (code) {
  case M0__R2S_SIGNATURE:
    if (n == 0) /* a request; a host's own signature needs no answer */
      put_sb(io, M0__R2S_SERVER + code, (const uint8_t *)s->signature, strlen(s->signature));
    break;
  case M0__R2S_SET_BAUDRATE: {
    uint32_t baud = n >= 4 ? (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
                                 (uint32_t)v[2] << 8 | v[3]
                           : 0;
    if (baud != 0) {
      s->line.baud = baud;
      s->changes |= M0__R2S_CH_LINE;
    }
    uint8_t be[4] = {(uint8_t)(s->line.baud >> 24), (uint8_t)(s->line.baud >> 16),
                     (uint8_t)(s->line.baud >> 8), (uint8_t)s->line.baud};
    put_sb(io, M0__R2S_SERVER + code, be, sizeof be);
    break;
  }
  case M0__R2S_SET_DATASIZE:
    if (v0 >= 5 && v0 <= 8) {
      s->line.data_bits = v0;
      s->changes |= M0__R2S_CH_LINE;
    }
    put_sb1(io, M0__R2S_SERVER + code, s->line.data_bits);
    break;
  case M0__R2S_SET_PARITY:
    if (v0 >= 1 && v0 <= 5) {
      s->line.parity = parities[v0 - 1];
      s->changes |= M0__R2S_CH_LINE;
    }
    put_sb1(io, M0__R2S_SERVER + code, parity_code(s->line.parity));
    break;
  case M0__R2S_SET_STOPSIZE:
    if (v0 == 1 || v0 == 2) { /* 3 is 1.5 stop bits: no such setting on the module */
      s->line.stop_bits = v0;
      s->changes |= M0__R2S_CH_LINE;
    }
    put_sb1(io, M0__R2S_SERVER + code, s->line.stop_bits);
    break;
  case M0__R2S_SET_CONTROL:
    set_control(s, v0, io);
    break;
  case M0__R2S_NOTIFY_LINESTATE:
    put_sb1(io, M0__R2S_SERVER + code, (uint8_t)(s->linestate & s->linestate_mask));
    break;
  case M0__R2S_NOTIFY_MODEMSTATE:
    notify_modem(s, io);
    break;
  case M0__R2S_FLOWCONTROL_SUSPEND:
  case M0__R2S_FLOWCONTROL_RESUME:
    s->suspended = code == M0__R2S_FLOWCONTROL_SUSPEND;
    s->changes |= M0__R2S_CH_FLOW;
    break;
  case M0__R2S_SET_LINESTATE_MASK:
    s->linestate_mask = v0;
    put_sb1(io, M0__R2S_SERVER + code, s->linestate_mask);
    break;
  case M0__R2S_SET_MODEMSTATE_MASK:
    s->modemstate_mask = v0;
    put_sb1(io, M0__R2S_SERVER + code, s->modemstate_mask);
    notify_modem(s, io);
    break;
  case M0__R2S_PURGE_DATA:
    if (v0 < 1 || v0 > 3)
      break;
    if (v0 & 1) /* the server's receive buffer: the module's bytes for the host */
      s->changes |= M0__R2S_CH_PURGE_RX;
    if (v0 & 2) /* its transmit buffer: the host's bytes not yet given to the module */
      io->data_len = 0;
    put_sb1(io, M0__R2S_SERVER + code, v0);
    break;
  default:
    break; /* a server code sent to us, or unknown: ignored */
  }
}

static void end_sb(struct m0__rfc2217_server *s, struct m0__rfc2217_io *io) {
  if (s->sb_len >= 2 && s->sb[0] == M0__TN_COMPORT)
    comport(s, io);
  s->sb_len = 0;
  s->sb_cut = false;
}

static void sb_byte(struct m0__rfc2217_server *s, uint8_t c) {
  if (s->sb_len < M0__R2S_SB_MAX)
    s->sb[s->sb_len++] = c;
  else
    s->sb_cut = true;
}

static void data_byte(struct m0__rfc2217_server *s, uint8_t c, struct m0__rfc2217_io *io) {
  bool nvt = s->him[M0__R2S_OPT_BINARY] == M0__R2S_NO;
  if (nvt && s->after_cr && c == 0) {
    s->after_cr = false;
    return;
  }
  s->after_cr = nvt && c == '\r';
  io->data[io->data_len++] = c;
}

/* The byte after IAC, outside a subnegotiation. */
static void command(struct m0__rfc2217_server *s, uint8_t c, struct m0__rfc2217_io *io) {
  switch (c) {
  case M0__TN_IAC:
    data_byte(s, c, io);
    s->state = ST_DATA;
    break;
  case M0__TN_SB:
    s->sb_len = 0;
    s->sb_cut = false;
    s->state = ST_SB;
    break;
  case M0__TN_WILL:
  case M0__TN_WONT:
  case M0__TN_DO:
  case M0__TN_DONT:
    s->verb = c;
    s->state = ST_VERB;
    break;
  default: /* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, a stray SE: nothing to do */
    s->state = ST_DATA;
    break;
  }
}

/* Whether byte c, in the current state, would be data for the module. */
static bool makes_data(const struct m0__rfc2217_server *s, uint8_t c) {
  if (s->state == ST_DATA)
    return c != M0__TN_IAC &&
           !(c == 0 && s->after_cr && s->him[M0__R2S_OPT_BINARY] == M0__R2S_NO);
  return s->state == ST_IAC && c == M0__TN_IAC;
}

size_t m0__rfc2217_server_input(struct m0__rfc2217_server *s, const uint8_t *in, size_t len,
                                struct m0__rfc2217_io *io) {
  size_t i;
  for (i = 0; i < len; i++) {
    uint8_t c = in[i];
    if (makes_data(s, c) ? io->data_len >= io->data_cap
                         : io->reply_cap - io->reply_len < M0__R2S_REPLY_MAX)
      break;
    switch (s->state) {
    case ST_DATA:
      if (c == M0__TN_IAC)
        s->state = ST_IAC;
      else
        data_byte(s, c, io);
      break;
    case ST_IAC:
      command(s, c, io);
      break;
    case ST_VERB:
      negotiate(s, s->verb, c, io);
      s->state = ST_DATA;
      break;
    case ST_SB:
      if (c == M0__TN_IAC)
        s->state = ST_SB_IAC;
      else
        sb_byte(s, c);
      break;
    default: /* ST_SB_IAC */
      if (c == M0__TN_IAC) {
        sb_byte(s, c);
        s->state = ST_SB;
      } else if (c == M0__TN_SE) {
        end_sb(s, io);
        s->state = ST_DATA;
      } else {
        /* A subnegotiation cut short by another command (RFC 855 forbids it): drop what
         * was collected and take the byte as the command it is. */
        s->sb_len = 0;
        s->sb_cut = false;
        command(s, c, io);
      }
      break;
    }
  }
  return i;
}

size_t m0__rfc2217_server_encode(const struct m0__rfc2217_server *s, const uint8_t *data,
                                 size_t len, uint8_t *out, size_t cap, size_t *out_len) {
  bool nvt = s->us[M0__R2S_OPT_BINARY] == M0__R2S_NO;
  size_t i, o = 0;
  for (i = 0; i < len; i++) {
    uint8_t c = data[i];
    bool two = c == M0__TN_IAC || (nvt && c == '\r');
    if (cap - o < (two ? 2u : 1u))
      break;
    out[o++] = c;
    if (two)
      out[o++] = c == M0__TN_IAC ? M0__TN_IAC : 0;
  }
  *out_len = o;
  return i;
}
