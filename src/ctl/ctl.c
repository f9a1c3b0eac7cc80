/* ctl.c: m0ctl's entry point: the command table and the dispatch (see ctl.h).
 *
 * `m0ctl COMMAND [ARGS]` runs one subcommand; a unique prefix of its name is enough
 * (`m0ctl se` is search). `m0ctl --help` lists them, `m0ctl help COMMAND` or
 * `m0ctl COMMAND --help` shows one. Exit status: 0, 1 failure, 2 usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#ifndef M0EMU_VERSION
#define M0EMU_VERSION "0.0.0"
#endif

/* One line per subcommand; a new group adds its entries here. */
static const struct m0ctl_cmd *const table[] = {
    &m0ctl_cmd_search,
    &m0ctl_cmd_netset,
    NULL,
};

static void usage_line(const struct m0ctl_cmd *cmd, FILE *out) {
  fprintf(out, "usage: m0ctl %s %s\n", cmd->name, cmd->usage);
}

void m0ctl_cmd_help(const struct m0ctl_cmd *cmd, FILE *out) {
  usage_line(cmd, out);
  fprintf(out, "%s\n", cmd->summary);
  if (cmd->help != NULL)
    fprintf(out, "\n%s", cmd->help);
}

int m0ctl_usage(const struct m0ctl_cmd *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "m0ctl %s: ", cmd->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  usage_line(cmd, stderr);
  return M0CTL_USAGE;
}

int m0ctl_fail(const struct m0ctl_cmd *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "m0ctl %s: ", cmd->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return M0CTL_FAIL;
}

static void help(FILE *out) {
  size_t i;
  fputs("usage: m0ctl COMMAND [ARGS]\n"
        "The host-side tool of m0emu; the network commands work against real USR modules "
        "too.\n\ncommands:\n",
        out);
  for (i = 0; table[i] != NULL; i++)
    fprintf(out, "  %-8s %s\n", table[i]->name, table[i]->summary);
  fputs("\n`m0ctl help COMMAND` or `m0ctl COMMAND --help` describes one.\n"
        "Exit status: 0 done, 1 failure (no answer, refused), 2 usage error.\n",
        out);
}

/* The command named `name` or by a unique prefix of it; NULL, with *ambiguous, if none. */
static const struct m0ctl_cmd *find(const char *name, int *ambiguous) {
  const struct m0ctl_cmd *found = NULL;
  size_t i, len = strlen(name);
  *ambiguous = 0;
  for (i = 0; table[i] != NULL; i++) {
    if (strcmp(table[i]->name, name) == 0)
      return table[i];
    if (len > 0 && strncmp(table[i]->name, name, len) == 0) {
      if (found != NULL)
        *ambiguous = 1;
      found = table[i];
    }
  }
  return *ambiguous ? NULL : found;
}

int main(int argc, char **argv) {
  const struct m0ctl_cmd *cmd;
  int ambiguous;
  if (argc < 2) {
    help(stderr);
    return M0CTL_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    help(stdout);
    return M0CTL_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("m0ctl %s\n", M0EMU_VERSION);
    return M0CTL_OK;
  }
  if (strcmp(argv[1], "help") == 0) {
    if (argc == 2) {
      help(stdout);
      return M0CTL_OK;
    }
    cmd = find(argv[2], &ambiguous);
    if (cmd == NULL) {
      fprintf(stderr, "m0ctl: %s command '%s' (see m0ctl --help)\n",
              ambiguous ? "ambiguous" : "unknown", argv[2]);
      return M0CTL_USAGE;
    }
    m0ctl_cmd_help(cmd, stdout);
    return M0CTL_OK;
  }
  cmd = find(argv[1], &ambiguous);
  if (cmd == NULL) {
    fprintf(stderr, "m0ctl: %s command '%s' (see m0ctl --help)\n",
            ambiguous ? "ambiguous" : "unknown", argv[1]);
    return M0CTL_USAGE;
  }
  return cmd->exec(cmd, argc - 1, argv + 1);
}
