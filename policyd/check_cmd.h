/*
 * check_cmd - `policyd-spf check`: one SPF check from the command line,
 * through the same engine and DNS code the daemon uses.
 */
#ifndef POLICYD_CHECK_CMD_H
#define POLICYD_CHECK_CMD_H

/* argv[0] is "check".  Returns the exit status (see the man page). */
int check_cmd_main(int argc, char **argv);

#endif
