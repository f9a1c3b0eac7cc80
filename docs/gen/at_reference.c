/* at_reference.c: writes docs/at-commands.md's command reference from the parameter
 * table, or checks that the committed file still matches it (--check FILE, a test).
 *
 * The table is the single source: name, forms, syntax, range, default, when it applies,
 * help line. `--write FILE` regenerates the file in place. Example exchanges are derived from it too: a query shows the factory value,
 * a set shows the default typed back. The prose above the marker line in the file is
 * written by hand and left alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m0/params.h"

#define MARKER "<!-- generated from src/core/params.c by docs/gen/at_reference.c: do not edit below -->"

struct buf {
  char *data;
  size_t len, cap;
};

static void add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct buf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->len + (size_t)n + 1 > b->cap) {
    b->cap = (b->len + (size_t)n + 1) * 2;
    b->data = realloc(b->data, b->cap);
    if (b->data == NULL) {
      perror("at_reference");
      exit(1);
    }
  }
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static const char *forms_text(unsigned forms) {
  switch (forms) {
  case M0_FORM_QUERY | M0_FORM_SET:
    return "query, set";
  case M0_FORM_QUERY:
    return "query";
  case M0_FORM_ACTION:
    return "action";
  default:
    return "?";
  }
}

static const char *applies_text(enum m0_applies a) {
  switch (a) {
  case M0_APPLIES_NOW:
    return "at once (saved and running)";
  case M0_APPLIES_RESTART:
    return "saved at once, used after the next restart";
  case M0_APPLIES_NEVER:
    break;
  }
  return "-";
}

/* Text for a table cell: a '|' would end the cell, even inside a code span. */
static const char *cell(const char *text) {
  static char out[4][160];
  static int next;
  char *o = out[next++ % 4];
  size_t j = 0;
  for (; *text != '\0' && j + 3 < sizeof out[0]; text++) {
    if (*text == '|')
      o[j++] = '\\';
    o[j++] = *text;
  }
  o[j] = '\0';
  return o;
}

/* The heading anchor a Markdown renderer makes of "AT+NAME": "atname". */
static const char *anchor(const char *name) {
  static char out[16];
  size_t j;
  for (j = 0; name[j] != '\0' && j + 1 < sizeof out; j++)
    out[j] = (char)(name[j] | 0x20);
  out[j] = '\0';
  return out;
}

/* Reply bytes written with visible CR LF, in the doc dialect. */
static void example(struct buf *b, const struct m0_param *p, const struct m0_config *cfg) {
  char value[M0_VALUE_MAX];
  add(b, "```\n");
  switch (p->id) {
  case M0_ID_Z:
  case M0_ID_ENTM:
    add(b, "> AT+%s<CR>\n< <CR><LF>+ok<CR><LF>\n", p->name);
    break;
  case M0_ID_RELD:
    add(b, "> AT+RELD<CR>\n< <CR><LF>+ok=rebooting...<CR><LF>\n");
    break;
  case M0_ID_VER:
    add(b, "> AT+VER<CR>\n< <CR><LF>+ok=V4017<CR><LF>\n");
    break;
  case M0_ID_MAC:
    add(b, "> AT+MAC<CR>\n< <CR><LF>+ok=D8B04C000001<CR><LF>\n");
    break;
  case M0_ID_PDTIME:
    add(b, "> AT+PDTIME<CR>\n< <CR><LF>+ok=2026-11-23<CR><LF>\n");
    break;
  case M0_ID_SOCKLK:
    add(b, "> AT+SOCKLK<CR>\n< <CR><LF>+ok=disconnect<CR><LF>\n");
    break;
  case M0_ID_H:
    add(b, "> AT+H<CR>\n< <CR><LF>+ok=AT+E-%s<CR><LF>\n< AT+Z-%s<CR><LF>\n< ...\n",
        m0_params[M0_ID_E].help, m0_params[M0_ID_Z].help);
    break;
  default: {
    /* The set example types the default back, or a sample when the default is unset;
     * it is run through the table so the page never shows a value the device refuses. */
    const char *typed = p->defval[0] != '\0' ? p->defval : "01234567890123456789,pass123";
    struct m0_config scratch = *cfg;
    if (m0_param_set(p, &scratch, typed, strlen(typed)) != 0) {
      fprintf(stderr, "at_reference: example AT+%s=%s is refused by the table\n", p->name,
              typed);
      exit(1);
    }
    m0_param_format(p, cfg, M0_DIALECT_DOC, value, sizeof value);
    add(b, "> AT+%s<CR>\n< <CR><LF>+ok=%s<CR><LF>\n", p->name, value);
    add(b, "> AT+%s=%s<CR>\n< <CR><LF>+ok<CR><LF>\n", p->name, typed);
    break;
  }
  }
  add(b, "```\n");
}

static void generate(struct buf *b) {
  struct m0_config cfg;
  size_t i;
  m0_config_defaults(&cfg);
  add(b, "%s\n\n", MARKER);
  add(b, "## Summary\n\n| command | forms | value | default | applies |\n|---|---|---|---|---|\n");
  for (i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    add(b, "| [AT+%s](#at%s) | %s | %s%s%s | %s%s%s | %s |\n", p->name, anchor(p->name),
        forms_text(p->forms), p->syntax[0] ? "`" : "", p->syntax[0] ? cell(p->syntax) : "-",
        p->syntax[0] ? "`" : "", p->defval ? "`" : "",
        p->defval ? (p->defval[0] ? cell(p->defval) : ",") : "-", p->defval ? "`" : "",
        applies_text(p->applies));
  }
  for (i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    add(b, "\n## AT+%s\n\n%s.\n\n", p->name, p->help);
    add(b, "- Forms: %s", forms_text(p->forms));
    if (p->forms & M0_FORM_SET)
      add(b, " (`AT+%s`, `AT+%s?`, `AT+%s=%s`)", p->name, p->name, p->name, p->syntax);
    else if (p->forms & M0_FORM_QUERY)
      add(b, " (`AT+%s`, `AT+%s?`)", p->name, p->name);
    else
      add(b, " (`AT+%s`)", p->name);
    add(b, "\n");
    if (p->range[0] != '\0')
      add(b, "- Range: %s\n", p->range);
    if (p->defval != NULL)
      add(b, "- Default: %s\n", p->defval[0] ? p->defval : "unset (the query answers `,`)");
    if (p->applies != M0_APPLIES_NEVER)
      add(b, "- Applies: %s\n", applies_text(p->applies));
    if (p->rest_of_line)
      add(b, "- The value is the whole rest of the line (not split at commas).\n");
    if (p->id == M0_ID_SOCK)
      add(b, "- `AT+NETP=` is accepted as an alias (the vendor document's typo).\n");
    add(b, "\n");
    example(b, p, &cfg);
  }
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *data;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    if (f != NULL)
      fclose(f);
    return NULL;
  }
  data = malloc((size_t)n + 1);
  if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    fclose(f);
    return NULL;
  }
  fclose(f);
  data[n] = '\0';
  *len = (size_t)n;
  return data;
}

int main(int argc, char **argv) {
  struct buf b = {0};
  int rc = 0;
  generate(&b);
  if (argc == 3 && strcmp(argv[1], "--check") == 0) {
    size_t len;
    char *text = read_file(argv[2], &len);
    const char *at;
    if (text == NULL) {
      fprintf(stderr, "at_reference: cannot read %s\n", argv[2]);
      rc = 1;
    } else if ((at = strstr(text, MARKER)) == NULL) {
      fprintf(stderr, "at_reference: %s has no generated section (marker line missing)\n",
              argv[2]);
      rc = 1;
    } else if (strcmp(at, b.data) != 0) {
      fprintf(stderr, "at_reference: %s is out of date with the command table; "
                      "regenerate it with scripts/gen-docs\n", argv[2]);
      rc = 1;
    } else {
      printf("at_reference: %s matches the command table (%d commands)\n", argv[2],
             M0_ID_COUNT);
    }
    free(text);
  } else if (argc == 3 && strcmp(argv[1], "--write") == 0) {
    /* Keep the hand-written part above the marker, replace everything below it. */
    size_t len;
    char *text = read_file(argv[2], &len);
    char *at = text != NULL ? strstr(text, MARKER) : NULL;
    FILE *f;
    if (at == NULL) {
      fprintf(stderr, "at_reference: %s has no marker line; add it below the prose\n",
              argv[2]);
      rc = 1;
    } else if ((f = fopen(argv[2], "wb")) == NULL ||
               fwrite(text, 1, (size_t)(at - text), f) != (size_t)(at - text) ||
               fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
      fprintf(stderr, "at_reference: cannot write %s\n", argv[2]);
      rc = 1;
    }
    free(text);
  } else if (argc == 1) {
    fputs(b.data, stdout);
  } else {
    fprintf(stderr, "usage: at_reference [--check FILE | --write FILE]\n");
    rc = 2;
  }
  free(b.data);
  return rc;
}
