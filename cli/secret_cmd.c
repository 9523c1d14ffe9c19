/* placeholder: secret set|get|list|remove is being written */
#include <stdio.h>
#include "cli.h"
int cli_secret(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "synth secret: not implemented yet\n"); return EXIT_USAGE; }
