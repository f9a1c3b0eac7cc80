/* cmd_at.c: placeholder */
#include "ctl.h"
static int todo(const struct m0ctl_cmd *cmd, int argc, char **argv) { (void)argc; (void)argv; return m0ctl_fail(cmd, "not yet"); }
const struct m0ctl_cmd m0ctl_cmd_at = {.name = "at", .usage = "", .summary = "", .exec = todo};
const struct m0ctl_cmd m0ctl_cmd_get = {.name = "get", .usage = "", .summary = "", .exec = todo};
const struct m0ctl_cmd m0ctl_cmd_set = {.name = "set", .usage = "", .summary = "", .exec = todo};
const struct m0ctl_cmd m0ctl_cmd_dump = {.name = "dump", .usage = "", .summary = "", .exec = todo};
const struct m0ctl_cmd m0ctl_cmd_load = {.name = "load", .usage = "", .summary = "", .exec = todo};
