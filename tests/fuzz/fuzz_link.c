/* fuzz_link.c: the network's inputs in every work mode, with the UART and the clock.
 *
 * The input first picks the work mode and its settings (through the parameter table,
 * as AT would set them: INDEXEN, RFCEN, TCPSE, MAXSK, SOCKSL, UARTCLBUF, CLIENTRST,
 * registration, heartbeat, HTTP method and HTPCHD, RSTIM, speed, timing), then plays a
 * board: links come up, fail and go down for any reason; peers send raw bytes, valid and
 * broken similar-RFC2217 packets, HTTP responses cut anywhere, 64 KiB reads that fill
 * the queues, datagrams from SOCK's peer or from strangers; clients arrive at the
 * listener; a peer slows down (the board's write queue grows) and drains; opens fail;
 * faults strike (cable, hang, power, noise, impairment, resets, failing flash: fault.c).
 * Host bytes (INDEXEN `ON` addressing among them), command mode and restarts interleave,
 * and the clock jumps across the deadlines that matter (the 50 ms RFC2217 hold, the 1 s
 * retry, SHORTO, the 10 s HTTP timeout, heartbeats, RSTIM). After every input the core's
 * invariants and the board's view are checked (fuzz_hal.c); at the end every byte queued
 * for the host must reach it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "fuzz_hal.h"
#include "rfc2217.h"

static const char *const responses[] = {
  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "HTTP/1.0 200 OK\r\n\r\nuntil the close",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
  "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nextra",
  "HTTX/1.1 200 OK\r\n\r\n",
};

static const uint32_t bauds[] = {600, 9600, 115200, 460800};

static void set(struct m0_config *c, enum m0_param_id id, const char *value) {
  if (m0_param_set(&m0_params[id], c, value, strlen(value)) != 0)
    fz_fail("fuzz.setting", m0_params[id].name); /* a value of ours the table refuses */
}

static void configure(struct m0_config *c, struct fz_in *in) {
  static const char *const protos[] = {"TCPC", "TCPS", "UDPC", "UDPS", "HTPC"};
  static const char *const onoff[] = {"off", "on"};
  static const char *const hosts[] = {"127.0.0.1", "Example.COM"};
  uint8_t a = fz_u8(in), b = fz_u8(in), d = fz_u8(in), e = fz_u8(in);
  char v[64];
  m0_config_defaults(c);
  snprintf(v, sizeof v, "%s,%s,%u", protos[a % 5], hosts[(a / 5) & 1], 8000u + a / 10);
  set(c, M0_ID_SOCK, v);
  set(c, M0_ID_INDEXEN, onoff[b & 1]);
  set(c, M0_ID_RFCEN, onoff[(b >> 1) & 1]);
  set(c, M0_ID_TCPSE, (b & 4) ? "kick" : "keep");
  snprintf(v, sizeof v, "%u", 1u + ((b >> 3) & 7));
  set(c, M0_ID_MAXSK, v);
  set(c, M0_ID_SOCKSL, onoff[(b >> 6) & 1]);
  set(c, M0_ID_UARTCLBUF, onoff[(b >> 7) & 1]);
  set(c, M0_ID_CLIENTRST, onoff[d & 1]);
  set(c, M0_ID_REGEN, (d & 6) == 2 ? "mac" : (d & 6) == 4 ? "usr" : "off");
  set(c, M0_ID_REGTCP, (d & 8) ? "every" : "first");
  set(c, M0_ID_HEARTEN, onoff[(d >> 4) & 1]);
  set(c, M0_ID_HEARTTP, (d & 0x20) ? "COM" : "NET");
  set(c, M0_ID_HEARTTM, (d & 0x40) ? "1" : "2");
  set(c, M0_ID_HTPTP, (d & 0x80) ? "POST" : "GET");
  set(c, M0_ID_HTPCHD, onoff[e & 1]);
  set(c, M0_ID_RSTIM, (e & 2) ? "60" : "0");
  set(c, M0_ID_SOCKPORT, (e & 4) ? "0" : "20108");
  set(c, M0_ID_SHORTO, (e & 8) ? "2" : "3");
  snprintf(v, sizeof v, "%lu,8,1,NONE,NFC", (unsigned long)bauds[(e >> 4) & 3]);
  set(c, M0_ID_UART, v);
}

static uint64_t gap(struct fz_in *in) {
  static const uint64_t ms[] = {0, 1, 49, 50, 51, 999, 1000, 1001, 2000, 3000, 10000, 60000};
  uint8_t k = fz_u8(in);
  uint64_t base;
  if (k >= 12 * 16)
    return (uint64_t)fz_u16(in) * 1000; /* up to 65 ms in us */
  base = ms[k % 12] * M0_NS_PER_MS;
  switch (k / 12 % 3) { /* on the edge, 1 ns before or after */
  case 0:
    return base > 0 ? base - 1 : 0;
  case 1:
    return base;
  default:
    return base + 1;
  }
}

static uint8_t big[M0_LINK_RX_MAX];

/* What a peer sends now: n bytes into big. */
static size_t payload(struct fz_in *in, uint8_t kind) {
  const uint8_t *p;
  size_t n = 0;
  switch (kind % 6) {
  case 0: /* raw bytes of the input */
    n = fz_take(in, fz_u8(in), &p);
    memcpy(big, p, n);
    return n;
  case 1:
  case 2: { /* a similar-RFC2217 packet, maybe broken, between data */
    struct m0__rfc2217_setting s;
    uint8_t pkt[M0__RFC2217_PACKET_LEN];
    uint8_t x = fz_u8(in), before = fz_u8(in) % 4, after = fz_u8(in) % 4;
    s.baud = (x & 0x80) ? (uint32_t)fz_u16(in) * 8 : bauds[x & 3];
    s.data_bits = (uint8_t)(5 + ((x >> 2) & 3));
    s.stop_bits = (uint8_t)(1 + ((x >> 4) & 1));
    s.parity = (uint8_t)(((x >> 5) & 3) + ((x & 0x40) != 0 && (x & 3) == 3));
    if (m0__rfc2217_encode(&s, pkt) != 0)
      memcpy(pkt, "\x55\xAA\x55\x00\x00\x00\x00\x00", 8);
    if (kind % 6 == 2)
      pkt[fz_u8(in) % 8] ^= (uint8_t)(1u << (x & 7));
    memset(big, 'd', before);
    n = before;
    memcpy(big + n, pkt, sizeof pkt);
    n += (fz_u8(in) % 8) + 1; /* all of it, or its start: the rest may follow */
    if (n > before + sizeof pkt)
      n = before + sizeof pkt;
    memset(big + n, 'e', after);
    return n + after;
  }
  case 3: { /* a slice of an HTTP response */
    const char *r = responses[fz_u8(in) % (sizeof responses / sizeof responses[0])];
    size_t len = strlen(r), from = fz_u8(in) % (len + 1), k = fz_u8(in);
    n = k == 0 ? len - from : k % (len - from + 1);
    memcpy(big, r + from, n);
    return n;
  }
  default: { /* a big read: fills queues, pauses links */
    size_t i;
    uint8_t seed = fz_u8(in);
    n = (size_t)fz_u16(in) + 1;
    if (n > sizeof big)
      n = sizeof big;
    for (i = 0; i < n; i++)
      big[i] = (uint8_t)(seed + i);
    return n;
  }
  }
}

static void addr(struct m0_net_addr *a, const struct m0_dev *dev, uint8_t k) {
  memset(a, 0, sizeof *a);
  switch (k % 4) {
  case 0: /* SOCK's peer */
    m0__link_sock_addr(dev, a);
    break;
  case 1: /* the same, another spelling of the host name */
    m0__link_sock_addr(dev, a);
    for (char *s = a->host; *s != '\0'; s++)
      *s = (char)((*s >= 'a' && *s <= 'z') ? *s - 32 : (*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
    break;
  case 2:
    memcpy(a->host, "127.0.0.2", 10);
    a->port = 9000;
    break;
  default:
    m0__link_sock_addr(dev, a);
    a->port = (uint16_t)(a->port + 1);
    break;
  }
}

static void uart_line(struct fz *f, const char *s, bool obey) {
  fz_uart_rx(f, (const uint8_t *)s, strlen(s), obey);
}

/* One fault from sel and x: cable, hang, power, noise, impairment, reset, flash, seed,
 * with windows of 0-1.5 s so they also end on their own. */
static void fault(struct fz *f, struct m0_dev *dev, uint8_t sel, uint8_t x) {
  uint64_t window = (uint64_t)(sel >> 4) * 100 * M0_NS_PER_MS;
  switch (x % 8) {
  case 0:
    (void)m0_dev_fault_cable(dev, f->now, (sel & 8) != 0, window,
                             (sel & 4) ? 300 * M0_NS_PER_MS : 0);
    break;
  case 1:
    (void)m0_dev_fault_hang(dev, f->now, window + M0_NS_PER_MS);
    break;
  case 2:
    (void)m0_dev_power(dev, f->now, (sel & 8) != 0, window);
    break;
  case 3: {
    struct m0_uart_noise n = {(uint32_t)(sel & 7) * 20000000u, (uint32_t)(sel >> 5) * 40000000u};
    (void)m0_dev_fault_uart(dev, f->now, (sel & 8) ? M0_UART_TO_HOST : M0_UART_FROM_HOST, &n,
                            window);
    break;
  }
  case 4: {
    struct m0_net_impair i = {(uint64_t)(sel & 3) * 20 * M0_NS_PER_MS,
                              (uint64_t)((sel >> 2) & 1) * 10 * M0_NS_PER_MS,
                              (uint32_t)((sel >> 3) & 1) * 300000000u,
                              (uint32_t)(sel >> 6) * 3000u};
    (void)m0_dev_fault_net(dev, f->now, (sel & 32) ? M0_NET_FROM_NET : M0_NET_TO_NET, &i,
                           window);
    break;
  }
  case 5:
    (void)m0_dev_fault_net_reset(dev, f->now);
    break;
  case 6:
    (void)m0_dev_fault_flash(dev, f->now, sel & 3, (sel & 4) != 0, window);
    break;
  default:
    m0_dev_fault_seed(dev, sel);
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct m0_dev dev;
  static struct fz f;
  struct fz_in in = {data, size, 0};
  struct m0_dev_options o;
  struct m0_config saved;
  uint8_t h = fz_u8(&in);
  bool obey = !(h & 2);
  unsigned ops = 0;

  configure(&saved, &in);
  fz_options(&o, h & 1);
  fz_init(&f, &dev, &o, &saved, 1000 * M0_NS_PER_S);
  f.timer_late = (uint64_t)((h >> 2) % 3) * M0_NS_PER_MS;
  m0_dev_start(&dev, f.now);
  fz_check(&f);
  fz_advance(&f, o.boot_ns);
  fz_attach(&f, !(h & 0x20));

  /* Each operation: op (kind op % 20, variant op / 20), sel (which link, how many), then
   * its operands. */
  while (fz_more(&in) && ops++ < 1000) {
    uint8_t op = fz_u8(&in), sel = fz_u8(&in);
    uint8_t x = op / 20; /* the operation's variant */
    if (fz_tracing())
      fprintf(stderr, "op %u/%u sel %u (attached %d, links %d%d%d%d)\n", op % 20, x, sel,
              dev.attached, f.links[0].open, f.links[1].open, f.links[2].open,
              f.links[3].open);
    const uint8_t *bytes;
    struct m0_net_addr a;
    size_t n;
    int id;
    switch (op % 20) {
    default: /* 0-3, 19: a peer sends */
      id = fz_pick_link(&f, sel, 1u << M0_LINK_TCP_CONNECT | 1u << M0_LINK_TCP_ACCEPTED |
                                     1u << M0_LINK_UDP, 1);
      n = payload(&in, x);
      addr(&a, &dev, sel >> 4);
      if (id >= 0)
        fz_link_rx(&f, (unsigned)id, big, n, &a);
      break;
    case 4:
      id = fz_pick_link(&f, sel, 0xF, 0);
      if (id >= 0)
        fz_link_up(&f, (unsigned)id);
      break;
    case 5: {
      static const int reasons[] = {M0_DOWN_CLOSED, M0_DOWN_REFUSED, M0_DOWN_RESET,
                                    M0_DOWN_TIMEOUT, M0_DOWN_BIND};
      id = fz_pick_link(&f, sel, 0xF, 2);
      if (id >= 0)
        fz_link_down(&f, (unsigned)id, reasons[x % 5]);
      break;
    }
    case 6:
      addr(&a, &dev, sel);
      a.port = (uint16_t)(40000 + op);
      fz_link_accept(&f, &a);
      break;
    case 7:
      id = fz_pick_link(&f, sel, 0xF, 2);
      if (id >= 0)
        fz_link_drain(&f, (unsigned)id);
      break;
    case 8: { /* the peers' speed: how fast the board's write queues grow */
      static const unsigned scales[] = {1, 64, 1024, 65536};
      f.send_scale = scales[sel % 4];
      break;
    }
    case 9:
      if (x == 0) {
        f.open_result = (sel & 1) ? -1 : 0;
        break;
      }
      fault(&f, &dev, sel, x); /* faults on demand (fault.c): inputs like the others */
      fz_check(&f);
      break;
    case 10:
    case 11:
    case 12: /* host bytes: plain, or INDEXEN addressing "ON..." */
      if (x & 1) {
        uint8_t msg[40] = {'O', (uint8_t)('0' + sel % 10)};
        n = 2 + fz_take(&in, sel / 10u, &bytes); /* client sel % 10, length sel / 10 */
        memcpy(msg + 2, bytes, n - 2);
        fz_uart_rx(&f, msg, n, obey);
      } else {
        n = fz_take(&in, sel, &bytes);
        fz_uart_rx(&f, bytes, n, obey);
      }
      fz_advance(&f, gap(&in));
      break;
    case 13:
    case 14:
      fz_advance(&f, gap(&in));
      break;
    case 15:
      fz_host_reads(&f, (size_t)sel * 64, x & 1);
      if (x & 2)
        f.room = sel;
      break;
    case 16:
      fz_attach(&f, !dev.attached);
      break;
    case 17: /* command mode: in, a command, out */
      switch (sel % 4) {
      case 0:
        fz_advance(&f, M0_NS_PER_S);
        uart_line(&f, "+", obey);
        fz_advance(&f, M0_NS_PER_MS);
        uart_line(&f, "+", obey);
        fz_advance(&f, M0_NS_PER_MS);
        uart_line(&f, "+", obey);
        fz_advance(&f, M0_NS_PER_MS);
        uart_line(&f, "a", obey);
        break;
      case 1:
        uart_line(&f, "AT+ENTM\r\n", obey);
        break;
      case 2:
        uart_line(&f, "AT+SOCKLK\r", obey);
        break;
      default:
        uart_line(&f, (sel & 4) ? "AT+Z\r" : "AT+H\r", obey);
        break;
      }
      break;
    case 18:
      if (sel & 1) {
        (void)m0_dev_uart_rx_budget(&dev, f.now);
      } else if (sel & 2) {
        m0_dev_restart(&dev, f.now, "web");
      } else {
        f.flash_result = (sel & 4) ? -5 : 0;
        (void)m0_dev_set_param(&dev, f.now, "E", (sel & 8) ? "off" : "on");
      }
      fz_check(&f);
      break;
    }
  }
  fz_finish(&f);
  return 0;
}
