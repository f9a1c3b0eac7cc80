/* json_reader.c: the strict JSON reader of the web page's form (json_reader.h).
 *
 * One pass over the bytes with a position, so every refusal says where ("at byte N").
 * Strings are decoded into fixed buffers: a key or value too long for its buffer is
 * still read to its end and marked, so the caller can name it rather than the reader
 * stopping half-way. Duplicate keys are found by comparing with the keys before (at most
 * 64: a quadratic pass over 64 short strings is cheaper than any index).
 */
#include <stdio.h>
#include <string.h>

#include "json_reader.h"

struct reader {
  const char *s;
  size_t len, pos;
  char *error;
  size_t error_cap;
};

static bool fail_at(struct reader *r, const char *what) {
  snprintf(r->error, r->error_cap, "at byte %zu: %s", r->pos, what);
  return false;
}

static void skip_ws(struct reader *r) {
  while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                             r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
    r->pos++;
}

static int hex4(const char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* Reads a JSON string into out (cap bytes with the NUL). *cut is set when it did not
 * fit or held a NUL character; the reader still consumes it whole. */
static bool read_string(struct reader *r, char *out, size_t cap, bool *cut) {
  size_t n = 0;
  *cut = false;
  if (r->pos >= r->len || r->s[r->pos] != '"')
    return fail_at(r, "expected a string");
  r->pos++;
  for (;;) {
    if (r->pos >= r->len)
      return fail_at(r, "unterminated string");
    unsigned char c = (unsigned char)r->s[r->pos];
    char utf8[4];
    size_t k = 0;
    if (c == '"') {
      r->pos++;
      break;
    }
    if (c < 0x20)
      return fail_at(r, "control character in a string (escape it)");
    if (c != '\\') {
      utf8[k++] = (char)c;
      r->pos++;
    } else {
      if (r->pos + 1 >= r->len)
        return fail_at(r, "unterminated string");
      char e = r->s[r->pos + 1];
      const char *simple = strchr("\"\\/bfnrt", e);
      if (e != '\0' && simple != NULL) {
        static const char map[] = "\"\\/\b\f\n\r\t";
        utf8[k++] = map[simple - "\"\\/bfnrt"];
        r->pos += 2;
      } else if (e == 'u') {
        if (r->pos + 6 > r->len)
          return fail_at(r, "truncated \\u escape");
        int cp = hex4(r->s + r->pos + 2);
        if (cp < 0)
          return fail_at(r, "bad \\u escape");
        r->pos += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          int lo = (r->pos + 6 <= r->len && r->s[r->pos] == '\\' && r->s[r->pos + 1] == 'u')
                       ? hex4(r->s + r->pos + 2)
                       : -1;
          if (lo < 0xdc00 || lo > 0xdfff)
            return fail_at(r, "unpaired surrogate in a \\u escape");
          r->pos += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          return fail_at(r, "unpaired surrogate in a \\u escape");
        }
        if (cp == 0)
          *cut = true; /* a C string cannot carry it: the value is refused */
        if (cp < 0x80) {
          utf8[k++] = (char)cp;
        } else if (cp < 0x800) {
          utf8[k++] = (char)(0xc0 | cp >> 6);
          utf8[k++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          utf8[k++] = (char)(0xe0 | cp >> 12);
          utf8[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
          utf8[k++] = (char)(0x80 | (cp & 0x3f));
        } else {
          utf8[k++] = (char)(0xf0 | cp >> 18);
          utf8[k++] = (char)(0x80 | (cp >> 12 & 0x3f));
          utf8[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
          utf8[k++] = (char)(0x80 | (cp & 0x3f));
        }
      } else {
        return fail_at(r, "bad escape in a string");
      }
    }
    for (size_t i = 0; i < k; i++) {
      if (n + 1 < cap)
        out[n++] = utf8[i];
      else
        *cut = true;
    }
  }
  out[n] = '\0';
  return true;
}

/* A JSON value that is not a string: name its kind for the message. */
static const char *value_kind(char c) {
  if (c == '{')
    return "an object";
  if (c == '[')
    return "an array";
  if (c == 't' || c == 'f')
    return "a boolean";
  if (c == 'n')
    return "null";
  if (c == '-' || (c >= '0' && c <= '9'))
    return "a number";
  return "not a JSON value";
}

bool m0__json_read_object(const char *s, size_t len, struct m0__json_pair *pairs,
                          unsigned *npairs, char *error, size_t error_cap) {
  struct reader rd = {.s = s, .len = len, .error = error, .error_cap = error_cap};
  struct reader *r = &rd;
  *npairs = 0;
  skip_ws(r);
  if (r->pos >= r->len || r->s[r->pos] != '{')
    return fail_at(r, "expected a JSON object {\"NAME\":\"value\",...}");
  r->pos++;
  skip_ws(r);
  if (r->pos < r->len && r->s[r->pos] == '}') {
    r->pos++;
  } else {
    for (;;) {
      if (*npairs == M0__JSON_PAIRS_MAX)
        return fail_at(r, "too many members (at most 64)");
      struct m0__json_pair *p = &pairs[*npairs];
      skip_ws(r);
      if (r->pos < r->len && r->s[r->pos] != '"')
        return fail_at(r, "expected a member name in double quotes");
      if (!read_string(r, p->key, sizeof p->key, &p->key_long))
        return false;
      for (unsigned i = 0; i < *npairs; i++) {
        if (!p->key_long && !pairs[i].key_long && strcmp(pairs[i].key, p->key) == 0) {
          char msg[96];
          snprintf(msg, sizeof msg, "duplicate member \"%s\"", p->key);
          return fail_at(r, msg);
        }
      }
      skip_ws(r);
      if (r->pos >= r->len || r->s[r->pos] != ':')
        return fail_at(r, "expected ':' after a member name");
      r->pos++;
      skip_ws(r);
      if (r->pos < r->len && r->s[r->pos] != '"') {
        char msg[128];
        snprintf(msg, sizeof msg, "the value of \"%.32s\" must be a string, not %s", p->key,
                 value_kind(r->s[r->pos]));
        return fail_at(r, msg);
      }
      if (!read_string(r, p->value, sizeof p->value, &p->value_bad))
        return false;
      (*npairs)++;
      skip_ws(r);
      if (r->pos < r->len && r->s[r->pos] == ',') {
        r->pos++;
        continue;
      }
      if (r->pos < r->len && r->s[r->pos] == '}') {
        r->pos++;
        break;
      }
      return fail_at(r, "expected ',' or '}'");
    }
  }
  skip_ws(r);
  if (r->pos != r->len)
    return fail_at(r, "unexpected data after the object");
  return true;
}
