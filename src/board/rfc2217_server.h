/* rfc2217_server.h: the protocol of the UART's RFC 2217 server (Telnet COM Port Control),
 * pure: no sockets, no clock, no allocation.
 *
 * Not to be confused with src/core/rfc2217.c, the vendor's "similar RFC2217", an in-band
 * packet on the module's network links. This is the real RFC 2217 (with RFC 854/855
 * Telnet framing and RFC 1143 option negotiation) that the board's UART server speaks to
 * a host such as pyserial's rfc2217:// client: the host's bytes and settings come in,
 * the module's bytes go out.
 *
 * The caller gives each input call two bounded buffers (the host's data for the module,
 * and the server's replies) and the parser stops before a byte whose output would not
 * fit: nothing is ever dropped for lack of room, the rest waits for the next call. One
 * input byte makes at most M0__R2S_REPLY_MAX reply bytes.
 */
#ifndef M0_RFC2217_SERVER_H
#define M0_RFC2217_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Telnet (RFC 854) and the COM-PORT option (RFC 2217, option 44). */
enum {
  M0__TN_SE = 240, M0__TN_NOP = 241, M0__TN_SB = 250, M0__TN_WILL = 251, M0__TN_WONT = 252,
  M0__TN_DO = 253, M0__TN_DONT = 254, M0__TN_IAC = 255,
  M0__TN_BINARY = 0, M0__TN_ECHO = 1, M0__TN_SGA = 3, M0__TN_COMPORT = 44,
};

/* COM-PORT commands, client to server; the server answers with the code + 100. */
enum {
  M0__R2S_SIGNATURE = 0, M0__R2S_SET_BAUDRATE = 1, M0__R2S_SET_DATASIZE = 2,
  M0__R2S_SET_PARITY = 3, M0__R2S_SET_STOPSIZE = 4, M0__R2S_SET_CONTROL = 5,
  M0__R2S_NOTIFY_LINESTATE = 6, M0__R2S_NOTIFY_MODEMSTATE = 7,
  M0__R2S_FLOWCONTROL_SUSPEND = 8, M0__R2S_FLOWCONTROL_RESUME = 9,
  M0__R2S_SET_LINESTATE_MASK = 10, M0__R2S_SET_MODEMSTATE_MASK = 11, M0__R2S_PURGE_DATA = 12,
  M0__R2S_SERVER = 100,
};

/* NOTIFY-MODEMSTATE bits. */
enum { M0__R2S_MODEM_CTS = 0x10, M0__R2S_MODEM_DSR = 0x20, M0__R2S_MODEM_RI = 0x40,
       M0__R2S_MODEM_CD = 0x80 };
/* NOTIFY-LINESTATE: transmit holding register and shift register empty (an idle line). */
#define M0__R2S_LINE_IDLE 0x60

/* Subnegotiation bytes kept: every command's value fits; a longer client signature is
 * cut (and ignored anyway). */
#define M0__R2S_SB_MAX 32
/* The server's signature, at most this many bytes. */
#define M0__R2S_SIGNATURE_MAX 24
/* Reply bytes one input byte can cause at most (the signature, every byte escaped). */
#define M0__R2S_REPLY_MAX 64
/* The opening negotiation, in bytes. */
#define M0__R2S_START_LEN 15

/* Option states (RFC 1143, without WANTNO: the server never turns an option off). */
enum { M0__R2S_NO, M0__R2S_YES, M0__R2S_WANTYES };
/* The options the server agrees to, both ways. */
enum { M0__R2S_OPT_BINARY, M0__R2S_OPT_SGA, M0__R2S_OPT_COMPORT, M0__R2S_NOPTS };

/* Bits of `changes`: what the caller must act on after an input call (it clears them). */
enum {
  M0__R2S_CH_LINE = 1,     /* baud, data bits, parity or stop bits were set */
  M0__R2S_CH_PURGE_RX = 2, /* PURGE-DATA: drop the module's bytes not yet sent to the host */
  M0__R2S_CH_FLOW = 4,     /* FLOWCONTROL-SUSPEND or -RESUME: `suspended` changed */
  M0__R2S_CH_CONTROL = 8,  /* SET-CONTROL set flow control, BREAK, DTR or RTS */
};

/* The host's line as RFC 2217 sets it; parity is an enum m0_parity. */
struct m0__rfc2217_line {
  uint32_t baud;
  uint8_t data_bits; /* 5-8 */
  uint8_t parity;
  uint8_t stop_bits; /* 1 or 2 (1.5 is refused) */
};

struct m0__rfc2217_server {
  uint8_t state;  /* parser state (rfc2217_server.c) */
  uint8_t verb;   /* WILL, WONT, DO or DONT waiting for its option */
  bool after_cr;  /* the last data byte was CR (NVT: a NUL after it is dropped) */
  uint8_t us[M0__R2S_NOPTS];  /* what the server does (it said WILL) */
  uint8_t him[M0__R2S_NOPTS]; /* what the host does (it said WILL) */
  uint8_t sb[M0__R2S_SB_MAX];
  uint8_t sb_len;
  bool sb_cut; /* the subnegotiation was longer than sb */
  struct m0__rfc2217_line line;
  /* SET-CONTROL's values as last set: outbound flow (1-3, 17-19), inbound flow
   * (14-16), BREAK (5 on, 6 off), DTR (8, 9), RTS (11, 12). */
  uint8_t flow_out, flow_in, brk, dtr, rts;
  uint8_t linestate_mask, modemstate_mask;
  uint8_t linestate, modemstate; /* what polls and notifications report */
  bool suspended;                /* the host asked us to stop sending */
  unsigned changes;
  char signature[M0__R2S_SIGNATURE_MAX + 1];
};

/* One input call's outputs: the host's data for the module, the server's replies. */
struct m0__rfc2217_io {
  uint8_t *data;
  size_t data_len, data_cap;
  uint8_t *reply;
  size_t reply_len, reply_cap;
};

/* A server for a new connection: the line starts as given, the modem lines as given
 * (e.g. CD, DSR and CTS up), the signature is cut to M0__R2S_SIGNATURE_MAX bytes. */
void m0__rfc2217_server_init(struct m0__rfc2217_server *s, const struct m0__rfc2217_line *line,
                             uint8_t modemstate, const char *signature);
/* The opening negotiation (WILL and DO BINARY and SGA, DO COM-PORT-OPTION) into
 * io->reply, which must have M0__R2S_START_LEN bytes of room. */
void m0__rfc2217_server_start(struct m0__rfc2217_server *s, struct m0__rfc2217_io *io);
/* Parse bytes from the host. Returns how many were taken: it stops before a byte that
 * would be data with io->data full, or a command with less than M0__R2S_REPLY_MAX bytes
 * of room in io->reply. */
size_t m0__rfc2217_server_input(struct m0__rfc2217_server *s, const uint8_t *in, size_t len,
                                struct m0__rfc2217_io *io);
/* The module's bytes for the host, framed: IAC doubled, and CR followed by NUL while the
 * host refuses BINARY. Returns how many data bytes were taken (stops when the next one's
 * encoding does not fit in cap); *out_len is what was written to out. */
size_t m0__rfc2217_server_encode(const struct m0__rfc2217_server *s, const uint8_t *data,
                                 size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
