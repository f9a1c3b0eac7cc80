/* dev_internal.h: the members of struct m0_dev (included by dev.h; not an API).
 *
 * The board allocates a struct m0_dev (about 220 KiB, most of it the 128 KiB inbox of
 * network data for the host, the 64 KiB queue toward the host, the 12 KiB flash text
 * scratch and the 4 KiB of host bytes held during a save) and only ever passes it to
 * m0_dev_*(). Every
 * buffer the core needs lives here, sized at compile time, so the core never calls malloc
 * and one process can hold many devices. Unit tests may read the members; nothing else
 * should.
 *
 * Memory of an idle device: the byte buffers are gathered at the end (struct
 * m0__dev_bufs, about 210 KiB) and their contents mean something only up to the lengths
 * kept in the state before them, so m0_dev_init() clears the state (about 8 KiB) and
 * never writes the buffers. A device in memory the OS hands out zeroed and untouched
 * (calloc of a large block, a fresh mmap) therefore costs only the pages its state and
 * the bytes it really queued touch: a thousand idle devices take a few MiB, not 220 MB.
 */
#ifndef M0_DEV_INTERNAL_H
#define M0_DEV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/flash_text.h"
#include "m0/net.h"
#include "m0/params.h"

/* A byte budget on the nanosecond clock (pace.c): bytes allowed by `now` are
 * base + floor((now - epoch) * baud / bit_ns) - taken, where bit_ns = bits per char * 1e9. */
struct m0__pace {
  uint64_t epoch;  /* ns: origin of the budget */
  uint64_t base;   /* bytes granted at the epoch (credit carried over a reset) */
  uint64_t taken;  /* bytes used since the epoch */
  uint64_t bit_ns; /* bits per character * 1e9 */
  uint32_t baud;
  uint64_t burst;    /* ~1 ms worth of bytes, at least 1: the largest credit after idle */
  uint64_t chunk_ns; /* how long the line takes to carry `burst` bytes */
};

/* Bytes waiting for the host: a ring, filled by replies, echo and network data (which
 * comes through the inbox, flow.c). */
struct m0__txq {
  size_t head; /* index of the oldest byte of bufs.txq */
  size_t len;
};

/* The +++ / a handshake (escape.c). */
enum m0__esc_state { M0__ESC_IDLE, M0__ESC_PLUS, M0__ESC_WAIT_A };

struct m0__escape {
  enum m0__esc_state state;
  unsigned held;     /* '+' bytes held back from the network (0..3) */
  uint64_t deadline; /* the first instant the current window has expired */
};

/* Serial frames toward the network (framer.c). */
struct m0__framer {
  uint8_t buf[M0_FRAME_MAX];
  size_t len;
  uint64_t deadline; /* idle cut: last byte + 4 character times */
};

/* The command line being typed in command mode (at.c). */
struct m0__at {
  char line[M0_LINE_MAX];
  size_t len;
  bool overflow; /* the line passed M0_LINE_MAX: discard up to the terminator */
  bool after_cr; /* the previous byte was a CR terminator: a LF now belongs to it */
  uint64_t cr_ns;
};

/* Kinds of dropped data: each has its own cumulative count and event rate limit. */
enum m0__drop_kind {
  /* One prefix per direction, as the `drop` event's dir field says: to_net, to_host,
   * from_host, from_net. */
  M0__DROP_TO_NET_NO_NETWORK, /* a serial frame with no network to go to */
  M0__DROP_TO_NET_RESTART,    /* a partial frame lost to a restart */
  M0__DROP_TO_HOST_NO_HOST,   /* bytes for the host while nobody has the tty open */
  M0__DROP_TO_HOST_FULL,      /* bytes for the host beyond M0_UART_TXQ_SIZE */
  M0__DROP_TO_HOST_RESTART,   /* bytes for the host still queued at a restart */
  M0__DROP_FROM_HOST_BOOTING,     /* host bytes while the device boots */
  M0__DROP_FROM_HOST_RESTARTING,  /* host bytes after AT+Z / AT+RELD, before the restart */
  M0__DROP_TO_NET_NOT_CONNECTED, /* a serial frame while no connection (UARTCLBUF=on, TCPS) */
  M0__DROP_TO_NET_BUFFER_FULL,   /* the oldest kept bytes beyond the 4 KiB while connecting */
  M0__DROP_TO_NET_SEND_ERROR,    /* the board refused a send (link failing, UDP no route) */
  M0__DROP_FROM_NET_STRANGER, /* UDPC: a datagram not from SOCK's address and port */
  M0__DROP_FROM_HOST_FLASH_BUSY, /* host bytes beyond M0__HELD_MAX while a save is in flight */
  M0__DROP_FROM_HOST_OFF,        /* host bytes while the power is off (fault.c) */
  M0__DROP_TO_HOST_OFF,      /* bytes for the host made while the power is off (a save's reply) */
  M0__DROP_FROM_HOST_HANG,       /* host bytes while the firmware hangs */
  M0__DROP_TO_NET_CABLE,     /* datagrams sent while the cable is out */
  M0__DROP_FROM_NET_CABLE, /* datagrams that arrived while the cable is out */
  M0__DROP_TO_NET_HANG,      /* datagrams sent while the firmware hangs (none: a safeguard) */
  M0__DROP_FROM_NET_HANG, /* datagrams that arrived while the firmware hangs */
  M0__DROP_FROM_HOST_LOSS,       /* host bytes lost on a noisy line (fault_line.c) */
  M0__DROP_TO_HOST_LOSS,     /* bytes for the host lost on a noisy line */
  M0__DROP_TO_NET_LOSS,      /* datagrams lost on an impaired network, toward it */
  M0__DROP_FROM_NET_LOSS, /* ... and from it */
  M0__DROP_COUNT
};

struct m0__drop {
  uint64_t total;   /* bytes, cumulative since m0_dev_init() */
  uint64_t last_ns; /* when the last event for this kind went out */
  bool emitted;     /* an event went out at least once */
  bool pending;     /* a drop happened since that event: one more is due at last_ns + 1 s */
};

/* A restart that waits for the reply before it to reach the host (AT+Z, AT+RELD). */
struct m0__restart {
  bool pending;
  char cause[16];
  uint64_t deadline; /* restart anyway if the host has not taken the reply by then */
};

/* Who asked for the save in flight, and so who is answered when it completes. */
enum m0__save_for {
  M0__SAVE_AT_SET,        /* AT+NAME=value: +ok / +ERR=-5 */
  M0__SAVE_AT_RELD,       /* AT+RELD: rebooting... and the restart, or +ERR=-5 */
  M0__SAVE_EDIT,          /* the web page's form (m0_dev_edit_save): its callback */
  M0__SAVE_FACTORY_RESET, /* the web page's Factory Reset: the restart, or a log line */
  M0__SAVE_UDP1500,       /* a UDP 1500 write: its reply (udp1500_dev.c) */
};

/* Host bytes kept while a save is in flight in command mode: what was left of the read
 * that started it (the board reads at most 4 KiB at a time, and no more until the
 * outcome: reading stops meanwhile). */
#define M0__HELD_MAX 4096

/* The flash write in flight (hal->flash_save until m0_dev_on_flash_saved). At most one:
 * while `busy`, nothing else is saved, command-mode input waits in `held`, and a restart
 * waits for the outcome (restart_wanted). */
struct m0__save {
  bool busy;
  bool in_call;    /* inside hal->flash_save: an outcome now is that call's own result */
  bool answered;   /* ... and it came, with `result` */
  int result;
  uint8_t what;    /* enum m0__save_for */
  uint64_t now_ids; /* bit per enum m0_param_id: APPLIES_NOW values to run on success */
  struct m0_config next; /* what `saved` becomes on success */
  m0_dev_saved_fn done;  /* M0__SAVE_EDIT */
  void *done_arg;
  bool restart_wanted;   /* a restart came meanwhile: it happens right after the outcome */
  char restart_cause[16];
  size_t held_len; /* bufs.held: line faults already applied */
  /* The edit being built from outside (m0_dev_edit_*): saved plus the parameters taken. */
  struct m0_config edit;
  uint64_t edit_ids;
};

/* A UDP 1500 write whose flash outcome is awaited (udp1500_dev.c): whom to answer, and
 * the device's datagram counts. */
struct m0__udp1500 {
  bool waiting;
  bool t24;            /* the T24 set (else an FF command) */
  uint8_t cmd;         /* FF command */
  size_t bytes;        /* the request's size, for its event */
  struct m0_net_addr to;
  uint64_t accepted, rejected; /* datagrams since m0_dev_init() */
};

/* ---- registration, heartbeat, similar-RFC2217: plain data of the pure modules ----
 * Defined here because the device embeds them; their functions and the rules are in
 * src/core/reg.h, src/core/heart.h and src/core/rfc2217.h. */

/* The registration packet as it applies to the running work mode (spec §6.6). */
struct m0__reg {
  uint8_t data[M0_HEX_BYTES_MAX];
  uint8_t len; /* 0: nothing to send (REGEN=off, or a work mode other than TCPC/UDPC) */
  bool every;  /* REGTCP=every: in front of every frame. Else (first): once as the first
                * bytes of each TCP connection; UDPC: once, as its own datagram, before
                * the first datagram after restart. */
};

enum m0__heart_target {
  M0__HEART_NONE, /* HEARTEN=off, or NET in a work mode other than TCPC/UDPC */
  M0__HEART_NET,  /* HEARTDT to the server (HEARTTP=NET) */
  M0__HEART_UART, /* HEARTDT to the UART (HEARTTP=COM) */
};

/* The heartbeat's schedule (spec §6.7). */
struct m0__heart {
  uint8_t target; /* enum m0__heart_target */
  bool running;
  uint64_t period_ns; /* HEARTTM seconds */
  uint64_t next;      /* the next beat; M0_TIME_NEVER while stopped */
  uint8_t data[M0_HEX_BYTES_MAX]; /* HEARTDT decoded */
  uint8_t len;
};

/* A similar-RFC2217 scanner (spec §6.8): the start of a possible 8-byte packet. */
struct m0__rfc2217 {
  uint8_t held[7];
  uint8_t len;
};

/* ---- the network side (net.c, tcpc.c, tcps.c, udp.c, htpc_mode.c, flow.c) ---- */

/* Network bytes waiting for the host, ahead of the UART queue (flow.c): 128 KiB holds the
 * pause threshold plus one more board read (M0_LINK_RX_MAX), so TCP data is never lost. */
#define M0_NET_INBOX_SIZE (128 * 1024)
/* Serial data kept for a TCP client connection that is not up yet (spec §6.2), or HTPC
 * frames waiting for their request (each behind a 2-byte length). */
#define M0_NET_PENDING_MAX 4096
/* An HTTP request (src/core/htpc.h: M0__HTPC_REQUEST_MAX) and room for its response
 * parser (struct m0__htpc_resp, an llhttp parser: checked at compile time). */
#define M0_NET_HTTP_REQUEST_MAX 1536
#define M0_NET_HTTP_PARSER_MAX 256

/* What a link id is used for; FREE ids may be opened (the board frees an id at once). */
enum m0__link_role {
  M0__LINK_FREE,
  M0__LINK_TCPC,   /* the TCP client's connection (TCPC) */
  M0__LINK_LISTEN, /* the TCP server's listener (TCPS) */
  M0__LINK_CLIENT, /* a client the listener accepted (TCPS); its id is its index 1..8 */
  M0__LINK_UDP,    /* the UDP socket (UDPC, UDPS) */
  M0__LINK_HTTP,   /* the connection of one HTTP request (HTPC) */
};

struct m0__link {
  uint8_t role;    /* enum m0__link_role */
  bool up;         /* connected, accepted, listening or bound */
  bool paused;     /* we asked the board to stop reading it */
  struct m0_net_addr peer;
  uint64_t tx_bytes, rx_bytes;
  uint64_t queued; /* TCP: the board's write queue after our last send */
  uint64_t seq;    /* TCPS: order of arrival, to kick the oldest */
  /* RFCEN: this link's own scanner (two peers' bytes must not mix), and when its held
   * bytes go to the host as data if nothing more arrives (meaningful while it holds). */
  struct m0__rfc2217 rfc;
  uint64_t rfc_flush_at;
  /* A dial (TCPC, HTTP) still not up at this instant is given up: the connect timeout
   * (net.c). Meaningful while the link dials. */
  uint64_t dial_at;
  /* TCP: its turn toward the host (flow.c). All zero for a new link: a whole turn ahead,
   * counted as sending. */
  uint64_t used; /* bytes delivered against this round's quantum; beyond it: debt */
  bool quiet;    /* had its chance and sent nothing: a round does not wait for it */
};

enum m0__tcpc_state {
  M0__TCPC_IDLE,       /* short connection: no link until serial data arrives */
  M0__TCPC_CONNECTING, /* link_open issued */
  M0__TCPC_CONNECTED,
  M0__TCPC_WAITING,    /* failed or lost: the next attempt at retry_at */
};

struct m0__inbox {
  size_t head, len; /* of bufs.inbox */
};

struct m0__network {
  struct m0__link link[M0_LINKS_MAX];
  /* Bumped each time an id is freed (closed by us, reported down, open refused). An
   * input names an id as the board saw it; when the core, catching up on what was due
   * first, frees that id (and maybe reuses it), the input is about a link that is gone. */
  uint32_t gen[M0_LINKS_MAX];
  uint64_t seq;
  uint64_t retry_at; /* reopen the mode's link (dial, listen, bind) */
  uint64_t idle_at;  /* short connection: close when idle (SHORTO) */
  uint64_t rstim_at; /* restart when nothing was received (RSTIM) */
  uint64_t http_timeout_at; /* HTPC: give up on a peer that stays silent (10 s) */
  /* Registration (TCPC, UDPC), from the running configuration at boot. */
  struct m0__reg reg;
  bool reg_done;       /* UDPC, REGTCP=first: the registration datagram went out */
  bool reg_every_told; /* REGTCP=every: reg.sent reported for this connection or boot */
  /* TCPC */
  uint8_t tcpc;      /* enum m0__tcpc_state */
  unsigned failures; /* consecutive failed attempts (CLIENTRST) */
  size_t pending_len; /* bytes kept in bufs.pending */
  /* UDPS: where serial frames go (the last sender) */
  struct m0_net_addr udp_dest;
  /* HTPC: the request in flight (its frame's length, for the count if it is lost) */
  bool http_busy;
  size_t http_frame_len, http_request_len; /* the request is in bufs.http_request */
  union {
    max_align_t align;
    unsigned char bytes[M0_NET_HTTP_PARSER_MAX];
  } http_parser;
  /* flow (flow.c) */
  bool links_paused;  /* TCP reading stopped: too much waiting for the host */
  bool uart_held;     /* UART reading stopped: a TCP peer is slow to take our bytes */
  bool socket_shown;  /* the socket state last reported (net.socklk event) */
  /* TCP fairness (flow.c): a link spent its turn and the round waits for the others. */
  bool fair_waiting;
  bool fair_probing;      /* this wait also gives the quiet links a turn */
  uint64_t fair_mark;     /* the wait's start, or the last delivery or resume since */
  uint64_t fair_probe_at; /* when quiet links last had a turn */
  struct m0__inbox inbox;
};

/* ---- faults on demand (fault.c, fault_net.c, fault_line.c, include/m0/fault.h) ---- */

/* Serial data held for the network (a pulled cable, a hang, an impaired network): the
 * bytes of each send in order, with what it was sent on and when it may go. */
#define M0__FAULT_RECORDS 64

struct m0__fault_rec {
  uint64_t at;    /* the first instant it may go (while the cable is in) */
  uint32_t len;   /* its bytes: the next len of buf from where the previous ended */
  uint32_t gen;   /* the link id's generation: a link closed since loses it */
  uint8_t id;
  bool has_to;
  struct m0_net_addr to; /* UDP: its destination */
};

struct m0__fault_txq {
  size_t start, end; /* the held bytes are bufs.fault_held[start..end): records in order */
  unsigned rhead, rlen; /* the records: a ring of M0__FAULT_RECORDS in bufs.fault_rec */
};

struct m0__fault_line {
  struct m0_uart_noise noise;
  uint64_t until;           /* the fault ends then (NEVER: until cleared) */
  uint64_t corrupted, lost;
};

struct m0__fault_net {
  struct m0_net_impair impair;
  uint64_t until;
  uint64_t lost;
  struct m0__pace pace;     /* the rate (bytes per second as baud, one bit per byte) */
};

/* Bytes toward the host that may not move yet (from_net impairment): marks on the inbox,
 * by cumulative byte count: bytes before `end` may move from `at` on. */
#define M0__FAULT_MARKS 64

struct m0__fault_mark {
  uint64_t end, at;
};

struct m0__faults {
  /* Power: while off the device does nothing (mode BOOTING, no boot under way). */
  bool off;
  uint64_t off_since;
  uint64_t on_at;    /* power comes back by itself then (a power cycle); NEVER: until told */
  uint16_t orphans;  /* bit per link id: TCP connections of before the cut that the board
                      * still holds, paused and unknown to the device; power on resets them */
  /* The cable. */
  bool unplugged;
  uint64_t unplugged_since;
  uint64_t plug_at;  /* plugged back by itself then; NEVER: until told */
  uint64_t reset_after; /* an unplug this long resets the TCP connections at re-plug */
  /* Dials started while the cable is out: not given to the board; they time out then
   * (NEVER: none), or go to the board when the cable comes back before. */
  uint64_t dial_until[M0_LINKS_MAX];
  struct m0_link_open dial_req[M0_LINKS_MAX];
  /* A firmware hang: nothing runs until hang_until, then the watchdog restarts it. */
  bool hung;
  uint64_t hung_since, hang_until;
  uint64_t rng;      /* the generator of noise and loss (splitmix64 state) */
  struct m0__fault_txq txq;
  struct m0__fault_line line[2]; /* by enum m0_uart_dir */
  struct m0__fault_net net[2];   /* by enum m0_net_dir */
  /* from_net: the inbox's marks and its cumulative counts in and out. */
  unsigned mhead, mlen; /* the marks: a ring of M0__FAULT_MARKS in bufs.fault_marks */
  uint64_t inbox_in, inbox_out;
  /* Flash. */
  uint32_t flash_fail;  /* the next saves that fail */
  bool flash_full;
  uint64_t flash_until;
  uint64_t flash_failed;
};

/* The device's byte buffers. Each is meaningful only up to the length kept in the state
 * (save.held_len, net.pending_len, net.http_request_len, net.inbox, txq, fault.txq):
 * nothing reads past it, so they are never cleared. */
struct m0__dev_bufs {
  uint8_t held[M0__HELD_MAX];                     /* host bytes held during a save */
  uint8_t pending[M0_NET_PENDING_MAX];            /* serial data kept for the network */
  uint8_t http_request[M0_NET_HTTP_REQUEST_MAX];  /* HTPC: the request in flight */
  uint8_t inbox[M0_NET_INBOX_SIZE];               /* network bytes for the host */
  uint8_t txq[M0_UART_TXQ_SIZE];                  /* bytes for the host, a ring */
  char flash_text[M0_FLASH_MAX]; /* scratch for m0_flash_format: too large for a stack */
  uint8_t fault_held[M0_FAULT_HELD_MAX];          /* sends held by a fault (fault_net.c) */
  struct m0__fault_rec fault_rec[M0__FAULT_RECORDS];  /* fault.txq's records */
  struct m0__fault_mark fault_marks[M0__FAULT_MARKS]; /* fault's inbox marks */
};

/* Observer of finished serial frames; unit tests watch framing through it. NULL in the
 * emulator. It sees the frame before it is routed to the network. */
typedef void (*m0__frame_tap_fn)(void *arg, uint64_t now, const uint8_t *data, size_t len);

struct m0_dev {
  const struct m0_hal *hal;
  void *ctx;
  struct m0_dev_options options; /* factory_settings NULL: copied just below */
  struct m0_config factory_settings; /* what AT+RELD restores */
  struct m0_config saved;   /* what flash holds */
  struct m0_config running; /* what the device runs on since its last boot */
  struct m0_config booted;  /* what the last boot ran on: running without what changed it
                             * since (E, a similar-RFC2217 packet's UART) */

  enum m0_mode mode;
  bool started;
  uint64_t boot_until; /* end of the current boot, M0_TIME_NEVER when not booting */
  uint64_t armed;      /* what the HAL timer is armed for, M0_TIME_NEVER when disarmed */
  struct m0__restart restart;
  struct m0__save save;

  /* The UART toward the host. */
  bool attached;      /* a host has the tty open */
  bool stalled;       /* the last uart_write took less than offered: wait for writable */
  struct m0__txq txq;
  struct m0__pace tx;
  uint64_t tx_due;    /* when the next paced chunk for the host may go */

  /* The UART from the host. */
  struct m0__pace rx;
  bool rx_enabled;    /* what we last told uart_rx_enable (the board starts enabled) */
  bool rx_paced;      /* the receive budget is spent: reading waits for rx_due */
  bool rx_held;       /* the network is slow (flow.c): reading waits for a drain */
  bool rx_flash;      /* a save is in flight in command mode: reading waits for it */
  bool rx_throttled;  /* the budget ran out while the host had more to send */
  bool rx_filled;     /* the last read took the whole budget: the host likely has more */
  uint64_t rx_resumed; /* when reading was last re-enabled */
  uint64_t rx_due;    /* when reading may resume */
  bool have_last_rx;
  uint64_t last_rx;   /* when the last host byte arrived (the +++ idle guard) */

  /* The host's line settings, as its front end reports them (forgotten at every
   * attach), and the mismatch we reported. Data bits and parity only when known. */
  bool have_host_termios;
  uint32_t host_baud;
  uint8_t host_stop;
  bool host_format_known;
  uint8_t host_data, host_parity;
  bool mismatch;          /* host and running UART differ (line faults apply) */
  bool mismatch_reported; /* reported_* were logged and sent as an event */
  uint32_t reported_host_baud, reported_baud;
  uint8_t reported_host_stop, reported_stop;
  bool reported_format;
  uint8_t reported_host_data, reported_data, reported_host_parity, reported_parity;

  struct m0__escape escape;
  struct m0__framer framer;
  struct m0__at at;
  struct m0__drop drops[M0__DROP_COUNT];
  struct m0_counters counters;

  struct m0__network net;
  struct m0__heart heart; /* HEARTEN: NET follows the link, COM transparent mode */
  struct m0__udp1500 udp1500;

  struct m0__faults fault;

  m0__frame_tap_fn frame_tap;
  void *frame_tap_arg;

  /* Last, never cleared (see the top of this file): m0_dev_init() stops before it. */
  struct m0__dev_bufs bufs;
};

/* The rings of a device's faults (in its buffers, never cleared), from its fault state. */
static inline struct m0_dev *m0__fault_dev(const struct m0__faults *f) {
  return (struct m0_dev *)((uintptr_t)f - offsetof(struct m0_dev, fault));
}

#endif
