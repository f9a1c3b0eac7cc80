/* param_text.c: the one place that reads and writes parameters as text, by the table's
 * typed fields (params.c): a command's name (m0_param_find), a value parsed into a
 * configuration (m0_param_set), a configuration's value formatted back
 * (m0_param_format), in either dialect.
 *
 * The generic field parser serves the serial port, the flash loader and the web page.
 * A set is all-or-nothing: values are parsed into a scratch copy and committed only when
 * every field (and the command's own check) is valid, so bad input never loses what was
 * stored. Formatting never overruns: it returns the length it needed, as snprintf does.
 */
#include "m0/params.h"

#include <string.h>

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }
static int upper(int c) { return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c; }

/* Case-insensitive comparison of s[0..len) against a NUL-terminated word. */
static bool word_eq(const char *s, size_t len, const char *word) {
  size_t i;
  for (i = 0; i < len; i++) {
    if (word[i] == '\0' || lower((unsigned char)s[i]) != lower((unsigned char)word[i]))
      return false;
  }
  return word[len] == '\0';
}

const struct m0_param *m0_param_find(const char *name, size_t len) {
  size_t i;
  if (word_eq(name, len, "NETP")) /* the vendor document's own typo for SOCK */
    return &m0_params[M0_ID_SOCK];
  for (i = 0; i < M0_ID_COUNT; i++) {
    if (word_eq(name, len, m0_params[i].name))
      return &m0_params[i];
  }
  return NULL;
}

static bool is_printable(int c) { return c >= 0x20 && c <= 0x7e; }

int m0_hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Decimal without sign, at most max; leading zeros are accepted. */
static int parse_uint(const char *s, size_t len, uint32_t min, uint32_t max, uint32_t *out) {
  uint64_t v = 0;
  size_t i;
  if (len == 0 || len > 10)
    return M0_E_INVAL;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return M0_E_INVAL;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v < min || v > max)
    return M0_E_INVAL;
  *out = (uint32_t)v;
  return 0;
}

/* Four decimal octets 0-255 separated by dots, nothing else. */
static int parse_ipv4(const char *s, size_t len, uint8_t out[4]) {
  size_t i = 0;
  int octet;
  for (octet = 0; octet < 4; octet++) {
    size_t start = i;
    uint32_t v;
    while (i < len && s[i] != '.')
      i++;
    if (i - start > 3 || parse_uint(s + start, i - start, 0, 255, &v) != 0)
      return M0_E_INVAL;
    out[octet] = (uint8_t)v;
    if (octet < 3) {
      if (i >= len)
        return M0_E_INVAL;
      i++; /* the dot */
    }
  }
  return i == len ? 0 : M0_E_INVAL;
}

/* A host name: letters, digits, '-' and '.', not starting or ending with '.' or '-'. */
static bool is_host_name(const char *s, size_t len) {
  size_t i;
  bool has_alpha = false;
  if (len == 0 || s[0] == '.' || s[0] == '-' || s[len - 1] == '.' || s[len - 1] == '-')
    return false;
  for (i = 0; i < len; i++) {
    char c = s[i];
    bool alpha = (lower(c) >= 'a' && lower(c) <= 'z');
    if (!(alpha || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
    if (c == '.' && s[i + 1] == '.')
      return false;
    has_alpha |= alpha;
  }
  /* All digits and dots is a mistyped address, not a name. */
  return has_alpha;
}

static void store_uint(void *dst, size_t size, uint32_t v) {
  if (size == 1) {
    uint8_t x = (uint8_t)v;
    memcpy(dst, &x, 1);
  } else if (size == 2) {
    uint16_t x = (uint16_t)v;
    memcpy(dst, &x, 2);
  } else {
    memcpy(dst, &v, 4);
  }
}

static uint32_t load_uint(const void *src, size_t size) {
  if (size == 1) {
    uint8_t x;
    memcpy(&x, src, 1);
    return x;
  }
  if (size == 2) {
    uint16_t x;
    memcpy(&x, src, 2);
    return x;
  }
  uint32_t x;
  memcpy(&x, src, 4);
  return x;
}

static int parse_enum(const struct m0_field *f, const char *s, size_t len, uint8_t *out) {
  size_t i;
  for (i = 0; f->choices[i] != NULL; i++) {
    if (word_eq(s, len, f->choices[i])) {
      *out = (uint8_t)i;
      return 0;
    }
  }
  for (i = 0; f->aliases != NULL && f->aliases[i] != NULL; i++) {
    const char *eq = strchr(f->aliases[i], '=');
    size_t alias_len = (size_t)(eq - f->aliases[i]);
    size_t j;
    if (alias_len != len)
      continue;
    for (j = 0; j < len; j++) {
      if (lower((unsigned char)s[j]) != lower((unsigned char)f->aliases[i][j]))
        break;
    }
    if (j == len)
      return parse_enum(f, eq + 1, strlen(eq + 1), out);
  }
  return M0_E_INVAL;
}

/* Parse one field's text into cfg. split is true when fields are comma-separated, so a
 * text value may not hold a comma. */
static int parse_field(const struct m0_field *f, struct m0_config *cfg, const char *s,
                       size_t len, bool split) {
  uint8_t *dst = (uint8_t *)cfg + f->offset;
  size_t i;
  switch (f->type) {
  case M0_FIELD_ONOFF:
    if (word_eq(s, len, "on"))
      *(bool *)dst = true;
    else if (word_eq(s, len, "off"))
      *(bool *)dst = false;
    else
      return M0_E_INVAL;
    return 0;
  case M0_FIELD_UINT: {
    uint32_t v;
    if (parse_uint(s, len, f->min, f->max, &v) != 0)
      return M0_E_INVAL;
    store_uint(dst, f->size, v);
    return 0;
  }
  case M0_FIELD_ENUM:
    return parse_enum(f, s, len, dst);
  case M0_FIELD_IPV4:
    return parse_ipv4(s, len, dst);
  case M0_FIELD_TEXT:
  case M0_FIELD_HOST:
    if (len < f->min || len > f->max || len + 1 > f->size)
      return M0_E_INVAL;
    for (i = 0; i < len; i++) {
      if (!is_printable((unsigned char)s[i]) || (split && s[i] == ','))
        return M0_E_INVAL;
    }
    if (f->type == M0_FIELD_HOST) {
      uint8_t quad[4];
      if (parse_ipv4(s, len, quad) != 0 && !is_host_name(s, len))
        return M0_E_INVAL;
    }
    /* Clear the whole buffer, not just one terminator: equal values are then equal
     * bytes, so configurations compare with memcmp. */
    memset(dst, 0, f->size);
    memcpy(dst, s, len);
    return 0;
  case M0_FIELD_HEX: {
    size_t n = len / 2;
    if (len % 2 != 0 || n < f->min || n > f->max || n > f->size)
      return M0_E_INVAL;
    for (i = 0; i < len; i++) {
      if (m0_hex_digit((unsigned char)s[i]) < 0)
        return M0_E_INVAL;
    }
    memset(dst, 0, f->size);
    for (i = 0; i < n; i++) {
      int hi = m0_hex_digit((unsigned char)s[2 * i]);
      int lo = m0_hex_digit((unsigned char)s[2 * i + 1]);
      dst[i] = (uint8_t)(hi << 4 | lo);
    }
    *((uint8_t *)cfg + f->len_offset) = (uint8_t)n;
    return 0;
  }
  }
  return M0_E_INVAL;
}

int m0_param_set(const struct m0_param *p, struct m0_config *cfg, const char *value,
                 size_t len) {
  struct m0_config scratch = *cfg;
  unsigned n = 0;
  size_t pos = 0;
  int rc;

  if (!m0_param_is_config(p))
    return M0_E_NOTCONFIG;
  if (p->rest_of_line) {
    rc = parse_field(&p->fields[0], &scratch, value, len, false);
    n = 1;
  } else {
    rc = 0;
    for (;;) {
      size_t end = pos;
      while (end < len && value[end] != ',')
        end++;
      if (n == p->nfields)
        return M0_E_INVAL; /* more fields than the command has */
      rc = parse_field(&p->fields[n], &scratch, value + pos, end - pos, true);
      if (rc != 0)
        return rc;
      n++;
      if (end == len)
        break;
      pos = end + 1;
    }
    if (n < p->min_fields || (n != p->nfields && n != p->min_fields))
      return M0_E_INVAL;
  }
  if (rc != 0)
    return rc;
  if (p->check != NULL && (rc = p->check(&scratch, n)) != 0)
    return rc;
  *cfg = scratch;
  return 0;
}

/* Bounded append that tracks the length it would have needed. */
struct out {
  char *buf;
  size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++, o->len++) {
    if (o->len + 1 < o->cap)
      o->buf[o->len] = s[i];
  }
  if (o->cap > 0)
    o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

static void put_str(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_uint(struct out *o, uint32_t v) {
  char digits[10];
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  put(o, digits + sizeof digits - n, n);
}

static void put_word(struct out *o, const char *word, bool to_upper) {
  for (; *word != '\0'; word++) {
    char c = (char)(to_upper ? upper((unsigned char)*word) : *word);
    put(o, &c, 1);
  }
}

static void format_field(const struct m0_field *f, const struct m0_config *cfg,
                         enum m0_dialect dialect, struct out *o) {
  const uint8_t *src = (const uint8_t *)cfg + f->offset;
  bool to_upper = f->upper_in_field && dialect == M0_DIALECT_FIELD;
  static const char hex[] = "0123456789ABCDEF";
  size_t i, n;
  switch (f->type) {
  case M0_FIELD_ONOFF:
    put_word(o, *(const bool *)src ? "on" : "off", to_upper);
    break;
  case M0_FIELD_UINT:
    put_uint(o, load_uint(src, f->size));
    break;
  case M0_FIELD_ENUM:
    put_word(o, f->choices[*src], to_upper);
    break;
  case M0_FIELD_IPV4:
    for (i = 0; i < 4; i++) {
      if (i > 0)
        put(o, ".", 1);
      put_uint(o, src[i]);
    }
    break;
  case M0_FIELD_TEXT:
  case M0_FIELD_HOST:
    put_str(o, (const char *)src);
    break;
  case M0_FIELD_HEX:
    n = *((const uint8_t *)cfg + f->len_offset);
    for (i = 0; i < n; i++) {
      put(o, &hex[src[i] >> 4], 1);
      put(o, &hex[src[i] & 15], 1);
    }
    break;
  }
}

int m0_param_format(const struct m0_param *p, const struct m0_config *cfg,
                    enum m0_dialect dialect, char *buf, size_t cap) {
  struct out o = {buf, cap, 0};
  unsigned i;
  if (!m0_param_is_config(p))
    return M0_E_NOTCONFIG;
  if (cap > 0)
    buf[0] = '\0';
  for (i = 0; i < p->nfields; i++) {
    if (i > 0)
      put(&o, ",", 1);
    format_field(&p->fields[i], cfg, dialect, &o);
  }
  return (int)o.len;
}
