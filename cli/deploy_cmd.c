/* placeholder: deploy, destroy, diff, sandbox are being written */
#include <stdio.h>
#include "cli.h"
static int todo(const char *c) { fprintf(stderr, "synth %s: not implemented yet\n", c); return EXIT_USAGE; }
int cli_deploy(int argc, char **argv) { (void)argc; (void)argv; return todo("deploy"); }
int cli_destroy(int argc, char **argv) { (void)argc; (void)argv; return todo("destroy"); }
int cli_diff(int argc, char **argv) { (void)argc; (void)argv; return todo("diff"); }
int cli_sandbox(int argc, char **argv) { (void)argc; (void)argv; return todo("sandbox"); }
