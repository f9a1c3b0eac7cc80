/* host_line.c: the running UART settings as they change (`uart.config`) and the host's
 * line checked against them (`uart.mismatch`, `uart.match`; spec §6.8).
 *
 * The running UART settings change at a boot (from flash) and, between boots, only by a
 * similar-RFC2217 packet from the network (never saved; AT+UART keeps answering the saved
 * value); both emit `uart.config` and re-check the host's line. The host's line is what
 * its front end reports (m0_dev_on_host_termios for a pty: speed and stop bits only;
 * m0_dev_on_host_line for an RFC 2217 host: data bits and parity too); a difference is
 * said once per change, and its end once, through hal->warn so that it shows without -v.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"

static void warn_line(struct m0_dev *dev, const char *message) {
  if (dev->hal->warn != NULL)
    dev->hal->warn(dev->ctx, message);
  else
    m0__dev_log(dev, message);
}

/* The canonical (doc) spelling of an enumerated field's value, from the table, so events
 * spell values exactly as AT+UART and AT+SOCK do. */
const char *m0__dev_choice(enum m0_param_id id, const char *field, unsigned value) {
  const struct m0_param *p = &m0_params[id];
  unsigned i, k;
  for (k = 0; k < p->nfields; k++) {
    const struct m0_field *f = &p->fields[k];
    if (f->type != M0_FIELD_ENUM || strcmp(f->name, field) != 0)
      continue;
    for (i = 0; f->choices[i] != NULL; i++) {
      if (i == value)
        return f->choices[i];
    }
  }
  return "?";
}

/* ---- host line settings ---- */

/* A mismatch is said once per change, without -v (hal->warn): the host program only sees
 * garbage otherwise (with --line-faults) or a line that would be garbage on the module.
 * Its end is said too, once, so the user knows the fix worked. */
void m0__dev_check_mismatch(struct m0_dev *dev) {
  const struct m0_config *c = &dev->running;
  char msg[288], fields[192];
  if (!dev->have_host_termios)
    return;
  /* Speed 0 (B0) is no speed at all: what a host that never sets one leaves on a pty
   * (socat's `rawer` does); only its stop bits can then disagree. Data bits and parity
   * count only when the host's front end tells them (a pty cannot: Linux forces 8N). */
  dev->mismatch = (dev->host_baud != 0 && dev->host_baud != c->baud) ||
                  dev->host_stop != c->stop_bits ||
                  (dev->host_format_known &&
                   (dev->host_data != c->data_bits || dev->host_parity != c->parity));
  if (!dev->mismatch) {
    if (dev->mismatch_reported) { /* back in sync: the next difference is news */
      dev->mismatch_reported = false;
      m0__dev_event(dev, "uart.match", "\"host_baud\":%lu,\"host_stop\":%u,\"baud\":%lu,\"stop\":%u",
                    (unsigned long)dev->host_baud, dev->host_stop, (unsigned long)c->baud,
                    c->stop_bits);
      snprintf(msg, sizeof msg, "host line now agrees with AT+UART (%lu baud, %u stop bits)",
               (unsigned long)c->baud, c->stop_bits);
      warn_line(dev, msg);
    }
    return;
  }
  if (dev->mismatch_reported && dev->reported_host_baud == dev->host_baud &&
      dev->reported_host_stop == dev->host_stop && dev->reported_baud == c->baud &&
      dev->reported_stop == c->stop_bits && dev->reported_format == dev->host_format_known &&
      dev->reported_host_data == dev->host_data &&
      dev->reported_host_parity == dev->host_parity && dev->reported_data == c->data_bits &&
      dev->reported_parity == c->parity)
    return;
  dev->mismatch_reported = true;
  dev->reported_host_baud = dev->host_baud;
  dev->reported_host_stop = dev->host_stop;
  dev->reported_baud = c->baud;
  dev->reported_stop = c->stop_bits;
  dev->reported_format = dev->host_format_known;
  dev->reported_host_data = dev->host_data;
  dev->reported_host_parity = dev->host_parity;
  dev->reported_data = c->data_bits;
  dev->reported_parity = c->parity;
  snprintf(fields, sizeof fields, "\"host_baud\":%lu,\"host_stop\":%u,\"baud\":%lu,\"stop\":%u",
           (unsigned long)dev->host_baud, dev->host_stop, (unsigned long)c->baud,
           c->stop_bits);
  if (!dev->host_format_known) {
    m0__dev_event(dev, "uart.mismatch", "%s", fields);
    snprintf(msg, sizeof msg,
             "host line is %lu baud %u stop bits but AT+UART is %lu baud %u stop bits%s",
             (unsigned long)dev->host_baud, dev->host_stop, (unsigned long)c->baud,
             c->stop_bits, dev->options.line_faults ? "; bytes will be corrupted"
                                          : "; a real module would garble the bytes (--line-faults does too)");
  } else {
    const char *host_parity = m0__dev_choice(M0_ID_UART, "parity", dev->host_parity);
    const char *parity = m0__dev_choice(M0_ID_UART, "parity", c->parity);
    m0__dev_event(dev, "uart.mismatch",
                  "%s,\"host_data\":%u,\"host_parity\":\"%s\",\"data\":%u,\"parity\":\"%s\"",
                  fields, dev->host_data, host_parity, c->data_bits, parity);
    snprintf(msg, sizeof msg,
             "host line is %lu %u%c%u but AT+UART is %lu %u%c%u%s", (unsigned long)dev->host_baud,
             dev->host_data, host_parity[0], dev->host_stop, (unsigned long)c->baud,
             c->data_bits, parity[0], c->stop_bits,
             dev->options.line_faults ? "; bytes will be corrupted"
                                          : "; a real module would garble the bytes (--line-faults does too)");
  }
  warn_line(dev, msg);
}

/* `uart.config`: the running UART settings were set; `extra` ends the field list. */
void m0__dev_uart_config_event(struct m0_dev *dev, const char *extra) {
  const struct m0_config *c = &dev->running;
  m0__dev_event(dev, "uart.config", "\"baud\":%lu,\"data\":%u,\"stop\":%u,\"parity\":\"%s\",%s",
                (unsigned long)c->baud, c->data_bits, c->stop_bits,
                m0__dev_choice(M0_ID_UART, "parity", c->parity), extra);
}

void m0__dev_uart_running(struct m0_dev *dev, uint64_t now, uint32_t baud, uint8_t data_bits,
                          uint8_t stop_bits, uint8_t parity, unsigned link) {
  struct m0_config *c = &dev->running;
  char extra[48];
  c->baud = baud;
  c->data_bits = data_bits;
  c->stop_bits = stop_bits;
  c->parity = parity;
  m0__host_reconfigure(dev, now); /* both budgets run at the new rate from now on */
  snprintf(extra, sizeof extra, "\"cause\":\"rfc2217\",\"link\":%u", link);
  m0__dev_uart_config_event(dev, extra);
  m0__dev_check_mismatch(dev); /* the host's line may now differ, or agree again */
}

static void host_line(struct m0_dev *dev, uint64_t now, uint32_t baud, uint8_t stop_bits,
                      bool format_known, uint8_t data_bits, uint8_t parity) {
  m0__dev_catch_up(dev, now);
  dev->have_host_termios = true;
  dev->host_baud = baud;
  dev->host_stop = stop_bits;
  dev->host_format_known = format_known;
  dev->host_data = data_bits;
  dev->host_parity = parity;
  m0__dev_check_mismatch(dev);
  m0__dev_settle(dev, now);
}

void m0_dev_on_host_termios(struct m0_dev *dev, uint64_t now, uint32_t baud,
                            uint8_t stop_bits) {
  host_line(dev, now, baud, stop_bits, false, 0, 0);
}

void m0_dev_on_host_line(struct m0_dev *dev, uint64_t now, uint32_t baud, uint8_t data_bits,
                         uint8_t stop_bits, uint8_t parity) {
  host_line(dev, now, baud, stop_bits, true, data_bits, parity);
}

