/* flash_text.c: the flash file as text, parsed through the parameter table.
 *
 * A person can read, diff and hand-edit the file, and the loader trusts nothing in it:
 * every value goes through m0_param_set, exactly as if typed on the serial port. One bad
 * line costs only that parameter (it keeps its factory default); only a file that is not
 * a flash file at all (no header, binary, oversized) is refused whole.
 * A profile (the starting values a user gives a module) is the same text read the other
 * way: it is input, not memory, so its first bad line refuses it whole, with the line
 * number and a reason naming the parameter's syntax from the table.
 */
#include "m0/flash_text.h"

#include <stdio.h>
#include <string.h>

static bool put(char *buf, size_t cap, size_t *len, const char *s, size_t n) {
  if (*len + n + 1 > cap)
    return false;
  memcpy(buf + *len, s, n);
  *len += n;
  buf[*len] = '\0';
  return true;
}

size_t m0_flash_format(const struct m0_config *cfg, char *buf, size_t cap) {
  struct m0_config defaults;
  size_t len = 0, i;
  char value[M0_VALUE_MAX], factory[M0_VALUE_MAX];

  m0_config_defaults(&defaults);
  if (!put(buf, cap, &len, M0_FLASH_HEADER "\n", strlen(M0_FLASH_HEADER) + 1))
    return 0;
  for (i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    int n;
    if (!m0_param_is_config(p))
      continue;
    n = m0_param_format(p, cfg, M0_DIALECT_DOC, value, sizeof value);
    /* A parameter whose factory value is "unset" (REGCLOUD) has no valid AT form for
     * that value; leaving the line out means the same thing to the loader. */
    if (p->defval != NULL && p->defval[0] == '\0') {
      m0_param_format(p, &defaults, M0_DIALECT_DOC, factory, sizeof factory);
      if (strcmp(value, factory) == 0)
        continue;
    }
    if (!put(buf, cap, &len, "AT+", 3) || !put(buf, cap, &len, p->name, strlen(p->name)) ||
        !put(buf, cap, &len, "=", 1) || !put(buf, cap, &len, value, (size_t)n) ||
        !put(buf, cap, &len, "\n", 1))
      return 0;
  }
  return len;
}

static void report_line(m0_flash_report_fn report, void *ctx, unsigned line,
                        const char *what, const char *text, size_t len) {
  char msg[128];
  if (report == NULL)
    return;
  if (len > 40)
    len = 40;
  snprintf(msg, sizeof msg, "%s: '%.*s'", what, (int)len, text);
  report(ctx, line, msg);
}

int m0_flash_parse(const char *text, size_t len, struct m0_config *cfg,
                   m0_flash_report_fn report, void *ctx) {
  struct m0_config defaults;
  m0_config_defaults(&defaults);
  return m0_flash_parse_over(text, len, &defaults, cfg, report, ctx);
}

int m0_flash_parse_over(const char *text, size_t len, const struct m0_config *factory,
                        struct m0_config *cfg, m0_flash_report_fn report, void *ctx) {
  size_t pos = 0, header_len = strlen(M0_FLASH_HEADER);
  unsigned line_no = 0;

  *cfg = *factory;
  if (len > M0_FLASH_MAX || memchr(text, '\0', len) != NULL) {
    if (report != NULL)
      report(ctx, 0, len > M0_FLASH_MAX ? "file too large to be a flash file"
                                        : "binary data (NUL byte) in the file");
    return M0_FLASH_UNPARSEABLE;
  }
  while (pos < len) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
    const struct m0_param *p;
    const char *eq;
    int rc;

    pos += n + (nl != NULL ? 1 : 0);
    line_no++;
    if (n > 0 && line[n - 1] == '\r') /* a file edited on another system */
      n--;
    if (line_no == 1) {
      if (n != header_len || memcmp(line, M0_FLASH_HEADER, header_len) != 0) {
        if (report != NULL)
          report(ctx, 1, "missing header line '" M0_FLASH_HEADER "'");
        *cfg = *factory;
        return M0_FLASH_UNPARSEABLE;
      }
      continue;
    }
    if (n == 0 || line[0] == '#')
      continue;
    if (n < 4 || strncmp(line, "AT+", 3) != 0 ||
        (eq = memchr(line, '=', n)) == NULL) {
      report_line(report, ctx, line_no, "not an AT+NAME=value line, skipped", line, n);
      continue;
    }
    p = m0_param_find(line + 3, (size_t)(eq - line - 3));
    if (p == NULL || !m0_param_is_config(p)) {
      report_line(report, ctx, line_no, "unknown parameter, skipped", line, n);
      continue;
    }
    rc = m0_param_set(p, cfg, eq + 1, n - (size_t)(eq + 1 - line));
    if (rc != 0)
      report_line(report, ctx, line_no, "invalid value, factory default kept", line, n);
  }
  if (line_no == 0) {
    if (report != NULL)
      report(ctx, 0, "empty file");
    return M0_FLASH_UNPARSEABLE;
  }
  return M0_FLASH_OK;
}

/* ---- profiles ---- */

/* Values are shown up to this many bytes in a reason: enough to recognise the line. */
#define SHOWN_MAX 40

static int shown(size_t n) {
  return (int)(n > SHOWN_MAX ? SHOWN_MAX : n);
}

/* One NAME=VALUE (AT+ optional) over cfg; on refusal cfg is as it was (m0_param_set). */
static int profile_assign(struct m0_config *cfg, const char *text, size_t n, char *reason,
                          size_t cap) {
  const struct m0_param *p;
  const char *eq, *value;
  size_t vlen;
  int rc;

  if (n >= 3 && (text[0] == 'A' || text[0] == 'a') && (text[1] == 'T' || text[1] == 't') &&
      text[2] == '+') {
    text += 3;
    n -= 3;
  }
  eq = memchr(text, '=', n);
  if (eq == NULL || eq == text) {
    snprintf(reason, cap, "expected NAME=VALUE (e.g. E=off or AT+E=off), got '%.*s'",
             shown(n), text);
    return M0_ERR_FORMAT;
  }
  p = m0_param_find(text, (size_t)(eq - text));
  if (p == NULL) {
    snprintf(reason, cap, "unknown parameter '%.*s'", shown((size_t)(eq - text)), text);
    return M0_ERR_COMMAND;
  }
  if (!m0_param_is_config(p)) {
    snprintf(reason, cap, "AT+%s is a command, not a setting", p->name);
    return M0_ERR_OPERATOR;
  }
  value = eq + 1;
  vlen = n - (size_t)(value - text);
  rc = m0_param_set(p, cfg, value, vlen);
  if (rc != 0)
    snprintf(reason, cap, "invalid value '%.*s' for AT+%s: expected %s (%s)", shown(vlen),
             value, p->name, p->syntax, p->range);
  return rc;
}

int m0_profile_set(struct m0_config *cfg, const char *assignment, size_t len, char *reason,
                   size_t cap) {
  if (memchr(assignment, '\0', len) != NULL) {
    snprintf(reason, cap, "binary data (NUL byte)");
    return M0_ERR_FORMAT;
  }
  return profile_assign(cfg, assignment, len, reason, cap);
}

unsigned m0_profile_parse(const char *text, size_t len, struct m0_config *cfg, char *reason,
                          size_t cap) {
  struct m0_config next = *cfg; /* committed only when every line passed */
  size_t pos = 0;
  unsigned line_no = 0;

  while (pos < len) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

    pos += n + (nl != NULL ? 1 : 0);
    line_no++;
    if (memchr(line, '\0', n) != NULL) {
      snprintf(reason, cap, "binary data (NUL byte): not a profile");
      return line_no;
    }
    if (n > 0 && line[n - 1] == '\r')
      n--;
    if (n == 0 || line[0] == '#') /* the flash header is a comment too */
      continue;
    if (n < 3 || strncmp(line, "AT+", 3) != 0) {
      snprintf(reason, cap, "expected an AT+NAME=value line, got '%.*s'", shown(n), line);
      return line_no;
    }
    if (profile_assign(&next, line, n, reason, cap) != 0)
      return line_no;
  }
  *cfg = next;
  return 0;
}
