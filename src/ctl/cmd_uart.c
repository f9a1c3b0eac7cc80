/* cmd_uart.c: m0ctl uart: the device's UART without a pty, over the control channel
 * (control.h): write bytes as the host, read what the device sends its host, or both.
 *
 * Bytes travel as JSON strings of one character per byte (U+0000..U+00FF), the form the
 * emulator's uart.write reads and its uart.data events carry, so any byte survives. A
 * read or chat subscribes with hold first: while it runs the device waits for m0ctl as
 * for a tty host, so nothing is missed (--until TEXT: at most 1 KiB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

enum { OPT_HEX = M0CTL_CONN_OPT_OWN, OPT_BYTES, OPT_UNTIL };

/* ---- uart write, read, chat ---- */

/* Bytes as a JSON string of one character per byte (what uart.write's "data" reads). */
static char *bytes_json(const unsigned char *data, size_t len) {
  char *out = malloc(len * M0_JSON_ESCAPE_MAX + 3), *p = out;
  if (out == NULL)
    return NULL;
  *p++ = '"';
  for (size_t i = 0; i < len; i++) {
    char esc[M0_JSON_ESCAPE_MAX];
    size_t n = m0_json_escape_byte(data[i], true, esc);
    if (n == 0) {
      *p++ = (char)data[i];
    } else {
      memcpy(p, esc, n);
      p += n;
    }
  }
  *p++ = '"';
  *p = '\0';
  return out;
}

/* A uart.data line's "data" back to bytes (its characters are U+0000..U+00FF). */
static size_t data_bytes(const struct m0_json_member *m, unsigned char *out) {
  size_t n = 0;
  for (size_t i = 0; i < m->str_len; i++) {
    unsigned char c = (unsigned char)m->str[i];
    if (c >= 0xc2 && c <= 0xc3 && i + 1 < m->str_len) {
      out[n++] = (unsigned char)(((c & 0x1f) << 6) | ((unsigned char)m->str[i + 1] & 0x3f));
      i++;
    } else {
      out[n++] = c;
    }
  }
  return n;
}

struct uart_opts {
  bool hex;
  unsigned long long bytes; /* 0: no count */
  const char *until;        /* NULL: none */
  unsigned char until_bytes[1024];
  long until_len;
};

static int uart_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct uart_opts *o = ctx;
  const char *bad = NULL;
  switch (opt) {
  case OPT_HEX:
    o->hex = true;
    return 1;
  case OPT_BYTES:
    if (m0ctl_uint(arg, 1, 1ull << 40, &o->bytes) != 0) {
      m0ctl_usage(cmd, "--bytes: expected a count of bytes, got '%s'", arg);
      return -1;
    }
    return 1;
  case OPT_UNTIL:
    if (strlen(arg) >= sizeof o->until_bytes ||
        (o->until_len = m0ctl_unescape(arg, o->until_bytes, &bad)) <= 0) {
      m0ctl_usage(cmd, "--until: %s", bad ? bad : "expected some text (\\r \\n \\xHH allowed)");
      return -1;
    }
    o->until = arg;
    return 1;
  default:
    return 0;
  }
}

/* Read uart.data lines, writing their bytes to stdout, until --bytes or --until (exit 0)
 * or the deadline (exit 0 when neither was asked for, else 1). An answer met on the way
 * (uart chat's write) is passed over unless it is a refusal. */
static int uart_stream(const struct m0ctl_cmd *cmd, struct m0ctl_conn *c, const struct uart_opts *o,
                       uint64_t deadline) {
  struct m0ctl_line l = {0};
  unsigned char *seen = NULL, buf[65536];
  size_t seen_len = 0, total = 0;
  int rc = M0CTL_FAIL;
  for (;;) {
    char *text;
    size_t len;
    int r = m0ctl_conn_read_line(c, deadline, &text, &len);
    if (r == 0) {
      if (o->bytes == 0 && o->until == NULL)
        rc = M0CTL_OK;
      else
        m0ctl_fail(cmd, "%s within the timeout (%zu bytes came)",
                   o->until ? "the text did not come" : "fewer bytes than asked", total);
      break;
    }
    if (r < 0 || m0ctl_conn_parse(c, &l, text, len) != 0)
      break;
    const struct m0_json_member *ev = m0ctl_member(&l, "ev"), *data = m0ctl_member(&l, "data");
    if (ev == NULL || ev->type != M0_JSON_STRING || strcmp(ev->str, "uart.data") != 0 ||
        data == NULL || data->type != M0_JSON_STRING || data->str_len > sizeof buf) {
      if (m0ctl_member(&l, "ok") != NULL && m0ctl_member(&l, "ok")->type != M0_JSON_TRUE) {
        m0ctl_fail(cmd, "refused: %s", l.text);
        break;
      }
      continue;
    }
    size_t n = data_bytes(data, buf);
    if (o->bytes != 0 && total + n > o->bytes)
      n = (size_t)(o->bytes - total);
    fwrite(buf, 1, n, stdout);
    fflush(stdout);
    total += n;
    if (o->bytes != 0 && total >= o->bytes) {
      rc = M0CTL_OK;
      break;
    }
    if (o->until != NULL) {
      unsigned char *p = realloc(seen, seen_len + n);
      if (p == NULL)
        break;
      seen = p;
      memcpy(seen + seen_len, buf, n);
      seen_len += n;
      if (memmem(seen, seen_len, o->until_bytes, (size_t)o->until_len) != NULL) {
        rc = M0CTL_OK;
        break;
      }
    }
  }
  free(seen);
  free(l.scratch);
  return rc;
}

static int uart(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {M0CTL_CONN_LONGS,
                                        {"hex", no_argument, NULL, OPT_HEX},
                                        {"bytes", required_argument, NULL, OPT_BYTES},
                                        {"until", required_argument, NULL, OPT_UNTIL},
                                        {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  struct uart_opts o;
  struct m0ctl_conn c;
  struct m0ctl_line ans = {0};
  bool done;
  memset(&o, 0, sizeof o);
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, uart_option, &o, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind < 1)
    return m0ctl_usage(cmd, "expected write DATA, read, or chat DATA");
  const char *verb = argv[optind];
  bool write_ = strcmp(verb, "write") == 0, read_ = strcmp(verb, "read") == 0,
       chat = strcmp(verb, "chat") == 0;
  if (!write_ && !read_ && !chat)
    return m0ctl_usage(cmd, "expected write, read or chat, got '%s'", verb);
  if ((write_ || chat) != (argc - optind == 2) || (read_ && argc - optind != 1))
    return m0ctl_usage(cmd, write_ || chat ? "%s needs DATA" : "%s takes no DATA", verb);
  if (write_ && (o.bytes || o.until))
    return m0ctl_usage(cmd, "--bytes and --until are for read and chat");
  if (read_ && o.hex)
    return m0ctl_usage(cmd, "--hex is for the DATA of write and chat");
  /* DATA: C escapes, or hex digits. */
  unsigned char *bytes = NULL;
  long nbytes = 0;
  char *extra = NULL;
  if (write_ || chat) {
    const char *arg = argv[optind + 1], *bad = NULL;
    size_t alen = strlen(arg);
    bytes = malloc(alen + 1);
    if (bytes == NULL)
      return m0ctl_fail(cmd, "out of memory");
    if (o.hex) {
      if (alen % 2 != 0 || strspn(arg, "0123456789abcdefABCDEF") != alen) {
        free(bytes);
        return m0ctl_usage(cmd, "--hex: DATA must be pairs of hex digits");
      }
      extra = malloc(alen + 16);
      if (extra != NULL)
        snprintf(extra, alen + 16, "\"hex\":\"%s\"", arg);
    } else {
      nbytes = m0ctl_unescape(arg, bytes, &bad);
      if (nbytes < 0) {
        free(bytes);
        return m0ctl_usage(cmd, "DATA: %s", bad);
      }
      char *js = bytes_json(bytes, (size_t)nbytes);
      extra = js != NULL ? malloc(strlen(js) + 16) : NULL;
      if (extra != NULL)
        snprintf(extra, strlen(js) + 16, "\"data\":%s", js);
      free(js);
    }
    free(bytes);
    if (extra == NULL)
      return m0ctl_fail(cmd, "out of memory");
  }
  rc = m0ctl_conn_open(cmd, &c, co.control, co.dev, M0CTL_CONN_TIMEOUT_MS);
  if (rc != M0CTL_OK) {
    free(extra);
    return rc;
  }
  uint64_t deadline = m0ctl_now_ms() + co.timeout_ms;
  if (read_ || chat) /* hold: a script's reader must not miss a byte */
    rc = m0ctl_conn_call(&c, "uart.subscribe", true, "\"hold\":true", &ans);
  if (rc == M0CTL_OK && (write_ || chat)) {
    unsigned long id;
    rc = m0ctl_conn_send(&c, "uart.write", true, extra, &id);
    if (rc == M0CTL_OK && write_) {
      rc = m0ctl_conn_await(&c, id, &ans);
      if (rc == M0CTL_OK)
        m0ctl_print_t_ms(&ans);
    }
  }
  if (rc == M0CTL_OK && (read_ || chat))
    rc = uart_stream(cmd, &c, &o, deadline);
  free(extra);
  free(ans.scratch);
  m0ctl_conn_close(&c);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_uart = {
    .name = "uart",
    .usage = "[--control SOCK] [--dev NAME] write DATA | read | chat DATA  [--hex] "
             "[--bytes N] [--until TEXT] [--timeout S]",
    .summary = "the device's UART without a pty: write bytes as the host, read what it sends",
    .help = M0CTL_CONN_HELP
    "  write DATA      send DATA as if the host typed it (\\r \\n \\t \\0 \\\\ \\xHH escapes, or\n"
    "                  --hex DATA); answered once the device took the last byte\n"
    "  read            print the bytes the device sends its host, raw, until --bytes N\n"
    "                  or --until TEXT came (exit 0; 1 at --timeout), or until --timeout\n"
    "  chat DATA       read (subscribed first, so nothing is missed) after writing DATA\n"
    "  --timeout S     how long read and chat go on (default 10)\n"
    "While a read or chat runs the device's host is attached (its replies are kept), and\n"
    "the device waits for m0ctl as for a tty host: nothing is missed.\n"
    "  m0ctl uart chat '+++' --until a && m0ctl uart chat 'a' --until +ok\n",
    .exec = uart,
};

