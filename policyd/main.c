/*
 * main - placeholder entry point of the engine branch: only `check`.
 * The daemon's main.c replaces this file when the branches are merged.
 */
#include <stdio.h>
#include <string.h>

#include "check_cmd.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check_cmd_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: policyd-spf check --ip IP --sender ADDR --helo NAME ...\n");
	return 64;
}
