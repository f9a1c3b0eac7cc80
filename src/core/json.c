/* json.c: the one JSON string escaper (include/m0/json.h).
 *
 * Hand-written, not snprintf: the board escapes every traffic record the live view keeps,
 * so this is on the path of a binary pty->TCP stream. Short forms (\n \r \t \" \\) where
 * JSON has them, \u00XX for the rest.
 */
#include "m0/json.h"

#include <stdio.h>
#include <string.h>

size_t m0_json_escape_byte(unsigned char c, bool bytes, char out[M0_JSON_ESCAPE_MAX]) {
  static const char hex[] = "0123456789abcdef";
  char short_form = 0;
  switch (c) {
  case '"': short_form = '"'; break;
  case '\\': short_form = '\\'; break;
  case '\n': short_form = 'n'; break;
  case '\r': short_form = 'r'; break;
  case '\t': short_form = 't'; break;
  default: break;
  }
  if (short_form != 0) {
    out[0] = '\\';
    out[1] = short_form;
    return 2;
  }
  if (c >= 0x20 && c < 0x7f)
    return 0;
  if (c >= 0x80 && !bytes)
    return 0; /* UTF-8 text passes through; JSON readers take it */
  memcpy(out, "\\u00", 4);
  out[4] = hex[c >> 4];
  out[5] = hex[c & 15];
  return 6;
}

size_t m0_json_string(char *buf, size_t cap, const char *s) {
  size_t n = 0;
  if (cap < 3) { /* not even "" fits */
    if (cap > 0)
      buf[0] = '\0';
    return 0;
  }
  buf[n++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    char esc[M0_JSON_ESCAPE_MAX];
    size_t len = m0_json_escape_byte(*p, false, esc);
    size_t need = len == 0 ? 1 : len;
    if (n + need + 2 > cap) /* the closing quote and the NUL */
      break;
    if (len == 0)
      buf[n++] = (char)*p;
    else {
      memcpy(buf + n, esc, len);
      n += len;
    }
  }
  buf[n++] = '"';
  buf[n] = '\0';
  return n;
}

const char *m0_json_hostport(char *buf, size_t cap, const char *host, unsigned port) {
  char s[96]; /* 60 bytes of host are more than any name or address a link carries */
  if (strchr(host, ':') != NULL)
    snprintf(s, sizeof s, "[%.60s]:%u", host, port);
  else
    snprintf(s, sizeof s, "%.60s:%u", host, port);
  m0_json_string(buf, cap, s);
  return buf;
}
