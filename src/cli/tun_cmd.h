/*
 * tun_cmd.h — `tcpstate tun` (tun_cmd.c) and `tcpstate replay`
 * (replay_cmd.c), the real-network subcommands. Same conventions as cli.h:
 * argv[0] is the subcommand's name, the result is the exit status.
 */
#ifndef TS_CLI_TUN_CMD_H
#define TS_CLI_TUN_CMD_H

#include <stdio.h>

int ts_cli_tun(int argc, char **argv);
void ts_cli_tun_help(FILE *out);
int ts_cli_replay(int argc, char **argv);
void ts_cli_replay_help(FILE *out);

#endif
