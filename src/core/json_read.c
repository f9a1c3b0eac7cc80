/* json_read.c: a strict reader of one JSON object (include/m0/json.h), for the control
 * channel's request lines, m0ctl's reading of its answers and the web page's form (whose
 * values must all be strings: m0_json_all_strings).
 *
 * Recursive descent over the whole input, RFC 8259's grammar and nothing more: no
 * comments, no trailing commas, no NaN, no leading zeros, control characters escaped.
 * The top level is one object whose members are listed; nested objects and arrays are
 * walked (to check them, at most 32 deep so a hostile line cannot exhaust the stack)
 * and handed over as their text. Strings decode into the caller's scratch buffer, so
 * the reader allocates nothing and the input stays untouched. Numbers are kept as text;
 * m0_json_fixed() turns one into an exact integer of a chosen unit without floating
 * point (0.001 s is exactly 1000000 ns).
 */
#include "m0/json.h"

#include <stdio.h>
#include <string.h>

struct reader {
  const char *s;
  size_t len, pos;
  char *scratch;
  size_t cap, used;
  char *err;
  size_t err_cap;
};

static bool fail(struct reader *r, const char *what) {
  if (r->err_cap > 0)
    snprintf(r->err, r->err_cap, "at byte %zu: %s", r->pos, what);
  return false;
}

static void skip_ws(struct reader *r) {
  while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                             r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
    r->pos++;
}

static bool put(struct reader *r, char c) {
  if (r->used >= r->cap)
    return fail(r, "too long to decode");
  r->scratch[r->used++] = c;
  return true;
}

static int hex4(const char *p) {
  int v = 0, i;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return -1;
  }
  return v;
}

static bool put_utf8(struct reader *r, unsigned long cp) {
  if (cp < 0x80)
    return put(r, (char)cp);
  if (cp < 0x800)
    return put(r, (char)(0xc0 | (cp >> 6))) && put(r, (char)(0x80 | (cp & 0x3f)));
  if (cp < 0x10000)
    return put(r, (char)(0xe0 | (cp >> 12))) && put(r, (char)(0x80 | ((cp >> 6) & 0x3f))) &&
           put(r, (char)(0x80 | (cp & 0x3f)));
  return put(r, (char)(0xf0 | (cp >> 18))) && put(r, (char)(0x80 | ((cp >> 12) & 0x3f))) &&
         put(r, (char)(0x80 | ((cp >> 6) & 0x3f))) && put(r, (char)(0x80 | (cp & 0x3f)));
}

/* A string at r->pos (its opening quote). decode: into scratch, *out and *out_len set. */
static bool string(struct reader *r, bool decode, const char **out, size_t *out_len) {
  size_t start;
  if (r->pos >= r->len || r->s[r->pos] != '"')
    return fail(r, "expected a string");
  r->pos++;
  start = r->used;
  for (;;) {
    unsigned char c;
    if (r->pos >= r->len)
      return fail(r, "unterminated string");
    c = (unsigned char)r->s[r->pos];
    if (c == '"') {
      r->pos++;
      break;
    }
    if (c < 0x20)
      return fail(r, "control character in a string (escape it)");
    if (c != '\\') {
      if (decode && !put(r, (char)c))
        return false;
      r->pos++;
      continue;
    }
    if (r->pos + 1 >= r->len)
      return fail(r, "unterminated string");
    c = (unsigned char)r->s[r->pos + 1];
    if (c == 'u') {
      int v, lo;
      unsigned long cp;
      if (r->pos + 6 > r->len || (v = hex4(r->s + r->pos + 2)) < 0)
        return fail(r, "bad \\u escape (four hex digits)");
      r->pos += 6;
      cp = (unsigned long)v;
      if (v >= 0xdc00 && v <= 0xdfff)
        return fail(r, "unpaired surrogate: a low one without its high one");
      if (v >= 0xd800 && v <= 0xdbff) {
        if (r->pos + 6 > r->len || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u' ||
            (lo = hex4(r->s + r->pos + 2)) < 0 || lo < 0xdc00 || lo > 0xdfff)
          return fail(r, "unpaired surrogate: a high one without its low one");
        r->pos += 6;
        cp = 0x10000 + (((unsigned long)v - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
      }
      if (decode && !put_utf8(r, cp))
        return false;
      continue;
    }
    {
      char d;
      switch (c) {
      case '"': d = '"'; break;
      case '\\': d = '\\'; break;
      case '/': d = '/'; break;
      case 'b': d = '\b'; break;
      case 'f': d = '\f'; break;
      case 'n': d = '\n'; break;
      case 'r': d = '\r'; break;
      case 't': d = '\t'; break;
      default:
        r->pos++;
        return fail(r, "bad escape in a string");
      }
      if (decode && !put(r, d))
        return false;
      r->pos += 2;
    }
  }
  if (decode) {
    if (!put(r, '\0'))
      return false;
    *out = r->scratch + start;
    *out_len = r->used - start - 1;
  }
  return true;
}

static bool digits(struct reader *r) {
  size_t start = r->pos;
  while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9')
    r->pos++;
  return r->pos > start;
}

static bool number(struct reader *r) {
  if (r->pos < r->len && r->s[r->pos] == '-')
    r->pos++;
  if (r->pos < r->len && r->s[r->pos] == '0') {
    r->pos++;
  } else if (!digits(r)) {
    return fail(r, "expected a value");
  }
  if (r->pos < r->len && r->s[r->pos] == '.') {
    r->pos++;
    if (!digits(r))
      return fail(r, "expected digits after '.'");
  }
  if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
    r->pos++;
    if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
      r->pos++;
    if (!digits(r))
      return fail(r, "expected digits in the exponent");
  }
  if (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9')
    return fail(r, "leading zero in a number");
  return true;
}

static bool word(struct reader *r, const char *w) {
  size_t n = strlen(w);
  if (r->len - r->pos < n || memcmp(r->s + r->pos, w, n) != 0)
    return fail(r, "expected a value");
  r->pos += n;
  return true;
}

static bool value(struct reader *r, unsigned depth, enum m0_json_type *type);

/* An object or array at r->pos, walked without decoding. */
static bool compound(struct reader *r, unsigned depth, bool object) {
  char close = object ? '}' : ']';
  enum m0_json_type t;
  if (depth >= M0_JSON_DEPTH_MAX)
    return fail(r, "nested too deeply");
  r->pos++;
  skip_ws(r);
  if (r->pos < r->len && r->s[r->pos] == close) {
    r->pos++;
    return true;
  }
  for (;;) {
    skip_ws(r);
    if (object) {
      if (!string(r, false, NULL, NULL))
        return false;
      skip_ws(r);
      if (r->pos >= r->len || r->s[r->pos] != ':')
        return fail(r, "expected ':' after a member name");
      r->pos++;
      skip_ws(r);
    }
    if (!value(r, depth + 1, &t))
      return false;
    skip_ws(r);
    if (r->pos < r->len && r->s[r->pos] == ',') {
      r->pos++;
      continue;
    }
    if (r->pos < r->len && r->s[r->pos] == close) {
      r->pos++;
      return true;
    }
    return fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static bool value(struct reader *r, unsigned depth, enum m0_json_type *type) {
  if (r->pos >= r->len)
    return fail(r, "expected a value");
  switch (r->s[r->pos]) {
  case '{':
    *type = M0_JSON_OBJECT;
    return compound(r, depth, true);
  case '[':
    *type = M0_JSON_ARRAY;
    return compound(r, depth, false);
  case '"':
    *type = M0_JSON_STRING;
    return string(r, false, NULL, NULL);
  case 't':
    *type = M0_JSON_TRUE;
    return word(r, "true");
  case 'f':
    *type = M0_JSON_FALSE;
    return word(r, "false");
  case 'n':
    *type = M0_JSON_NULL;
    return word(r, "null");
  default:
    *type = M0_JSON_NUMBER;
    return number(r);
  }
}

int m0_json_object(const char *s, size_t len, struct m0_json_member *members, unsigned max,
                   char *scratch, size_t scratch_cap, char *err, size_t err_cap) {
  struct reader rd = {s, len, 0, scratch, scratch_cap, 0, err, err_cap};
  struct reader *r = &rd;
  unsigned n = 0, i;
  if (err_cap > 0)
    err[0] = '\0';
  skip_ws(r);
  if (r->pos >= r->len || r->s[r->pos] != '{') {
    fail(r, "expected a JSON object");
    return -1;
  }
  r->pos++;
  skip_ws(r);
  if (r->pos < r->len && r->s[r->pos] == '}') {
    r->pos++;
  } else {
    for (;;) {
      struct m0_json_member *m;
      size_t at;
      skip_ws(r);
      if (n == max) {
        char what[48];
        snprintf(what, sizeof what, "too many members (at most %u)", max);
        fail(r, what);
        return -1;
      }
      m = &members[n];
      if (r->pos >= r->len || r->s[r->pos] != '"') {
        fail(r, "expected a member name in double quotes");
        return -1;
      }
      at = r->pos;
      if (!string(r, true, &m->key, &m->key_len))
        return -1;
      for (i = 0; i < n; i++) {
        if (members[i].key_len == m->key_len && memcmp(members[i].key, m->key, m->key_len) == 0) {
          char what[64];
          r->pos = at;
          snprintf(what, sizeof what, "duplicate member \"%.32s\"", m->key);
          fail(r, what);
          return -1;
        }
      }
      skip_ws(r);
      if (r->pos >= r->len || r->s[r->pos] != ':') {
        fail(r, "expected ':' after a member name");
        return -1;
      }
      r->pos++;
      skip_ws(r);
      m->raw = r->s + r->pos;
      m->str = NULL;
      m->str_len = 0;
      if (r->pos < r->len && r->s[r->pos] == '"') {
        m->type = M0_JSON_STRING;
        if (!string(r, true, &m->str, &m->str_len))
          return -1;
      } else if (!value(r, 1, &m->type)) {
        return -1;
      }
      m->raw_len = (size_t)(r->s + r->pos - m->raw);
      n++;
      skip_ws(r);
      if (r->pos < r->len && r->s[r->pos] == ',') {
        r->pos++;
        continue;
      }
      if (r->pos < r->len && r->s[r->pos] == '}') {
        r->pos++;
        break;
      }
      fail(r, "expected ',' or '}'");
      return -1;
    }
  }
  skip_ws(r);
  if (r->pos != r->len) {
    fail(r, "unexpected data after the object");
    return -1;
  }
  return (int)n;
}

/* What a value that is not a string is, for the message. */
static const char *kind(enum m0_json_type t) {
  switch (t) {
  case M0_JSON_NULL: return "null";
  case M0_JSON_FALSE:
  case M0_JSON_TRUE: return "a boolean";
  case M0_JSON_NUMBER: return "a number";
  case M0_JSON_OBJECT: return "an object";
  case M0_JSON_ARRAY: return "an array";
  default: return "a string";
  }
}

int m0_json_all_strings(const char *s, const struct m0_json_member *members, unsigned n,
                        char *err, size_t err_cap) {
  unsigned i;
  for (i = 0; i < n; i++) {
    if (members[i].type != M0_JSON_STRING) {
      if (err_cap > 0)
        snprintf(err, err_cap, "at byte %zu: the value of \"%.32s\" must be a string, not %s",
                 (size_t)(members[i].raw - s), members[i].key, kind(members[i].type));
      return -1;
    }
  }
  return 0;
}

const struct m0_json_member *m0_json_find(const struct m0_json_member *members, unsigned n,
                                          const char *key) {
  size_t len = strlen(key);
  unsigned i;
  for (i = 0; i < n; i++) {
    if (members[i].key_len == len && memcmp(members[i].key, key, len) == 0)
      return &members[i];
  }
  return NULL;
}

int m0_json_fixed(const struct m0_json_member *m, unsigned digits, uint64_t *out) {
  const char *p = m->raw, *end = m->raw + m->raw_len;
  uint64_t mant = 0, last = 0;
  long exp10 = (long)digits, e = 0;
  unsigned sig = 0;
  bool neg_exp = false;
  if (m->type != M0_JSON_NUMBER)
    return -1;
  if (p < end && *p == '-')
    p++; /* -0 is zero; anything else negative is refused below */
  /* value * 10^digits == mant * 10^exp10, exactly: at most 19 significant digits (more
   * than any unit here needs) are taken, so mant never overflows while reading. */
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    if (sig == 19)
      return -1;
    mant = mant * 10 + (uint64_t)(*p - '0');
    if (mant > 0)
      sig++;
  }
  if (p < end && *p == '.') {
    for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
      if (sig == 19)
        return -1;
      mant = mant * 10 + (uint64_t)(*p - '0');
      exp10--;
      if (mant > 0)
        sig++;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      neg_exp = *p++ == '-';
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
      if (e < 100000)
        e = e * 10 + (*p - '0');
    }
    exp10 += neg_exp ? -e : e;
  }
  if (mant == 0) {
    *out = 0;
    return 0;
  }
  if (m->raw[0] == '-')
    return -1;
  for (; exp10 > 0; exp10--) {
    if (mant > UINT64_MAX / 10)
      return -1;
    mant *= 10;
  }
  for (; exp10 < 0 && mant > 0; exp10++) {
    last = mant % 10;
    mant /= 10;
  }
  if (exp10 == 0 && last >= 5) /* half up, on the first digit dropped */
    mant++;
  *out = mant;
  return 0;
}
