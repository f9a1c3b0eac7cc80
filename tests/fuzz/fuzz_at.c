/* fuzz_at.c: the host's byte stream through m0_dev_on_uart_rx, on a clock that moves.
 *
 * The input is a header (timing, dialect, line faults, UART speed, whether the board
 * obeys the receive budget) and then operations: a chunk of host bytes followed by a gap
 * chosen from the times that matter (the +++ guard of 4 characters, the 300 ms between
 * '+', the 3 s for 'a', the frame idle gap, pacing chunks), each nudged by a few ns
 * either side; host open/close, a slow pty, host line settings, set-by-name, restarts,
 * a failing flash, and canned lines (a handshake, AT commands) so that command mode is
 * reached often. The timer fires as the board's would, up to 2 ms late. After every
 * input the core's invariants and the board's view are checked (fuzz_hal.c); at the end
 * every byte queued for the host must reach it.
 */
#include <stdint.h>
#include <string.h>

#include "core.h"
#include "fuzz_hal.h"

static const uint32_t bauds[] = {600, 1200, 9600, 115200, 460800};

static const char *const lines[] = {
  "AT", "AT+E=off", "AT+E=on", "AT+ENTM", "AT+Z", "AT+RELD", "AT+H", "AT+VER", "AT+SOCKLK",
  "AT+UART=600,8,1,NONE,NFC", "AT+UART=460800,5,2,EVEN,NFC", "AT+UART=115200,8,1,NONE,NFC",
  "AT+UART?", "AT+SOCK=UDPS,127.0.0.1,9000", "AT+MID=x", "AT+E", "AT+WEBU=admin,admin",
  "AT+HTPHEAD=a: b<<CRLF>>c: d", "AT+", "at+e=OFF", "AT+UART=9600,8,1,NONE",
};

/* Gaps that sit on the rules' edges, given one character time c. */
static uint64_t gap(struct fz_in *in, uint64_t c) {
  uint8_t k = fz_u8(in);
  int64_t nudge = (int64_t)(fz_u8(in) % 5) - 2; /* -2..+2 ns */
  uint64_t base;
  switch (k % 20) {
  case 0: base = 0; break;
  case 1: base = 1000; break;
  case 2: base = 3 * c; break;
  case 3: base = 4 * c; break;
  case 4: base = 5 * c; break;
  case 5: base = M0_NS_PER_MS; break;
  case 6: base = 50 * M0_NS_PER_MS; break;
  case 7: base = 300 * M0_NS_PER_MS; break;
  case 8: base = 300 * M0_NS_PER_MS + 1; break;
  case 9: base = M0_NS_PER_S; break;
  case 10: base = 3 * M0_NS_PER_S; break;
  case 11: base = 3 * M0_NS_PER_S + 1; break;
  case 12: base = 200 * M0_NS_PER_MS; break; /* a boot */
  case 13: base = (uint64_t)fz_u16(in) * 1000; break;
  case 14: base = (uint64_t)fz_u16(in) * M0_NS_PER_MS; break;
  case 15: base = c; break;
  default: base = (uint64_t)(k >> 5) * c; break;
  }
  if (nudge < 0 && base < (uint64_t)-nudge)
    return 0;
  return base + (uint64_t)nudge;
}

static void handshake(struct fz *f, struct fz_in *in, bool obey) {
  uint64_t c = m0__dev_char_ns(f->dev, 1);
  fz_advance(f, 5 * c + gap(in, c));
  fz_uart_rx(f, (const uint8_t *)"+", 1, obey);
  fz_advance(f, gap(in, c));
  fz_uart_rx(f, (const uint8_t *)"+", 1, obey);
  fz_advance(f, gap(in, c));
  fz_uart_rx(f, (const uint8_t *)"+", 1, obey);
  fz_advance(f, gap(in, c));
  fz_uart_rx(f, (const uint8_t *)"a", 1, obey);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct m0_dev dev;
  static struct fz f;
  struct fz_in in = {data, size, 0};
  struct m0_dev_options o;
  struct m0_config saved;
  uint8_t h = fz_u8(&in);
  bool obey = !(h & 8);
  unsigned ops = 0;

  fz_options(&o, h & 1);
  o.dialect = (h & 2) ? M0_DIALECT_FIELD : M0_DIALECT_DOC;
  o.line_faults = h & 4;
  m0_config_defaults(&saved);
  saved.baud = bauds[(h >> 4) % 5];
  saved.echo = !(h & 0x80);
  fz_init(&f, &dev, &o, &saved, 1000 * M0_NS_PER_S);
  f.timer_late = (uint64_t)(fz_u8(&in) % 3) * M0_NS_PER_MS;
  m0_dev_start(&dev, f.now);
  fz_check(&f);
  fz_attach(&f, true);

  while (fz_more(&in) && ops++ < 2000) {
    uint8_t op = fz_u8(&in);
    uint64_t c = m0__dev_char_ns(&dev, 1);
    const uint8_t *bytes;
    size_t n;
    switch (op % 16) {
    default: /* 0-4: a few host bytes (1-16), 5: up to 510, then a gap */
      n = fz_take(&in, op % 16 == 5 ? (size_t)fz_u8(&in) + fz_u8(&in) : (op >> 4) + 1u,
                  &bytes);
      fz_uart_rx(&f, bytes, n, obey);
      fz_advance(&f, gap(&in, c));
      break;
    case 6:
      fz_advance(&f, gap(&in, c));
      break;
    case 7:
      fz_attach(&f, !dev.attached);
      break;
    case 8: /* a slow pty, or a host that reads again */
      fz_host_reads(&f, (size_t)fz_u8(&in) * 4, op & 0x10);
      if (op & 0x20)
        f.room = fz_u8(&in);
      break;
    case 9:
      if (op & 0x40) { /* a network host's whole line (RFC 2217) */
        uint8_t b = fz_u8(&in);
        m0_dev_on_host_line(&dev, f.now, bauds[b % 5], (uint8_t)(5 + (b >> 3) % 4),
                            (op & 0x20) ? 2 : 1, (uint8_t)((b >> 5) % 5));
      } else {
        m0_dev_on_host_termios(&dev, f.now, (op & 0x10) ? 0 : bauds[fz_u8(&in) % 5],
                               (op & 0x20) ? 2 : 1);
      }
      fz_check(&f);
      break;
    case 10: /* the board asks how much it may read */
      (void)m0_dev_uart_rx_budget(&dev, f.now);
      fz_check(&f);
      break;
    case 11: { /* set by name, as the web page does */
      char value[48];
      const struct m0_param *p = &m0_params[fz_u8(&in) % M0_ID_COUNT];
      n = fz_take(&in, fz_u8(&in) % sizeof value, &bytes);
      memcpy(value, bytes, n);
      value[n] = '\0';
      (void)m0_dev_set_param(&dev, f.now, p->name, value);
      fz_check(&f);
      break;
    }
    case 12:
      if (op & 0x10)
        m0_dev_factory_reset(&dev, f.now);
      else
        m0_dev_restart(&dev, f.now, (op & 0x20) ? "web" : "sighup");
      fz_check(&f);
      break;
    case 13:
      f.flash_result = (op & 0x10) ? -5 : 0;
      break;
    case 14:
      handshake(&f, &in, obey);
      break;
    case 15: { /* a whole AT line, CR, CR LF or LF */
      const char *line = lines[fz_u8(&in) % (sizeof lines / sizeof lines[0])];
      static const char *const ends[] = {"\r", "\r\n", "\n"};
      fz_uart_rx(&f, (const uint8_t *)line, strlen(line), obey);
      fz_uart_rx(&f, (const uint8_t *)ends[(op >> 4) % 3], strlen(ends[(op >> 4) % 3]), obey);
      fz_advance(&f, gap(&in, c));
      break;
    }
    }
  }
  fz_finish(&f);
  return 0;
}
