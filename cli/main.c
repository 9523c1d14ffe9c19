/*
 * synth: the command-line driver. The first argument names the command;
 * without one (or with an option first) it is `synth` itself.
 *
 *   synth [synth] [options]              cli/synth.c
 *   synth publish | bootstrap | outputs  cli/aws_cmd.c
 *   synth deploy | destroy | diff | sandbox [delete]   cli/deploy_cmd.c
 *   synth secret ... | sandbox secret ...              cli/secret_cmd.c
 *
 * Command files call no other command file: what several need is in
 * shared files (cli/aws_client.c, cli/identity.c, cli/synthesize.c,
 * cli/summary.c, cli/validate.c).
 */
#include <string.h>
#include "cli.h"

int main(int argc, char **argv)
{
	static const struct {
		const char *name, *sub; /* SUB: a second word, or NULL */
		int (*fn)(int, char **);
	} cmds[] = {
		{"publish", NULL, cli_publish},   {"bootstrap", NULL, cli_bootstrap},
		{"outputs", NULL, cli_outputs},   {"deploy", NULL, cli_deploy},
		{"destroy", NULL, cli_destroy},   {"diff", NULL, cli_diff},
		{"sandbox", "secret", cli_sandbox_secret},
		{"sandbox", NULL, cli_sandbox},   {"secret", NULL, cli_secret},
	};
	for (size_t k = 0; argc > 1 && k < sizeof cmds / sizeof cmds[0]; k++) {
		if (strcmp(argv[1], cmds[k].name))
			continue;
		if (!cmds[k].sub)
			return cmds[k].fn(argc - 1, argv + 1);
		if (argc > 2 && !strcmp(argv[2], cmds[k].sub))
			return cmds[k].fn(argc - 2, argv + 2);
	}
	return cli_synth(argc, argv);
}
