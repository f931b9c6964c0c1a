/*
 * main - placeholder until the command line and modes land (daemon branch);
 * exists so that `make` links and lib/attr, lib/log can be used.
 */
#include <stdio.h>

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("policyd-spf: not implemented yet\n", stderr);
	return 70;
}
